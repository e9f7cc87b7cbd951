//! Dropout masks drawn on the host.
//!
//! Burn's CPU backends fill a Bernoulli tensor one element at a time through
//! a freshly built sampler and ChaCha12 (burn-backend 0.21,
//! `TensorData::random`), on one thread. Here one draw from the backend's
//! generator seeds a block generator on the host (so `B::seed` still fixes
//! every mask), its words come in one bulk fill, and the mask comes already
//! scaled, so one multiply applies it. On a GPU the host mask would be a
//! copy to the device each step: only the CPU backends use it.

use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::{Distribution, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `[..] → [..]`: `layer.forward(x)` with the mask drawn on the host. Like
/// Burn's layer, it passes values through without autodiff (inference).
pub fn dropout_on_host<B: Backend, const D: usize>(
    layer: &Dropout,
    x: Tensor<B, D>,
) -> Tensor<B, D> {
    let device = x.device();
    if !B::ad_enabled(&device) || layer.prob == 0.0 {
        return x;
    }
    let mask = host_mask::<B, D>(x.shape(), 1.0 - layer.prob, &device);
    x * mask
}

/// Values `1 / keep` with probability `keep`, else 0.
fn host_mask<B: Backend, const D: usize>(
    shape: Shape,
    keep: f64,
    device: &B::Device,
) -> Tensor<B, D> {
    let seed =
        Tensor::<B, 1, Int>::random([1], Distribution::Uniform(0.0, i32::MAX as f64), device)
            .into_scalar()
            .elem::<i64>();
    let values = mask_values(seed as u64, shape.num_elements(), keep);
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// `len` mask values from a generator seeded with `seed`: the generator's
/// words are drawn in one bulk fill (far cheaper than a word at a time),
/// then compared in a second pass the compiler vectorises.
fn mask_values(seed: u64, len: usize, keep: f64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    // A uniform u32 falls below keep·2³² with probability keep (to 2⁻³²).
    let threshold = (keep * 4_294_967_296.0) as u64;
    let scale = (1.0 / keep) as f32;
    let mut words = vec![0u32; len];
    rng.fill(&mut words[..]);
    // Same size and alignment: the words' allocation is reused.
    words
        .into_iter()
        .map(|word| {
            if u64::from(word) < threshold {
                scale
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::nn::DropoutConfig;

    type B = Autodiff<NdArray>;

    /// The backend's generator is one per process and other tests of this
    /// crate draw from it too: a test that needs exact draws after a seed
    /// lives alone in `tests/dropout_seed.rs`; these only take turns.
    static BACKEND_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn backend_rng() -> std::sync::MutexGuard<'static, ()> {
        BACKEND_RNG.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ones(device: &burn::backend::ndarray::NdArrayDevice) -> Tensor<B, 2> {
        Tensor::ones([200, 500], device)
    }

    #[test]
    fn host_masks_keep_the_right_share_and_scale_it() {
        let _turn = backend_rng();
        let device = Default::default();
        B::seed(&device, 3);
        let dropout = DropoutConfig::new(0.3).init();
        let x = ones(&device).require_grad();
        let y = dropout_on_host(&dropout, x.clone());
        let values = y.clone().into_data().to_vec::<f32>().unwrap();
        let kept = values.iter().filter(|&&v| v != 0.0).count() as f64 / values.len() as f64;
        // 100,000 draws: the share is within 0.005 of 0.7 but for 1 in 10⁶.
        assert!((kept - 0.7).abs() < 0.005, "kept {kept}");
        assert!(values
            .iter()
            .all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        // The gradient of the sum is the mask itself.
        let grads = y.clone().sum().backward();
        let grad = x.grad(&grads).unwrap().into_data();
        grad.assert_eq(&y.inner().into_data(), true);
    }

    /// The bulk fill draws the same words, in the same order, as drawing
    /// one word per value did: seeded runs keep their masks.
    #[test]
    fn bulk_masks_equal_word_by_word_masks() {
        use rand::RngCore;
        for (seed, len, keep) in [(7, 1001, 0.7), (123, 64, 0.5), (9, 3, 0.1), (1, 0, 0.5)] {
            let mut rng = StdRng::seed_from_u64(seed);
            let threshold = (keep * 4_294_967_296.0) as u64;
            let expected: Vec<f32> = (0..len)
                .map(|_| {
                    if u64::from(rng.next_u32()) < threshold {
                        (1.0 / keep) as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            assert_eq!(mask_values(seed, len, keep), expected);
        }
    }

    #[test]
    fn inference_passes_values_through() {
        let device = Default::default();
        let dropout = DropoutConfig::new(0.9).init();
        let x = Tensor::<NdArray, 2>::ones([3, 4], &device);
        dropout_on_host(&dropout, x.clone())
            .into_data()
            .assert_eq(&x.into_data(), true);
    }
}

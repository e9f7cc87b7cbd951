//! Adam with its update computed in one pass over host memory, for the CPU
//! backends.
//!
//! Burn's Adam is written in tensor operations: thirteen passes over each
//! parameter's size per step, four of them allocating, a large share of
//! the deep MLP's step on flex. On a CPU backend a tensor's data is already
//! host memory, handed over without a copy when nothing else holds it, so
//! one loop can read the gradient and update the parameter and both moments
//! in place, shared among threads. On a GPU it would be two copies across
//! the bus each step: GPUs keep Burn's.
//!
//! The state is Burn's own [`AdamState`], so the optimizers' states load
//! into each other.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, SimpleOptimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use rayon::prelude::*;

/// Values one thread updates at a time: large enough that handing chunks
/// out costs little, small enough that a 512×512 layer splits across cores.
const CHUNK: usize = 1 << 15;

/// Adam's settings, as in Burn's `AdamConfig`; weight decay is the coupled
/// L2 kind (added to the gradient) that Burn's Adam applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HostAdam {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub weight_decay: Option<f32>,
}

/// Burn's `AdamConfig` defaults (and PyTorch's, but for epsilon: 1e-5).
impl Default for HostAdam {
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay: None,
        }
    }
}

impl HostAdam {
    /// Wrapped for whole modules, with optional gradient clipping, as
    /// `AdamConfig::init` does for Burn's Adam.
    pub fn init<B: AutodiffBackend, M: AutodiffModule<B>>(
        self,
        clipping: Option<GradientClippingConfig>,
    ) -> OptimizerAdaptor<Self, M, B> {
        let adaptor = OptimizerAdaptor::from(self);
        match clipping {
            Some(config) => adaptor.with_grad_clipping(config.init()),
            None => adaptor,
        }
    }
}

/// A tensor's values as host `f32`s, without a copy where the backend can
/// hand its buffer over.
fn host_values<B: Backend, const D: usize>(tensor: Tensor<B, D>) -> TensorData {
    tensor.into_data().convert::<f32>()
}

fn as_f32(data: &mut TensorData) -> &mut [f32] {
    data.as_mut_slice::<f32>()
        .expect("data converted to f32 reads as f32")
}

impl<B: Backend> SimpleOptimizer<B> for HostAdam {
    type State<const D: usize> = AdamState<B, D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<B, D>,
        grad: Tensor<B, D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<B, D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let dtype = tensor.dtype();
        let shape = tensor.shape();
        let (time, moments) = match state {
            Some(state) => {
                let m = state.momentum;
                (m.time, Some((m.moment_1, m.moment_2)))
            }
            None => (0, None),
        };
        let mut param = host_values(tensor);
        let grad = host_values(grad);
        let (mut m, mut v) = match moments {
            Some((m, v)) => (host_values(m), host_values(v)),
            None => (
                TensorData::zeros::<f32, _>(shape.clone()),
                TensorData::zeros::<f32, _>(shape),
            ),
        };

        let time = time + 1;
        let (beta_1, beta_2) = (self.beta_1, self.beta_2);
        // Burn's Adam folds both bias corrections into one factor and
        // scales epsilon to match; the same arithmetic in the same order.
        let correction_2 = (1.0 - beta_2.powi(time as i32)).sqrt();
        let step = lr as f32 * correction_2 / (1.0 - beta_1.powi(time as i32));
        let epsilon = self.epsilon * correction_2;
        let decay = self.weight_decay.unwrap_or(0.0);
        let g = grad
            .as_slice::<f32>()
            .expect("data converted to f32 reads as f32");
        let (p, m_s, v_s) = (as_f32(&mut param), as_f32(&mut m), as_f32(&mut v));
        // Each value's update reads only its own position: the threads' share
        // changes nothing in the result.
        p.par_chunks_mut(CHUNK)
            .zip(m_s.par_chunks_mut(CHUNK))
            .zip(v_s.par_chunks_mut(CHUNK))
            .zip(g.par_chunks(CHUNK))
            .for_each(|(((p, m), v), g)| {
                for (((p, m), v), &g) in p.iter_mut().zip(m).zip(v).zip(g) {
                    let g = g + decay * *p;
                    *m = beta_1 * *m + (1.0 - beta_1) * g;
                    *v = beta_2 * *v + (1.0 - beta_2) * g * g;
                    *p -= step * *m / (v.sqrt() + epsilon);
                }
            });

        let back = |data: TensorData| Tensor::from_data(data.convert_dtype(dtype), &device);
        let state = AdamState {
            momentum: AdaptiveMomentumState {
                time,
                moment_1: back(m),
                moment_2: back(v),
                max_moment_2: None,
            },
        };
        (back(param), Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &B::Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};
    use burn::record::Recorder;
    use burn::tensor::{Distribution, Tolerance};

    type B = Autodiff<NdArray>;

    /// Four batches of different scales, so that gradients change from step
    /// to step and the moments carried over matter, and a layer whose
    /// parameters are already drawn (Burn draws them on first use, and
    /// clones made before that would differ), with more weights than one
    /// [`CHUNK`], so that several threads' shares are checked.
    fn setup() -> (Vec<Tensor<B, 2>>, Linear<B>) {
        let device = Default::default();
        let batches: Vec<_> = [1.0, -3.0, 0.2, 5.0]
            .iter()
            .map(|&scale| {
                Tensor::<B, 2>::random([8, 5], Distribution::Default, &device).mul_scalar(scale)
            })
            .collect();
        let layer: Linear<B> = LinearConfig::new(5, 14_000).init(&device);
        let _ = layer.forward(batches[0].clone());
        (batches, layer)
    }

    fn step<O: Optimizer<Linear<B>, B>>(
        optimizer: &mut O,
        layer: Linear<B>,
        x: &Tensor<B, 2>,
    ) -> Linear<B> {
        let loss = layer.forward(x.clone()).powi_scalar(2).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &layer);
        optimizer.step(1e-2, layer, grads)
    }

    fn weights(layer: &Linear<B>) -> TensorData {
        layer.weight.val().into_data()
    }

    fn host(weight_decay: Option<f32>) -> OptimizerAdaptor<HostAdam, Linear<B>, B> {
        HostAdam {
            epsilon: 1e-8,
            weight_decay,
            ..HostAdam::default()
        }
        .init(None)
    }

    fn burn(weight_decay: Option<f32>) -> OptimizerAdaptor<burn::optim::Adam, Linear<B>, B> {
        AdamConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(weight_decay.map(WeightDecayConfig::new))
            .init()
    }

    fn tolerance() -> Tolerance<f32> {
        Tolerance::rel_abs(1e-5, 1e-6)
    }

    #[test]
    fn steps_as_burns_adam_does() {
        let (batches, layer) = setup();
        for decay in [None, Some(0.1)] {
            let (mut expected, mut got) = (burn(decay), host(decay));
            let (mut a, mut b) = (layer.clone(), layer.clone());
            for x in &batches {
                a = step(&mut expected, a, x);
                b = step(&mut got, b, x);
                weights(&a).assert_approx_eq::<f32>(&weights(&b), tolerance());
            }
        }
    }

    /// Two steps with `first`, its state saved as a checkpoint is and loaded
    /// into `then`, two steps with that; the final weights.
    fn switch<O1, O2>(
        mut first: O1,
        mut then: O2,
        batches: &[Tensor<B, 2>],
        mut layer: Linear<B>,
    ) -> TensorData
    where
        O1: Optimizer<Linear<B>, B>,
        O2: Optimizer<Linear<B>, B>,
    {
        for x in &batches[..2] {
            layer = step(&mut first, layer, x);
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("optim");
        let recorder = dlsuite_train::Recorder::new();
        Recorder::<B>::record(&recorder, first.to_record(), file.clone()).unwrap();
        then = then.load_record(Recorder::<B>::load(&recorder, file, &Default::default()).unwrap());
        for x in &batches[2..] {
            layer = step(&mut then, layer, x);
        }
        weights(&layer)
    }

    /// Checkpoints of either optimizer resume with the other.
    #[test]
    fn resumes_from_burns_adam_state_and_back() {
        // One draw shared by every run: the backend's generator is global
        // to the process and other tests draw from it meanwhile.
        let (batches, layer) = setup();
        let all_burn = switch(burn(None), burn(None), &batches, layer.clone());
        let tol = tolerance();
        let burn_then_host = switch(burn(None), host(None), &batches, layer.clone());
        all_burn.assert_approx_eq::<f32>(&burn_then_host, tol);
        let host_then_burn = switch(host(None), burn(None), &batches, layer.clone());
        all_burn.assert_approx_eq::<f32>(&host_then_burn, tol);
        // Without the state carried over, the last steps differ.
        let fresh = {
            let mut layer = layer.clone();
            let mut first = burn(None);
            for x in &batches[..2] {
                layer = step(&mut first, layer, x);
            }
            let mut then = host(None);
            for x in &batches[2..] {
                layer = step(&mut then, layer, x);
            }
            weights(&layer)
        };
        let (a, b) = (
            all_burn.to_vec::<f32>().unwrap(),
            fresh.to_vec::<f32>().unwrap(),
        );
        let gap = a
            .iter()
            .zip(&b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            gap > 1e-3,
            "the moments changed the last two steps by only {gap}"
        );
    }
}

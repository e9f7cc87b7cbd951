//! The autoencoders on ndarray: the shapes `encode`, `decode` and `forward`
//! document, and a few steps of training on the committed fixture that must
//! bring the reconstruction error down.

use burn::backend::{Autodiff, NdArray};
use burn::data::dataloader::batcher::Batcher;
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, Optimizer};
use burn::prelude::*;
use burn::train::{InferenceStep, TrainStep};
use dlsuite_autoencoder::{decode, encode_set, image_batcher, AutoencoderConfig, Layout};
use dlsuite_data::{DigitItem, Digits, Split};

type Train = Autodiff<NdArray>;

fn fixture() -> Digits {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist");
    Digits::load_dir(&dir, Split::Train).unwrap()
}

fn items(digits: &Digits, n: usize) -> Vec<DigitItem> {
    (0..n)
        .map(|i| DigitItem {
            pixels: digits.image(i).try_into().unwrap(),
            label: digits.label(i),
        })
        .collect()
}

#[test]
fn every_layout_has_the_documented_shapes() {
    let device = Default::default();
    for layout in [Layout::Dense, Layout::Conv] {
        for code in [2, 32] {
            let net = AutoencoderConfig::new(layout)
                .with_code(code)
                .init::<NdArray>(&device);
            let images = Tensor::<NdArray, 4>::ones([3, 1, 28, 28], &device) * 0.5;
            let z = net.encode(images.clone());
            assert_eq!(z.dims(), [3, code], "{layout:?} {code}");
            assert_eq!(net.code_width(), code);
            let back = net.decode(z);
            assert_eq!(back.dims(), [3, 1, 28, 28], "{layout:?} {code}");
            let pixels: Vec<f32> = net.forward(images).into_data().to_vec().unwrap();
            assert!(
                pixels.iter().all(|p| (0.0..=1.0).contains(p)),
                "{layout:?}: a reconstructed pixel outside [0, 1]"
            );
        }
    }
}

#[test]
fn a_few_steps_bring_the_reconstruction_error_down() {
    let device = Default::default();
    let digits = fixture();
    let batch: dlsuite_data::ImageBatch<Train, 4> =
        image_batcher().batch(items(&digits, 64), &device);
    // The convolutional layout trains in the runner's tests: ndarray's
    // transposed convolution, compiled unoptimised in a test build, is too
    // slow for forty steps here.
    {
        let layout = Layout::Dense;
        Train::seed(&device, 7);
        let mut net = AutoencoderConfig::new(layout)
            .with_code(8)
            .init::<Train>(&device);
        let mut optimizer = AdamConfig::new().init();
        let loss = |net: &dlsuite_autoencoder::Autoencoder<Train>| {
            let out = InferenceStep::step(
                &net.valid(),
                image_batcher().batch(items(&digits, 64), &device),
            );
            out.read().0 as f32
        };
        let before = loss(&net);
        for _ in 0..40 {
            let out = TrainStep::step(&net, batch.clone());
            net = optimizer.step(2e-3, net, out.grads);
        }
        let after = loss(&net);
        assert!(
            after < 0.6 * before,
            "{layout:?}: reconstruction MSE {before} → {after}, not down by 40%"
        );

        // The set-wide figures agree with the step's loss on the same images.
        let pixels: Vec<u8> = (0..64).flat_map(|i| digits.image(i).to_vec()).collect();
        let set = encode_set(&net.valid(), &pixels, 24, 5, &device);
        assert_eq!(set.codes.len(), 64 * 8);
        assert_eq!(set.kept.len(), 5);
        assert!(
            (set.mse - after as f64).abs() < 1e-4,
            "{} vs {after}",
            set.mse
        );
        let drawn = decode(&net.valid(), &set.codes[..8 * 3], &device);
        assert_eq!(drawn.len(), 3);
        assert!(drawn.iter().all(|d| d.len() == 784));
        let gap = drawn[0]
            .iter()
            .zip(&set.kept[0])
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            gap < 1e-4,
            "decoding a code and reconstructing its image differ by {gap}"
        );
    }
}

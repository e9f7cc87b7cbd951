//! The GANs on ndarray: the shapes `forward` documents, and a few steps of
//! the game on the committed fixture that must move as a GAN's do: the
//! discriminator learning alone sees through the fakes (its accuracy up,
//! the generator's loss up), the generator learning alone fools it again.

use burn::backend::{Autodiff, NdArray};
use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use dlsuite_data::{DigitItem, Digits, ImageBatch, Split};
use dlsuite_gan::{adam, gan_batcher, generate, latent_noise, GanConfig, GanTrainer, Layout};

type Train = Autodiff<NdArray>;

fn real_batch(n: usize, device: &burn::backend::ndarray::NdArrayDevice) -> ImageBatch<Train, 4> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist");
    let digits = Digits::load_dir(&dir, Split::Train).unwrap();
    let items = (0..n)
        .map(|i| DigitItem {
            pixels: digits.image(i).try_into().unwrap(),
            label: digits.label(i),
        })
        .collect();
    gan_batcher().batch(items, device)
}

#[test]
fn every_layout_has_the_documented_shapes() {
    let device = Default::default();
    for layout in [Layout::Dense, Layout::Conv] {
        for conditional in [false, true] {
            let config = GanConfig::new(layout)
                .with_latent(16)
                .with_conditional(conditional);
            let g = config.init_generator::<NdArray>(&device);
            let d = config.init_discriminator::<NdArray>(&device);
            assert_eq!(g.latent(), 16);
            assert_eq!(g.is_conditional(), conditional);
            assert_eq!(d.is_conditional(), conditional);
            let z = latent_noise::<NdArray>(3, 16, &device);
            let digits = Tensor::<NdArray, 1, Int>::from_ints([1, 5, 9], &device);
            let images = g.forward(z.clone(), Some(digits.clone()));
            assert_eq!(images.dims(), [3, 1, 28, 28], "{layout:?} {conditional}");
            let logits = d.forward(images, Some(digits));
            assert_eq!(logits.dims(), [3], "{layout:?} {conditional}");
            let drawn = generate(&g, z, Some(&[1, 5, 9]));
            assert_eq!(drawn.len(), 3);
            assert!(drawn.iter().all(|p| p.len() == 784));
            assert!(
                drawn.iter().flatten().all(|v| (0.0..=1.0).contains(v)),
                "{layout:?}: a drawn pixel outside [0, 1]"
            );
        }
    }
}

#[test]
fn a_conditional_generator_draws_differently_for_each_digit() {
    let device = Default::default();
    let config = GanConfig::new(Layout::Dense).with_conditional(true);
    let g = config.init_generator::<NdArray>(&device);
    let z = latent_noise::<NdArray>(1, 64, &device);
    let three = generate(&g, z.clone(), Some(&[3]));
    let seven = generate(&g, z, Some(&[7]));
    let gap = three[0]
        .iter()
        .zip(&seven[0])
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(gap > 1e-3, "digits 3 and 7 drew the same image (gap {gap})");
}

#[test]
fn a_conditional_discriminator_judges_an_image_with_the_digit_it_should_show() {
    let device = Default::default();
    for layout in [Layout::Dense, Layout::Conv] {
        let config = GanConfig::new(layout).with_conditional(true);
        let d = config.init_discriminator::<NdArray>(&device);
        let image = Tensor::<NdArray, 4>::ones([1, 1, 28, 28], &device) * 0.3;
        let verdict = |digit: i64| -> f32 {
            let digits = Tensor::<NdArray, 1, Int>::from_ints([digit], &device);
            d.forward(image.clone(), Some(digits)).into_scalar()
        };
        let gap = (verdict(3) - verdict(7)).abs();
        assert!(
            gap > 1e-4,
            "{layout:?}: the digit does not change the verdict"
        );
        let plain = GanConfig::new(layout).init_discriminator::<NdArray>(&device);
        let digits = Tensor::<NdArray, 1, Int>::from_ints([3], &device);
        let (told, untold) = (
            plain.forward(image.clone(), Some(digits)).into_scalar(),
            plain.forward(image.clone(), None).into_scalar(),
        );
        assert_eq!(
            told, untold,
            "{layout:?}: an unconditional net ignores digits"
        );
    }
}

#[test]
fn the_two_nets_learn_against_each_other() {
    let device = Default::default();
    Train::seed(&device, 11);
    let config = GanConfig::new(Layout::Dense).with_latent(32);
    let mut gan = GanTrainer::new(
        config.init_generator::<Train>(&device),
        config.init_discriminator::<Train>(&device),
        adam().init(),
        adam().init(),
        2e-4,
    );
    let real = real_batch(64, &device);
    let z = latent_noise::<Train>(64, 32, &device);
    let start = gan.losses(real.images.clone(), z.clone(), None);

    // The discriminator alone: it learns to tell the fixed fakes from the
    // real images, so the generator's loss rises.
    let mut first = None;
    for _ in 0..25 {
        let figures = gan.train_discriminator(real.images.clone(), z.clone(), None);
        first.get_or_insert(figures.into_data().to_vec::<f32>().unwrap()[0]);
    }
    let first = f64::from(first.unwrap());
    assert!(
        (first - start.discriminator).abs() < 1e-4,
        "a step reports its loss before its update: {first} vs {}",
        start.discriminator
    );
    let judged = gan.losses(real.images.clone(), z.clone(), None);
    let accuracy = (judged.real_accuracy + judged.fake_accuracy) / 2.0;
    assert!(
        accuracy > 0.9,
        "discriminator accuracy {accuracy} after 25 steps of its own ({start:?} → {judged:?})"
    );
    assert!(
        judged.discriminator < 0.5 * start.discriminator,
        "discriminator loss {} → {}",
        start.discriminator,
        judged.discriminator
    );
    assert!(
        judged.generator > start.generator + 0.5,
        "the generator's loss did not rise while only the discriminator learned: {} → {}",
        start.generator,
        judged.generator
    );

    // The generator alone, against that discriminator: it learns to fool it.
    for _ in 0..25 {
        gan.train_generator(z.clone(), None);
    }
    let fooling = gan.losses(real.images.clone(), z.clone(), None);
    assert!(
        fooling.generator < 0.5 * judged.generator,
        "generator loss {} → {} after 25 steps of its own",
        judged.generator,
        fooling.generator
    );
    assert!(
        fooling.fake_accuracy < judged.fake_accuracy - 0.3,
        "the discriminator still calls {} of the fakes fake (was {})",
        fooling.fake_accuracy,
        judged.fake_accuracy
    );

    // The game itself: an epoch's figures are the means over its steps.
    assert_eq!(gan.take_epoch(), None);
    for _ in 0..3 {
        gan.step(real.images.clone(), real.targets.clone());
    }
    let epoch = gan.take_epoch().unwrap();
    assert_eq!(epoch.steps, 3);
    for share in [epoch.real_accuracy, epoch.fake_accuracy] {
        assert!((0.0..=1.0).contains(&share), "{epoch:?}");
    }
    assert!(
        epoch.discriminator_loss > 0.0 && epoch.generator_loss > 0.0,
        "{epoch:?}"
    );
    assert_eq!(
        gan.take_epoch(),
        None,
        "the sums start again after each epoch"
    );
}

//! Datasets, splits and batchers on the ndarray backend.

use std::path::Path;
use std::sync::Arc;

use burn::backend::NdArray;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use dlsuite_data::augment::RandomShift;
use dlsuite_data::{DigitSet, Digits, ImageBatch, ImageBatcher, Kind, Split};

type B = NdArray;

fn fixture_set() -> DigitSet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist");
    DigitSet::new(Arc::new(Digits::load_dir(&dir, Split::Train).unwrap()))
}

#[test]
fn validation_split_is_the_tail_and_deterministic() {
    let (train, valid) = fixture_set().split_last(100).unwrap();
    assert_eq!((train.len(), valid.len()), (500, 100));
    assert_eq!(valid.source_index(0), 500);
    assert_eq!(train.source_index(499), 499);
    assert!(fixture_set().split_last(600).is_err());
}

#[test]
fn seeded_shuffle_is_a_permutation_fixed_by_the_seed() {
    let a = fixture_set().shuffled(7);
    let b = fixture_set().shuffled(7);
    let c = fixture_set().shuffled(8);
    let order = |s: &DigitSet| (0..s.len()).map(|i| s.source_index(i)).collect::<Vec<_>>();
    assert_eq!(order(&a), order(&b));
    assert_ne!(order(&a), order(&c));
    let mut sorted = order(&a);
    sorted.sort();
    assert_eq!(sorted, (0..600).collect::<Vec<_>>());
}

#[test]
fn flat_and_grid_batches_have_the_right_shapes_and_values() {
    let set = fixture_set();
    let items: Vec<_> = (0..8).map(|i| set.get(i).unwrap()).collect();
    let device = Default::default();
    let norm = Kind::Mnist.normalization();

    let flat: ImageBatch<B, 2> = ImageBatcher::flat(norm).batch(items.clone(), &device);
    assert_eq!(flat.images.dims(), [8, 784]);
    assert_eq!(flat.targets.dims(), [8]);
    let labels: Vec<i64> = flat.targets.to_data().convert::<i64>().to_vec().unwrap();
    assert_eq!(labels, vec![5, 0, 4, 1, 9, 2, 1, 3]);

    let grid: ImageBatch<B, 4> = ImageBatcher::grid(norm).batch(items.clone(), &device);
    assert_eq!(grid.images.dims(), [8, 1, 28, 28]);

    // Pixel 0 of every image is background: (0 - mean) / std.
    let values: Vec<f32> = grid.images.to_data().to_vec().unwrap();
    assert!((values[0] - (-0.1307 / 0.3081)).abs() < 1e-6);
    // The brightest pixel of the first image is 255: (1 - mean) / std.
    let max = values[..784].iter().cloned().fold(f32::MIN, f32::max);
    assert!((max - (1.0 - 0.1307) / 0.3081).abs() < 1e-5);
    let same: Vec<f32> = flat.images.to_data().to_vec().unwrap();
    assert_eq!(values, same, "the two layouts hold the same numbers");
}

#[test]
fn a_shifting_batcher_moves_each_image_by_its_own_offset_and_keeps_labels() {
    let set = fixture_set();
    let items: Vec<_> = (0..32).map(|i| set.get(i).unwrap()).collect();
    let device = Default::default();
    let norm = Kind::Mnist.normalization();
    let plain: ImageBatch<B, 4> = ImageBatcher::grid(norm).batch(items.clone(), &device);
    let batcher = ImageBatcher::grid(norm).with_shift(Some(RandomShift::new(2, 3)));
    let shifted: ImageBatch<B, 4> = batcher.batch(items.clone(), &device);
    assert_eq!(shifted.images.dims(), [32, 1, 28, 28]);
    let labels = |b: &ImageBatch<B, 4>| b.targets.to_data().convert::<i64>().to_vec::<i64>();
    assert_eq!(labels(&plain).unwrap(), labels(&shifted).unwrap());

    // Replaying the same seed's offsets by hand gives the same batch.
    let offsets = RandomShift::new(2, 3);
    let got: Vec<f32> = shifted.images.to_data().to_vec().unwrap();
    let mut moved_any = false;
    for (i, item) in items.iter().enumerate() {
        let (dx, dy) = offsets.offset();
        moved_any |= (dx, dy) != (0, 0);
        let expected = dlsuite_data::augment::shift(&item.pixels, dx, dy);
        let image = &got[i * 784..(i + 1) * 784];
        for (p, (&v, &e)) in image.iter().zip(expected.iter()).enumerate() {
            let want = (e as f32 / 255.0 - 0.1307) / 0.3081;
            assert!(
                (v - want).abs() < 1e-5,
                "image {i} pixel {p}: {v} vs {want}"
            );
        }
    }
    assert!(moved_any, "32 draws of offsets in -2..=2 all came out zero");

    // With a shift of at most 0 pixels, images pass unchanged.
    let zero: ImageBatch<B, 4> = ImageBatcher::grid(norm)
        .with_shift(Some(RandomShift::new(0, 3)))
        .batch(items, &device);
    let a: Vec<f32> = zero.images.to_data().to_vec().unwrap();
    let b: Vec<f32> = plain.images.to_data().to_vec().unwrap();
    assert_eq!(a, b);
}

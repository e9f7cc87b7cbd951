//! A set of digit images kept on the device, for the GPU backends.
//!
//! Burn's loader makes each batch on the host and uploads it: for MNIST at
//! batch 64 that is 200 kB copied across the bus every step, behind the
//! host's gathering of the images. Here the whole set is uploaded once and
//! a batch is only its positions (64 integers), gathered on the device.
//! The positions come from burn's own loader over `0..len`, so the order,
//! the shuffle of each epoch and the progress are those of the host loader
//! with the same seed, and so are the batches (this module's tests).

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::{Dataset, InMemDataset};
use burn::prelude::*;
use dlsuite_data::{DigitSet, ImageBatch, ImageBatcher};

/// Sets larger than this stay on the host: a device's memory is for the
/// model first.
pub const MAX_BYTES_ON_DEVICE: usize = 2 << 30;

/// Makes batches from positions in a set already on the device.
#[derive(Clone, Debug)]
struct Gather<B: Backend, const D: usize> {
    images: Tensor<B, D>,
    labels: Tensor<B, 1, Int>,
}

impl<B: Backend, const D: usize> Batcher<B, usize, ImageBatch<B, D>> for Gather<B, D> {
    fn batch(&self, positions: Vec<usize>, device: &B::Device) -> ImageBatch<B, D> {
        let n = positions.len();
        let positions: Vec<i64> = positions.into_iter().map(|p| p as i64).collect();
        let at = Tensor::<B, 1, Int>::from_data(TensorData::new(positions, [n]), device);
        ImageBatch {
            images: self.images.clone().to_device(device).select(0, at.clone()),
            targets: self.labels.clone().to_device(device).select(0, at),
        }
    }
}

/// A loader of `set` in batches of `batch_size` (shuffled each epoch from
/// `shuffle`'s seed), whose images `batcher` makes once, all together, on
/// `device`. `None` where the set is over [`MAX_BYTES_ON_DEVICE`] as
/// `f32`s, or where `batcher` moves images at random (that happens per
/// batch, on the host).
pub fn loader_on_device<B: Backend, const D: usize>(
    set: &DigitSet,
    batcher: &ImageBatcher<D>,
    batch_size: usize,
    shuffle: Option<u64>,
    device: &B::Device,
) -> Option<Arc<dyn DataLoader<B, ImageBatch<B, D>>>> {
    let values = set.len() * dlsuite_data::idx::PIXELS;
    if batcher.shifts() || values * std::mem::size_of::<f32>() > MAX_BYTES_ON_DEVICE {
        return None;
    }
    let all: ImageBatch<B, D> = batcher.batch(set.iter().collect(), device);
    let gather = Gather {
        images: all.images,
        labels: all.targets,
    };
    let builder = DataLoaderBuilder::new(gather).batch_size(batch_size);
    let builder = match shuffle {
        Some(seed) => builder.shuffle(seed),
        None => builder,
    };
    let positions = InMemDataset::new((0..set.len()).collect());
    Some(builder.set_device(device.clone()).build(positions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use dlsuite_data::{Digits, Kind};

    type B = NdArray;

    fn set() -> DigitSet {
        // 50 distinct images: image i has pixel i lit to i.
        let mut pixels = vec![0u8; 50 * 784];
        for i in 0..50 {
            pixels[i * 784 + i] = 5 * i as u8;
        }
        let labels = (0..50).map(|i| (i % 10) as u8).collect();
        let (train, _) = DigitSet::new(Arc::new(Digits::new(pixels, labels).unwrap()))
            .split_last(3)
            .unwrap();
        train
    }

    fn batches<const D: usize>(
        loader: &Arc<dyn DataLoader<B, ImageBatch<B, D>>>,
    ) -> Vec<(TensorData, TensorData)> {
        loader
            .iter()
            .map(|b| (b.images.into_data(), b.targets.into_data()))
            .collect()
    }

    #[test]
    fn batches_on_the_device_are_the_host_loaders_in_its_order() {
        let device = Default::default();
        let set = set();
        let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
        for shuffle in [None, Some(7)] {
            let host = DataLoaderBuilder::new(batcher.clone()).batch_size(10);
            let host = match shuffle {
                Some(seed) => host.shuffle(seed),
                None => host,
            };
            let host: Arc<dyn DataLoader<B, ImageBatch<B, 4>>> = host.build(set.clone());
            let ours = loader_on_device::<B, 4>(&set, &batcher, 10, shuffle, &device).unwrap();
            assert_eq!(ours.num_items(), 47);
            // Two epochs: each draws its own order, as the host loader's do;
            // then a copy moved to the device as the Learner moves them.
            for _ in 0..2 {
                let (a, b) = (batches(&host), batches(&ours));
                assert_eq!(a.len(), 5);
                assert_eq!(a, b, "shuffle {shuffle:?}");
            }
            let (host, ours) = (host.to_device(&device), ours.to_device(&device));
            assert_eq!(batches(&host), batches(&ours));
        }
        let first =
            batches(&loader_on_device::<B, 4>(&set, &batcher, 10, Some(7), &device).unwrap());
        let plain = batches(&loader_on_device::<B, 4>(&set, &batcher, 10, None, &device).unwrap());
        assert_ne!(first, plain, "a seed shuffles");
    }

    #[test]
    fn progress_counts_images_as_the_host_loader_does() {
        let device = Default::default();
        let set = set();
        let batcher = ImageBatcher::flat(Kind::Mnist.normalization());
        let ours = loader_on_device::<B, 2>(&set, &batcher, 20, Some(1), &device).unwrap();
        let mut iter = ours.iter();
        let mut seen = Vec::new();
        while let Some(batch) = iter.next() {
            assert_eq!(batch.images.dims()[1], 784);
            seen.push(iter.progress().items_processed);
        }
        assert_eq!(seen, [20, 40, 47]);
        assert_eq!(iter.progress().items_total, 47);
    }

    #[test]
    fn shifted_images_stay_on_the_host() {
        let shifting = ImageBatcher::grid(Kind::Mnist.normalization())
            .with_shift(Some(dlsuite_data::augment::RandomShift::new(2, 0)));
        assert!(
            loader_on_device::<B, 4>(&set(), &shifting, 10, None, &Default::default()).is_none()
        );
    }
}

//! A set of digit images kept on the device, for the GPU backends that
//! gain from it (`Tuned::DATA_ON_DEVICE`).
//!
//! Burn's loader makes each batch on the host and uploads it: for MNIST at
//! batch 64 that is 200 kB copied across the bus every step, behind the
//! host's gathering of the images. Here the set's pixel bytes are uploaded
//! once, four to an integer (a quarter of the `f32`s' room: MNIST's 55,000
//! training images take 43 MB, inside the 128 MiB a GPU buffer binding is
//! sure to allow), and a batch is only its positions (64 integers):
//! gathered, unpacked and normalised through the batcher's own table on the
//! device. The positions come from burn's own loader over `0..len`, so the
//! order, each epoch's shuffle and the progress are those of the host
//! loader with the same seed, and so are the batches, to the bit (this
//! module's tests).

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::{Dataset, InMemDataset};
use burn::prelude::*;
use dlsuite_data::idx::PIXELS;
use dlsuite_data::{DigitSet, ImageBatch, ImageBatcher};

/// Packed sets larger than this stay on the host: WebGPU promises a shader
/// 128 MiB of one buffer, and a device's memory is for the model first.
const MAX_BYTES_ON_DEVICE: usize = 96 << 20;

/// Pixel bytes per packed integer.
const PACKED: usize = 4;

/// Makes batches from positions in a set already on the device.
#[derive(Clone, Debug)]
struct Gather<B: Backend, const D: usize> {
    /// `[images, 196]`: each image's bytes, four to an integer, the first
    /// in the lowest byte.
    packed: Tensor<B, 2, Int>,
    labels: Tensor<B, 1, Int>,
    /// `[256]`: the normalised value of each byte.
    lut: Tensor<B, 1>,
}

impl<B: Backend, const D: usize> Gather<B, D> {
    fn new(set: &DigitSet, batcher: &ImageBatcher<D>, device: &B::Device) -> Self {
        let n = set.len();
        let mut words = Vec::with_capacity(n * PIXELS / PACKED);
        let mut labels = Vec::with_capacity(n);
        for item in set.iter() {
            words.extend(
                item.pixels
                    .chunks_exact(PACKED)
                    .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            labels.push(item.label as i64);
        }
        Self {
            packed: Tensor::from_data(TensorData::new(words, [n, PIXELS / PACKED]), device),
            labels: Tensor::from_data(TensorData::new(labels, [n]), device),
            lut: Tensor::from_data(TensorData::new(batcher.lut().to_vec(), [256]), device),
        }
    }
}

impl<B: Backend, const D: usize> Batcher<B, usize, ImageBatch<B, D>> for Gather<B, D> {
    fn batch(&self, positions: Vec<usize>, device: &B::Device) -> ImageBatch<B, D> {
        let n = positions.len();
        let positions: Vec<i64> = positions.into_iter().map(|p| p as i64).collect();
        let at = Tensor::<B, 1, Int>::from_data(TensorData::new(positions, [n]), device);
        let words = self.packed.clone().select(0, at.clone());
        // Byte k of each word, sign and all, then its low 8 bits.
        let bytes: Vec<_> = (0..PACKED as i64)
            .map(|k| {
                words
                    .clone()
                    .bitwise_right_shift_scalar((8 * k).elem())
                    .bitwise_and_scalar(255.elem())
            })
            .collect();
        let bytes = Tensor::stack::<3>(bytes, 2).reshape([n * PIXELS]);
        let shape: [usize; D] = ImageBatcher::<D>::shape(n)
            .try_into()
            .expect("a batcher's shape has its rank");
        ImageBatch {
            images: self.lut.clone().select(0, bytes).reshape(shape),
            targets: self.labels.clone().select(0, at),
        }
    }
}

/// A loader of `set` in batches of `batch_size` (shuffled each epoch from
/// `shuffle`'s seed), normalised as `batcher` does it, with the set on
/// `device`. `None` where the packed set is over `MAX_BYTES_ON_DEVICE`,
/// or where `batcher` moves images at random (that happens per batch, on
/// the host).
pub fn loader_on_device<B: Backend, const D: usize>(
    set: &DigitSet,
    batcher: &ImageBatcher<D>,
    batch_size: usize,
    shuffle: Option<u64>,
    device: &B::Device,
) -> Option<Arc<dyn DataLoader<B, ImageBatch<B, D>>>> {
    if batcher.shifts() || set.len() * PIXELS > MAX_BYTES_ON_DEVICE {
        return None;
    }
    let builder = DataLoaderBuilder::new(Gather::new(set, batcher, device)).batch_size(batch_size);
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
        // 50 distinct images with every byte value somewhere, high bytes
        // at every place in a packed word among them.
        let pixels: Vec<u8> = (0..50 * 784).map(|j| (j * 7 % 256) as u8).collect();
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

//! Turning [`DigitItem`]s into normalised `f32` tensors on any backend.

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;

use crate::augment::RandomShift;
use crate::idx::{PIXELS, SIDE};
use crate::mnist::{DigitItem, Normalization};

/// A batch of images and their classes. `D` is 2 for MLPs (`[batch, 784]`)
/// and 4 for CNNs (`[batch, 1, 28, 28]`).
#[derive(Clone, Debug)]
pub struct ImageBatch<B: Backend, const D: usize> {
    pub images: Tensor<B, D>,
    /// `[batch]`, class indices 0–9.
    pub targets: Tensor<B, 1, Int>,
}

/// Builds [`ImageBatch`]es. Normalisation goes through a 256-entry lookup
/// table, so a batch costs one pass over its bytes and one tensor upload.
#[derive(Clone, Debug)]
pub struct ImageBatcher<const D: usize> {
    lut: [f32; 256],
    /// Moves each image by a random offset first (training only).
    shift: Option<RandomShift>,
}

fn lookup_table(norm: Normalization) -> [f32; 256] {
    std::array::from_fn(|v| (v as f32 / 255.0 - norm.mean) / norm.std)
}

impl ImageBatcher<2> {
    /// Batches shaped `[batch, 784]`, for fully connected nets.
    pub fn flat(norm: Normalization) -> Self {
        Self {
            lut: lookup_table(norm),
            shift: None,
        }
    }
}

impl ImageBatcher<4> {
    /// Batches shaped `[batch, 1, 28, 28]`, for convolutional nets.
    pub fn grid(norm: Normalization) -> Self {
        Self {
            lut: lookup_table(norm),
            shift: None,
        }
    }
}

impl<const D: usize> ImageBatcher<D> {
    /// The same batcher, moving every image it batches by the next offset of
    /// `shift` first (data augmentation); `None` leaves images as they are.
    pub fn with_shift(self, shift: Option<RandomShift>) -> Self {
        Self { shift, ..self }
    }

    /// The normalised value of each pixel byte.
    pub fn lut(&self) -> &[f32; 256] {
        &self.lut
    }

    /// Whether it moves images at random (each batch differently).
    pub fn shifts(&self) -> bool {
        self.shift.is_some()
    }

    /// The shape of a batch of `n` images in this layout.
    pub fn shape(n: usize) -> Vec<usize> {
        if D == 2 {
            vec![n, PIXELS]
        } else {
            vec![n, 1, SIDE, SIDE]
        }
    }

    /// Normalises raw pixels of any number of images into one tensor.
    pub fn images<B: Backend>(&self, pixels: &[u8], device: &B::Device) -> Tensor<B, D> {
        let values: Vec<f32> = pixels.iter().map(|&p| self.lut[p as usize]).collect();
        let data = TensorData::new(values, Self::shape(pixels.len() / PIXELS));
        Tensor::from_data(data, device)
    }
}

impl<B: Backend, const D: usize> Batcher<B, DigitItem, ImageBatch<B, D>> for ImageBatcher<D> {
    fn batch(&self, items: Vec<DigitItem>, device: &B::Device) -> ImageBatch<B, D> {
        let n = items.len();
        let mut values = Vec::with_capacity(n * PIXELS);
        let mut labels = Vec::with_capacity(n);
        for item in &items {
            let moved;
            let pixels = match &self.shift {
                Some(shift) => {
                    moved = shift.apply(&item.pixels);
                    &moved
                }
                None => &item.pixels,
            };
            values.extend(pixels.iter().map(|&p| self.lut[p as usize]));
            labels.push(item.label as i64);
        }
        let images = Tensor::from_data(TensorData::new(values, Self::shape(n)), device);
        let targets = Tensor::from_data(TensorData::new(labels, [n]), device);
        ImageBatch { images, targets }
    }
}

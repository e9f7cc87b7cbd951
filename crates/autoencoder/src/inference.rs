use burn::prelude::*;

use crate::model::Autoencoder;
use crate::training::image_batcher;

/// Pixels per image.
const PIXELS: usize = 28 * 28;

/// A whole set of images passed through an autoencoder.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedSet {
    /// `n × code` values, image by image.
    pub codes: Vec<f32>,
    pub code_width: usize,
    /// Mean squared error per pixel over the set (pixels in [0, 1]).
    pub mse: f64,
    /// The reconstructions of the first `keep` images, 784 values each.
    pub kept: Vec<Vec<f32>>,
}

/// Encodes and reconstructs `pixels` (raw bytes, 784 per image) in batches of
/// `batch`, keeping every code and the first `keep` reconstructions.
pub fn encode_set<B: Backend>(
    model: &Autoencoder<B>,
    pixels: &[u8],
    batch: usize,
    keep: usize,
    device: &B::Device,
) -> EncodedSet {
    let batcher = image_batcher();
    let code_width = model.code_width();
    let (mut codes, mut kept) = (Vec::new(), Vec::new());
    let (mut squared, mut count) = (0.0f64, 0usize);
    for chunk in pixels.chunks(batch.max(1) * PIXELS) {
        let images = batcher.images::<B>(chunk, device);
        let n = chunk.len() / PIXELS;
        let code = model.encode(images.clone());
        let rebuilt = model.decode(code.clone());
        let error = (rebuilt.clone() - images).square().sum();
        squared += error.into_scalar().elem::<f64>();
        count += chunk.len();
        codes.extend(values(code));
        if kept.len() < keep {
            let take = (keep - kept.len()).min(n);
            let rebuilt = values(rebuilt.narrow(0, 0, take));
            kept.extend(rebuilt.chunks(PIXELS).map(<[f32]>::to_vec));
        }
    }
    EncodedSet {
        codes,
        code_width,
        mse: if count == 0 {
            f64::NAN
        } else {
            squared / count as f64
        },
        kept,
    }
}

/// Draws an image from each code (`n × code` values): 784 values in [0, 1]
/// per image.
pub fn decode<B: Backend>(
    model: &Autoencoder<B>,
    codes: &[f32],
    device: &B::Device,
) -> Vec<Vec<f32>> {
    let width = model.code_width();
    let n = codes.len() / width.max(1);
    if n == 0 {
        return Vec::new();
    }
    let code = Tensor::<B, 2>::from_data(
        TensorData::new(codes[..n * width].to_vec(), [n, width]),
        device,
    );
    values(model.decode(code))
        .chunks(PIXELS)
        .map(<[f32]>::to_vec)
        .collect()
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap_or_default()
}

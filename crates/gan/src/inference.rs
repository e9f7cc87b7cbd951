use burn::prelude::*;
use burn::tensor::Distribution;

use crate::model::Generator;

/// Pixels per image.
const PIXELS: usize = 28 * 28;

/// `[n, latent]` standard normal noise, from the backend's seeded generator.
pub fn latent_noise<B: Backend>(n: usize, latent: usize, device: &B::Device) -> Tensor<B, 2> {
    Tensor::random([n, latent], Distribution::Normal(0.0, 1.0), device)
}

/// The images the generator draws from `z` (`[n, latent]`; for a
/// conditional GAN, `digits` says which digit each should be): 784 values
/// per image, ink 1 and paper 0, as the pictures draw them.
pub fn generate<B: Backend>(
    generator: &Generator<B>,
    z: Tensor<B, 2>,
    digits: Option<&[u8]>,
) -> Vec<Vec<f32>> {
    let device = z.device();
    let n = z.dims()[0];
    let digits = digits.map(|d| {
        let d: Vec<i64> = d.iter().take(n).map(|&v| i64::from(v)).collect();
        let len = d.len();
        Tensor::<B, 1, Int>::from_data(TensorData::new(d, [len]), &device)
    });
    let drawn = (generator.forward(z, digits) + 1.0) / 2.0;
    drawn
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap_or_default()
        .chunks(PIXELS)
        .map(<[f32]>::to_vec)
        .collect()
}

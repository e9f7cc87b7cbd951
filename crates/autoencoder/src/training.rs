use burn::nn::loss::{MseLoss, Reduction};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use dlsuite_data::{ImageBatch, ImageBatcher, Normalization};
use dlsuite_train::{regression, Figures};

use crate::model::Autoencoder;

/// Batches of `[batch, 1, 28, 28]` with pixels scaled to [0, 1] and not
/// centred: the decoder ends in a sigmoid, so [0, 1] is what it can draw.
pub fn image_batcher() -> ImageBatcher<4> {
    ImageBatcher::grid(Normalization {
        mean: 0.0,
        std: 1.0,
    })
}

/// The mean squared error between each image and its reconstruction, over
/// all pixels, and the figures reported. The labels in the batch are not
/// used: an autoencoder learns from the images alone.
pub fn reconstruction_output<B: Backend>(
    model: &Autoencoder<B>,
    batch: ImageBatch<B, 4>,
) -> (Tensor<B, 1>, Figures<B>) {
    let images = batch.images.flatten::<2>(1, 3);
    let [n, pixels] = images.dims();
    let rebuilt = model
        .forward(images.clone().reshape([n, 1, 28, 28]))
        .reshape([n, pixels]);
    let loss = MseLoss::new().forward(rebuilt, images, Reduction::Mean);
    let figures = regression(&loss, n);
    (loss, figures)
}

impl<B: AutodiffBackend> TrainStep for Autoencoder<B> {
    type Input = ImageBatch<B, 4>;
    type Output = Figures<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> TrainOutput<Figures<B>> {
        let (loss, figures) = reconstruction_output(self, batch);
        TrainOutput::new(self, loss.backward(), figures)
    }
}

impl<B: Backend> InferenceStep for Autoencoder<B> {
    type Input = ImageBatch<B, 4>;
    type Output = Figures<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> Figures<B> {
        reconstruction_output(self, batch).1
    }
}

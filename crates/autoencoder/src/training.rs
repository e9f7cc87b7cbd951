use burn::nn::loss::{MseLoss, Reduction};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::train::{InferenceStep, RegressionOutput, TrainOutput, TrainStep};
use dlsuite_data::{ImageBatch, ImageBatcher, Normalization};

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
/// all pixels, packaged for burn-train's loss metric. The labels in the
/// batch are not used: an autoencoder learns from the images alone.
pub fn reconstruction_output<B: Backend>(
    model: &Autoencoder<B>,
    batch: ImageBatch<B, 4>,
) -> RegressionOutput<B> {
    let images = batch.images.flatten::<2>(1, 3);
    let [n, pixels] = images.dims();
    let rebuilt = model
        .forward(images.clone().reshape([n, 1, 28, 28]))
        .reshape([n, pixels]);
    let loss = MseLoss::new().forward(rebuilt.clone(), images.clone(), Reduction::Mean);
    RegressionOutput {
        loss,
        output: rebuilt,
        targets: images,
    }
}

impl<B: AutodiffBackend> TrainStep for Autoencoder<B> {
    type Input = ImageBatch<B, 4>;
    type Output = RegressionOutput<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> TrainOutput<RegressionOutput<B>> {
        let output = reconstruction_output(self, batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl<B: Backend> InferenceStep for Autoencoder<B> {
    type Input = ImageBatch<B, 4>;
    type Output = RegressionOutput<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> RegressionOutput<B> {
        reconstruction_output(self, batch)
    }
}

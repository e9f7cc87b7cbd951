//! The classifiers the runner trains, as one type, so that burn-train's
//! `Learner` is built once per backend and optimizer rather than once per
//! model family too.

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use dlsuite_cnn::Cnn;
use dlsuite_data::ImageBatch;
use dlsuite_logistic::LogisticRegression;
use dlsuite_mlp::Mlp;
use dlsuite_train::classification_output;

use crate::backend::BackendChoice;

#[derive(Module, Debug)]
pub enum Net<B: Backend> {
    Softmax(LogisticRegression<B>),
    Mlp(Mlp<B>),
    Cnn(Cnn<B>),
}

impl<B: Backend> Net<B> {
    /// `[batch, 1, 28, 28] → [batch, classes]`: logits. Fully connected nets
    /// see the image flattened to 784 values.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Net::Softmax(m) => m.forward(images.flatten(1, 3)),
            Net::Mlp(m) => m.forward(images.flatten(1, 3)),
            Net::Cnn(m) => m.forward(images),
        }
    }

    /// Picks, of the equivalent ways to train, the faster on `backend`:
    /// how convolutions train ([`Cnn::with_conv_training`]), dropout masks
    /// drawn on the host ([`Mlp::with_host_dropout_masks`]) and fully
    /// connected layers on the host ([`Mlp::with_host_linears`]).
    pub fn tuned_for(self, backend: BackendChoice) -> Self {
        let host_masks = backend.host_dropout_masks();
        match self {
            Net::Softmax(m) => Net::Softmax(m),
            Net::Mlp(m) => Net::Mlp(
                m.with_host_dropout_masks(host_masks)
                    .with_host_linears(backend.host_linears()),
            ),
            Net::Cnn(m) => Net::Cnn(
                m.with_host_dropout_masks(host_masks)
                    .with_conv_training(backend.conv_training())
                    .with_host_linears(backend.host_linears()),
            ),
        }
    }
}

impl<B: AutodiffBackend> TrainStep for Net<B> {
    type Input = ImageBatch<B, 4>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> TrainOutput<ClassificationOutput<B>> {
        let output = classification_output(self.forward(batch.images), batch.targets);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl<B: Backend> InferenceStep for Net<B> {
    type Input = ImageBatch<B, 4>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> ClassificationOutput<B> {
        classification_output(self.forward(batch.images), batch.targets)
    }
}

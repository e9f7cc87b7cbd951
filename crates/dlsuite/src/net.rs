//! The classifiers the runner trains, as one type, so that burn-train's
//! `Learner` is built once per backend rather than once per model family.

use burn::prelude::*;
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use dlsuite_cnn::Cnn;
use dlsuite_data::ImageBatch;
use dlsuite_logistic::{LogisticRegression, LogisticRegressionConfig};
use dlsuite_mlp::Mlp;
use dlsuite_rnn::{RowLstm, RowLstmConfig};
use dlsuite_speed::{Tuned, TunedAutodiff};
use dlsuite_train::{classification, Figures};

use crate::config::ModelSpec;

// Built once per run and moved only with the model: boxing the LSTM's
// variant would only make the record harder to read.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Net<B: Backend> {
    Softmax(LogisticRegression<B>),
    Mlp(Mlp<B>),
    Cnn(Cnn<B>),
    Lstm(RowLstm<B>),
}

/// Builds the network an experiment describes, freshly initialised.
pub fn build_net<B: Backend>(spec: &ModelSpec, device: &B::Device) -> Net<B> {
    match spec {
        ModelSpec::Softmax => Net::Softmax(
            LogisticRegressionConfig::new(784)
                .with_outputs(10)
                .init(device),
        ),
        ModelSpec::Mlp { .. } => Net::Mlp(spec.mlp_config().expect("mlp spec").init(device)),
        ModelSpec::Cnn { .. } => Net::Cnn(spec.cnn_config().expect("cnn spec").init(device)),
        ModelSpec::Lstm { hidden } => {
            Net::Lstm(RowLstmConfig::new().with_hidden(*hidden).init(device))
        }
    }
}

/// A short name for the net an experiment describes.
pub fn describe(spec: &ModelSpec) -> String {
    match spec {
        ModelSpec::Softmax => "softmax regression".into(),
        ModelSpec::Mlp {
            hidden, activation, ..
        } => format!("MLP {hidden:?} {activation:?}"),
        ModelSpec::Cnn { preset, .. } => {
            let config = spec.cnn_config().expect("cnn spec");
            let channels: Vec<usize> = config.blocks.iter().map(|b| b.channels).collect();
            let norm = if config.blocks.iter().any(|b| b.batch_norm) {
                ", batch norm"
            } else {
                ""
            };
            match preset {
                Some(p) => format!("CNN {p:?} {channels:?}{norm}"),
                None => format!("CNN {channels:?} + dense {:?}{norm}", config.dense),
            }
        }
        ModelSpec::Lstm { hidden } => format!("LSTM over the 28 rows, {hidden} hidden"),
    }
}

impl<B: Tuned> Net<B> {
    /// `[batch, 1, 28, 28] → [batch, classes]`: logits, computed the fastest
    /// way the backend has. Fully connected nets see the image flattened to
    /// 784 values.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        match self {
            Net::Softmax(m) => m.forward(images.flatten(1, 3)),
            Net::Mlp(m) => B::mlp(m, images.flatten(1, 3)),
            Net::Cnn(m) => B::cnn(m, images),
            Net::Lstm(m) => m.forward(images),
        }
    }
}

impl<B: TunedAutodiff> TrainStep for Net<B> {
    type Input = ImageBatch<B, 4>;
    type Output = Figures<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> TrainOutput<Figures<B>> {
        let (loss, figures) = classification(self.forward(batch.images), batch.targets);
        TrainOutput::new(self, loss.backward(), figures)
    }
}

impl<B: Tuned> InferenceStep for Net<B> {
    type Input = ImageBatch<B, 4>;
    type Output = Figures<B>;

    fn step(&self, batch: ImageBatch<B, 4>) -> Figures<B> {
        classification(self.forward(batch.images), batch.targets).1
    }
}

//! What a training or validation step reports, kept on the device.
//!
//! burn-train hands each step's output to a reporting thread, which reads it
//! back to the host before the metrics see it. With burn's own
//! `ClassificationOutput` that is a read (logits, loss and targets) every
//! step, and on a GPU every read waits for the device to finish all the
//! work queued before it. A [`Figures`] is two numbers left on the device;
//! the suite's metrics ([`crate::reported`]) read many steps' figures in one
//! transaction, every so many steps and at the end of each epoch.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::train::metric::{Adaptor, ItemLazy};

/// One step's figures on the device: its mean loss (`[1]`, the loss
/// trained on, detached) and, for a classifier, its number of right answers
/// (`[1]`); `count` is the batch's number of examples (or of scored tokens).
/// Nothing more is computed for them than the count of right answers: on a
/// GPU each extra operation is a kernel launched every step.
#[derive(Clone, Debug)]
pub struct Figures<B: Backend> {
    pub(crate) loss: Tensor<B, 1>,
    pub(crate) right: Option<Tensor<B, 1, Int>>,
    pub(crate) count: usize,
}

/// Cross-entropy of `logits` `[batch, classes]` against class indices
/// `[batch]`: the mean loss, to train on, and the step's figures. Every
/// classifier's train and validation steps go through here.
pub fn classification<B: Backend>(
    logits: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
) -> (Tensor<B, 1>, Figures<B>) {
    let [count, _] = logits.dims();
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    let right = logits
        .detach()
        .argmax(1)
        .reshape([count])
        .equal(targets)
        .int()
        .sum();
    let figures = Figures {
        loss: loss.clone().detach(),
        right: Some(right),
        count,
    };
    (loss, figures)
}

/// The figures of a step whose mean loss over `count` examples is `loss`
/// (`[1]`) and that classifies nothing (an autoencoder's reconstruction).
pub fn regression<B: Backend>(loss: &Tensor<B, 1>, count: usize) -> Figures<B> {
    Figures {
        loss: loss.clone().detach(),
        right: None,
        count,
    }
}

impl<B: Backend> Figures<B> {
    /// Reads the figures back to the host: the mean loss per example and the
    /// share of right answers (0 to 1; NaN where nothing is classified).
    pub fn read(&self) -> (f64, f64) {
        let first = |data: TensorData| data.iter::<f64>().next().unwrap_or(f64::NAN);
        let loss = first(self.loss.to_data());
        let right = self.right.as_ref().map_or(f64::NAN, |r| first(r.to_data()));
        (loss, right / self.count.max(1) as f64)
    }
}

/// Nothing is read when burn-train syncs a step: the metrics read later.
impl<B: Backend> ItemLazy for Figures<B> {
    type ItemSync = Figures<B>;

    fn sync(self) -> Self::ItemSync {
        self
    }
}

impl<B: Backend> Adaptor<Figures<B>> for Figures<B> {
    fn adapt(&self) -> Figures<B> {
        self.clone()
    }
}

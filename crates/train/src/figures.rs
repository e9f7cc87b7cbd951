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

/// One step's figures on the device: `sums` is `[2]`, the loss summed over
/// the batch and the number of right answers (0 where nothing is
/// classified); `count` is the batch's number of examples (or of scored
/// tokens).
#[derive(Clone, Debug)]
pub struct Figures<B: Backend> {
    pub(crate) sums: Tensor<B, 1>,
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
        .sum()
        .float();
    let summed = loss.clone().detach().mul_scalar(count as f64);
    let figures = Figures {
        sums: Tensor::cat(vec![summed, right], 0),
        count,
    };
    (loss, figures)
}

/// The figures of a step whose mean loss over `count` examples is `loss`
/// (`[1]`) and that classifies nothing (an autoencoder's reconstruction).
pub fn regression<B: Backend>(loss: &Tensor<B, 1>, count: usize) -> Figures<B> {
    let summed = loss.clone().detach().mul_scalar(count as f64);
    Figures {
        sums: Tensor::cat(vec![summed.clone(), summed.zeros_like()], 0),
        count,
    }
}

impl<B: Backend> Figures<B> {
    /// Reads the figures back to the host: the mean loss per example and the
    /// share of right answers (0 to 1).
    pub fn read(&self) -> (f64, f64) {
        let sums: Vec<f64> = self.sums.to_data().iter::<f64>().collect();
        let n = self.count.max(1) as f64;
        (sums[0] / n, sums[1] / n)
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

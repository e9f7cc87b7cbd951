//! A model's figures on a test set.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use dlsuite_data::{Digits, ImageBatcher, Kind};
use dlsuite_speed::Tuned;
use serde::{Deserialize, Serialize};

use crate::net::Net;

/// Test-set figures of a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub accuracy: f64,
    pub loss: f64,
    /// Predicted class of every test image, in order.
    #[serde(skip)]
    pub predictions: Vec<u8>,
}

/// Images per forward pass when evaluating. Software Vulkan (lavapipe) caps
/// buffers at 128 MiB, which a convolution over 1,000 images exceeds.
pub const EVAL_BATCH: usize = 250;

/// Runs `net` over every image of `digits`, [`EVAL_BATCH`] at a time.
pub fn evaluate<B: Tuned>(
    net: &Net<B>,
    digits: &Digits,
    kind: Kind,
    device: &B::Device,
) -> Evaluation {
    let batcher = ImageBatcher::grid(kind.normalization());
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let (mut correct, mut loss_sum) = (0usize, 0.0f64);
    let mut predictions = Vec::with_capacity(digits.len());
    let chunk = EVAL_BATCH;
    for start in (0..digits.len()).step_by(chunk) {
        let end = (start + chunk).min(digits.len());
        let images = batcher.images::<B>(&digits.pixels()[start * 784..end * 784], device);
        let labels: Vec<i64> = digits.labels()[start..end]
            .iter()
            .map(|&l| l as i64)
            .collect();
        let targets =
            Tensor::<B, 1, Int>::from_data(TensorData::new(labels.clone(), [end - start]), device);
        let logits = net.forward(images);
        let loss: f64 = loss_fn
            .forward(logits.clone(), targets)
            .into_scalar()
            .elem();
        loss_sum += loss * (end - start) as f64;
        let predicted: Vec<i64> = logits
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .to_vec()
            .unwrap_or_default();
        correct += predicted
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        predictions.extend(predicted.iter().map(|&p| p as u8));
    }
    let n = digits.len().max(1) as f64;
    Evaluation {
        accuracy: 100.0 * correct as f64 / n,
        loss: loss_sum / n,
        predictions,
    }
}

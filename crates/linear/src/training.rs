use burn::module::AutodiffModule;
use burn::optim::SgdConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_train::full_batch_descent;

use crate::model::{LinearRegression, LinearRegressionConfig};

/// Parameters and loss after a step of descent.
#[derive(Clone, Debug, PartialEq)]
pub struct DescentStep {
    pub step: usize,
    pub weights: Vec<f32>,
    pub bias: f32,
    pub loss: f32,
}

/// Plain (full-batch) gradient descent on the mean squared error, as in the
/// lecture: returns the trained model and the trace every `log_every` steps
/// (and at step 0).
pub fn fit_gradient_descent<B: AutodiffBackend>(
    rows: &[Vec<f32>],
    ys: &[f32],
    lr: f64,
    steps: usize,
    log_every: usize,
    device: &B::Device,
) -> (LinearRegression<B::InnerBackend>, Vec<DescentStep>) {
    let inputs = rows.first().map_or(1, Vec::len);
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let x = Tensor::<B, 2>::from_data(TensorData::new(flat, [rows.len(), inputs]), device);
    let y = Tensor::<B, 2>::from_data(TensorData::new(ys.to_vec(), [ys.len(), 1]), device);
    let model = LinearRegressionConfig::new()
        .with_inputs(inputs)
        .init::<B>(device);
    let mut trace = Vec::new();
    let model = full_batch_descent(
        model,
        SgdConfig::new().init(),
        lr,
        steps,
        |m: &LinearRegression<B>| (m.forward(x.clone()) - y.clone()).powi_scalar(2).mean(),
        |step, m: &LinearRegression<B>, loss| {
            if step % log_every.max(1) == 0 || step == steps {
                trace.push(DescentStep {
                    step,
                    weights: m.weights(),
                    bias: m.bias(),
                    loss,
                });
            }
        },
    );
    (model.valid(), trace)
}

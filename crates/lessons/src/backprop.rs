//! Lesson: backpropagation by hand. The chain rule for a 2-layer sigmoid
//! net with binary cross-entropy, written out as matrix products, gives the
//! same gradients as Burn's autodiff.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use serde::Serialize;

use crate::Lesson;

use crate::config::BackpropLesson;

/// `inputs → hidden → 1`, sigmoid after each layer.
#[derive(Module, Debug)]
struct TwoLayerSigmoid<B: Backend> {
    hidden: Linear<B>,
    output: Linear<B>,
}

/// One parameter's gradient both ways.
#[derive(Clone, Debug, Serialize)]
pub struct GradientPair {
    pub parameter: String,
    pub by_hand: Vec<f32>,
    pub autodiff: Vec<f32>,
    pub max_abs_difference: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct BackpropCheck {
    pub loss: f32,
    pub gradients: Vec<GradientPair>,
}

impl BackpropCheck {
    pub fn max_abs_difference(&self) -> f32 {
        self.gradients
            .iter()
            .map(|g| g.max_abs_difference)
            .fold(0.0, f32::max)
    }
}

impl Lesson for BackpropCheck {
    fn headline(&self) -> String {
        format!(
            "hand-written chain rule vs autodiff on {} gradients: max |difference| {:.1e}",
            self.gradients
                .iter()
                .map(|g| g.by_hand.len())
                .sum::<usize>(),
            self.max_abs_difference()
        )
    }

    fn as_lectured(&self) -> bool {
        self.max_abs_difference() < 1e-5 && self.gradients.iter().all(|g| !g.by_hand.is_empty())
    }
}

pub fn backprop_check<B: AutodiffBackend>(c: &BackpropLesson, device: &B::Device) -> BackpropCheck {
    B::seed(device, c.seed);
    let net = TwoLayerSigmoid::<B> {
        hidden: LinearConfig::new(c.inputs, c.hidden).init(device),
        output: LinearConfig::new(c.hidden, 1).init(device),
    };
    let x = Tensor::<B, 2>::random(
        [c.samples, c.inputs],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let y = Tensor::<B, 2>::random([c.samples, 1], Distribution::Bernoulli(0.5), device);

    // Autodiff: the forward pass and the loss, then `backward`.
    let h = sigmoid(net.hidden.forward(x.clone()));
    let p = sigmoid(net.output.forward(h));
    let loss = binary_cross_entropy(p, y.clone());
    let loss_value: f32 = loss.clone().into_scalar().elem();
    let grads = loss.backward();
    let auto = [
        net.hidden.weight.grad(&grads).map(flatten),
        net.hidden
            .bias
            .as_ref()
            .and_then(|b| b.grad(&grads))
            .map(flatten),
        net.output.weight.grad(&grads).map(flatten),
        net.output
            .bias
            .as_ref()
            .and_then(|b| b.grad(&grads))
            .map(flatten),
    ];

    // By hand, on the plain backend: no autodiff involved.
    let x = x.inner();
    let y = y.inner();
    let w1 = net.hidden.weight.val().inner();
    let b1 = bias(&net.hidden);
    let w2 = net.output.weight.val().inner();
    let b2 = bias(&net.output);
    let n = c.samples as f64;
    let h = sigmoid(x.clone().matmul(w1) + b1.unsqueeze::<2>());
    let p = sigmoid(h.clone().matmul(w2.clone()) + b2.unsqueeze::<2>());
    // d(mean BCE)/d(pre-sigmoid output) = (p − y) / n: the sigmoid's
    // derivative p(1 − p) cancels against the loss's 1 / (p(1 − p)).
    let dz2 = (p - y).div_scalar(n);
    let dw2 = h.clone().transpose().matmul(dz2.clone());
    let db2 = dz2.clone().sum_dim(0);
    let dh = dz2.matmul(w2.transpose());
    // σ'(z) = σ(z)(1 − σ(z)) = h(1 − h).
    let dz1 = dh * h.clone() * (h.neg().add_scalar(1.0));
    let dw1 = x.transpose().matmul(dz1.clone());
    let db1 = dz1.sum_dim(0);
    let by_hand = [flatten(dw1), flatten(db1), flatten(dw2), flatten(db2)];

    let gradients = [
        "hidden.weight",
        "hidden.bias",
        "output.weight",
        "output.bias",
    ]
    .iter()
    .zip(by_hand)
    .zip(auto)
    .map(|((name, by_hand), autodiff)| {
        let autodiff = autodiff.unwrap_or_default();
        let max_abs_difference = if autodiff.len() == by_hand.len() {
            by_hand
                .iter()
                .zip(&autodiff)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
        } else {
            f32::INFINITY
        };
        GradientPair {
            parameter: name.to_string(),
            by_hand,
            autodiff,
            max_abs_difference,
        }
    })
    .collect();
    BackpropCheck {
        loss: loss_value,
        gradients,
    }
}

/// Mean binary cross-entropy of probabilities `p` against 0/1 targets `y`.
fn binary_cross_entropy<B: Backend>(p: Tensor<B, 2>, y: Tensor<B, 2>) -> Tensor<B, 1> {
    let one_minus_y = y.clone().neg().add_scalar(1.0);
    let one_minus_p = p.clone().neg().add_scalar(1.0);
    (y * p.log() + one_minus_y * one_minus_p.log()).mean().neg()
}

fn bias<B: AutodiffBackend>(layer: &Linear<B>) -> Tensor<B::InnerBackend, 1> {
    let out = layer.weight.dims()[1];
    match &layer.bias {
        Some(b) => b.val().inner(),
        None => Tensor::zeros([out], &layer.weight.device()),
    }
}

fn flatten<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap_or_default()
}

//! Lesson: counting a fully connected net's parameters, from the model
//! itself rather than by formula.

use burn::module::Module;
use burn::prelude::*;
use dlsuite_mlp::MlpConfig;
use serde::Serialize;

use crate::Lesson;

use crate::config::ParameterCountLesson;

#[derive(Clone, Debug, Serialize)]
pub struct ParameterCount {
    pub layers: Vec<usize>,
    /// Weights of each fully connected layer, input side first.
    pub weights_per_layer: Vec<usize>,
    pub weights: usize,
    pub biases: usize,
    pub total: usize,
}

/// The lecture's figure for its 25-16-16-9-9 net.
pub const LECTURE_WEIGHTS: usize = 881;

pub fn parameter_count<B: Backend>(c: &ParameterCountLesson, device: &B::Device) -> ParameterCount {
    let (inputs, rest) = c.layers.split_first().unwrap_or((&0, &[]));
    let (outputs, hidden) = rest.split_last().unwrap_or((&0, &[]));
    let model = MlpConfig::new(*inputs, hidden.to_vec(), *outputs).init::<B>(device);
    let weights_per_layer: Vec<usize> = model
        .linears()
        .iter()
        .map(|l| l.weight.val().shape().num_elements())
        .collect();
    let weights = weights_per_layer.iter().sum();
    let total = model.num_params();
    ParameterCount {
        layers: c.layers.clone(),
        weights_per_layer,
        weights,
        biases: total - weights,
        total,
    }
}

impl Lesson for ParameterCount {
    fn headline(&self) -> String {
        let shape: Vec<String> = self.layers.iter().map(usize::to_string).collect();
        format!(
            "{} net: {} weights ({}) + {} biases = {} parameters",
            shape.join("-"),
            self.weights,
            self.weights_per_layer
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" + "),
            self.biases,
            self.total
        )
    }

    /// The lecture's 25-16-16-9-9 net has 881 weights; other shapes have no
    /// lecture figure, and a count that adds up is all they can show.
    fn as_lectured(&self) -> bool {
        let adds_up = self.weights == self.layers.windows(2).map(|w| w[0] * w[1]).sum::<usize>();
        if self.layers == [25, 16, 16, 9, 9] {
            adds_up && self.weights == LECTURE_WEIGHTS
        } else {
            adds_up
        }
    }
}

use burn::nn::activation::Activation as ActivationLayer;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear};
use burn::prelude::*;

use crate::init::{Activation, Init};

/// A stack of fully connected layers, each followed (except the last) by an
/// optional batch norm, the activation and dropout.
#[derive(Config, Debug)]
pub struct MlpConfig {
    pub inputs: usize,
    /// Widths of the hidden layers; empty gives softmax regression.
    pub hidden: Vec<usize>,
    pub outputs: usize,
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    #[config(default = "Init::He")]
    pub init: Init,
    /// Probability of zeroing a hidden unit during training.
    #[config(default = 0.0)]
    pub dropout: f64,
    #[config(default = false)]
    pub batch_norm: bool,
}

/// One hidden layer: `linear → batch norm? → activation → dropout`.
#[derive(Module, Debug)]
pub struct HiddenLayer<B: Backend> {
    pub linear: Linear<B>,
    pub norm: Option<BatchNorm<B>>,
    pub activation: ActivationLayer<B>,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    pub hidden: Vec<HiddenLayer<B>>,
    pub output: Linear<B>,
}

impl MlpConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Mlp<B> {
        let mut fan_in = self.inputs;
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for &width in &self.hidden {
            hidden.push(HiddenLayer {
                linear: self.init.linear(fan_in, width, device),
                norm: self
                    .batch_norm
                    .then(|| BatchNormConfig::new(width).init(device)),
                activation: self.activation.config().init(device),
                dropout: DropoutConfig::new(self.dropout).init(),
            });
            fan_in = width;
        }
        Mlp {
            hidden,
            output: self.init.linear(fan_in, self.outputs, device),
        }
    }
}

impl<B: Backend> HiddenLayer<B> {
    /// `[batch, in] → [batch, out]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = self.linear.forward(x);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        self.dropout.forward(self.activation.forward(x))
    }
}

impl<B: Backend> Mlp<B> {
    /// `[batch, inputs] → [batch, outputs]`: raw scores (logits), no softmax.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let x = self.hidden.iter().fold(x, |x, layer| layer.forward(x));
        self.output.forward(x)
    }

    /// The output of every layer in order, hidden then output; for the
    /// lessons that look inside the network.
    pub fn forward_layers(&self, x: Tensor<B, 2>) -> Vec<Tensor<B, 2>> {
        let mut outs = Vec::with_capacity(self.hidden.len() + 1);
        let mut x = x;
        for layer in &self.hidden {
            x = layer.forward(x);
            outs.push(x.clone());
        }
        outs.push(self.output.forward(x));
        outs
    }

    /// The fully connected layers, input side first.
    pub fn linears(&self) -> Vec<&Linear<B>> {
        self.hidden
            .iter()
            .map(|h| &h.linear)
            .chain(std::iter::once(&self.output))
            .collect()
    }
}

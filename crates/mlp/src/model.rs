use burn::nn::activation::Activation as ActivationLayer;
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::prelude::*;
use dlsuite_nn::{forward_linear, Dropout, DropoutConfig};

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

#[derive(Module, Debug)]
pub struct HiddenLayer<B: Backend> {
    linear: Linear<B>,
    norm: Option<BatchNorm<B>>,
    activation: ActivationLayer<B>,
    dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    hidden: Vec<HiddenLayer<B>>,
    output: Linear<B>,
    /// See [`Mlp::with_host_linears`].
    #[module(skip)]
    host_linears: bool,
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
            host_linears: false,
        }
    }
}

impl<B: Backend> HiddenLayer<B> {
    /// `[batch, in] → [batch, out]`; the fully connected part on the host
    /// if `host` (see [`Mlp::with_host_linears`]).
    fn forward(&self, x: Tensor<B, 2>, host: bool) -> Tensor<B, 2> {
        let x = forward_linear(&self.linear, x, host);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        self.dropout.forward(self.activation.forward(x))
    }
}

impl<B: Backend> Mlp<B> {
    /// Draw dropout masks on the host: faster on the CPU, see
    /// [`Dropout::with_host_masks`].
    pub fn with_host_dropout_masks(mut self, on: bool) -> Self {
        for layer in &mut self.hidden {
            layer.dropout = layer.dropout.clone().with_host_masks(on);
        }
        self
    }

    /// Compute the fully connected layers as host operations
    /// ([`dlsuite_nn::linear_on_host`]): the same values, faster on flex;
    /// slower on ndarray, which hands its tensors over value by value, and
    /// on a GPU each layer would copy across the bus.
    pub fn with_host_linears(mut self, on: bool) -> Self {
        self.host_linears = on;
        self
    }

    /// `[batch, inputs] → [batch, outputs]`: raw scores (logits), no softmax.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let host = self.host_linears;
        let x = self
            .hidden
            .iter()
            .fold(x, |x, layer| layer.forward(x, host));
        forward_linear(&self.output, x, host)
    }

    /// The output of every layer in order, hidden then output; for the
    /// lessons that look inside the network.
    pub fn forward_layers(&self, x: Tensor<B, 2>) -> Vec<Tensor<B, 2>> {
        let mut outs = Vec::with_capacity(self.hidden.len() + 1);
        let mut x = x;
        for layer in &self.hidden {
            x = layer.forward(x, self.host_linears);
            outs.push(x.clone());
        }
        outs.push(forward_linear(&self.output, x, self.host_linears));
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex, NdArray};
    use burn::module::AutodiffModule;
    use burn::tensor::backend::AutodiffBackend;
    use burn::tensor::{Distribution, Tolerance};

    /// Logits and every layer's weight and bias gradients.
    fn results<B: AutodiffBackend>(net: &Mlp<B>, x: Tensor<B, 2>) -> Vec<TensorData> {
        let y = net.forward(x);
        let grads = y.clone().powi_scalar(2).sum().backward();
        let mut out = vec![y.into_data()];
        for linear in net.linears() {
            out.push(linear.weight.grad(&grads).unwrap().into_data());
            out.push(
                linear
                    .bias
                    .as_ref()
                    .unwrap()
                    .grad(&grads)
                    .unwrap()
                    .into_data(),
            );
        }
        out
    }

    /// With batch norm and sigmoid between the layers, so that the host
    /// layers' outputs and gradients pass through Burn's operations too.
    fn host_linears_change_nothing<B: AutodiffBackend>() {
        let device = Default::default();
        let net = MlpConfig::new(20, vec![16, 8], 3)
            .with_activation(Activation::Sigmoid)
            .with_batch_norm(true)
            .init::<B>(&device);
        let x = Tensor::<B, 2>::random([6, 20], Distribution::Normal(0.0, 1.0), &device);
        let burns = results(&net, x.clone());
        let host = results(&net.clone().with_host_linears(true), x.clone());
        for (b, h) in burns.iter().zip(&host) {
            b.assert_approx_eq::<f32>(h, Tolerance::rel_abs(1e-4, 1e-5));
        }
        let inner = net.valid();
        inner
            .forward(x.clone().inner())
            .into_data()
            .assert_approx_eq::<f32>(
                &inner.with_host_linears(true).forward(x.inner()).into_data(),
                Tolerance::rel_abs(1e-4, 1e-5),
            );
    }

    #[test]
    fn host_linears_change_nothing_on_flex() {
        host_linears_change_nothing::<Autodiff<Flex>>();
    }

    #[test]
    fn host_linears_change_nothing_on_ndarray() {
        host_linears_change_nothing::<Autodiff<NdArray>>();
    }
}

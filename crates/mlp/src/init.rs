use burn::module::Param;
use burn::nn::activation::ActivationConfig;
use burn::nn::LeakyReluConfig;
use burn::nn::{EluConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use serde::{Deserialize, Serialize};

/// The hidden-layer non-linearities the lectures compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    Elu,
    LeakyRelu,
}

impl Activation {
    pub fn config(self) -> ActivationConfig {
        match self {
            Activation::Sigmoid => ActivationConfig::Sigmoid,
            Activation::Tanh => ActivationConfig::Tanh,
            Activation::Relu => ActivationConfig::Relu,
            Activation::Elu => EluConfig::new().into(),
            Activation::LeakyRelu => LeakyReluConfig::new().into(),
        }
    }
}

/// Weight initializers: the lectures' plain normal draws against the schemes
/// that keep activations' variance steady across layers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// N(0, std²), as `tf.random_normal` (std 1.0 in the lecture).
    Normal { std: f64 },
    /// N(0, std²) redrawn beyond two standard deviations.
    TruncatedNormal { std: f64 },
    /// Glorot: variance 2 / (fan_in + fan_out).
    Xavier,
    /// Kaiming: variance 2 / fan_in, suited to ReLU.
    He,
}

impl Init {
    fn initializer(self) -> Initializer {
        match self {
            Init::Normal { std } | Init::TruncatedNormal { std } => {
                Initializer::Normal { mean: 0.0, std }
            }
            Init::Xavier => Initializer::XavierNormal { gain: 1.0 },
            Init::He => Initializer::KaimingNormal {
                gain: std::f64::consts::SQRT_2,
                fan_out_only: false,
            },
        }
    }

    /// A fully connected layer `fan_in → fan_out` with weights drawn from this scheme.
    pub fn linear<B: Backend>(
        self,
        fan_in: usize,
        fan_out: usize,
        device: &B::Device,
    ) -> Linear<B> {
        let mut layer = LinearConfig::new(fan_in, fan_out)
            .with_initializer(self.initializer())
            .init(device);
        if let Init::TruncatedNormal { std } = self {
            let draw = || {
                Tensor::<B, 2>::random([fan_in, fan_out], Distribution::Normal(0.0, std), device)
            };
            let mut w = draw();
            // Four rounds of rejection leave about 1e-5 of the draws outside
            // two standard deviations; the final clamp bounds those few.
            for _ in 0..4 {
                let outside = w.clone().abs().greater_elem(2.0 * std);
                w = w.mask_where(outside, draw());
            }
            layer.weight = Param::from_tensor(w.clamp(-2.0 * std, 2.0 * std));
        }
        layer
    }
}

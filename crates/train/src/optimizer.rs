use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::Optimizer;
use burn::optim::{AdaGradConfig, AdamConfig, AdamWConfig, RmsPropConfig, SgdConfig};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::host_adam::HostAdam;

/// The optimizers the lectures compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerChoice {
    Sgd,
    Momentum,
    AdaGrad,
    RmsProp,
    Adam,
    AdamW,
}

impl OptimizerChoice {
    pub const NAMES: &'static str = "sgd, momentum, ada_grad, rms_prop, adam, adam_w";
}

/// An optimizer and its few settings; the learning rate comes from the
/// schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    pub kind: OptimizerChoice,
    /// Momentum coefficient for `momentum` (and RMSProp's).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    #[serde(default)]
    pub weight_decay: f64,
    /// Clip gradients to this L2 norm; unset leaves them alone.
    #[serde(default)]
    pub clip_norm: Option<f32>,
    /// Compute Adam's update on the host ([`HostAdam`]): for the CPU
    /// backends. How to run, not what to run, so not part of the config.
    #[serde(skip)]
    pub host_update: bool,
}

fn default_momentum() -> f64 {
    0.9
}

impl OptimizerConfig {
    pub fn new(kind: OptimizerChoice) -> Self {
        Self {
            kind,
            momentum: default_momentum(),
            weight_decay: 0.0,
            clip_norm: None,
            host_update: false,
        }
    }

    /// See [`OptimizerConfig::host_update`].
    pub fn with_host_update(mut self, on: bool) -> Self {
        self.host_update = on;
        self
    }

    /// Builds the chosen optimizer and hands it to `job`. Each optimizer is
    /// its own type, so work that needs one (training, benchmarking) is
    /// written once as an [`OptimizerJob`] instead of once per optimizer.
    pub fn apply<B, M, J>(&self, job: J) -> J::Output
    where
        B: AutodiffBackend,
        M: AutodiffModule<B> + 'static,
        J: OptimizerJob<B, M>,
    {
        match self.kind {
            OptimizerChoice::Sgd | OptimizerChoice::Momentum => job.run(self.sgd().init()),
            OptimizerChoice::AdaGrad => job.run(self.ada_grad().init()),
            OptimizerChoice::RmsProp => job.run(self.rms_prop().init()),
            OptimizerChoice::Adam if self.host_update => job.run(self.host_adam()),
            OptimizerChoice::Adam => job.run(self.adam().init()),
            OptimizerChoice::AdamW => job.run(self.adam_w().init()),
        }
    }

    fn decay(&self) -> Option<WeightDecayConfig> {
        (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32))
    }

    fn clip(&self) -> Option<GradientClippingConfig> {
        self.clip_norm.map(GradientClippingConfig::Norm)
    }

    fn sgd(&self) -> SgdConfig {
        let momentum = (self.kind == OptimizerChoice::Momentum)
            .then(|| MomentumConfig::new().with_momentum(self.momentum));
        SgdConfig::new()
            .with_momentum(momentum)
            .with_weight_decay(self.decay())
            .with_gradient_clipping(self.clip())
    }

    fn ada_grad(&self) -> AdaGradConfig {
        AdaGradConfig::new()
            .with_weight_decay(self.decay())
            .with_grad_clipping(self.clip())
    }

    fn rms_prop(&self) -> RmsPropConfig {
        // Plain RMSProp, as the lectures use it: no momentum term.
        RmsPropConfig::new()
            .with_momentum(0.0)
            .with_weight_decay(self.decay())
            .with_grad_clipping(self.clip())
    }

    fn adam(&self) -> AdamConfig {
        AdamConfig::new()
            .with_epsilon(ADAM_EPSILON)
            .with_weight_decay(self.decay())
            .with_grad_clipping(self.clip())
    }

    /// The same Adam as [`OptimizerConfig::adam`], stepped on the host.
    fn host_adam<B: AutodiffBackend, M: AutodiffModule<B>>(
        &self,
    ) -> OptimizerAdaptor<HostAdam, M, B> {
        HostAdam {
            epsilon: ADAM_EPSILON,
            weight_decay: self.decay().map(|d| d.penalty),
            ..HostAdam::default()
        }
        .init(self.clip())
    }

    fn adam_w(&self) -> AdamWConfig {
        AdamWConfig::new()
            .with_epsilon(ADAM_EPSILON)
            .with_weight_decay(self.weight_decay as f32)
            .with_grad_clipping(self.clip())
    }
}

/// PyTorch's and TensorFlow's epsilon for Adam and AdamW, for like-for-like
/// comparisons.
const ADAM_EPSILON: f32 = 1e-8;

/// Work that runs with whichever optimizer [`OptimizerConfig::apply`] built.
pub trait OptimizerJob<B: AutodiffBackend, M: AutodiffModule<B>> {
    type Output;
    fn run<O: Optimizer<M, B> + 'static>(self, optimizer: O) -> Self::Output;
}

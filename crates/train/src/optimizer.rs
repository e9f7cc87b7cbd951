use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdaGrad, AdaGradConfig, Adam, AdamConfig, AdamW, AdamWConfig, GradientsParams, LearningRate,
    MultiGradientsParams, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use burn::record::Record;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

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
        }
    }

    /// Builds the chosen optimizer, as Burn implements it.
    pub fn init<M: AutodiffModule<B>, B: AutodiffBackend>(&self) -> AnyOptimizer<M, B> {
        match self.kind {
            OptimizerChoice::Sgd | OptimizerChoice::Momentum => {
                AnyOptimizer::Sgd(self.sgd().init())
            }
            OptimizerChoice::AdaGrad => AnyOptimizer::AdaGrad(self.ada_grad().init()),
            OptimizerChoice::RmsProp => AnyOptimizer::RmsProp(self.rms_prop().init()),
            OptimizerChoice::Adam => AnyOptimizer::Adam(self.adam().init()),
            OptimizerChoice::AdamW => AnyOptimizer::AdamW(self.adam_w().init()),
        }
    }

    /// The coupled L2 penalty (added to the gradient), if any.
    pub fn decay(&self) -> Option<WeightDecayConfig> {
        (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32))
    }

    pub fn clip(&self) -> Option<GradientClippingConfig> {
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

    fn adam_w(&self) -> AdamWConfig {
        AdamWConfig::new()
            .with_epsilon(ADAM_EPSILON)
            .with_weight_decay(self.weight_decay as f32)
            .with_grad_clipping(self.clip())
    }
}

/// PyTorch's and TensorFlow's epsilon for Adam and AdamW, for like-for-like
/// comparisons.
pub const ADAM_EPSILON: f32 = 1e-8;

/// Any of the optimizers the lectures compare, as one type: code that trains
/// (burn-train's `Learner`, the benchmark) is compiled once, not once per
/// optimizer.
#[derive(Clone)]
pub enum AnyOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
    AdaGrad(OptimizerAdaptor<AdaGrad, M, B>),
    RmsProp(OptimizerAdaptor<RmsProp, M, B>),
    Adam(OptimizerAdaptor<Adam, M, B>),
    AdamW(OptimizerAdaptor<AdamW, M, B>),
}

/// The saved state of an [`AnyOptimizer`]: the variant's own.
#[derive(Record)]
pub enum AnyOptimizerRecord<M: AutodiffModule<B>, B: AutodiffBackend> {
    Sgd(<OptimizerAdaptor<Sgd<B::InnerBackend>, M, B> as Optimizer<M, B>>::Record),
    AdaGrad(<OptimizerAdaptor<AdaGrad, M, B> as Optimizer<M, B>>::Record),
    RmsProp(<OptimizerAdaptor<RmsProp, M, B> as Optimizer<M, B>>::Record),
    Adam(<OptimizerAdaptor<Adam, M, B> as Optimizer<M, B>>::Record),
    AdamW(<OptimizerAdaptor<AdamW, M, B> as Optimizer<M, B>>::Record),
}

/// Runs `$body` with `$o` bound to the variant's optimizer, wrapping a
/// record result in the same variant.
macro_rules! each_variant {
    ($self:expr, $o:ident => $body:expr) => {
        match $self {
            AnyOptimizer::Sgd($o) => $body,
            AnyOptimizer::AdaGrad($o) => $body,
            AnyOptimizer::RmsProp($o) => $body,
            AnyOptimizer::Adam($o) => $body,
            AnyOptimizer::AdamW($o) => $body,
        }
    };
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> AnyOptimizer<M, B> {
    fn name(&self) -> &'static str {
        match self {
            AnyOptimizer::Sgd(_) => "SGD",
            AnyOptimizer::AdaGrad(_) => "AdaGrad",
            AnyOptimizer::RmsProp(_) => "RMSProp",
            AnyOptimizer::Adam(_) => "Adam",
            AnyOptimizer::AdamW(_) => "AdamW",
        }
    }
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> AnyOptimizerRecord<M, B> {
    fn name(&self) -> &'static str {
        match self {
            AnyOptimizerRecord::Sgd(_) => "SGD",
            AnyOptimizerRecord::AdaGrad(_) => "AdaGrad",
            AnyOptimizerRecord::RmsProp(_) => "RMSProp",
            AnyOptimizerRecord::Adam(_) => "Adam",
            AnyOptimizerRecord::AdamW(_) => "AdamW",
        }
    }
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> Optimizer<M, B> for AnyOptimizer<M, B> {
    type Record = AnyOptimizerRecord<M, B>;

    fn step(&mut self, lr: LearningRate, module: M, grads: GradientsParams) -> M {
        each_variant!(self, o => o.step(lr, module, grads))
    }

    fn step_multi(&mut self, lr: LearningRate, module: M, grads: MultiGradientsParams) -> M {
        each_variant!(self, o => o.step_multi(lr, module, grads))
    }

    fn to_record(&self) -> Self::Record {
        match self {
            AnyOptimizer::Sgd(o) => AnyOptimizerRecord::Sgd(o.to_record()),
            AnyOptimizer::AdaGrad(o) => AnyOptimizerRecord::AdaGrad(o.to_record()),
            AnyOptimizer::RmsProp(o) => AnyOptimizerRecord::RmsProp(o.to_record()),
            AnyOptimizer::Adam(o) => AnyOptimizerRecord::Adam(o.to_record()),
            AnyOptimizer::AdamW(o) => AnyOptimizerRecord::AdamW(o.to_record()),
        }
    }

    /// Panics on a record of another optimizer: callers that resume check
    /// the run's optimizer before loading its state.
    fn load_record(self, record: Self::Record) -> Self {
        use AnyOptimizerRecord as R;
        match (self, record) {
            (AnyOptimizer::Sgd(o), R::Sgd(r)) => AnyOptimizer::Sgd(o.load_record(r)),
            (AnyOptimizer::AdaGrad(o), R::AdaGrad(r)) => AnyOptimizer::AdaGrad(o.load_record(r)),
            (AnyOptimizer::RmsProp(o), R::RmsProp(r)) => AnyOptimizer::RmsProp(o.load_record(r)),
            (AnyOptimizer::Adam(o), R::Adam(r)) => AnyOptimizer::Adam(o.load_record(r)),
            (AnyOptimizer::AdamW(o), R::AdamW(r)) => AnyOptimizer::AdamW(o.load_record(r)),
            (optimizer, record) => panic!(
                "the checkpoint holds {}'s state, not {}'s",
                record.name(),
                optimizer.name()
            ),
        }
    }
}

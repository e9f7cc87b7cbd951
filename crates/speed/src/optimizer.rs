//! The runner's one optimizer type: Burn's optimizers, and Adam computed on
//! the host for the CPU backends.

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{GradientsParams, LearningRate, MultiGradientsParams, Optimizer};
use burn::record::Record;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_train::{
    AnyOptimizer, AnyOptimizerRecord, OptimizerChoice, OptimizerConfig, ADAM_EPSILON,
};

use crate::adam::HostAdam;

#[derive(Clone)]
pub enum TunedOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    Burn(AnyOptimizer<M, B>),
    HostAdam(OptimizerAdaptor<HostAdam, M, B>),
}

/// The saved state of a [`TunedOptimizer`].
#[derive(Record)]
pub enum TunedOptimizerRecord<M: AutodiffModule<B>, B: AutodiffBackend> {
    Burn(AnyOptimizerRecord<M, B>),
    HostAdam(<OptimizerAdaptor<HostAdam, M, B> as Optimizer<M, B>>::Record),
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> TunedOptimizer<M, B> {
    /// Burn's implementation of the chosen optimizer.
    pub fn burn(config: &OptimizerConfig) -> Self {
        TunedOptimizer::Burn(config.init())
    }

    /// As [`TunedOptimizer::burn`], but Adam is [`HostAdam`]: the same
    /// arithmetic in one pass over host memory.
    pub fn host_adam(config: &OptimizerConfig) -> Self {
        match config.kind {
            OptimizerChoice::Adam => TunedOptimizer::HostAdam(
                HostAdam {
                    epsilon: ADAM_EPSILON,
                    weight_decay: config.decay().map(|d| d.penalty),
                    ..HostAdam::default()
                }
                .init(config.clip()),
            ),
            _ => Self::burn(config),
        }
    }

    /// Which implementation's state a checkpoint of this optimizer holds:
    /// one cannot read the other's, so a run resumes only on a backend
    /// whose optimizer says the same.
    pub fn state_kind(&self) -> &'static str {
        match self {
            TunedOptimizer::Burn(_) => "burn",
            TunedOptimizer::HostAdam(_) => "host-adam",
        }
    }
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> Optimizer<M, B> for TunedOptimizer<M, B> {
    type Record = TunedOptimizerRecord<M, B>;

    fn step(&mut self, lr: LearningRate, module: M, grads: GradientsParams) -> M {
        match self {
            TunedOptimizer::Burn(o) => o.step(lr, module, grads),
            TunedOptimizer::HostAdam(o) => o.step(lr, module, grads),
        }
    }

    fn step_multi(&mut self, lr: LearningRate, module: M, grads: MultiGradientsParams) -> M {
        match self {
            TunedOptimizer::Burn(o) => o.step_multi(lr, module, grads),
            TunedOptimizer::HostAdam(o) => o.step_multi(lr, module, grads),
        }
    }

    fn to_record(&self) -> Self::Record {
        match self {
            TunedOptimizer::Burn(o) => TunedOptimizerRecord::Burn(o.to_record()),
            TunedOptimizer::HostAdam(o) => TunedOptimizerRecord::HostAdam(o.to_record()),
        }
    }

    /// Panics on the state of another kind of optimizer: callers that
    /// resume check the run's optimizer and backend beforehand.
    fn load_record(self, record: Self::Record) -> Self {
        match (self, record) {
            (TunedOptimizer::Burn(o), TunedOptimizerRecord::Burn(r)) => {
                TunedOptimizer::Burn(o.load_record(r))
            }
            (TunedOptimizer::HostAdam(o), TunedOptimizerRecord::HostAdam(r)) => {
                TunedOptimizer::HostAdam(o.load_record(r))
            }
            _ => panic!(
                "the checkpoint holds the state of Adam as another backend computes it; \
                 resume on the backend that wrote it"
            ),
        }
    }
}

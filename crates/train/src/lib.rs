//! Training plumbing written once for every model: the full-batch descent of
//! the small lessons, the classification step and the figures it reports,
//! optimizer and learning-rate choices, and the wiring into burn-train's `Learner`.

mod descent;
mod figures;
mod keep_best;
mod learner;
mod logger;
mod optimizer;
mod recorder;
mod reported;
mod resume;
mod schedule;

pub use descent::full_batch_descent;
pub use figures::{classification, regression, Figures};
pub use learner::{best_epoch, fit, fit_regression, FitConfig, FitError, FitResult};
pub use logger::{read_history, Divergence, EpochLog, EpochMetrics};
pub use optimizer::{
    AnyOptimizer, AnyOptimizerRecord, OptimizerChoice, OptimizerConfig, ADAM_EPSILON,
};
pub use recorder::{remove_leftover_temporaries, write_atomic, Recorder};
pub use schedule::LrSchedule;

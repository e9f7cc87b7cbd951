//! Training plumbing written once for every model: the full-batch descent of
//! the small lessons, the classification step, optimizer and learning-rate
//! choices, and the wiring into burn-train's `Learner`.

mod descent;
mod keep_best;
mod learner;
mod logger;
mod optimizer;
mod recorder;
mod resume;
mod schedule;
mod step;

pub use descent::full_batch_descent;
pub use learner::{best_epoch, fit, fit_regression, FitConfig, FitError, FitResult};
pub use logger::{read_history, Divergence, EpochLog, EpochMetrics};
pub use optimizer::{
    AnyOptimizer, AnyOptimizerRecord, OptimizerChoice, OptimizerConfig, ADAM_EPSILON,
};
pub use recorder::{remove_leftover_temporaries, write_atomic, Recorder};
pub use schedule::LrSchedule;
pub use step::classification_output;

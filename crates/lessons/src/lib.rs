//! The course's small lessons, each written as a function that runs it and
//! returns what it shows, so that a test can assert the outcome and the
//! runner can report it beside the lecture's figure.
//!
//! Every lesson is generic over an autodiff backend and seeds it first:
//! the same configuration gives the same numbers on the same backend.

mod backprop;
mod config;
mod gates;
mod params;
mod regression;
mod vanishing;

pub use backprop::{backprop_check, BackpropCheck, GradientPair};
pub use config::{
    BackpropLesson, LessonConfig, LessonError, LinearRegressionLesson, LogicGatesLesson,
    ParameterCountLesson, VanishingGradientLesson,
};
pub use gates::{logic_gates, GateFit, LogicGates};
pub use params::{parameter_count, ParameterCount, LECTURE_WEIGHTS};
pub use regression::{linear_regression, LinearLesson, MultiVariableFit, TracePoint};
pub use vanishing::{vanishing_gradient, DepthRun, VanishingGradient};

use burn::tensor::backend::AutodiffBackend;
use serde::Serialize;

/// What a lesson showed: one line for the report, whether it showed what the
/// lecture says, and the full record (traces, per-layer norms, ...).
#[derive(Clone, Debug, Serialize)]
pub struct LessonOutcome {
    pub headline: String,
    pub as_lectured: bool,
    pub record: serde_json::Value,
}

/// Runs the lesson `config` describes.
pub fn run<B: AutodiffBackend>(config: &LessonConfig, device: &B::Device) -> LessonOutcome {
    fn outcome<T: Serialize>(headline: String, as_lectured: bool, record: &T) -> LessonOutcome {
        LessonOutcome {
            headline,
            as_lectured,
            record: serde_json::to_value(record).unwrap_or(serde_json::Value::Null),
        }
    }
    match config {
        LessonConfig::LinearRegression(c) => {
            let r = linear_regression::<B>(c, device);
            outcome(r.headline(), r.as_lectured(), &r)
        }
        LessonConfig::LogicGates(c) => {
            let r = logic_gates::<B>(c, device);
            outcome(r.headline(), r.as_lectured(), &r)
        }
        LessonConfig::Backprop(c) => {
            let r = backprop_check::<B>(c, device);
            outcome(r.headline(), r.as_lectured(), &r)
        }
        LessonConfig::VanishingGradient(c) => {
            let r = vanishing_gradient::<B>(c, device);
            outcome(r.headline(), r.as_lectured(), &r)
        }
        LessonConfig::ParameterCount(c) => {
            let r = parameter_count::<B>(c, device);
            outcome(r.headline(), r.as_lectured(), &r)
        }
    }
}

//! The course's small lessons, each written as a function that runs it and
//! returns what it shows, so that a test can assert the outcome and the
//! runner can report it beside the lecture's figure.
//!
//! Every lesson is generic over an autodiff backend and seeds it first:
//! the same configuration gives the same numbers on the same backend.

mod activations;
mod approximation;
mod backprop;
mod batches;
mod boundaries;
mod config;
mod gates;
mod maps;
mod optimizers;
mod params;
mod perceptron;
mod regression;
mod tensors;
mod vanishing;

pub use activations::{activations, ActivationCurve, Activations, SIGMOID_MAX_SLOPE};
pub use approximation::{
    target, universal_approximation, ApproximationFit, UniversalApproximation,
};
pub use backprop::{backprop_check, BackpropCheck, GradientPair};
pub use batches::{batch_sizes, BatchSizes, LinePath, LossPoint, MnistRun};
pub use boundaries::{decision_boundaries, BoundaryFit, DecisionBoundaries};
pub use config::{
    ActivationsLesson, ApproximationLesson, BackpropLesson, BatchSizesLesson,
    DecisionBoundariesLesson, LessonConfig, LessonError, LinearRegressionLesson, LogicGatesLesson,
    OptimizerPathsLesson, ParameterCountLesson, PerceptronLesson, TensorsLesson,
    VanishingGradientLesson,
};
pub use gates::{logic_gates, GateFit, LogicGates};
pub use optimizers::{optimizer_paths, OptimizerPath, OptimizerPaths, Point};
pub use params::{parameter_count, ParameterCount, LECTURE_WEIGHTS};
pub use perceptron::{perceptron, perceptron_rule, Perceptron, PerceptronRun};
pub use regression::{linear_regression, LinearLesson, MultiVariableFit, TracePoint};
pub use tensors::{add_fed, error, tensors, ErrorGradient, Tensors, TF1_IN_BURN};
pub use vanishing::{vanishing_gradient, DepthRun, VanishingGradient};

use std::path::{Path, PathBuf};

use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::Digits;
use dlsuite_plots::PlotError;
use serde::Serialize;

/// What a lesson showed: one line for the report, whether it showed what the
/// lecture says, the full record (traces, per-layer norms, ...) and the
/// pictures it drew.
#[derive(Clone, Debug, Serialize)]
pub struct LessonOutcome {
    pub headline: String,
    pub as_lectured: bool,
    pub record: serde_json::Value,
    pub pictures: Vec<PathBuf>,
}

/// A lesson's result: what it says, whether it is what the lecture says,
/// and its pictures.
pub trait Lesson: Serialize {
    fn headline(&self) -> String;
    fn as_lectured(&self) -> bool;
    /// Draws the lesson's pictures into `dir`; returns the files written.
    fn draw(&self, _dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        Ok(Vec::new())
    }
}

/// Why a lesson could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("this lesson trains on MNIST's training images, and none were given")]
    NeedsMnist,
    #[error("MNIST's training set has {have} images; this lesson needs more than {need}")]
    TooFewImages { have: usize, need: usize },
}

/// Runs the lesson `config` describes on MNIST's training images where it
/// needs them ([`LessonConfig::needs_mnist`]) and, given a folder, draws its
/// pictures there.
pub fn run<B: AutodiffBackend>(
    config: &LessonConfig,
    device: &B::Device,
    mnist_train: Option<&Digits>,
    pictures: Option<&Path>,
) -> Result<LessonOutcome, RunError> {
    fn finish<T: Lesson>(r: T, dir: Option<&Path>) -> Result<LessonOutcome, RunError> {
        Ok(LessonOutcome {
            headline: r.headline(),
            as_lectured: r.as_lectured(),
            record: serde_json::to_value(&r).unwrap_or(serde_json::Value::Null),
            pictures: match dir {
                Some(dir) => r.draw(dir)?,
                None => Vec::new(),
            },
        })
    }
    match config {
        LessonConfig::LinearRegression(c) => finish(linear_regression::<B>(c, device), pictures),
        LessonConfig::LogicGates(c) => finish(logic_gates::<B>(c, device), pictures),
        LessonConfig::Backprop(c) => finish(backprop_check::<B>(c, device), pictures),
        LessonConfig::VanishingGradient(c) => finish(vanishing_gradient::<B>(c, device), pictures),
        LessonConfig::ParameterCount(c) => finish(parameter_count::<B>(c, device), pictures),
        LessonConfig::DecisionBoundaries(c) => {
            finish(decision_boundaries::<B>(c, device), pictures)
        }
        LessonConfig::Activations(c) => finish(activations::<B>(c, device), pictures),
        LessonConfig::Perceptron(c) => finish(perceptron(c), pictures),
        LessonConfig::Tensors(c) => finish(tensors::<B>(c, device), pictures),
        LessonConfig::OptimizerPaths(c) => finish(optimizer_paths::<B>(c, device), pictures),
        LessonConfig::UniversalApproximation(c) => {
            finish(universal_approximation::<B>(c, device), pictures)
        }
        LessonConfig::BatchSizes(c) => {
            let train = mnist_train.ok_or(RunError::NeedsMnist)?;
            let images = c.images(train.len());
            if images <= c.mini_batch {
                return Err(RunError::TooFewImages {
                    have: images,
                    need: c.mini_batch,
                });
            }
            finish(batch_sizes::<B>(c, train, device), pictures)
        }
    }
}

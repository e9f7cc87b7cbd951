//! The settings of each lesson, as the `[lesson]` table of an experiment file
//! spells them. Every field has the lecture's value as its default.

use serde::{Deserialize, Serialize};

/// A lesson and its settings; `kind` picks the lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LessonConfig {
    LinearRegression(LinearRegressionLesson),
    LogicGates(LogicGatesLesson),
    Backprop(BackpropLesson),
    VanishingGradient(VanishingGradientLesson),
    ParameterCount(ParameterCountLesson),
    DecisionBoundaries(DecisionBoundariesLesson),
    Activations(ActivationsLesson),
    Perceptron(PerceptronLesson),
    UniversalApproximation(ApproximationLesson),
    Tensors(TensorsLesson),
    OptimizerPaths(OptimizerPathsLesson),
    BatchSizes(BatchSizesLesson),
}

/// A setting no lesson can run with.
#[derive(Debug, thiserror::Error)]
#[error("lesson.{field} = {value}: {expected}")]
pub struct LessonError {
    pub field: &'static str,
    pub value: String,
    pub expected: String,
}

/// Gradient descent on y = 0.1x + 0.3, and a regression on several inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearRegressionLesson {
    pub points: usize,
    /// Standard deviation of the noise added to y.
    pub noise: f32,
    pub lr: f64,
    pub steps: usize,
    /// Log W and b every this many steps.
    pub log_every: usize,
    /// True weights of the multi-variable plane (one per input) and its bias.
    pub plane_weights: Vec<f32>,
    pub plane_bias: f32,
    pub plane_steps: usize,
    pub seed: u64,
}

impl Default for LinearRegressionLesson {
    fn default() -> Self {
        Self {
            points: 100,
            noise: 0.0,
            lr: 0.5,
            steps: 200,
            log_every: 20,
            plane_weights: vec![2.0, -3.0, 0.5],
            plane_bias: 1.0,
            plane_steps: 2000,
            seed: 1,
        }
    }
}

/// Logistic regression on the two-input gates, and a 2-layer net on XOR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogicGatesLesson {
    /// Plain gradient descent for the single neuron.
    pub lr: f64,
    pub steps: usize,
    /// Hidden units of the 2-layer XOR net (tanh, Adam).
    pub hidden: usize,
    pub xor_lr: f64,
    pub xor_steps: usize,
    pub seed: u64,
}

impl Default for LogicGatesLesson {
    fn default() -> Self {
        Self {
            lr: 1.0,
            steps: 2000,
            hidden: 8,
            xor_lr: 0.05,
            xor_steps: 2000,
            seed: 3,
        }
    }
}

/// The chain rule written out for a 2-layer sigmoid net, against autodiff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackpropLesson {
    pub inputs: usize,
    pub hidden: usize,
    pub samples: usize,
    pub seed: u64,
}

impl Default for BackpropLesson {
    fn default() -> Self {
        Self {
            inputs: 2,
            hidden: 3,
            samples: 8,
            seed: 7,
        }
    }
}

/// Deep sigmoid nets against deep ReLU nets on XOR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VanishingGradientLesson {
    /// Numbers of weight layers to try.
    pub depths: Vec<usize>,
    pub width: usize,
    /// Plain gradient descent: an adaptive optimizer would hide the effect.
    pub lr: f64,
    pub epochs: usize,
    pub seed: u64,
}

impl Default for VanishingGradientLesson {
    fn default() -> Self {
        Self {
            depths: vec![5, 10],
            width: 10,
            lr: 0.1,
            epochs: 3000,
            seed: 11,
        }
    }
}

/// Stochastic (one example a step), mini-batch and full-batch gradient
/// descent: on the line y = 0.1x + 0.3, whose two parameters can be drawn,
/// then on softmax regression over MNIST, against steps and against seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchSizesLesson {
    /// Examples in a mini-batch (stochastic descent takes 1, full batch all).
    pub mini_batch: usize,
    /// Points on the line, and the standard deviation of their noise: without
    /// noise every example agrees at the minimum and one-example steps settle.
    pub points: usize,
    pub noise: f32,
    pub line_lr: f64,
    pub line_steps: usize,
    /// Training images used (all of them when absent).
    pub mnist_limit: Option<usize>,
    /// Learning rates for stochastic, mini-batch and full-batch descent: one
    /// example's gradient is noisy enough that it needs a smaller step.
    pub mnist_lrs: [f64; 3],
    /// Training time each batch size gets on MNIST (evaluations not counted).
    pub seconds: f64,
    /// A cap on MNIST steps, for runs that must not depend on the clock.
    pub max_steps: Option<usize>,
    pub seed: u64,
}

impl BatchSizesLesson {
    /// How many of the `available` training images the lesson trains on.
    pub fn images(&self, available: usize) -> usize {
        self.mnist_limit.unwrap_or(available).min(available)
    }
}

impl Default for BatchSizesLesson {
    fn default() -> Self {
        Self {
            mini_batch: 50,
            points: 200,
            noise: 0.05,
            line_lr: 0.2,
            line_steps: 300,
            mnist_limit: None,
            mnist_lrs: [0.001, 0.1, 0.1],
            seconds: 10.0,
            max_steps: None,
            seed: 5,
        }
    }
}

/// Burn's optimizers on an elongated bowl `shallow·x² + steep·y²`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerPathsLesson {
    pub start: [f32; 2],
    pub shallow: f32,
    pub steep: f32,
    /// One learning rate per optimizer: gradient descent, momentum, AdaGrad,
    /// RMSProp, Adam (each about the largest that stays stable here).
    pub lrs: Vec<f64>,
    pub steps: usize,
    /// "Reached the minimum": within this distance of it.
    pub radius: f32,
}

impl Default for OptimizerPathsLesson {
    fn default() -> Self {
        Self {
            start: [-4.0, 1.0],
            shallow: 0.01,
            steep: 1.0,
            lrs: vec![0.9, 0.5, 1.0, 0.05, 0.1],
            steps: 500,
            radius: 0.05,
        }
    }
}

/// Tensors, fed data and the error graph E = (w·x − y)².
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TensorsLesson {
    /// Weights at which the gradient is checked.
    pub ws: Vec<f32>,
    /// The lecture's x = 1, y = 1 (its 2(w − 1) holds for those only).
    pub x: f32,
    pub y: f32,
}

impl Default for TensorsLesson {
    fn default() -> Self {
        Self {
            // Every quarter from −1 to 3: close enough to draw as a curve.
            ws: (0..=16).map(|i| -1.0 + 0.25 * i as f32).collect(),
            x: 1.0,
            y: 1.0,
        }
    }
}

/// One hidden layer of sigmoid units, of each width, fitted to a function
/// on [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApproximationLesson {
    pub units: Vec<usize>,
    pub points: usize,
    /// Full-batch Adam.
    pub lr: f64,
    pub steps: usize,
    pub seed: u64,
}

impl Default for ApproximationLesson {
    fn default() -> Self {
        Self {
            units: vec![1, 2, 4, 8, 16, 64],
            points: 100,
            lr: 0.01,
            steps: 3000,
            seed: 5,
        }
    }
}

/// Rosenblatt's rule on the two-input gates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerceptronLesson {
    /// η in w ← w + η(y − ŷ)x. From zero weights any η > 0 draws the same
    /// lines; 1 keeps the weights whole numbers, so no rounding puts a
    /// point exactly on the line.
    pub lr: f32,
    /// Epochs (passes over the four rows) before giving up on a gate.
    pub max_epochs: usize,
}

impl Default for PerceptronLesson {
    fn default() -> Self {
        Self {
            lr: 1.0,
            max_epochs: 1000,
        }
    }
}

/// The activation functions and their slopes, sampled on [from, to].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivationsLesson {
    pub from: f32,
    pub to: f32,
    /// Evenly spaced samples, both ends included.
    pub points: usize,
}

impl Default for ActivationsLesson {
    fn default() -> Self {
        Self {
            from: -6.0,
            to: 6.0,
            points: 241,
        }
    }
}

/// Weights and biases of a fully connected net, counted from the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParameterCountLesson {
    /// Widths from input to output.
    pub layers: Vec<usize>,
}

impl Default for ParameterCountLesson {
    fn default() -> Self {
        Self {
            layers: vec![25, 16, 16, 9, 9],
        }
    }
}

/// Decision maps on the two moons: capacity, then overfitting and L2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionBoundariesLesson {
    pub points: usize,
    pub noise: f32,
    pub few_units: usize,
    pub enough_units: usize,
    /// The small, noisy set a big net overfits.
    pub small_points: usize,
    pub small_noise: f32,
    pub big_hidden: Vec<usize>,
    /// Weight of the L2 penalty (sum of squared weights) in the loss.
    pub l2: f64,
    /// Adam, full batch.
    pub lr: f64,
    pub steps: usize,
    pub seed: u64,
}

impl Default for DecisionBoundariesLesson {
    fn default() -> Self {
        Self {
            points: 200,
            noise: 0.2,
            few_units: 2,
            enough_units: 32,
            small_points: 30,
            small_noise: 0.35,
            big_hidden: vec![128, 128],
            l2: 0.01,
            lr: 0.01,
            steps: 2000,
            seed: 5,
        }
    }
}

impl LessonConfig {
    /// Whether the lesson trains on MNIST's training images (the others make
    /// their own data).
    pub fn needs_mnist(&self) -> bool {
        matches!(self, LessonConfig::BatchSizes(_))
    }

    /// Rejects settings no lesson can run with, naming the field.
    pub fn validate(&self) -> Result<(), LessonError> {
        fn positive(field: &'static str, v: f64) -> Result<(), LessonError> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(LessonError {
                    field,
                    value: v.to_string(),
                    expected: "must be a positive number".into(),
                })
            }
        }
        fn at_least(field: &'static str, v: usize, min: usize) -> Result<(), LessonError> {
            if v >= min {
                Ok(())
            } else {
                Err(LessonError {
                    field,
                    value: v.to_string(),
                    expected: format!("must be at least {min}"),
                })
            }
        }
        match self {
            LessonConfig::LinearRegression(c) => {
                positive("lr", c.lr)?;
                at_least("points", c.points, 2)?;
                at_least("steps", c.steps, 1)?;
                at_least("log_every", c.log_every, 1)?;
                at_least("plane_steps", c.plane_steps, 1)?;
                at_least("plane_weights (count)", c.plane_weights.len(), 1)?;
                if !(c.noise.is_finite() && c.noise >= 0.0) {
                    return Err(LessonError {
                        field: "noise",
                        value: c.noise.to_string(),
                        expected: "must be zero or positive".into(),
                    });
                }
            }
            LessonConfig::LogicGates(c) => {
                positive("lr", c.lr)?;
                positive("xor_lr", c.xor_lr)?;
                at_least("steps", c.steps, 1)?;
                at_least("xor_steps", c.xor_steps, 1)?;
                at_least("hidden", c.hidden, 2)?;
            }
            LessonConfig::Backprop(c) => {
                at_least("inputs", c.inputs, 1)?;
                at_least("hidden", c.hidden, 1)?;
                at_least("samples", c.samples, 1)?;
            }
            LessonConfig::VanishingGradient(c) => {
                positive("lr", c.lr)?;
                at_least("epochs", c.epochs, 1)?;
                at_least("width", c.width, 2)?;
                at_least("depths (count)", c.depths.len(), 1)?;
                for &d in &c.depths {
                    at_least("depths", d, 2)?;
                }
            }
            LessonConfig::DecisionBoundaries(c) => {
                positive("lr", c.lr)?;
                at_least("points", c.points, 4)?;
                at_least("small_points", c.small_points, 4)?;
                at_least("steps", c.steps, 1)?;
                at_least("few_units", c.few_units, 1)?;
                at_least("enough_units", c.enough_units, 1)?;
                at_least("big_hidden (count)", c.big_hidden.len(), 1)?;
                for &w in &c.big_hidden {
                    at_least("big_hidden", w, 1)?;
                }
                for (field, v) in [
                    ("noise", c.noise as f64),
                    ("small_noise", c.small_noise as f64),
                    ("l2", c.l2),
                ] {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(LessonError {
                            field,
                            value: v.to_string(),
                            expected: "must be zero or positive".into(),
                        });
                    }
                }
            }
            LessonConfig::BatchSizes(c) => {
                at_least("mini_batch", c.mini_batch, 2)?;
                at_least("points", c.points, c.mini_batch + 1)?;
                at_least("line_steps", c.line_steps, 1)?;
                if let Some(limit) = c.mnist_limit {
                    at_least("mnist_limit", limit, c.mini_batch + 1)?;
                }
                if let Some(steps) = c.max_steps {
                    at_least("max_steps", steps, 1)?;
                }
                positive("line_lr", c.line_lr)?;
                for lr in c.mnist_lrs {
                    positive("mnist_lrs", lr)?;
                }
                positive("seconds", c.seconds)?;
                if !(c.noise.is_finite() && c.noise >= 0.0) {
                    return Err(LessonError {
                        field: "noise",
                        value: c.noise.to_string(),
                        expected: "must be zero or positive".into(),
                    });
                }
            }
            LessonConfig::OptimizerPaths(c) => {
                at_least("steps", c.steps, 1)?;
                if c.lrs.len() != 5 {
                    return Err(LessonError {
                        field: "lrs",
                        value: format!("{} values", c.lrs.len()),
                        expected: "needs 5: gradient descent, momentum, AdaGrad, RMSProp, Adam"
                            .into(),
                    });
                }
                for &lr in &c.lrs {
                    positive("lrs", lr)?;
                }
                for (field, v) in [
                    ("shallow", c.shallow),
                    ("steep", c.steep),
                    ("radius", c.radius),
                ] {
                    positive(field, v as f64)?;
                }
                for v in c.start {
                    if !v.is_finite() {
                        return Err(LessonError {
                            field: "start",
                            value: v.to_string(),
                            expected: "must be finite numbers".into(),
                        });
                    }
                }
            }
            LessonConfig::Tensors(c) => {
                at_least("ws (count)", c.ws.len(), 1)?;
                for (field, v) in [("x", c.x), ("y", c.y)]
                    .into_iter()
                    .chain(c.ws.iter().map(|&w| ("ws", w)))
                {
                    if !v.is_finite() {
                        return Err(LessonError {
                            field,
                            value: v.to_string(),
                            expected: "must be a finite number".into(),
                        });
                    }
                }
            }
            LessonConfig::UniversalApproximation(c) => {
                positive("lr", c.lr)?;
                at_least("points", c.points, 2)?;
                at_least("steps", c.steps, 1)?;
                at_least("units (count)", c.units.len(), 1)?;
                for &n in &c.units {
                    at_least("units", n, 1)?;
                }
            }
            LessonConfig::Perceptron(c) => {
                positive("lr", c.lr as f64)?;
                at_least("max_epochs", c.max_epochs, 1)?;
            }
            LessonConfig::Activations(c) => {
                at_least("points", c.points, 3)?;
                if !(c.from.is_finite() && c.to.is_finite() && c.from < c.to) {
                    return Err(LessonError {
                        field: "to",
                        value: c.to.to_string(),
                        expected: format!("must be a number above from = {}", c.from),
                    });
                }
            }
            LessonConfig::ParameterCount(c) => {
                at_least("layers (count)", c.layers.len(), 2)?;
                for &w in &c.layers {
                    at_least("layers", w, 1)?;
                }
            }
        }
        Ok(())
    }
}

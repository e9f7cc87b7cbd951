//! Lesson: tensors and the computation graph, the lectures' TensorFlow 1
//! basics in Burn's terms. Burn builds no graph to run later: operations run
//! as they are written (eagerly), and an autodiff backend records them so
//! that `backward()` can apply the chain rule.
//!
//! | TensorFlow 1 | Burn |
//! |---|---|
//! | graph | the operations themselves, recorded by an `Autodiff<_>` backend as they run |
//! | `tf.constant` | a `Tensor` made from data (no `require_grad`) |
//! | `tf.Variable` | a `Param<Tensor>` in a `Module`, or a tensor with `require_grad()` |
//! | `tf.placeholder` + `feed_dict` | a function argument: data is passed in when called |
//! | `Session.run(fetches)` | none: a value exists once computed; `into_data()` reads it |
//! | `tf.gradients` / `minimize` | `loss.backward()`, then `tensor.grad(&grads)` or an optimizer's `step` |

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_plots::{function_panels, Curve, FunctionPanel, PlotError};
use serde::Serialize;

use crate::config::TensorsLesson;
use crate::Lesson;

/// The lectures' words and Burn's, as the module's table gives them.
pub const TF1_IN_BURN: [(&str, &str); 6] = [
    ("graph", "operations run eagerly; Autodiff<_> records them"),
    ("tf.constant", "a Tensor made from data"),
    ("tf.Variable", "a Param in a Module, or require_grad()"),
    ("tf.placeholder + feed_dict", "a function argument"),
    (
        "Session.run",
        "none: values exist once computed (into_data reads one)",
    ),
    ("tf.gradients", "loss.backward(), then tensor.grad(&grads)"),
];

#[derive(Clone, Debug, Serialize)]
pub struct ErrorGradient {
    pub w: f32,
    pub error: f32,
    /// dE/dw from autodiff.
    pub autodiff: f32,
    /// The lecture's chain rule for x = 1, y = 1: 2(w − 1).
    pub lecture: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tensors {
    /// a + b with a = [1, 2, 3] (a constant) and b = [5, 5, 5] (fed in).
    pub sum: Vec<f32>,
    /// The same sum on the backend without autodiff.
    pub sum_inner: Vec<f32>,
    /// Shapes of the vector, matrix and rank-3 tensor of 64 values each.
    pub shapes: Vec<Vec<usize>>,
    pub x: f32,
    pub y: f32,
    pub gradients: Vec<ErrorGradient>,
    pub words: Vec<(String, String)>,
}

/// `a + b`, written once for any backend: `b` is what TF1 fed through a
/// placeholder, here simply an argument.
pub fn add_fed<B: Backend>(b: Tensor<B, 1>) -> Tensor<B, 1> {
    let a = Tensor::<B, 1>::from_floats([1.0, 2.0, 3.0], &b.device());
    a + b
}

/// E = (w·x − y)², the lectures' error graph for one weight.
pub fn error<B: Backend>(w: Tensor<B, 1>, x: f32, y: f32) -> Tensor<B, 1> {
    (w * x - y).powi_scalar(2)
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec().unwrap_or_default()
}

pub fn tensors<B: AutodiffBackend>(c: &TensorsLesson, device: &B::Device) -> Tensors {
    let fed = [5.0f32, 5.0, 5.0];
    let sum = values(add_fed(Tensor::<B, 1>::from_floats(fed, device)));
    let sum_inner = values(add_fed(Tensor::<B::InnerBackend, 1>::from_floats(
        fed, device,
    )));
    let counting: Vec<f32> = (0..64).map(|i| i as f32).collect();
    let vector = Tensor::<B, 1>::from_floats(counting.as_slice(), device);
    let matrix: Tensor<B, 2> = vector.clone().reshape([8, 8]);
    let cube: Tensor<B, 3> = vector.clone().reshape([4, 4, 4]);
    let shapes = vec![
        vector.dims().to_vec(),
        matrix.dims().to_vec(),
        cube.dims().to_vec(),
    ];
    let gradients =
        c.ws.iter()
            .map(|&w0| {
                // The Variable: a tensor autodiff tracks.
                let w = Tensor::<B, 1>::from_floats([w0], device).require_grad();
                let e = error(w.clone(), c.x, c.y);
                let grads = e.backward();
                let autodiff = w.grad(&grads).map_or(f32::NAN, |g| values(g)[0]);
                ErrorGradient {
                    w: w0,
                    error: values(e)[0],
                    autodiff,
                    lecture: 2.0 * (w0 - 1.0),
                }
            })
            .collect();
    Tensors {
        sum,
        sum_inner,
        shapes,
        x: c.x,
        y: c.y,
        gradients,
        words: TF1_IN_BURN
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

impl Tensors {
    fn worst_gap(&self) -> f32 {
        self.gradients
            .iter()
            .map(|g| (g.autodiff - g.lecture).abs())
            .fold(
                0.0,
                |m, d| if d.is_nan() { f32::INFINITY } else { m.max(d) },
            )
    }
}

impl Lesson for Tensors {
    fn headline(&self) -> String {
        format!(
            "[1, 2, 3] + [5, 5, 5] = {:?} on both backends; 64 values as {:?}; dE/dw of (w·{} − {})² from autodiff is within {:.1e} of the chain rule's 2(w − 1) at {} values of w",
            self.sum,
            self.shapes,
            self.x,
            self.y,
            self.worst_gap(),
            self.gradients.len()
        )
    }

    /// The sum is [6, 7, 8] with and without autodiff, the three shapes
    /// hold 64 values at ranks 1, 2 and 3, and autodiff's gradient is the
    /// lecture's 2(w − 1) (which holds for its x = 1, y = 1 only).
    fn as_lectured(&self) -> bool {
        let shapes_ok = self.shapes == [vec![64], vec![8, 8], vec![4, 4, 4]];
        self.sum == [6.0, 7.0, 8.0]
            && self.sum_inner == self.sum
            && shapes_ok
            && !self.gradients.is_empty()
            && self.worst_gap() < 1e-5
    }

    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let path = dir.join("error-graph.png");
        let (lo, hi) = self
            .gradients
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), g| {
                (l.min(g.w), h.max(g.w))
            });
        let (lo, hi) = (lo.min(-1.0) - 0.5, hi.max(3.0) + 0.5);
        let line = |f: &dyn Fn(f32) -> f32| -> Vec<(f32, f32)> {
            (0..=100)
                .map(|i| lo + (hi - lo) * i as f32 / 100.0)
                .map(|w| (w, f(w)))
                .collect()
        };
        let (x, y) = (self.x, self.y);
        let dots = |pick: fn(&ErrorGradient) -> f32| -> Vec<(f32, f32)> {
            self.gradients.iter().map(|g| (g.w, pick(g))).collect()
        };
        function_panels(
            &path,
            "E = (w x - y)^2 and its slope: the chain rule against autodiff",
            &[
                FunctionPanel {
                    title: format!("E(w) for x = {x}, y = {y}"),
                    x_desc: "w".into(),
                    y_desc: "E".into(),
                    curves: vec![
                        Curve {
                            label: "E(w)".into(),
                            points: line(&|w| (w * x - y).powi(2)),
                        },
                        Curve {
                            label: "computed".into(),
                            points: dots(|g| g.error),
                        },
                    ],
                    mark: None,
                },
                FunctionPanel {
                    title: "dE/dw".into(),
                    x_desc: "w".into(),
                    y_desc: "slope".into(),
                    curves: vec![
                        Curve {
                            label: "chain rule 2(w - 1)".into(),
                            points: line(&|w| 2.0 * (w - 1.0)),
                        },
                        Curve {
                            label: "autodiff".into(),
                            points: dots(|g| g.autodiff),
                        },
                    ],
                    mark: None,
                },
            ],
        )?;
        Ok(vec![path])
    }
}

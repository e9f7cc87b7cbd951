//! Lesson: the activation functions and their slopes, computed by the very
//! layers the nets use and differentiated by autodiff. Sigmoid's slope
//! never exceeds 0.25, the lectures' reason for vanishing gradients: the
//! backward pass through ten sigmoid layers multiplies ten such factors.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_mlp::Activation;
use dlsuite_plots::{function_panels, Curve, FunctionPanel, PlotError};
use serde::Serialize;

use crate::config::ActivationsLesson;
use crate::Lesson;

/// The lectures' five, in their order.
const ACTIVATIONS: [Activation; 5] = [
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::Elu,
    Activation::LeakyRelu,
];

/// Sigmoid's slope at 0, its largest: σ(0)(1 − σ(0)) = 1/4.
pub const SIGMOID_MAX_SLOPE: f32 = 0.25;

#[derive(Clone, Debug, Serialize)]
pub struct ActivationCurve {
    pub name: String,
    pub values: Vec<f32>,
    /// d activation / dx at each x, from autodiff.
    pub slopes: Vec<f32>,
}

impl ActivationCurve {
    /// The largest slope, and the x where it is.
    pub fn max_slope(&self, xs: &[f32]) -> (f32, f32) {
        self.slopes
            .iter()
            .zip(xs)
            .fold((f32::NEG_INFINITY, 0.0), |best, (&s, &x)| {
                if s > best.0 {
                    (s, x)
                } else {
                    best
                }
            })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Activations {
    pub xs: Vec<f32>,
    pub curves: Vec<ActivationCurve>,
    /// Sigmoid's largest slope and where.
    pub sigmoid_max_slope: (f32, f32),
    /// The most ten sigmoid layers can pass back: the largest slope to the
    /// tenth power.
    pub ten_layer_factor: f32,
}

pub fn activations<B: AutodiffBackend>(c: &ActivationsLesson, device: &B::Device) -> Activations {
    let xs: Vec<f32> = (0..c.points)
        .map(|i| c.from + (c.to - c.from) * i as f32 / (c.points - 1) as f32)
        .collect();
    let curves: Vec<ActivationCurve> = ACTIVATIONS
        .iter()
        .map(|&a| {
            let layer = a.config().init::<B>(device);
            let x = Tensor::<B, 1>::from_floats(xs.as_slice(), device).require_grad();
            let y = layer.forward(x.clone());
            // Each output depends on its own input only, so the gradient of
            // the sum is each point's slope.
            let grads = y.clone().sum().backward();
            let slopes = x.grad(&grads).map_or_else(Vec::new, |g| {
                g.into_data().convert::<f32>().to_vec().unwrap_or_default()
            });
            ActivationCurve {
                name: format!("{a:?}"),
                values: y.into_data().convert::<f32>().to_vec().unwrap_or_default(),
                slopes,
            }
        })
        .collect();
    let sigmoid_max_slope = curves[0].max_slope(&xs);
    Activations {
        ten_layer_factor: sigmoid_max_slope.0.powi(10),
        xs,
        curves,
        sigmoid_max_slope,
    }
}

impl Activations {
    fn curve(&self, name: &str) -> Option<&ActivationCurve> {
        self.curves.iter().find(|c| c.name == name)
    }

    /// ReLU's slope: 0 left of 0, 1 right of it.
    fn relu_is_a_switch(&self) -> bool {
        self.curve("Relu").is_some_and(|c| {
            self.xs.iter().zip(&c.slopes).all(|(&x, &s)| {
                if x < 0.0 {
                    s == 0.0
                } else if x > 0.0 {
                    s == 1.0
                } else {
                    true
                }
            })
        })
    }
}

impl Lesson for Activations {
    fn headline(&self) -> String {
        let (slope, at) = self.sigmoid_max_slope;
        let tanh = self
            .curve("Tanh")
            .map_or(f32::NAN, |c| c.max_slope(&self.xs).0);
        format!(
            "sigmoid's slope peaks at {slope:.3} (x = {at:.2}), so ten sigmoid layers pass back at most {:.1e} of a gradient; tanh's peaks at {tanh:.3}; ReLU's is 0 below 0 and 1 above",
            self.ten_layer_factor
        )
    }

    /// Sigmoid's slope peaks at 0.25 at x = 0 (within the sampling) and
    /// nowhere exceeds it, tanh's peaks at 1, and ReLU's is a switch.
    fn as_lectured(&self) -> bool {
        let (slope, at) = self.sigmoid_max_slope;
        let step = self.xs.get(1).map_or(1.0, |x1| (x1 - self.xs[0]).abs());
        let tanh_peak = self.curve("Tanh").map(|c| c.max_slope(&self.xs).0);
        (slope - SIGMOID_MAX_SLOPE).abs() < 1e-3
            && at.abs() <= step
            && tanh_peak.is_some_and(|p| (p - 1.0).abs() < 1e-3)
            && self.relu_is_a_switch()
    }

    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let path = dir.join("activations.png");
        let curves = |pick: fn(&ActivationCurve) -> &Vec<f32>| -> Vec<Curve> {
            self.curves
                .iter()
                .map(|c| Curve {
                    label: c.name.clone(),
                    points: self
                        .xs
                        .iter()
                        .copied()
                        .zip(pick(c).iter().copied())
                        .collect(),
                })
                .collect()
        };
        let (slope, at) = self.sigmoid_max_slope;
        function_panels(
            &path,
            "activation functions (Burn's layers) and their slopes (autodiff)",
            &[
                FunctionPanel {
                    title: "f(x)".into(),
                    x_desc: "x".into(),
                    y_desc: "f(x)".into(),
                    curves: curves(|c| &c.values),
                    mark: None,
                },
                FunctionPanel {
                    title: "f'(x)".into(),
                    x_desc: "x".into(),
                    y_desc: "slope".into(),
                    curves: curves(|c| &c.slopes),
                    mark: Some(((at, slope), format!("sigmoid's largest slope: {slope:.2}"))),
                },
            ],
        )?;
        Ok(vec![path])
    }
}

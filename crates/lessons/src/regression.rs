//! Lesson: gradient descent finds the line y = 0.1x + 0.3, the normal
//! equation gets there in one step, and the same code fits a plane.

use std::path::{Path, PathBuf};

use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::synthetic::{linear_points, plane_points};
use dlsuite_linear::{fit_gradient_descent, normal_equation};
use dlsuite_plots::{descent_path, line_fit, PlotError};
use serde::Serialize;

use crate::Lesson;

use crate::config::LinearRegressionLesson;

/// W, b and the mean squared error after `step` updates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TracePoint {
    pub step: usize,
    pub w: f32,
    pub b: f32,
    pub loss: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct MultiVariableFit {
    pub true_weights: Vec<f32>,
    pub true_bias: f32,
    pub descent_weights: Vec<f32>,
    pub descent_bias: f32,
    pub closed_form_weights: Vec<f64>,
    pub closed_form_bias: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinearLesson {
    /// The data the line was fitted to.
    pub xs: Vec<f32>,
    pub ys: Vec<f32>,
    pub trace: Vec<TracePoint>,
    pub w: f32,
    pub b: f32,
    /// The normal equation's answer on the same points.
    pub closed_form_w: f64,
    pub closed_form_b: f64,
    pub multi: MultiVariableFit,
}

/// Runs the lesson: the line, its closed form, then the plane.
pub fn linear_regression<B: AutodiffBackend>(
    config: &LinearRegressionLesson,
    device: &B::Device,
) -> LinearLesson {
    let c = config;
    B::seed(device, c.seed);
    let (xs, ys) = linear_points(c.points, c.noise, c.seed);
    let rows: Vec<Vec<f32>> = xs.iter().map(|&x| vec![x]).collect();
    let (model, steps) = fit_gradient_descent::<B>(&rows, &ys, c.lr, c.steps, c.log_every, device);
    let trace = steps
        .into_iter()
        .map(|s| TracePoint {
            step: s.step,
            w: s.weights.first().copied().unwrap_or(0.0),
            b: s.bias,
            loss: s.loss,
        })
        .collect();
    let (cw, cb) = closed_form(&rows, &ys);

    let (plane_rows, plane_ys) = plane_points(
        c.points,
        &c.plane_weights,
        c.plane_bias,
        c.noise,
        c.seed + 1,
    );
    let (plane, _) = fit_gradient_descent::<B>(
        &plane_rows,
        &plane_ys,
        c.lr,
        c.plane_steps,
        c.plane_steps,
        device,
    );
    let (pw, pb) = closed_form(&plane_rows, &plane_ys);

    LinearLesson {
        w: model.weights().first().copied().unwrap_or(0.0),
        b: model.bias(),
        xs,
        ys,
        trace,
        closed_form_w: cw.first().copied().unwrap_or(f64::NAN),
        closed_form_b: cb,
        multi: MultiVariableFit {
            true_weights: c.plane_weights.clone(),
            true_bias: c.plane_bias,
            descent_weights: plane.weights(),
            descent_bias: plane.bias(),
            closed_form_weights: pw,
            closed_form_bias: pb,
        },
    }
}

/// The normal equation in f64; NaN where the system is singular.
fn closed_form(rows: &[Vec<f32>], ys: &[f32]) -> (Vec<f64>, f64) {
    let rows64: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().map(|&v| v as f64).collect())
        .collect();
    let ys64: Vec<f64> = ys.iter().map(|&y| y as f64).collect();
    normal_equation(&rows64, &ys64).unwrap_or((vec![f64::NAN; rows[0].len()], f64::NAN))
}

impl LinearLesson {
    /// Largest gap between gradient descent and the normal equation on the plane.
    pub fn plane_gap(&self) -> f64 {
        let m = &self.multi;
        m.descent_weights
            .iter()
            .zip(&m.closed_form_weights)
            .map(|(&d, &c)| (d as f64 - c).abs())
            .chain(std::iter::once(
                (m.descent_bias as f64 - m.closed_form_bias).abs(),
            ))
            .fold(0.0, f64::max)
    }
}

impl Lesson for LinearLesson {
    /// `fit.png`: the points and both lines; `descent.png`: the path of
    /// (W, b) over the loss surface.
    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let fit = dir.join("fit.png");
        line_fit(
            &fit,
            &self.xs,
            &self.ys,
            (self.w, self.b),
            (self.closed_form_w as f32, self.closed_form_b as f32),
        )?;
        let descent = dir.join("descent.png");
        let steps: Vec<(f32, f32)> = self.trace.iter().map(|t| (t.w, t.b)).collect();
        descent_path(&descent, &self.xs, &self.ys, &steps)?;
        Ok(vec![fit, descent])
    }

    fn headline(&self) -> String {
        format!(
            "W = {:.4}, b = {:.4} after {} steps (normal equation {:.4}, {:.4}); plane fit within {:.1e} of the normal equation",
            self.w,
            self.b,
            self.trace.last().map_or(0, |t| t.step),
            self.closed_form_w,
            self.closed_form_b,
            self.plane_gap()
        )
    }

    /// Within 1e-3 of the line's 0.1 and 0.3, and the plane matches its closed form.
    fn as_lectured(&self) -> bool {
        (self.w - 0.1).abs() < 1e-3 && (self.b - 0.3).abs() < 1e-3 && self.plane_gap() < 1e-2
    }
}

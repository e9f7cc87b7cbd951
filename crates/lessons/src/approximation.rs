//! Lesson: universal approximation. One hidden layer of N sigmoid units
//! fits a function on [0, 1] (a bump plus a sine) the closer the more
//! units it has: the largest error falls as N grows.

use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::nn::loss::{MseLoss, Reduction};
use burn::nn::Linear;
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_mlp::{Activation, Init, Mlp, MlpConfig};
use dlsuite_plots::{function_panels, Curve, FunctionPanel, PlotError};
use dlsuite_train::full_batch_descent;
use serde::Serialize;

use crate::config::ApproximationLesson;
use crate::Lesson;

/// The function to fit: a narrow bump at 0.3 on a sine of two periods.
pub fn target(x: f32) -> f32 {
    let bump = (-((x - 0.3) / 0.08).powi(2)).exp();
    0.8 * bump + 0.3 * (4.0 * std::f32::consts::PI * x).sin()
}

#[derive(Clone, Debug, Serialize)]
pub struct ApproximationFit {
    pub units: usize,
    /// The largest |net(x) − f(x)| over the points.
    pub max_error: f32,
    pub mean_squared_error: f32,
    pub fitted: Vec<f32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct UniversalApproximation {
    pub xs: Vec<f32>,
    pub target: Vec<f32>,
    /// One per width, fewest units first.
    pub fits: Vec<ApproximationFit>,
}

pub fn universal_approximation<B: AutodiffBackend>(
    c: &ApproximationLesson,
    device: &B::Device,
) -> UniversalApproximation {
    let xs: Vec<f32> = (0..c.points)
        .map(|i| i as f32 / (c.points - 1) as f32)
        .collect();
    let ys: Vec<f32> = xs.iter().map(|&x| target(x)).collect();
    // [points, 1]
    let x = Tensor::<B, 1>::from_floats(xs.as_slice(), device).reshape([c.points, 1]);
    let y = Tensor::<B, 1>::from_floats(ys.as_slice(), device).reshape([c.points, 1]);
    let mut sorted = c.units.clone();
    sorted.sort_unstable();
    let fits = sorted
        .iter()
        .map(|&units| {
            B::seed(device, c.seed);
            let mut net: Mlp<B> = MlpConfig::new(1, vec![units], 1)
                .with_activation(Activation::Sigmoid)
                .with_init(Init::Xavier)
                .init(device);
            spread_steps(&mut net.hidden[0].linear, units, device);
            let net = full_batch_descent(
                net,
                AdamConfig::new().init(),
                c.lr,
                c.steps,
                |m: &Mlp<B>| {
                    MseLoss::new().forward(m.forward(x.clone()), y.clone(), Reduction::Mean)
                },
                |_, _, _| {},
            );
            let fitted: Vec<f32> = net
                .forward(x.clone())
                .into_data()
                .convert::<f32>()
                .to_vec()
                .unwrap_or_default();
            let errors = fitted.iter().zip(&ys).map(|(f, t)| (f - t).abs());
            ApproximationFit {
                units,
                max_error: errors.clone().fold(0.0, f32::max),
                mean_squared_error: errors.map(|e| e * e).sum::<f32>() / c.points as f32,
                fitted,
            }
        })
        .collect();
    UniversalApproximation {
        xs,
        target: ys,
        fits,
    }
}

/// Starts the hidden units as the proof builds them: soft steps of slope
/// proportional to N, their centres spread evenly over [0, 1], so that
/// training refines a staircase instead of searching for one (from a
/// random start a few thousand steps leave wide nets no better than narrow
/// ones, which would hide the lesson behind the optimizer).
fn spread_steps<B: Backend>(layer: &mut Linear<B>, units: usize, device: &B::Device) {
    let slope = STEEPNESS * units as f32;
    let centres: Vec<f32> = (0..units)
        .map(|i| (i as f32 + 0.5) / units as f32)
        .collect();
    let biases: Vec<f32> = centres.iter().map(|c| -slope * c).collect();
    // [1, units]: the one input's weight to each unit.
    layer.weight = Param::from_tensor(Tensor::full([1, units], slope, device));
    layer.bias = Some(Param::from_tensor(Tensor::from_floats(
        biases.as_slice(),
        device,
    )));
}

/// The hidden units' initial slope, per unit: wide enough steps overlap
/// their neighbours, so the staircase is smooth.
const STEEPNESS: f32 = 3.0;

impl Lesson for UniversalApproximation {
    fn headline(&self) -> String {
        let errors: Vec<String> = self
            .fits
            .iter()
            .map(|f| format!("{} units {:.3}", f.units, f.max_error))
            .collect();
        format!("largest error of one sigmoid layer: {}", errors.join(", "))
    }

    /// The widest net is within 0.05 everywhere and at least five times
    /// closer than the narrowest, and no width is more than 25% worse than
    /// the one before it.
    fn as_lectured(&self) -> bool {
        let (Some(first), Some(last)) = (self.fits.first(), self.fits.last()) else {
            return false;
        };
        self.fits.len() >= 2
            && last.max_error < 0.05
            && last.max_error * 5.0 < first.max_error
            && self
                .fits
                .windows(2)
                .all(|w| w[1].max_error <= w[0].max_error * 1.25)
    }

    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let path = dir.join("approximation.png");
        let along = |values: &[f32]| {
            self.xs
                .iter()
                .copied()
                .zip(values.iter().copied())
                .collect()
        };
        let mut fits = vec![Curve {
            label: "target".into(),
            points: along(&self.target),
        }];
        fits.extend(self.fits.iter().map(|f| Curve {
            label: format!("{} units", f.units),
            points: along(&f.fitted),
        }));
        let errors = Curve {
            label: "largest error".into(),
            points: self
                .fits
                .iter()
                .map(|f| ((f.units as f32).log2(), f.max_error))
                .collect(),
        };
        function_panels(
            &path,
            "one hidden layer of N sigmoid units fitted to a bump plus a sine",
            &[
                FunctionPanel {
                    title: "the fits over the target".into(),
                    x_desc: "x".into(),
                    y_desc: "f(x)".into(),
                    curves: fits,
                    mark: None,
                },
                FunctionPanel {
                    title: "largest error against units".into(),
                    x_desc: "log2 of the hidden units".into(),
                    y_desc: "max |net(x) - f(x)|".into(),
                    curves: vec![errors],
                    mark: None,
                },
            ],
        )?;
        Ok(vec![path])
    }
}

//! Lesson: the optimizers' paths across an elongated bowl, each of Burn's
//! own optimizers moving a module of two parameters. Plain gradient descent
//! creeps along the shallow axis (its step is held back by the steep one);
//! momentum gathers speed along it; AdaGrad, RMSProp and Adam scale each
//! axis by its own gradients.

use std::path::{Path, PathBuf};

use burn::module::{Module, Param};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_plots::{paths_on_surface, Curve, PlotError, Surface};
use dlsuite_train::{full_batch_descent, OptimizerChoice, OptimizerConfig};
use serde::Serialize;

use crate::config::OptimizerPathsLesson;
use crate::Lesson;

/// The optimizers compared, in the lectures' order.
const OPTIMIZERS: [OptimizerChoice; 5] = [
    OptimizerChoice::Sgd,
    OptimizerChoice::Momentum,
    OptimizerChoice::AdaGrad,
    OptimizerChoice::RmsProp,
    OptimizerChoice::Adam,
];

/// A point on the surface: the two parameters the optimizers move.
#[derive(Module, Debug)]
pub struct Point<B: Backend> {
    pub xy: Param<Tensor<B, 1>>,
}

/// The bowl: `a·x² + b·y²`, shallow along x, steep along y.
fn bowl(c: &OptimizerPathsLesson, x: f32, y: f32) -> f32 {
    c.shallow * x * x + c.steep * y * y
}

#[derive(Clone, Debug, Serialize)]
pub struct OptimizerPath {
    pub optimizer: String,
    pub lr: f64,
    /// Positions from the start, one per step.
    pub path: Vec<(f32, f32)>,
    /// The first step within `radius` of the minimum (`None`: not reached).
    pub reached_at: Option<usize>,
    pub final_loss: f32,
}

#[derive(Clone, Debug, Serialize)]
pub struct OptimizerPaths {
    pub start: (f32, f32),
    pub radius: f32,
    pub steps: usize,
    pub paths: Vec<OptimizerPath>,
    #[serde(skip)]
    config: OptimizerPathsLesson,
}

pub fn optimizer_paths<B: AutodiffBackend>(
    c: &OptimizerPathsLesson,
    device: &B::Device,
) -> OptimizerPaths {
    let paths = OPTIMIZERS
        .iter()
        .zip(&c.lrs)
        .map(|(&choice, &lr)| {
            let start = Point::<B> {
                xy: Param::from_tensor(Tensor::from_floats(c.start, device)),
            };
            let weights = Tensor::<B, 1>::from_floats([c.shallow, c.steep], device);
            let mut path = Vec::with_capacity(c.steps + 1);
            let end = full_batch_descent(
                start,
                OptimizerConfig::new(choice).init(),
                lr,
                c.steps,
                |p: &Point<B>| (p.xy.val().powi_scalar(2) * weights.clone()).sum(),
                |_, p, _| {
                    let xy: Vec<f32> =
                        p.xy.val()
                            .into_data()
                            .convert::<f32>()
                            .to_vec()
                            .unwrap_or_default();
                    path.push((xy[0], xy[1]));
                },
            );
            let end: Vec<f32> = end
                .xy
                .val()
                .into_data()
                .convert::<f32>()
                .to_vec()
                .unwrap_or_default();
            let reached_at = path
                .iter()
                .position(|&(x, y)| (x * x + y * y).sqrt() < c.radius);
            OptimizerPath {
                optimizer: format!("{choice:?}"),
                lr,
                reached_at,
                final_loss: bowl(c, end[0], end[1]),
                path,
            }
        })
        .collect();
    OptimizerPaths {
        start: (c.start[0], c.start[1]),
        radius: c.radius,
        steps: c.steps,
        paths,
        config: c.clone(),
    }
}

impl OptimizerPaths {
    /// The optimizer that came within the radius first, and its step.
    pub fn first(&self) -> Option<(&str, usize)> {
        self.paths
            .iter()
            .filter_map(|p| Some((p.optimizer.as_str(), p.reached_at?)))
            .min_by_key(|&(_, step)| step)
    }

    fn reached(&self, name: &str) -> Option<usize> {
        self.paths
            .iter()
            .find(|p| p.optimizer == name)
            .and_then(|p| p.reached_at)
    }
}

impl Lesson for OptimizerPaths {
    fn headline(&self) -> String {
        let each: Vec<String> = self
            .paths
            .iter()
            .map(|p| match p.reached_at {
                Some(s) => format!("{} {s}", p.optimizer),
                None => format!("{} not in {}", p.optimizer, self.steps),
            })
            .collect();
        let first = self.first().map_or("none reached it".into(), |(n, s)| {
            format!("{n} first, at step {s}")
        });
        format!(
            "steps to within {} of the minimum: {}; {first}",
            self.radius,
            each.join(", ")
        )
    }

    /// Every optimizer but plain gradient descent reaches the minimum, and
    /// each of them before gradient descent does (if it does at all).
    fn as_lectured(&self) -> bool {
        let gd = self.reached("Sgd").unwrap_or(usize::MAX);
        ["Momentum", "AdaGrad", "RmsProp", "Adam"]
            .iter()
            .all(|n| self.reached(n).is_some_and(|s| s < gd))
    }

    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let path = dir.join("optimizer-paths.png");
        let reach = |f: fn(&(f32, f32)) -> f32| {
            self.paths
                .iter()
                .flat_map(|p| p.path.iter().map(f))
                .fold(0f32, |m, v| m.max(v.abs()))
                * 1.15
        };
        let (rx, ry) = (reach(|p| p.0).max(0.5), reach(|p| p.1).max(0.5));
        const CELLS: usize = 80;
        let mut loss = Vec::with_capacity(CELLS * CELLS);
        for row in 0..CELLS {
            for col in 0..CELLS {
                let x = -rx + 2.0 * rx * (col as f32 + 0.5) / CELLS as f32;
                let y = -ry + 2.0 * ry * (row as f32 + 0.5) / CELLS as f32;
                loss.push(bowl(&self.config, x, y));
            }
        }
        let curves: Vec<Curve> = self
            .paths
            .iter()
            .map(|p| Curve {
                label: format!("{} (lr {})", p.optimizer, p.lr),
                points: p.path.clone(),
            })
            .collect();
        paths_on_surface(
            &path,
            &format!(
                "Burn's optimizers on {}x^2 + {}y^2, {} steps",
                self.config.shallow, self.config.steep, self.steps
            ),
            &Surface {
                x: (-rx, rx),
                y: (-ry, ry),
                resolution: CELLS,
                loss,
            },
            &curves,
        )?;
        Ok(vec![path])
    }
}

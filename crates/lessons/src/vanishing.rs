//! Lesson: the vanishing gradient. Deep sigmoid nets on XOR pass back
//! gradients that shrink layer by layer (σ' ≤ 1/4), so their first layers
//! barely learn and the net fails; the same depths with ReLU learn.

use std::path::{Path, PathBuf};

use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::synthetic::Gate;
use dlsuite_mlp::{Activation, Init, MlpConfig};
use dlsuite_plots::{gradient_norms, NormSeries, PlotError};
use serde::Serialize;

use crate::Lesson;

use crate::config::VanishingGradientLesson;
use crate::maps::tensors;

/// Gradient-norm rows kept per run, at most: enough for a chart.
const MAX_LOG_ROWS: usize = 300;

/// One net trained on XOR, with its per-layer gradient norms.
#[derive(Clone, Debug, Serialize)]
pub struct DepthRun {
    pub activation: Activation,
    pub init: Init,
    /// Weight layers, input side first.
    pub depth: usize,
    /// The epochs at which `gradient_norms` were taken.
    pub logged_epochs: Vec<usize>,
    /// L2 norm of each layer's weight gradient, one row per logged epoch,
    /// input-side layer first.
    pub gradient_norms: Vec<Vec<f32>>,
    pub final_loss: f32,
    pub predicted: Vec<u8>,
    pub learned: bool,
}

impl DepthRun {
    /// First layer's gradient norm over the last layer's, at the first epoch.
    pub fn first_to_last_ratio(&self) -> f32 {
        match self.gradient_norms.first() {
            Some(row) if row.len() >= 2 => row[0] / row[row.len() - 1].max(f32::MIN_POSITIVE),
            _ => f32::NAN,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct VanishingGradient {
    pub runs: Vec<DepthRun>,
}

pub fn vanishing_gradient<B: AutodiffBackend>(
    c: &VanishingGradientLesson,
    device: &B::Device,
) -> VanishingGradient {
    let table = Gate::Xor.truth_table();
    let (x, y) = tensors::<B>(&table, device);
    let bce = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device);
    let log_every = c.epochs.div_ceil(MAX_LOG_ROWS).max(1);

    let mut runs = Vec::new();
    for &depth in &c.depths {
        // Each activation with the initializer made for it: the sigmoid net
        // gets its best chance (Xavier), and still fails.
        for (activation, init) in [
            (Activation::Sigmoid, Init::Xavier),
            (Activation::Relu, Init::He),
        ] {
            B::seed(device, c.seed);
            let mut model = MlpConfig::new(2, vec![c.width; depth - 1], 1)
                .with_activation(activation)
                .with_init(init)
                .init::<B>(device);
            let mut optimizer = SgdConfig::new().init();
            let (mut logged_epochs, mut gradient_norms) = (Vec::new(), Vec::new());
            let mut final_loss = f32::NAN;
            for epoch in 1..=c.epochs {
                let loss = bce.forward(model.forward(x.clone()), y.clone());
                final_loss = loss.clone().into_scalar().elem();
                let grads = loss.backward();
                if epoch == 1 || epoch % log_every == 0 || epoch == c.epochs {
                    logged_epochs.push(epoch);
                    gradient_norms.push(
                        model
                            .linears()
                            .iter()
                            .map(|layer| {
                                layer.weight.grad(&grads).map_or(0.0, |g| {
                                    g.powi_scalar(2).sum().sqrt().into_scalar().elem()
                                })
                            })
                            .collect(),
                    );
                }
                let grads = GradientsParams::from_grads(grads, &model);
                model = optimizer.step(c.lr, model, grads);
            }
            let logits: Vec<f32> = model
                .forward(x.clone())
                .into_data()
                .convert::<f32>()
                .to_vec()
                .unwrap_or_default();
            let predicted: Vec<u8> = logits.iter().map(|&l| (l > 0.0) as u8).collect();
            runs.push(DepthRun {
                activation,
                init,
                depth,
                logged_epochs,
                gradient_norms,
                final_loss,
                learned: predicted == table.labels,
                predicted,
            });
        }
    }
    VanishingGradient { runs }
}

impl Lesson for VanishingGradient {
    /// `gradients.png`: each net's per-layer gradient norm at the first epoch.
    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let series: Vec<NormSeries> = self
            .runs
            .iter()
            .filter_map(|r| {
                Some(NormSeries {
                    label: format!(
                        "{:?} ×{} ({})",
                        r.activation,
                        r.depth,
                        if r.learned { "learns" } else { "fails" }
                    ),
                    norms: r.gradient_norms.first()?.clone(),
                })
            })
            .collect();
        let path = dir.join("gradients.png");
        gradient_norms(
            &path,
            "weight-gradient norm per layer at the first epoch, XOR",
            &series,
        )?;
        Ok(vec![path])
    }

    fn headline(&self) -> String {
        self.runs
            .iter()
            .map(|r| {
                format!(
                    "{:?} ×{}: first/last layer gradient {:.0e}, XOR {}",
                    r.activation,
                    r.depth,
                    r.first_to_last_ratio(),
                    if r.learned { "learned" } else { "failed" }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Every sigmoid net fails with first-layer gradients at least 100×
    /// below its last layer's; every ReLU net learns.
    fn as_lectured(&self) -> bool {
        !self.runs.is_empty()
            && self.runs.iter().all(|r| match r.activation {
                Activation::Sigmoid => !r.learned && r.first_to_last_ratio() < 1e-2,
                _ => r.learned,
            })
    }
}

//! Lesson: capacity and regularisation seen as decision boundaries. Too few
//! hidden units cannot bend around the two moons; enough can. A big net on
//! a few noisy points draws islands around each one (overfitting); an L2
//! penalty on its weights smooths them away.

use std::path::{Path, PathBuf};

use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::synthetic::{moons, Points2d};
use dlsuite_mlp::{Activation, Init, Mlp, MlpConfig};
use dlsuite_plots::{decision_maps, DecisionPanel, PlotError};
use dlsuite_train::full_batch_descent;
use serde::Serialize;

use crate::Lesson;

use crate::config::DecisionBoundariesLesson;
use crate::maps::{frame, panel, probability_map, tensors};

/// One net on one data set.
#[derive(Clone, Debug, Serialize)]
pub struct BoundaryFit {
    pub title: String,
    pub hidden: Vec<usize>,
    pub l2: f64,
    pub train_accuracy: f32,
    pub test_accuracy: f32,
    #[serde(skip)]
    pub panel: Option<DecisionPanel>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DecisionBoundaries {
    pub too_few: BoundaryFit,
    pub enough: BoundaryFit,
    pub overfitted: BoundaryFit,
    pub regularised: BoundaryFit,
}

pub fn decision_boundaries<B: AutodiffBackend>(
    c: &DecisionBoundariesLesson,
    device: &B::Device,
) -> DecisionBoundaries {
    let train = moons(c.points, c.noise, c.seed);
    let test = moons(1000, c.noise, c.seed + 100);
    let small = moons(c.small_points, c.small_noise, c.seed + 1);
    let small_test = moons(1000, c.small_noise, c.seed + 101);
    let fit = |title: &str, set: &Points2d, held_out: &Points2d, hidden: Vec<usize>, l2: f64| {
        B::seed(device, c.seed);
        let model = train_net::<B>(set, hidden.clone(), l2, c.lr, c.steps, device);
        let (x, y) = frame(&set.points);
        let map = probability_map::<B::InnerBackend>(x, y, |g| sigmoid(model.forward(g)), device);
        let train_accuracy = accuracy::<B::InnerBackend>(&model, set, device);
        let test_accuracy = accuracy::<B::InnerBackend>(&model, held_out, device);
        let title = format!("{title}: train {train_accuracy:.0}%, test {test_accuracy:.0}%");
        BoundaryFit {
            panel: Some(panel(title.clone(), set, x, y, map)),
            title,
            hidden,
            l2,
            train_accuracy,
            test_accuracy,
        }
    };
    DecisionBoundaries {
        too_few: fit(
            &format!("{} hidden units", c.few_units),
            &train,
            &test,
            vec![c.few_units],
            0.0,
        ),
        enough: fit(
            &format!("{} hidden units", c.enough_units),
            &train,
            &test,
            vec![c.enough_units],
            0.0,
        ),
        overfitted: fit("no penalty", &small, &small_test, c.big_hidden.clone(), 0.0),
        regularised: fit(
            &format!("L2 penalty {}", c.l2),
            &small,
            &small_test,
            c.big_hidden.clone(),
            c.l2,
        ),
    }
}

/// Full-batch Adam on binary cross-entropy plus `l2` × the sum of squared weights.
fn train_net<B: AutodiffBackend>(
    set: &Points2d,
    hidden: Vec<usize>,
    l2: f64,
    lr: f64,
    steps: usize,
    device: &B::Device,
) -> Mlp<B::InnerBackend> {
    use burn::module::AutodiffModule;
    let (x, y) = tensors::<B>(set, device);
    let bce = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device);
    let model = MlpConfig::new(2, hidden, 1)
        .with_activation(Activation::Relu)
        .with_init(Init::He)
        .init::<B>(device);
    full_batch_descent(
        model,
        AdamConfig::new().init(),
        lr,
        steps,
        |m: &Mlp<B>| {
            let loss = bce.forward(m.forward(x.clone()), y.clone());
            if l2 > 0.0 {
                let penalty = m
                    .linears()
                    .iter()
                    .map(|l| l.weight.val().powi_scalar(2).sum())
                    .reduce(|a, b| a + b)
                    .expect("a net has layers");
                loss + penalty.mul_scalar(l2)
            } else {
                loss
            }
        },
        |_, _, _| {},
    )
    .valid()
}

fn accuracy<B: Backend>(model: &Mlp<B>, set: &Points2d, device: &B::Device) -> f32 {
    let (x, _) = tensors::<B>(set, device);
    let logits: Vec<f32> = model
        .forward(x)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap_or_default();
    let right = logits
        .iter()
        .zip(&set.labels)
        .filter(|(&l, &t)| (l > 0.0) == (t == 1))
        .count();
    100.0 * right as f32 / set.labels.len().max(1) as f32
}

impl DecisionBoundaries {
    pub fn fits(&self) -> [&BoundaryFit; 4] {
        [
            &self.too_few,
            &self.enough,
            &self.overfitted,
            &self.regularised,
        ]
    }
}

impl Lesson for DecisionBoundaries {
    /// `boundaries.png`: too few units, enough units, overfitted, regularised.
    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let panels: Vec<DecisionPanel> =
            self.fits().iter().filter_map(|f| f.panel.clone()).collect();
        let path = dir.join("boundaries.png");
        decision_maps(&path, &panels, 2)?;
        Ok(vec![path])
    }

    fn headline(&self) -> String {
        format!(
            "moons test accuracy: {} units {:.1}%, {} units {:.1}%; 30 noisy points: unpenalised train {:.0}% / test {:.1}%, L2 test {:.1}%",
            self.too_few.hidden[0],
            self.too_few.test_accuracy,
            self.enough.hidden[0],
            self.enough.test_accuracy,
            self.overfitted.train_accuracy,
            self.overfitted.test_accuracy,
            self.regularised.test_accuracy
        )
    }

    /// More units fit the moons better; the unpenalised big net memorises
    /// its few points and the penalised one generalises better.
    fn as_lectured(&self) -> bool {
        self.enough.test_accuracy > self.too_few.test_accuracy + 2.0
            && self.overfitted.train_accuracy >= 99.9
            && self.regularised.test_accuracy > self.overfitted.test_accuracy
    }
}

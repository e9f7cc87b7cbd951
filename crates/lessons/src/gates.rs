//! Lesson: one neuron (logistic regression with binary cross-entropy) learns
//! AND, OR, NAND and NOR but not XOR; two layers learn XOR.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{AdamConfig, SgdConfig};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::synthetic::{Gate, Points2d};
use dlsuite_logistic::{LogisticRegression, LogisticRegressionConfig};
use dlsuite_mlp::{Activation, Init, Mlp, MlpConfig};
use dlsuite_plots::{decision_maps, DecisionPanel, PlotError};
use dlsuite_train::full_batch_descent;
use serde::Serialize;

use crate::Lesson;

use crate::config::LogicGatesLesson;
use crate::maps::{frame, panel, probability_map, tensors};

/// One model's answers on a gate's four rows.
#[derive(Clone, Debug, Serialize)]
pub struct GateFit {
    pub gate: String,
    pub model: String,
    pub truth: Vec<u8>,
    pub predicted: Vec<u8>,
    /// P(output = 1) for each row.
    pub probabilities: Vec<f32>,
    pub final_loss: f32,
    /// P(output = 1) over the plane, for the decision map.
    #[serde(skip)]
    pub panel: Option<DecisionPanel>,
}

impl GateFit {
    pub fn all_right(&self) -> bool {
        self.truth == self.predicted
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LogicGates {
    /// Logistic regression on AND, OR, NAND, NOR and XOR, in that order.
    pub single_neuron: Vec<GateFit>,
    /// The 2-layer net on XOR.
    pub two_layers: GateFit,
}

pub fn logic_gates<B: AutodiffBackend>(c: &LogicGatesLesson, device: &B::Device) -> LogicGates {
    B::seed(device, c.seed);
    let bce = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device);
    let single_neuron = Gate::ALL
        .iter()
        .map(|&gate| {
            let table = gate.truth_table();
            let (x, y) = tensors::<B>(&table, device);
            let mut last = f32::NAN;
            let model = full_batch_descent(
                LogisticRegressionConfig::new(2).init::<B>(device),
                SgdConfig::new().init(),
                c.lr,
                c.steps,
                |m: &LogisticRegression<B>| bce.forward(m.forward(x.clone()), y.clone()),
                |_, _, loss| last = loss,
            );
            let model = model.valid();
            fit(
                gate,
                "one neuron",
                &table,
                |g| model.probabilities(g),
                last,
                device,
            )
        })
        .collect();

    let table = Gate::Xor.truth_table();
    let (x, y) = tensors::<B>(&table, device);
    let mut last = f32::NAN;
    let net = full_batch_descent(
        MlpConfig::new(2, vec![c.hidden], 1)
            .with_activation(Activation::Tanh)
            .with_init(Init::Xavier)
            .init::<B>(device),
        AdamConfig::new().init(),
        c.xor_lr,
        c.xor_steps,
        |m: &Mlp<B>| bce.forward(m.forward(x.clone()), y.clone()),
        |_, _, loss| last = loss,
    );
    let net = net.valid();
    let two_layers = fit(
        Gate::Xor,
        &format!("2-layer net, {} tanh units", c.hidden),
        &table,
        |g| sigmoid(net.forward(g)),
        last,
        device,
    );
    LogicGates {
        single_neuron,
        two_layers,
    }
}

/// A trained model's answers on the truth table and its decision map;
/// `probability` maps inputs `[n, 2]` to P(output = 1) `[n, 1]`.
fn fit<B: Backend>(
    gate: Gate,
    model: &str,
    table: &Points2d,
    probability: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>,
    final_loss: f32,
    device: &B::Device,
) -> GateFit {
    let name = format!("{gate:?}").to_uppercase();
    let (x, y) = frame(&table.points);
    let map = probability_map::<B>(x, y, &probability, device);
    let (inputs, _) = tensors::<B>(table, device);
    let probabilities: Vec<f32> = probability(inputs)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap_or_default();
    GateFit {
        panel: Some(panel(format!("{name}, {model}"), table, x, y, map)),
        gate: name,
        model: model.into(),
        truth: table.labels.clone(),
        predicted: probabilities.iter().map(|&p| (p > 0.5) as u8).collect(),
        probabilities,
        final_loss,
    }
}

impl LogicGates {
    fn single(&self, gate: &str) -> Option<&GateFit> {
        self.single_neuron.iter().find(|f| f.gate == gate)
    }
}

impl Lesson for LogicGates {
    /// `boundaries.png`: each gate's decision map, then the 2-layer XOR net's.
    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let panels: Vec<DecisionPanel> = self
            .single_neuron
            .iter()
            .chain(std::iter::once(&self.two_layers))
            .filter_map(|f| f.panel.clone())
            .collect();
        let path = dir.join("boundaries.png");
        decision_maps(&path, &panels, 3)?;
        Ok(vec![path])
    }

    fn headline(&self) -> String {
        let learned: Vec<&str> = self
            .single_neuron
            .iter()
            .filter(|f| f.all_right())
            .map(|f| f.gate.as_str())
            .collect();
        let xor_rows = self.single("XOR").map_or(0, |f| {
            f.truth
                .iter()
                .zip(&f.predicted)
                .filter(|(t, p)| t == p)
                .count()
        });
        format!(
            "one neuron learns {} ({} of 4 XOR rows right); {}: XOR {}",
            learned.join(", "),
            xor_rows,
            self.two_layers.model,
            if self.two_layers.all_right() {
                "4 of 4 rows right"
            } else {
                "not learned"
            }
        )
    }

    fn as_lectured(&self) -> bool {
        ["AND", "OR", "NAND", "NOR"]
            .iter()
            .all(|g| self.single(g).is_some_and(GateFit::all_right))
            && self.single("XOR").is_some_and(|f| !f.all_right())
            && self.two_layers.all_right()
    }
}

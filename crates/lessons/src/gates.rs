//! Lesson: one neuron (logistic regression with binary cross-entropy) learns
//! AND, OR, NAND and NOR but not XOR; two layers learn XOR.

use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::{AdamConfig, SgdConfig};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::synthetic::{Gate, Points2d};
use dlsuite_logistic::{LogisticRegression, LogisticRegressionConfig};
use dlsuite_mlp::{Activation, Init, Mlp, MlpConfig};
use dlsuite_train::full_batch_descent;
use serde::Serialize;

use crate::config::LogicGatesLesson;

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
    let single_neuron = Gate::ALL
        .iter()
        .map(|&gate| {
            let table = gate.truth_table();
            let (x, y) = tensors::<B>(&table, device);
            let bce = BinaryCrossEntropyLossConfig::new()
                .with_logits(true)
                .init(device);
            let mut last = f32::NAN;
            let model = full_batch_descent(
                LogisticRegressionConfig::new(2).init::<B>(device),
                SgdConfig::new().init(),
                c.lr,
                c.steps,
                |m: &LogisticRegression<B>| bce.forward(m.forward(x.clone()), y.clone()),
                |_, _, loss| last = loss,
            );
            let p = model.probabilities(x);
            fit(gate, "logistic regression", &table, p, last)
        })
        .collect();

    let table = Gate::Xor.truth_table();
    let (x, y) = tensors::<B>(&table, device);
    let bce = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(device);
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
    let p = burn::tensor::activation::sigmoid(net.forward(x));
    let two_layers = fit(
        Gate::Xor,
        &format!("2-layer net, {} tanh units", c.hidden),
        &table,
        p,
        last,
    );
    LogicGates {
        single_neuron,
        two_layers,
    }
}

/// The truth table as `[4, 2]` inputs and `[4, 1]` targets.
fn tensors<B: Backend>(table: &Points2d, device: &B::Device) -> (Tensor<B, 2>, Tensor<B, 2, Int>) {
    let flat: Vec<f32> = table.points.iter().flatten().copied().collect();
    let n = table.points.len();
    let x = Tensor::from_data(TensorData::new(flat, [n, 2]), device);
    let labels: Vec<i64> = table.labels.iter().map(|&l| l as i64).collect();
    let y = Tensor::from_data(TensorData::new(labels, [n, 1]), device);
    (x, y)
}

fn fit<B: Backend>(
    gate: Gate,
    model: &str,
    table: &Points2d,
    probabilities: Tensor<B, 2>,
    final_loss: f32,
) -> GateFit {
    let probabilities: Vec<f32> = probabilities
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap_or_default();
    GateFit {
        gate: format!("{gate:?}").to_uppercase(),
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

    pub fn headline(&self) -> String {
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

    pub fn as_lectured(&self) -> bool {
        ["AND", "OR", "NAND", "NOR"]
            .iter()
            .all(|g| self.single(g).is_some_and(GateFit::all_right))
            && self.single("XOR").is_some_and(|f| !f.all_right())
            && self.two_layers.all_right()
    }
}

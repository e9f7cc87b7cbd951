//! Lesson: Rosenblatt's perceptron rule, w ← w + η(y − ŷ)x with a step
//! activation. It is not gradient descent (a step has no useful slope): it
//! moves the line only on a mistake. On a separable gate it stops after a
//! finite number of updates (the perceptron convergence theorem); on XOR,
//! which no line separates, it never settles.
//!
//! Three weights and four rows: plain numbers show the rule better than
//! tensors would, so this lesson needs no backend.

use std::path::{Path, PathBuf};

use dlsuite_data::synthetic::Gate;
use dlsuite_plots::{separating_lines, LinesPanel, PlotError};
use serde::Serialize;

use crate::config::PerceptronLesson;
use crate::Lesson;

/// Epochs drawn per panel, at most: XOR's thousand lines would be a smear.
const LINES_DRAWN: usize = 30;

#[derive(Clone, Debug, Serialize)]
pub struct PerceptronRun {
    pub gate: String,
    /// The first epoch with no mistake (`None`: it never came).
    pub converged_at_epoch: Option<usize>,
    /// Weight changes made, up to convergence or the last epoch.
    pub updates: usize,
    /// Mistakes in the last epoch run.
    pub last_epoch_mistakes: usize,
    pub epochs_run: usize,
    /// `[w1, w2, b]` after each epoch.
    pub lines: Vec<[f32; 3]>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Perceptron {
    pub lr: f32,
    pub max_epochs: usize,
    /// AND, OR, NAND, NOR, then XOR.
    pub runs: Vec<PerceptronRun>,
}

/// The step: 1 when w·x + b ≥ 0.
fn fires(w: &[f32; 3], x: [f32; 2]) -> bool {
    w[0] * x[0] + w[1] * x[1] + w[2] >= 0.0
}

/// Runs the rule on one gate's four rows, in order, from zero weights,
/// until an epoch makes no mistake or `max_epochs` have run.
pub fn perceptron_rule(gate: Gate, lr: f32, max_epochs: usize) -> PerceptronRun {
    let table = gate.truth_table();
    let mut w = [0.0f32; 3];
    let (mut updates, mut mistakes, mut lines) = (0, 0, Vec::new());
    let mut converged_at_epoch = None;
    let mut epochs_run = 0;
    for epoch in 1..=max_epochs {
        epochs_run = epoch;
        mistakes = 0;
        for (&x, &label) in table.points.iter().zip(&table.labels) {
            let error = label as f32 - fires(&w, x) as u8 as f32;
            if error != 0.0 {
                mistakes += 1;
                updates += 1;
                w[0] += lr * error * x[0];
                w[1] += lr * error * x[1];
                w[2] += lr * error;
            }
        }
        lines.push(w);
        if mistakes == 0 {
            converged_at_epoch = Some(epoch);
            break;
        }
    }
    PerceptronRun {
        gate: format!("{gate:?}").to_uppercase(),
        converged_at_epoch,
        updates,
        last_epoch_mistakes: mistakes,
        epochs_run,
        lines,
    }
}

pub fn perceptron(c: &PerceptronLesson) -> Perceptron {
    Perceptron {
        lr: c.lr,
        max_epochs: c.max_epochs,
        runs: Gate::ALL
            .iter()
            .map(|&g| perceptron_rule(g, c.lr, c.max_epochs))
            .collect(),
    }
}

impl Perceptron {
    fn run(&self, gate: &str) -> Option<&PerceptronRun> {
        self.runs.iter().find(|r| r.gate == gate)
    }
}

impl Lesson for Perceptron {
    fn headline(&self) -> String {
        let settled: Vec<String> = self
            .runs
            .iter()
            .filter_map(|r| {
                r.converged_at_epoch
                    .map(|e| format!("{} after {} updates ({e} epochs)", r.gate, r.updates))
            })
            .collect();
        let xor = self
            .run("XOR")
            .map_or("XOR not run".into(), |r| match r.converged_at_epoch {
                Some(e) => format!("XOR settled at epoch {e}"),
                None => format!(
                    "XOR still makes {} mistakes an epoch after {} epochs",
                    r.last_epoch_mistakes, r.epochs_run
                ),
            });
        format!("perceptron rule: {}; {xor}", settled.join(", "))
    }

    /// The four separable gates settle within the epochs allowed; XOR does
    /// not, and is still wrong in its last epoch.
    fn as_lectured(&self) -> bool {
        let separable = ["AND", "OR", "NAND", "NOR"]
            .iter()
            .all(|g| self.run(g).is_some_and(|r| r.converged_at_epoch.is_some()));
        let xor = self.run("XOR").is_some_and(|r| {
            r.converged_at_epoch.is_none()
                && r.last_epoch_mistakes > 0
                && r.epochs_run == self.max_epochs
        });
        separable && xor
    }

    fn draw(&self, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
        let path = dir.join("perceptron.png");
        let panels: Vec<LinesPanel> = self
            .runs
            .iter()
            .zip(Gate::ALL)
            .map(|(r, gate)| {
                let table = gate.truth_table();
                LinesPanel {
                    title: match r.converged_at_epoch {
                        Some(e) => format!("{}: settled at epoch {e}", r.gate),
                        None => {
                            format!("{}: first {LINES_DRAWN} of {} epochs", r.gate, r.epochs_run)
                        }
                    },
                    points: table
                        .points
                        .iter()
                        .zip(&table.labels)
                        .map(|(&p, &l)| (p, l == 1))
                        .collect(),
                    lines: r.lines.iter().take(LINES_DRAWN).copied().collect(),
                }
            })
            .collect();
        separating_lines(
            &path,
            "perceptron rule: the line after each epoch (filled = 1, hollow = 0; on the line counts as 1)",
            &panels,
        )?;
        Ok(vec![path])
    }
}

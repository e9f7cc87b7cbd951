use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::Interrupter;
use serde::{Deserialize, Serialize};

/// One epoch's figures, as written to `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    /// NaN for a model that does not classify (JSON writes it as null).
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub train_accuracy: f64,
    pub valid_loss: f64,
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub valid_accuracy: f64,
    pub lr: f64,
    pub seconds: f64,
}

fn nan() -> f64 {
    f64::NAN
}

/// serde_json writes NaN as `null`; read it back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Where the training loss first stopped being a finite number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub epoch: usize,
    /// The optimizer step within that epoch at which it was read back from
    /// the device, from 1: the step itself or up to `read_every` - 1 after.
    pub step: usize,
}

/// A burn-train metric logger that keeps each epoch's means in memory,
/// appends them to a JSON-lines file, and (without the dashboard) prints a
/// line per epoch. It also answers the early-stopping strategy's queries.
pub struct EpochLog {
    names: HashMap<MetricId, String>,
    entries: HashMap<(String, String, usize), Vec<NumericEntry>>,
    epochs: Arc<Mutex<Vec<EpochMetrics>>>,
    file: Option<PathBuf>,
    print: bool,
    total_epochs: usize,
    started: Option<Instant>,
    diverged: Arc<Mutex<Option<Divergence>>>,
    write_failure: Arc<Mutex<Option<String>>>,
    interrupter: Option<Interrupter>,
    /// The epoch each split is in. burn-train numbers the updates it passes
    /// from 1 even after a resume; its epoch summaries carry the true number.
    current: HashMap<String, usize>,
    first_epoch: usize,
}

impl EpochLog {
    pub fn new(file: Option<PathBuf>, print: bool, total_epochs: usize) -> Self {
        Self {
            names: HashMap::new(),
            entries: HashMap::new(),
            epochs: Arc::default(),
            file,
            print,
            total_epochs,
            started: None,
            diverged: Arc::default(),
            write_failure: Arc::default(),
            interrupter: None,
            current: HashMap::new(),
            first_epoch: 1,
        }
    }

    /// The number of the first epoch this logger sees (after a resume from
    /// epoch `n`, it is `n + 1`).
    pub fn starting_at(mut self, first_epoch: usize) -> Self {
        self.first_epoch = first_epoch.max(1);
        self
    }

    /// Stops training through `interrupter` as soon as a training loss is
    /// NaN or infinite: the epoch is abandoned before its checkpoint, so
    /// the last good one stays.
    pub fn stop_on_divergence(mut self, interrupter: Interrupter) -> Self {
        self.interrupter = Some(interrupter);
        self
    }

    /// Set once the loss diverges.
    pub fn divergence(&self) -> Arc<Mutex<Option<Divergence>>> {
        self.diverged.clone()
    }

    /// Set when the history file cannot be written; training stops then
    /// (through the interrupter), since a run whose history is lost cannot
    /// be resumed or reported.
    pub fn write_failure(&self) -> Arc<Mutex<Option<String>>> {
        self.write_failure.clone()
    }

    /// The epochs logged so far, shared with whoever holds the handle.
    pub fn handle(&self) -> Arc<Mutex<Vec<EpochMetrics>>> {
        self.epochs.clone()
    }

    fn mean(&self, split: &str, name: &str, epoch: usize) -> f64 {
        let Some(values) = self
            .entries
            .get(&(split.to_string(), name.to_string(), epoch))
        else {
            return f64::NAN;
        };
        let (mut sum, mut count) = (0.0, 0usize);
        for v in values {
            match v {
                NumericEntry::Value(x) => {
                    sum += x;
                    count += 1;
                }
                NumericEntry::Aggregated {
                    aggregated_value,
                    count: n,
                } => {
                    sum += aggregated_value * *n as f64;
                    count += n;
                }
            }
        }
        if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        }
    }
}

impl MetricLogger for EpochLog {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, split: &Split) {
        let epoch = *self
            .current
            .entry(split.to_string())
            .or_insert(self.first_epoch);
        if matches!(split, Split::Train) && self.started.is_none() {
            self.started = Some(Instant::now());
        }
        for numeric in update.entries_numeric {
            let name = self
                .names
                .get(&numeric.entry.metric_id)
                .cloned()
                .unwrap_or_default();
            let entries = self
                .entries
                .entry((split.to_string(), name.clone(), epoch))
                .or_default();
            let finite = match numeric.numeric_entry {
                NumericEntry::Value(v) => v.is_finite(),
                NumericEntry::Aggregated {
                    aggregated_value, ..
                } => aggregated_value.is_finite(),
            };
            entries.push(numeric.numeric_entry);
            if !finite && name == "Loss" && matches!(split, Split::Train) {
                let step = entries.len();
                if let Ok(mut diverged) = self.diverged.lock() {
                    if diverged.is_none() {
                        *diverged = Some(Divergence { epoch, step });
                        if let Some(interrupter) = &self.interrupter {
                            interrupter.stop(Some("the training loss is NaN or infinite"));
                        }
                    }
                }
            }
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        Ok(self
            .entries
            .get(&(split.to_string(), name.to_string(), epoch))
            .cloned()
            .unwrap_or_default())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names.insert(definition.metric_id, definition.name);
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        self.current
            .insert(summary.split.to_string(), summary.epoch_number + 1);
        // An epoch is complete once its validation pass is.
        if !matches!(summary.split, Split::Valid) {
            return;
        }
        let epoch = summary.epoch_number;
        let (train, valid) = (Split::Train.to_string(), Split::Valid.to_string());
        let metrics = EpochMetrics {
            epoch,
            train_loss: self.mean(&train, "Loss", epoch),
            train_accuracy: self.mean(&train, "Accuracy", epoch),
            valid_loss: self.mean(&valid, "Loss", epoch),
            valid_accuracy: self.mean(&valid, "Accuracy", epoch),
            lr: self.mean(&train, "Learning Rate", epoch),
            seconds: self
                .started
                .take()
                .map_or(0.0, |t| t.elapsed().as_secs_f64()),
        };
        if self.print {
            let accuracy = |a: f64| match a.is_nan() {
                true => String::new(),
                false => format!(" acc {a:6.2}%"),
            };
            println!(
                "epoch {epoch:>3}/{}  train loss {:.4}{}  valid loss {:.4}{}  lr {:.2e}  {:.1} s",
                self.total_epochs,
                metrics.train_loss,
                accuracy(metrics.train_accuracy),
                metrics.valid_loss,
                accuracy(metrics.valid_accuracy),
                metrics.lr,
                metrics.seconds
            );
        }
        if let Some(path) = &self.file {
            if let Err(err) = record_epoch(path, &metrics) {
                let message = format!("{}: cannot write: {err}", path.display());
                if let Some(interrupter) = &self.interrupter {
                    interrupter.stop(Some(&message));
                }
                if let Ok(mut failure) = self.write_failure.lock() {
                    failure.get_or_insert(message);
                }
            }
        }
        if let Ok(mut epochs) = self.epochs.lock() {
            epochs.push(metrics);
        }
        // Old epochs are no longer queried by early stopping beyond its window.
        self.entries.retain(|(_, _, e), _| *e + 8 > epoch);
    }
}

/// Every epoch in a JSON-lines history, in order, one per epoch (the last
/// line of an epoch wins); lines that do not parse, such as one cut short by
/// a kill, are skipped.
pub fn read_history(path: &Path) -> std::io::Result<Vec<EpochMetrics>> {
    let text = std::fs::read_to_string(path)?;
    let mut by_epoch = std::collections::BTreeMap::new();
    for line in text.lines() {
        if let Ok(m) = serde_json::from_str::<EpochMetrics>(line) {
            by_epoch.insert(m.epoch, m);
        }
    }
    Ok(by_epoch.into_values().collect())
}

/// Rewrites the JSON-lines history with `metrics` as its last line, atomically:
/// a run killed mid-write leaves the previous history whole. Lines for this
/// epoch or later (left by a run killed after logging an epoch but before its
/// checkpoint) are dropped, since the resumed run redoes those epochs.
fn record_epoch(path: &Path, metrics: &EpochMetrics) -> std::io::Result<()> {
    let history = match read_history(path) {
        Ok(history) => history,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    for m in history
        .iter()
        .filter(|m| m.epoch < metrics.epoch)
        .chain([metrics])
    {
        text.push_str(&serde_json::to_string(m).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    crate::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(epoch: usize, loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: loss,
            train_accuracy: 50.0,
            valid_loss: loss,
            valid_accuracy: 50.0,
            lr: 1e-3,
            seconds: 1.0,
        }
    }

    #[test]
    fn a_history_without_accuracies_reads_back_as_nan() {
        let mut m = epoch(1, 0.05);
        m.train_accuracy = f64::NAN;
        m.valid_accuracy = f64::NAN;
        let line = serde_json::to_string(&m).unwrap();
        assert!(line.contains("\"train_accuracy\":null"), "{line}");
        let back: EpochMetrics = serde_json::from_str(&line).unwrap();
        assert!(back.train_accuracy.is_nan() && back.valid_accuracy.is_nan());
        assert_eq!((back.epoch, back.train_loss), (1, 0.05));
    }

    #[test]
    fn a_history_cut_mid_line_is_rewritten_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let line = |m: &EpochMetrics| serde_json::to_string(m).unwrap();
        // Epochs 1 to 3 logged, epoch 3 never checkpointed, and a kill in the
        // middle of a fourth line.
        let old = format!(
            "{}\n{}\n{}\n{{\"epoch\":4,\"train_lo",
            line(&epoch(1, 2.0)),
            line(&epoch(2, 1.0)),
            line(&epoch(3, 0.5))
        );
        std::fs::write(&path, old).unwrap();

        record_epoch(&path, &epoch(3, 0.7)).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<EpochMetrics> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(kept, [epoch(1, 2.0), epoch(2, 1.0), epoch(3, 0.7)]);
        assert!(text.ends_with('\n'));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }
}

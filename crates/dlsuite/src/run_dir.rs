//! A run folder's files: what a finished run reports, its checkpoints, its
//! config and trained model.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::Module;
use burn::prelude::*;
use dlsuite_train::{read_history, remove_leftover_temporaries, EpochMetrics, Recorder};
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::net::{build_net, Net};

/// Where run folders go by default, relative to the repository root.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// A run folder, or an experiment name standing for artifacts/<name>.
pub fn run_path(run: &str) -> PathBuf {
    let path = PathBuf::from(run);
    if path.is_dir() || run.contains('/') {
        path
    } else {
        default_run_dir(run)
    }
}

/// Where an experiment's run folder is by default.
pub fn default_run_dir(name: &str) -> PathBuf {
    Path::new(ARTIFACTS_DIR).join(name)
}

/// What a finished run reports, saved as `summary.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSummary {
    pub name: String,
    pub dataset: String,
    pub backend: String,
    pub test_accuracy: f64,
    pub test_loss: f64,
    pub lecture_accuracy: Option<f64>,
    pub epochs: usize,
    pub wall_seconds: f64,
    pub seconds_per_epoch: f64,
    pub load_seconds: f64,
    pub parameters: usize,
    pub git_revision: String,
}

/// Every epoch in a run folder's `metrics.jsonl`, in order, one per epoch;
/// `None` when the file cannot be read.
pub fn read_metrics(run_dir: &Path) -> Option<Vec<EpochMetrics>> {
    read_history(&run_dir.join("metrics.jsonl")).ok()
}

pub fn mean_seconds(epochs: &[EpochMetrics]) -> f64 {
    if epochs.is_empty() {
        return 0.0;
    }
    epochs.iter().map(|e| e.seconds).sum::<f64>() / epochs.len() as f64
}

/// A fresh run clears what an earlier run of the same name left; a resumed
/// one keeps it. Either way, temporary files of writes a kill cut short go.
pub fn prepare_run_dir(dir: &Path, resume: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    for folder in [dir.to_path_buf(), dir.join("checkpoint")] {
        remove_leftover_temporaries(&folder);
    }
    if !resume {
        for stale in ["checkpoint", "train", "valid"] {
            let _ = std::fs::remove_dir_all(dir.join(stale));
        }
        for stale in ["metrics.jsonl", "summary.json", "model.mpk"] {
            let _ = std::fs::remove_file(dir.join(stale));
        }
    }
    Ok(())
}

/// The last epoch whose model, optimizer and scheduler checkpoints are all
/// there and whole. burn-train writes the three on separate background
/// threads, so a kill can leave an epoch with only some of them; each file
/// must also decode as one whole MessagePack value (the suite's recorder
/// writes atomically, but a file from elsewhere or a damaged disk may not
/// be), or the epoch before it is taken.
pub fn last_checkpoint(dir: &Path) -> Option<usize> {
    let checkpoints = dir.join("checkpoint");
    let entries = std::fs::read_dir(&checkpoints).ok()?;
    let mut epochs: Vec<usize> = entries
        .filter_map(|e| e.ok()?.file_name().to_str().map(String::from))
        .filter_map(|name| {
            name.strip_prefix("model-")?
                .strip_suffix(".mpk")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs.into_iter().rev().find(|e| {
        let complete = ["model", "optim", "scheduler"]
            .iter()
            .all(|p| whole_msgpack(&checkpoints.join(format!("{p}-{e}.mpk"))));
        if !complete {
            eprintln!("checkpoint of epoch {e} is incomplete (the run was killed while writing it); skipping it");
        }
        complete
    })
}

/// Whether `path` holds exactly one complete MessagePack value.
fn whole_msgpack(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let mut rest = bytes.as_slice();
    rmpv::decode::read_value(&mut rest).is_ok() && rest.is_empty()
}

/// A run folder's `config.json`: how its model was built and trained.
pub fn read_run_config(run_dir: &Path) -> anyhow::Result<RunConfig> {
    let config_path = run_dir.join("config.json");
    if !config_path.exists() && run_dir.join("ensemble.json").is_file() {
        anyhow::bail!(
            "{}: an ensemble's folder has no single model; `dlsuite train` on its experiment votes again (reusing its members), and each member's folder is listed in ensemble.json",
            run_dir.display()
        );
    }
    let text = std::fs::read_to_string(&config_path).with_context(|| {
        format!(
            "{}: cannot read (is this a run folder?)",
            config_path.display()
        )
    })?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid run config", config_path.display()))
}

/// A finished run's `summary.json`.
pub fn read_summary(run_dir: &Path) -> anyhow::Result<RunSummary> {
    let path = run_dir.join("summary.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read (did the run finish?)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a run summary", path.display()))
}

/// Loads a run's trained model for inference.
pub fn load_run<B: Backend>(
    run_dir: &Path,
    device: &B::Device,
) -> anyhow::Result<(RunConfig, Net<B>)> {
    let config = read_run_config(run_dir)?;
    let model_path = run_dir.join("model.mpk");
    if !model_path.is_file() {
        anyhow::bail!(
            "{}: no trained model (did the run finish?)",
            model_path.display()
        );
    }
    let net = build_net::<B>(&config.model, device)
        .load_file(&model_path, &Recorder::new(), device)
        .map_err(|e| anyhow::anyhow!("{}: cannot load: {e}", model_path.display()))?;
    Ok((config, net))
}

//! A run folder's files: what a finished run reports, its checkpoints, its
//! config and trained model.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::module::Module;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder as _};
use dlsuite_train::{read_history, EpochMetrics, Recorder};
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::memory::{check_fits, Use};
use crate::net::{build_net, describe, Net};

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
    /// The epoch whose weights were kept and tested: the best one under
    /// early stopping (absent: the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_epoch: Option<usize>,
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
    let is_autoencoder = run_dir.join(crate::autoencoder::SUMMARY_FILE).is_file()
        || serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| v.get("autoencoder").is_some());
    if is_autoencoder {
        anyhow::bail!(
            "{}: an autoencoder run: it rebuilds images and classifies none, so it has nothing to evaluate or predict; its test reconstruction MSE is in {}",
            run_dir.display(),
            crate::autoencoder::SUMMARY_FILE
        );
    }
    let is_gan = run_dir.join(crate::gan::SUMMARY_FILE).is_file()
        || serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.get("gan").is_some());
    if is_gan {
        anyhow::bail!(
            "{}: a GAN run: it draws digits and classifies none, so it has nothing to evaluate or predict; what its judge made of its samples is in {}",
            run_dir.display(),
            crate::gan::SUMMARY_FILE
        );
    }
    let is_sequence = run_dir.join(crate::sequence::SUMMARY_FILE).is_file()
        || serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| v.get("language").is_some() || v.get("chat").is_some());
    if is_sequence {
        anyhow::bail!(
            "{}: a sequence run (a language model or a chatbot): it classifies no images, so it has nothing to evaluate or predict; its figures are in {} (a chatbot answers through `dlsuite chat`)",
            run_dir.display(),
            crate::sequence::SUMMARY_FILE
        );
    }
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid run config", config_path.display()))
}

/// A finished run's `summary.json`.
pub fn read_summary(run_dir: &Path) -> anyhow::Result<RunSummary> {
    crate::artifacts::read_run_json(run_dir, "summary.json", "a run summary")
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
    check_fits(&config.model, Use::Inference)
        .with_context(|| format!("{}", run_dir.join("config.json").display()))?;
    let net = build_net::<B>(&config.model, device);
    check_model_file(&model_path, &net, &config)?;
    let net = net
        .load_file(&model_path, &Recorder::new(), device)
        .map_err(|e| anyhow::anyhow!("{}: cannot load: {e}", model_path.display()))?;
    Ok((config, net))
}

/// Refuses a model file that is cut short, is not a model, or holds other
/// tensors than the net `config` describes: Burn would panic on loading
/// it, or load it and fail at the first image.
pub fn check_model_file<B: Backend>(
    path: &Path,
    net: &Net<B>,
    config: &RunConfig,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let mut rest = bytes.as_slice();
    let found = match rmpv::decode::read_value(&mut rest) {
        Ok(value) => value,
        Err(
            rmpv::decode::Error::InvalidMarkerRead(e) | rmpv::decode::Error::InvalidDataRead(e),
        ) if e.kind() == std::io::ErrorKind::UnexpectedEof => anyhow::bail!(
            "{}: incomplete: the file ends after {} bytes, in the middle of the model (was it cut short while being copied?)",
            path.display(),
            bytes.len()
        ),
        Err(e) => anyhow::bail!("{}: not a model file: {e}", path.display()),
    };
    if !rest.is_empty() {
        anyhow::bail!(
            "{}: not a model file: {} bytes of something else follow the model",
            path.display(),
            rest.len()
        );
    }
    let expected = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .record(net.clone().into_record(), ())
        .map_err(|e| anyhow::anyhow!("encoding the model for comparison: {e}"))?;
    let expected = rmpv::decode::read_value(&mut expected.as_slice())
        .context("decoding the model for comparison")?;
    let (want, have) = (tensor_shapes(&expected), tensor_shapes(&found));
    if want == have {
        return Ok(());
    }
    let first = want
        .iter()
        .zip(&have)
        .find(|(w, h)| w != h)
        .map(|((wp, ws), (hp, hs))| {
            if wp == hp {
                format!("{wp} is {ws:?} in the config's net, {hs:?} in the file")
            } else {
                format!("the config's net has {wp} {ws:?} where the file has {hp} {hs:?}")
            }
        })
        .unwrap_or_else(|| {
            format!(
                "the config's net has {} tensors, the file {}",
                want.len(),
                have.len()
            )
        });
    anyhow::bail!(
        "{}: does not match config.json beside it, which describes {}: {first}. Was one of the two files replaced?",
        path.display(),
        describe(&config.model)
    )
}

/// Each tensor in a Burn record, as (path, shape), in order: a tensor is a
/// map with `bytes` and `shape`.
fn tensor_shapes(record: &rmpv::Value) -> Vec<(String, Vec<u64>)> {
    fn walk(value: &rmpv::Value, path: &mut Vec<String>, out: &mut Vec<(String, Vec<u64>)>) {
        match value {
            rmpv::Value::Map(entries) => {
                let field = |name: &str| {
                    entries
                        .iter()
                        .find(|(k, _)| k.as_str() == Some(name))
                        .map(|(_, v)| v)
                };
                if let (Some(rmpv::Value::Array(shape)), Some(_)) = (field("shape"), field("bytes"))
                {
                    let shown: Vec<&str> = path
                        .iter()
                        .map(String::as_str)
                        .filter(|p| !matches!(*p, "item" | "param"))
                        .collect();
                    out.push((
                        shown.join("."),
                        shape.iter().filter_map(rmpv::Value::as_u64).collect(),
                    ));
                    return;
                }
                for (k, v) in entries {
                    if path.is_empty() && k.as_str() != Some("item") {
                        // The record's metadata: Burn's version, precision.
                        continue;
                    }
                    path.push(k.as_str().map_or_else(|| k.to_string(), String::from));
                    walk(v, path, out);
                    path.pop();
                }
            }
            rmpv::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(record, &mut Vec::new(), &mut out);
    out
}

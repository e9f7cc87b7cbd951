//! Training one experiment end to end: data, model, Learner, test accuracy,
//! and the run's artifacts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::augment::RandomShift;
use dlsuite_data::{DigitSet, Digits, ImageBatcher, Kind, Locator};
use dlsuite_logistic::LogisticRegressionConfig;
use dlsuite_train::{
    fit, read_history, remove_leftover_temporaries, EpochMetrics, FitConfig, Recorder,
};
use serde::{Deserialize, Serialize};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{BackendChoice, OnBackend};
use crate::config::{ModelSpec, RunConfig};
use crate::net::Net;
use crate::pictures::draw_run_pictures;

/// Builds the network an experiment describes, freshly initialised.
pub fn build_net<B: Backend>(spec: &ModelSpec, device: &B::Device) -> Net<B> {
    match spec {
        ModelSpec::Softmax => Net::Softmax(
            LogisticRegressionConfig::new(784)
                .with_outputs(10)
                .init(device),
        ),
        ModelSpec::Mlp { .. } => Net::Mlp(spec.mlp_config().expect("mlp spec").init(device)),
        ModelSpec::Cnn { .. } => Net::Cnn(spec.cnn_config().expect("cnn spec").init(device)),
    }
}

/// Test-set figures of a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub accuracy: f64,
    pub loss: f64,
    /// Predicted class of every test image, in order.
    #[serde(skip)]
    pub predictions: Vec<u8>,
}

/// Images per forward pass when evaluating. Software Vulkan (lavapipe) caps
/// buffers at 128 MiB, which a convolution over 1,000 images exceeds.
pub const EVAL_BATCH: usize = 250;

/// Runs `net` over every image of `digits`, [`EVAL_BATCH`] at a time.
pub fn evaluate<B: Backend>(
    net: &Net<B>,
    digits: &Digits,
    kind: Kind,
    device: &B::Device,
) -> Evaluation {
    let batcher = ImageBatcher::grid(kind.normalization());
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let (mut correct, mut loss_sum) = (0usize, 0.0f64);
    let mut predictions = Vec::with_capacity(digits.len());
    let chunk = EVAL_BATCH;
    for start in (0..digits.len()).step_by(chunk) {
        let end = (start + chunk).min(digits.len());
        let images = batcher.images::<B>(&digits.pixels()[start * 784..end * 784], device);
        let labels: Vec<i64> = digits.labels()[start..end]
            .iter()
            .map(|&l| l as i64)
            .collect();
        let targets =
            Tensor::<B, 1, Int>::from_data(TensorData::new(labels.clone(), [end - start]), device);
        let logits = net.forward(images);
        let loss: f64 = loss_fn
            .forward(logits.clone(), targets)
            .into_scalar()
            .elem();
        loss_sum += loss * (end - start) as f64;
        let predicted: Vec<i64> = logits
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .to_vec()
            .unwrap_or_default();
        correct += predicted
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        predictions.extend(predicted.iter().map(|&p| p as u8));
    }
    let n = digits.len().max(1) as f64;
    Evaluation {
        accuracy: 100.0 * correct as f64 / n,
        loss: loss_sum / n,
        predictions,
    }
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

/// A training request, ready to be dispatched to a backend.
pub struct TrainJob {
    pub config: RunConfig,
    pub backend: BackendChoice,
    pub data_dir: Option<PathBuf>,
    pub run_dir: PathBuf,
    pub dashboard: bool,
    pub resume: bool,
}

impl OnBackend for TrainJob {
    type Output = anyhow::Result<RunSummary>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> anyhow::Result<RunSummary> {
        let started = Instant::now();
        let config = &self.config;
        let kind = config.dataset.kind();
        let t = &config.train;

        let load_started = Instant::now();
        let (train_digits, test_digits) = Locator::new(kind, self.data_dir.clone()).load()?;
        let load_seconds = load_started.elapsed().as_secs_f64();
        let (mut train_set, valid_set) =
            DigitSet::new(Arc::new(train_digits)).split_last(t.validation)?;
        if let Some(limit) = t.limit {
            train_set = train_set.take(limit);
        }
        println!(
            "{}: {} on {} ({} train{}, {} validation, {} test images; loaded in {:.2} s), backend {}",
            config.name,
            describe(&config.model),
            kind.name(),
            train_set.len(),
            match t.shift {
                0 => String::new(),
                n => format!(" shifted up to {n} px at random"),
            },
            valid_set.len(),
            test_digits.len(),
            load_seconds,
            self.backend.name()
        );

        prepare_run_dir(&self.run_dir, self.resume)?;
        write_json(&self.run_dir.join("config.json"), config)?;
        let resume_from = if self.resume {
            last_checkpoint(&self.run_dir)
        } else {
            None
        };
        if let Some(epoch) = resume_from {
            println!("resuming after epoch {epoch}");
        }

        B::seed(&device, t.seed);
        let net: Net<B> = build_net(&config.model, &device).tuned_for(self.backend);
        let parameters = net.num_params();
        let batcher = ImageBatcher::grid(kind.normalization());
        let steps_per_epoch = train_set.len().div_ceil(t.batch_size);
        // A resumed run cannot continue the interrupted run's offsets: the
        // loader thread batches ahead, so how many the finished epochs drew
        // is unknown, and replaying their data order (ContinuedShuffle) draws
        // some too. It starts a new sequence instead, so with shifts a resumed
        // run ends near, not exactly at, the uninterrupted one.
        let shift = (t.shift > 0).then(|| {
            RandomShift::new(
                t.shift,
                t.seed.wrapping_add(resume_from.unwrap_or(0) as u64),
            )
        });
        let train_loader = DataLoaderBuilder::new(batcher.clone().with_shift(shift))
            .batch_size(t.batch_size)
            .shuffle(t.seed)
            .num_workers(1)
            .set_device(device.clone())
            .build(train_set);
        let valid_loader = DataLoaderBuilder::new(batcher)
            .batch_size(EVAL_BATCH)
            // Batched on the training thread: on wgpu, 1000-image batches made
            // on a loader thread reached the model wrong (validation loss rose
            // while the test accuracy of the same model was right).
            .set_device(device.clone())
            .build(valid_set);
        let fit_config = FitConfig {
            epochs: t.epochs,
            optimizer: config
                .optimizer()
                .with_host_update(self.backend.host_adam()),
            schedule: config.schedule(t.epochs * steps_per_epoch),
            patience: t.patience,
            dashboard: self.dashboard,
            resume_from,
        };
        let result = fit(net, &fit_config, train_loader, valid_loader, &self.run_dir)?;
        let model = result.model;

        model
            .clone()
            .save_file(self.run_dir.join("model"), &Recorder::new())
            .context("saving the trained model")?;

        let test = evaluate(&model, &test_digits, kind, &device);
        // A resumed run's history starts before this process: take it whole
        // from metrics.jsonl.
        let epochs = if self.resume {
            read_metrics(&self.run_dir).unwrap_or(result.epochs)
        } else {
            result.epochs
        };
        let summary = RunSummary {
            name: config.name.clone(),
            dataset: kind.name().into(),
            backend: self.backend.name().into(),
            test_accuracy: test.accuracy,
            test_loss: test.loss,
            lecture_accuracy: config.lecture_accuracy,
            epochs: epochs.len(),
            wall_seconds: started.elapsed().as_secs_f64(),
            seconds_per_epoch: mean_seconds(&epochs),
            load_seconds,
            parameters,
            git_revision: git_revision(),
        };
        write_json(&self.run_dir.join("summary.json"), &summary)?;
        report_pictures(draw_run_pictures(
            &self.run_dir,
            &config.name,
            kind,
            &model,
            &test_digits,
            &test.predictions,
            &epochs,
        ));
        println!(
            "test accuracy {:.2}% (loss {:.4}) after {} epochs, {:.1} s/epoch, {} parameters; artifacts in {}",
            summary.test_accuracy,
            summary.test_loss,
            summary.epochs,
            summary.seconds_per_epoch,
            summary.parameters,
            self.run_dir.display()
        );
        Ok(summary)
    }
}

/// Every epoch in a run folder's `metrics.jsonl`, in order, one per epoch;
/// `None` when the file cannot be read.
pub fn read_metrics(run_dir: &Path) -> Option<Vec<EpochMetrics>> {
    read_history(&run_dir.join("metrics.jsonl")).ok()
}

/// Pictures are a bonus: failing to draw one is reported, not fatal.
pub fn report_pictures(result: anyhow::Result<Vec<PathBuf>>) {
    match result {
        Ok(paths) if !paths.is_empty() => {
            let names: Vec<String> = paths
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            println!("pictures: {}", names.join(", "));
        }
        Ok(_) => {}
        Err(err) => eprintln!("warning: pictures not drawn: {err:#}"),
    }
}

fn mean_seconds(epochs: &[EpochMetrics]) -> f64 {
    if epochs.is_empty() {
        return 0.0;
    }
    epochs.iter().map(|e| e.seconds).sum::<f64>() / epochs.len() as f64
}

pub fn describe(spec: &ModelSpec) -> String {
    match spec {
        ModelSpec::Softmax => "softmax regression".into(),
        ModelSpec::Mlp {
            hidden, activation, ..
        } => format!("MLP {hidden:?} {activation:?}"),
        ModelSpec::Cnn {
            preset,
            batch_norm: None,
        } => format!("CNN {preset:?}"),
        ModelSpec::Cnn {
            preset,
            batch_norm: Some(on),
        } => format!(
            "CNN {preset:?} (batch norm {})",
            if *on { "on" } else { "off" }
        ),
    }
}

/// A fresh run clears what an earlier run of the same name left; a resumed
/// one keeps it. Either way, temporary files of writes a kill cut short go.
fn prepare_run_dir(dir: &Path, resume: bool) -> anyhow::Result<()> {
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

//! GAN experiments (a `[gan]` table): a generator and a discriminator
//! trained against each other on MNIST, a grid of samples after every
//! epoch, and the suite's own trained classifier (the judge) asked what
//! the samples show.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::module::{AutodiffModule, Module};
use dlsuite_data::idx::PIXELS;
use dlsuite_data::{DigitSet, Digits, Kind, Locator};
use dlsuite_gan::{
    adam, gan_batcher, generate, latent_noise, EpochStats, GanConfig, GanTrainer, Generator,
    Layout, CLASSES,
};
use dlsuite_plots::{digit_grid, function_panels, image_mosaic, Curve, FunctionPanel, Tile};
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::{OptimizerChoice, Recorder};
use serde::{Deserialize, Serialize};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{batching, BackendChoice, OnBackend};
use crate::config::{check_name, invalid, ConfigError, DatasetName, ScheduleName, TrainSpec};
use crate::ensemble::{probabilities, train_if_needed, ResolvedMember};
use crate::evaluate::EVAL_BATCH;
use crate::experiment::{load_experiment, Experiment};
use crate::pictures::report_pictures;
use crate::run_dir::{load_run, read_summary};
use crate::run_folder::{open_run, record_pictures, RunKind, RunRequest, WriteMode, MARKER_FILE};

/// What a finished GAN run reports, in its folder.
pub const SUMMARY_FILE: &str = "gan.json";
/// The trained nets, beside it (`.mpk` added by the recorder).
pub const GENERATOR_FILE: &str = "generator";
pub const DISCRIMINATOR_FILE: &str = "discriminator";
/// One JSON line per finished epoch, written as it ends.
const EPOCHS_FILE: &str = "metrics.jsonl";
/// Samples per grid drawn after each epoch: ten rows of ten.
const GRID: usize = 100;
/// Samples shown with the judge's verdict in `judged.png`.
const JUDGED_SHOWN: usize = 40;

/// A GAN's experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GanExperiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the lecture shows, in words: the report's "lecture" column.
    pub lecture: String,
    pub gan: GanSpec,
    /// Epochs, batch size, learning rate, seed and limit; the optimizer is
    /// Adam with β₁ = 0.5 whatever else is asked.
    pub train: TrainSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GanSpec {
    pub layout: Layout,
    #[serde(default = "default_latent")]
    pub latent: usize,
    #[serde(default)]
    pub conditional: bool,
    /// The training experiment whose trained classifier judges the samples
    /// (trained first when its run is missing).
    #[serde(default = "default_judge")]
    pub judge: String,
    /// Samples drawn for the judge (a tenth per digit when conditional).
    #[serde(default = "default_samples")]
    pub samples: usize,
    /// The check of a conditional GAN: at least this share of its samples
    /// judged to be the digit asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_share: Option<f64>,
    /// The check of an unconditional one: the judge's mean confidence (its
    /// top class probability) on the samples at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f64>,
}

fn default_latent() -> usize {
    64
}

fn default_judge() -> String {
    "mnist-cnn".into()
}

fn default_samples() -> usize {
    1000
}

impl GanExperiment {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        self.train.validate()?;
        let g = &self.gan;
        if !(1..=1024).contains(&g.latent) {
            return invalid(
                "gan.latent",
                g.latent.to_string(),
                "must be 1 to 1024 values",
            );
        }
        if !(10..=100_000).contains(&g.samples) {
            return invalid(
                "gan.samples",
                g.samples.to_string(),
                "must be 10 to 100000 images",
            );
        }
        let share = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        match (g.conditional, g.min_share, g.min_confidence) {
            (true, Some(s), None) | (false, None, Some(s)) if share(s) => {}
            (true, Some(s), None) => {
                return invalid("gan.min_share", s.to_string(), "must be in (0, 1]")
            }
            (false, None, Some(s)) => {
                return invalid("gan.min_confidence", s.to_string(), "must be in (0, 1]")
            }
            (true, _, _) => {
                return invalid(
                    "gan.min_share",
                    "missing".into(),
                    "a conditional GAN is checked by the share of samples judged the digit asked: set min_share, not min_confidence",
                )
            }
            (false, _, _) => {
                return invalid(
                    "gan.min_confidence",
                    "missing".into(),
                    "an unconditional GAN is checked by the judge's mean confidence: set min_confidence, not min_share",
                )
            }
        }
        let t = &self.train;
        if t.optimizer != OptimizerChoice::Adam {
            return invalid(
                "train.optimizer",
                format!("{:?}", t.optimizer).to_lowercase(),
                "a GAN trains with Adam (β₁ = 0.5): leave it out or say \"adam\"",
            );
        }
        let unused = [
            ("train.schedule", t.schedule != ScheduleName::default()),
            ("train.weight_decay", t.weight_decay != 0.0),
            ("train.patience", t.patience.is_some()),
            ("train.shift", t.shift > 0),
            ("train.label_noise", t.label_noise > 0.0),
        ];
        if let Some((field, _)) = unused.iter().find(|(_, set)| *set) {
            return invalid(
                field,
                "set".into(),
                "does not apply to a GAN: it trains at a constant rate on every training image, with no validation loss to stop on",
            );
        }
        Ok(())
    }

    pub fn model_config(&self) -> GanConfig {
        GanConfig::new(self.gan.layout)
            .with_latent(self.gan.latent)
            .with_conditional(self.gan.conditional)
    }

    /// The check's bar, whichever figure it is on.
    pub fn bar(&self) -> f64 {
        self.gan
            .min_share
            .or(self.gan.min_confidence)
            .unwrap_or(f64::NAN)
    }

    /// The judge's experiment and where its run lives.
    pub fn resolve_judge(&self, artifacts: &Path) -> anyhow::Result<ResolvedMember> {
        let context = || format!("{}: judge {:?}", self.name, self.gan.judge);
        let Experiment::Training(config) =
            load_experiment(&self.gan.judge).with_context(context)?
        else {
            anyhow::bail!(
                "{}: not a training experiment (a judge classifies digits)",
                context()
            );
        };
        if config.dataset != DatasetName::Mnist {
            anyhow::bail!(
                "{}: trains on {:?}; a GAN draws MNIST digits",
                context(),
                config.dataset
            );
        }
        let run_dir = artifacts.join(&config.name);
        Ok(ResolvedMember { config, run_dir })
    }
}

/// One epoch as `metrics.jsonl` records it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GanEpoch {
    pub epoch: usize,
    #[serde(flatten)]
    pub stats: EpochStats,
    pub seconds: f64,
}

/// `gan.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GanSummary {
    pub name: String,
    pub lecture: String,
    pub layout: Layout,
    pub latent: usize,
    pub conditional: bool,
    pub judge: String,
    /// The judge's own test accuracy on real digits.
    pub judge_accuracy: f64,
    pub samples: usize,
    /// Conditional only: the share of samples judged the digit asked for.
    pub asked_share: Option<f64>,
    /// The judge's mean top class probability on the samples.
    pub mean_confidence: f64,
    /// How many samples the judge put in each class, 0 to 9.
    pub judged_counts: Vec<usize>,
    /// The check's bar (on `asked_share` when conditional, else on
    /// `mean_confidence`).
    pub bar: f64,
    pub as_lectured: bool,
    pub epochs: usize,
    pub history: Vec<GanEpoch>,
    pub seconds_per_epoch: f64,
    /// Start to finish, less the judge's training when it trained first.
    pub wall_seconds: f64,
    pub generator_parameters: usize,
    pub discriminator_parameters: usize,
    pub backend: String,
    pub git_revision: String,
}

impl GanSummary {
    /// How many digits the judge saw among the samples: a generator that
    /// collapsed onto a few modes draws few.
    pub fn digits_drawn(&self) -> usize {
        let floor = (self.samples / 100).max(1);
        self.judged_counts.iter().filter(|&&c| c >= floor).count()
    }
}

/// Reads a finished GAN run's summary.
pub fn read_gan_summary(dir: &Path) -> anyhow::Result<GanSummary> {
    crate::artifacts::read_run_json(dir, SUMMARY_FILE, "a GAN summary")
}

pub struct GanJob {
    pub experiment: GanExperiment,
    pub backend: BackendChoice,
    /// MNIST's folder (found as training runs find it when absent).
    pub data_dir: Option<PathBuf>,
    pub run_dir: PathBuf,
    /// Where the judge's run lives (`artifacts/<judge>`).
    pub artifacts: PathBuf,
    /// A progress bar per epoch (in a terminal) instead of plain lines only.
    pub dashboard: bool,
    /// `Fresh` or `Overwrite`: a GAN run is not resumed.
    pub mode: WriteMode,
}

/// What the judge made of the samples.
struct Verdicts {
    asked: Vec<u8>,
    judged: Vec<u8>,
    confidence: Vec<f32>,
    shown: Vec<Vec<f32>>,
}

impl OnBackend for GanJob {
    type Output = anyhow::Result<GanSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<GanSummary> {
        let started = Instant::now();
        let e = &self.experiment;
        let t = &e.train;
        let request = RunRequest {
            experiment: e.name.clone(),
            kind: RunKind::Gan,
            backend: self.backend.name().into(),
            optimizer_state: None,
            settings: serde_json::to_value(e)?,
        };
        // Data and judge first: either missing leaves no half-made run folder.
        let (train_digits, _) = Locator::new(Kind::Mnist, self.data_dir.clone()).load()?;
        let judge = e.resolve_judge(&self.artifacts)?;
        let mut open = open_run(&self.run_dir, &request, self.mode)?;
        write_json(&self.run_dir.join(MARKER_FILE), &open.marker)?;
        write_json(&self.run_dir.join("config.json"), e)?;
        let epochs_path = self.run_dir.join(EPOCHS_FILE);
        std::fs::write(&epochs_path, "")
            .with_context(|| format!("{}: cannot write", epochs_path.display()))?;
        let label = format!("{}: judge {}", e.name, judge.config.name);
        // The judge's own run reports its time: this run's leaves it out.
        let judging = Instant::now();
        train_if_needed::<B>(&judge, &label, self.backend, &self.data_dir, &device)?;
        let judge_training = judging.elapsed();

        let mut train_set = DigitSet::new(Arc::new(train_digits));
        if let Some(limit) = t.limit {
            train_set = train_set.take(limit);
        }
        let config = e.model_config();
        println!(
            "{}: {:?} GAN{}, {}-value noise, on {} MNIST training images, backend {}",
            e.name,
            e.gan.layout,
            if e.gan.conditional {
                " told the digit"
            } else {
                ""
            },
            e.gan.latent,
            train_set.len(),
            self.backend.name()
        );
        B::seed(&device, t.seed);
        let mut gan = GanTrainer::new(
            config.init_generator::<B>(&device),
            config.init_discriminator::<B>(&device),
            adam().init(),
            adam().init(),
            t.lr,
        );
        let generator_parameters = gan.generator.num_params();
        let discriminator_parameters = gan.discriminator.num_params();
        // The same noise every epoch, so the grids show one drawing improve.
        let grid_noise = latent_noise::<B::InnerBackend>(GRID, e.gan.latent, &device);
        let grid_digits: Vec<u8> = (0..GRID).map(|k| (k / 10 % CLASSES) as u8).collect();
        let steps_per_epoch = train_set.len().div_ceil(t.batch_size);
        let loader = batching(
            DataLoaderBuilder::new(gan_batcher())
                .batch_size(t.batch_size)
                .shuffle(t.seed),
            self.backend,
        )
        .set_device(device.clone())
        .build(train_set);

        let mut history = Vec::new();
        let mut pictures = Vec::new();
        for epoch in 1..=t.epochs {
            let begun = Instant::now();
            let bar = progress(self.dashboard, steps_per_epoch, epoch, t.epochs);
            for batch in loader.iter() {
                gan.step(batch.images, batch.targets);
                bar.inc(1);
            }
            bar.finish_and_clear();
            let Some(stats) = gan.take_epoch() else {
                anyhow::bail!("{}: no training images", e.name);
            };
            let record = GanEpoch {
                epoch,
                stats,
                seconds: begun.elapsed().as_secs_f64(),
            };
            println!(
                "{}: epoch {epoch}/{}: discriminator loss {:.3} (real called real {:.0}%, fakes called fake {:.0}%), generator loss {:.3}, {:.1} s",
                e.name,
                t.epochs,
                stats.discriminator_loss,
                100.0 * stats.real_accuracy,
                100.0 * stats.fake_accuracy,
                stats.generator_loss,
                record.seconds
            );
            append_line(&epochs_path, &record)?;
            history.push(record);
            let drawn = generate(
                &gan.generator.valid(),
                grid_noise.clone(),
                e.gan.conditional.then_some(grid_digits.as_slice()),
            );
            let path = self.run_dir.join(format!("samples-epoch-{epoch:02}.png"));
            let title = format!(
                "{}: samples after epoch {epoch}{}",
                e.name,
                if e.gan.conditional {
                    " (row k asked for digit k)"
                } else {
                    ""
                }
            );
            match image_mosaic(&path, &title, &drawn, 10, 2) {
                Ok(()) => {
                    record_pictures(&self.run_dir, &mut open.marker, std::slice::from_ref(&path))?;
                    pictures.push(path);
                }
                Err(err) => eprintln!("warning: {}: {err}", path.display()),
            }
        }
        let generator = gan.generator.valid();
        let recorder = Recorder::new();
        for (file, saved) in [
            (
                GENERATOR_FILE,
                gan.generator
                    .clone()
                    .save_file(self.run_dir.join(GENERATOR_FILE), &recorder),
            ),
            (
                DISCRIMINATOR_FILE,
                gan.discriminator
                    .clone()
                    .save_file(self.run_dir.join(DISCRIMINATOR_FILE), &recorder),
            ),
        ] {
            saved.with_context(|| {
                format!("{}: cannot save the trained {file}", self.run_dir.display())
            })?;
        }

        let verdicts = judge_samples::<B::InnerBackend>(e, &generator, &judge.run_dir, &device)?;
        let n = verdicts.judged.len().max(1) as f64;
        let mut judged_counts = vec![0usize; CLASSES];
        for &j in &verdicts.judged {
            judged_counts[j as usize % CLASSES] += 1;
        }
        let asked_share = e.gan.conditional.then(|| {
            let right = verdicts
                .asked
                .iter()
                .zip(&verdicts.judged)
                .filter(|(a, j)| a == j)
                .count();
            right as f64 / n
        });
        let mean_confidence = verdicts.confidence.iter().map(|&c| c as f64).sum::<f64>() / n;
        let figure = asked_share.unwrap_or(mean_confidence);
        let summary = GanSummary {
            name: e.name.clone(),
            lecture: e.lecture.clone(),
            layout: e.gan.layout,
            latent: e.gan.latent,
            conditional: e.gan.conditional,
            judge: judge.config.name.clone(),
            judge_accuracy: read_summary(&judge.run_dir)?.test_accuracy,
            samples: verdicts.judged.len(),
            asked_share,
            mean_confidence,
            judged_counts,
            bar: e.bar(),
            as_lectured: figure >= e.bar(),
            epochs: history.len(),
            seconds_per_epoch: history.iter().map(|h| h.seconds).sum::<f64>()
                / history.len().max(1) as f64,
            history,
            wall_seconds: (started.elapsed() - judge_training).as_secs_f64(),
            generator_parameters,
            discriminator_parameters,
            backend: self.backend.name().into(),
            git_revision: git_revision(),
        };
        write_json(&self.run_dir.join(SUMMARY_FILE), &summary)?;
        let drawn = draw_pictures(&self.run_dir, &summary, &verdicts);
        if let Ok(paths) = &drawn {
            record_pictures(&self.run_dir, &mut open.marker, paths)?;
        }
        report_pictures(drawn.map(|mut paths| {
            pictures.append(&mut paths);
            pictures
        }));
        println!(
            "{}: {} after {} epochs, {:.1} s/epoch; {} of 10 digits drawn; artifacts in {}",
            e.name,
            headline(&summary),
            summary.epochs,
            summary.seconds_per_epoch,
            summary.digits_drawn(),
            self.run_dir.display()
        );
        Ok(summary)
    }
}

/// The check's figure in words, with its bar and verdict.
pub fn headline(s: &GanSummary) -> String {
    let verdict = crate::artifacts::verdict_words(s.as_lectured);
    match s.asked_share {
        Some(share) => format!(
            "{:.1}% of {} samples judged the digit asked for (at least {:.0}%: {verdict}); mean confidence {:.3}",
            100.0 * share,
            s.samples,
            100.0 * s.bar,
            s.mean_confidence
        ),
        None => format!(
            "judge's mean confidence on {} samples {:.3} (at least {}: {verdict})",
            s.samples, s.mean_confidence, s.bar
        ),
    }
}

fn progress(shown: bool, steps: usize, epoch: usize, epochs: usize) -> indicatif::ProgressBar {
    if !shown {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(steps as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("epoch {msg} [{bar:30}] {pos}/{len} steps ({eta})")
            .expect("constant template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{epoch}/{epochs}"));
    bar
}

fn append_line<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(value)?)
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Draws `e.gan.samples` images (the digits in turn, when conditional) and
/// asks the judge's trained classifier what each shows.
fn judge_samples<B: dlsuite_speed::Tuned>(
    e: &GanExperiment,
    generator: &Generator<B>,
    judge_dir: &Path,
    device: &B::Device,
) -> anyhow::Result<Verdicts> {
    let (_, judge) = load_run::<B>(judge_dir, device)?;
    let asked: Vec<u8> = (0..e.gan.samples).map(|i| (i % CLASSES) as u8).collect();
    let mut pixels = Vec::with_capacity(asked.len() * PIXELS);
    let mut shown = Vec::new();
    for chunk in asked.chunks(EVAL_BATCH) {
        let z = latent_noise::<B>(chunk.len(), e.gan.latent, device);
        for image in generate(generator, z, e.gan.conditional.then_some(chunk)) {
            pixels.extend(
                image
                    .iter()
                    .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
            );
            if shown.len() < JUDGED_SHOWN {
                shown.push(image);
            }
        }
    }
    let samples = Digits::new(pixels, asked.clone())?;
    let probs = probabilities(&judge, &samples, Kind::Mnist, device);
    let (mut judged, mut confidence) = (Vec::new(), Vec::new());
    for p in probs.chunks(CLASSES) {
        let (best, top) = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or((0, 0.0), |(i, &v)| (i as u8, v));
        judged.push(best);
        confidence.push(top);
    }
    anyhow::ensure!(
        judged.len() == asked.len(),
        "{}: the judge gave {} verdicts for {} samples",
        judge_dir.display(),
        judged.len(),
        asked.len()
    );
    Ok(Verdicts {
        asked,
        judged,
        confidence,
        shown,
    })
}

/// The losses and the discriminator's accuracy per epoch, and samples
/// with the judge's verdicts.
fn draw_pictures(dir: &Path, s: &GanSummary, verdicts: &Verdicts) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let per_epoch = |f: fn(&EpochStats) -> f64| -> Vec<(f32, f32)> {
        s.history
            .iter()
            .map(|h| (h.epoch as f32, f(&h.stats) as f32))
            .collect()
    };
    let curve = |label: &str, points| Curve {
        label: label.into(),
        points,
    };
    let panels = [
        FunctionPanel {
            title: "losses".into(),
            x_desc: "epoch".into(),
            y_desc: "mean loss".into(),
            curves: vec![
                curve("discriminator", per_epoch(|e| e.discriminator_loss)),
                curve("generator", per_epoch(|e| e.generator_loss)),
            ],
            mark: None,
        },
        FunctionPanel {
            title: "the discriminator's accuracy".into(),
            x_desc: "epoch".into(),
            y_desc: "share right".into(),
            curves: vec![
                curve("on real images", per_epoch(|e| e.real_accuracy)),
                curve("on fakes", per_epoch(|e| e.fake_accuracy)),
            ],
            mark: None,
        },
    ];
    let path = dir.join("curves.png");
    function_panels(&path, &format!("{}: the game per epoch", s.name), &panels)?;
    written.push(path);

    let tiles: Vec<Tile> = verdicts
        .shown
        .iter()
        .enumerate()
        .map(|(i, pixels)| {
            let said = format!(
                "{} {:.0}%",
                verdicts.judged[i],
                100.0 * verdicts.confidence[i]
            );
            Tile {
                pixels: pixels.clone(),
                signed: false,
                caption: if s.conditional {
                    format!("{}→{said}", verdicts.asked[i])
                } else {
                    said
                },
            }
        })
        .collect();
    let path = dir.join("judged.png");
    digit_grid(
        &path,
        &format!(
            "samples and what {} (test accuracy {:.2}%) calls them{}",
            s.judge,
            s.judge_accuracy,
            if s.conditional {
                ": digit asked → digit judged, confidence"
            } else {
                ", with its confidence"
            }
        ),
        &tiles,
        10,
        3,
    )?;
    written.push(path);
    Ok(written)
}

/// The pictures the report shows of a GAN run: its curves, the judged
/// samples, and the grids after the first and the last epoch.
pub fn report_pictures_of(s: &GanSummary) -> Vec<String> {
    let mut names = vec!["curves.png".to_string(), "judged.png".to_string()];
    for epoch in [1, s.epochs] {
        let name = format!("samples-epoch-{epoch:02}.png");
        if epoch > 0 && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

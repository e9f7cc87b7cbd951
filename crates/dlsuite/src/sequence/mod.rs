//! Sequence experiments, trained through the Learner: a language model
//! over one of the suite's corpora (a `[language]` table: the hello lab,
//! the essay, melodies) and a chatbot (a `[chat]` table). Each run keeps
//! its vocabulary beside its weights and reports in `sequence.json`.

mod chat;
mod language;
mod sound;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::data::dataloader::DataLoader;
use burn::module::{AutodiffModule, Module};
use burn::train::{InferenceStep, TrainStep};
use dlsuite_data::text::Vocab;
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::{fit, remove_leftover_temporaries, EpochMetrics, Figures, FitConfig, Recorder};
use serde::{Deserialize, Serialize};

use crate::artifacts::{git_revision, read_run_json, write_json};
use crate::backend::{BackendChoice, OnBackend};
use crate::config::{ConfigError, TrainSpec};
use crate::pictures::{draw_curves, report_pictures};
use crate::run_dir::mean_seconds;
use crate::run_folder::{open_run, record_pictures, RunKind, RunRequest, WriteMode, MARKER_FILE};

pub use chat::{load_chatbot, ChatExperiment, ChatSpec, Chatbot};
pub use language::{Corpus, LanguageExperiment, LanguageSpec};

/// What a finished sequence run reports, in its folder.
pub const SUMMARY_FILE: &str = "sequence.json";
/// The tokens the net reads and writes, in class order.
pub const VOCAB_FILE: &str = "vocab.json";

#[derive(Clone, Debug, PartialEq)]
pub enum SequenceExperiment {
    Language(LanguageExperiment),
    Chat(ChatExperiment),
}

impl SequenceExperiment {
    pub fn name(&self) -> &str {
        match self {
            SequenceExperiment::Language(e) => &e.name,
            SequenceExperiment::Chat(e) => &e.name,
        }
    }

    pub fn description(&self) -> &str {
        match self {
            SequenceExperiment::Language(e) => &e.description,
            SequenceExperiment::Chat(e) => &e.description,
        }
    }

    pub fn lecture(&self) -> &str {
        match self {
            SequenceExperiment::Language(e) => &e.lecture,
            SequenceExperiment::Chat(e) => &e.lecture,
        }
    }

    pub fn train(&self) -> &TrainSpec {
        match self {
            SequenceExperiment::Language(e) => &e.train,
            SequenceExperiment::Chat(e) => &e.train,
        }
    }

    pub fn train_mut(&mut self) -> &mut TrainSpec {
        match self {
            SequenceExperiment::Language(e) => &mut e.train,
            SequenceExperiment::Chat(e) => &mut e.train,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            SequenceExperiment::Language(e) => e.validate(),
            SequenceExperiment::Chat(e) => e.validate(),
        }
    }

    /// The check's bar in words.
    pub fn claim(&self) -> String {
        match self {
            SequenceExperiment::Language(e) => e.claim(),
            SequenceExperiment::Chat(e) => e.claim(),
        }
    }

    fn settings(&self) -> serde_json::Result<serde_json::Value> {
        match self {
            SequenceExperiment::Language(e) => serde_json::to_value(e),
            SequenceExperiment::Chat(e) => serde_json::to_value(e),
        }
    }
}

/// `sequence.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SequenceSummary {
    pub name: String,
    pub lecture: String,
    /// `hello`, `essay`, `melodies` or `chat`.
    pub task: String,
    /// The net in words.
    pub model: String,
    /// The check's figure, what it measures, its bar and verdict.
    pub figure: f64,
    pub figure_name: String,
    pub bar: f64,
    pub as_lectured: bool,
    /// The figure and the others beside it, in one line.
    pub headline: String,
    /// What the trained net wrote (completions, a melody, a transcript):
    /// the report shows these lines under the run's pictures.
    pub samples: Vec<String>,
    pub epochs: usize,
    pub seconds_per_epoch: f64,
    pub wall_seconds: f64,
    pub parameters: usize,
    pub backend: String,
    pub git_revision: String,
}

/// Reads a finished sequence run's summary.
pub fn read_sequence_summary(dir: &Path) -> anyhow::Result<SequenceSummary> {
    read_run_json(dir, SUMMARY_FILE, "a sequence run's summary")
}

/// Reads a run's vocabulary.
pub fn read_vocab(dir: &Path) -> anyhow::Result<Vocab> {
    let tokens: Vec<String> = read_run_json(dir, VOCAB_FILE, "a list of tokens")?;
    let what = dir.join(VOCAB_FILE).display().to_string();
    Ok(Vocab::from_tokens(tokens, &what)?)
}

pub struct SequenceJob {
    pub experiment: SequenceExperiment,
    pub backend: BackendChoice,
    pub run_dir: PathBuf,
    pub dashboard: bool,
    /// `Fresh` or `Overwrite`: a sequence run is not resumed.
    pub mode: WriteMode,
}

impl OnBackend for SequenceJob {
    type Output = anyhow::Result<SequenceSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<SequenceSummary> {
        match &self.experiment {
            SequenceExperiment::Language(e) => language::train::<B>(&self, e, device),
            SequenceExperiment::Chat(e) => chat::train::<B>(&self, e, device),
        }
    }
}

/// What every sequence run does around its own training: the folder (its
/// lock held until the run returns), the Learner, the saved weights and
/// vocabulary, and at the end the summary and the pictures.
struct Session {
    open: crate::run_folder::OpenRun,
    started: Instant,
    run_dir: PathBuf,
}

impl Session {
    fn open(job: &SequenceJob) -> anyhow::Result<Self> {
        let e = &job.experiment;
        let settings = e.settings()?;
        let request = RunRequest {
            experiment: e.name().into(),
            kind: RunKind::Sequence,
            backend: job.backend.name().into(),
            optimizer_state: None,
            settings: settings.clone(),
        };
        let open = open_run(&job.run_dir, &request, job.mode)?;
        for folder in [job.run_dir.clone(), job.run_dir.join("checkpoint")] {
            remove_leftover_temporaries(&folder);
        }
        write_json(&job.run_dir.join(MARKER_FILE), &open.marker)?;
        write_json(&job.run_dir.join("config.json"), &settings)?;
        Ok(Self {
            open,
            started: Instant::now(),
            run_dir: job.run_dir.clone(),
        })
    }

    /// Trains `model` through the Learner and saves it and `vocab`.
    #[allow(clippy::too_many_arguments)]
    fn fit<B, M>(
        &self,
        job: &SequenceJob,
        model: M,
        vocab: &Vocab,
        steps_per_epoch: usize,
        train: Arc<dyn DataLoader<B, <M as TrainStep>::Input>>,
        valid: Arc<dyn DataLoader<B::InnerBackend, <M::InnerModule as InferenceStep>::Input>>,
    ) -> anyhow::Result<(M::InnerModule, Vec<EpochMetrics>)>
    where
        B: TunedAutodiff,
        M: TrainStep<Output = Figures<B>> + AutodiffModule<B> + std::fmt::Display + 'static,
        M::InnerModule: InferenceStep<Output = Figures<B::InnerBackend>>,
    {
        let t = job.experiment.train();
        let fit_config = FitConfig {
            epochs: t.epochs,
            schedule: t.schedule(t.epochs * steps_per_epoch),
            patience: t.patience,
            dashboard: job.dashboard,
            resume_from: None,
            read_every: B::READ_EVERY,
        };
        let optimizer = B::optimizer::<M>(&t.optimizer());
        let result = fit(model, optimizer, &fit_config, train, valid, &self.run_dir)?;
        result
            .model
            .clone()
            .save_file(self.run_dir.join("model"), &Recorder::new())
            .with_context(|| {
                format!("{}: cannot save the trained model", self.run_dir.display())
            })?;
        write_json(&self.run_dir.join(VOCAB_FILE), &vocab.tokens())?;
        Ok((result.model, result.epochs))
    }

    /// Writes the summary, draws the curves and `pictures`, and says what
    /// came out.
    fn finish(
        mut self,
        job: &SequenceJob,
        mut summary: SequenceSummary,
        epochs: &[EpochMetrics],
        pictures: anyhow::Result<Vec<PathBuf>>,
    ) -> anyhow::Result<SequenceSummary> {
        summary.epochs = epochs.len();
        summary.seconds_per_epoch = mean_seconds(epochs);
        summary.wall_seconds = self.started.elapsed().as_secs_f64();
        summary.backend = job.backend.name().into();
        summary.git_revision = git_revision();
        write_json(&self.run_dir.join(SUMMARY_FILE), &summary)?;
        let title = format!("{}: next-token loss and accuracy per epoch", summary.name);
        let drawn = draw_curves(&self.run_dir, &title, epochs)
            .and_then(|curves| Ok(curves.into_iter().chain(pictures?).collect::<Vec<_>>()));
        if let Ok(paths) = &drawn {
            record_pictures(&self.run_dir, &mut self.open.marker, paths)?;
        }
        report_pictures(drawn);
        for line in &summary.samples {
            println!("  {line}");
        }
        println!(
            "{}: {} after {} epochs, {:.1} s/epoch, {} parameters; artifacts in {}",
            summary.name,
            summary.headline,
            summary.epochs,
            summary.seconds_per_epoch,
            summary.parameters,
            self.run_dir.display()
        );
        Ok(summary)
    }
}

/// Refuses the image settings of `[train]` that a sequence model has no use
/// for; `noun` says which model.
fn refuse_image_settings(t: &TrainSpec, noun: &str) -> Result<(), ConfigError> {
    let unused = [
        ("train.shift", t.shift > 0),
        ("train.label_noise", t.label_noise > 0.0),
        ("train.limit", t.limit.is_some()),
    ];
    match unused.iter().find(|(_, set)| *set) {
        Some((field, _)) => {
            crate::config::invalid(field, "set".into(), &format!("does not apply to {noun}"))
        }
        None => Ok(()),
    }
}

/// A check's bar: a share in (0, 1].
fn check_share(field: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        return Ok(());
    }
    crate::config::invalid(field, value.to_string(), "must be in (0, 1]")
}

/// A dropout share: from 0 up to (not including) 0.9, past which little
/// signal is left to learn from.
fn check_dropout(field: &str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && (0.0..0.9).contains(&value) {
        return Ok(());
    }
    crate::config::invalid(field, value.to_string(), "must be from 0 up to 0.9")
}

/// A sampling temperature: above 0, at most 10.
fn check_temperature(field: &str, value: f32) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 && value <= 10.0 {
        return Ok(());
    }
    crate::config::invalid(field, value.to_string(), "must be above 0 and at most 10")
}

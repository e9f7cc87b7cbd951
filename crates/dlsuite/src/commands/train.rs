//! `dlsuite train EXPERIMENT`: train one experiment (a training run, a
//! lesson, an ensemble, an autoencoder or a GAN) into its run folder.

use std::path::PathBuf;

use anyhow::Context;

use crate::autoencoder::AutoencoderJob;
use crate::backend::{dispatch, BackendChoice};
use crate::commands::BACKEND_HELP;
use crate::config::TrainSpec;
use crate::ensemble::EnsembleJob;
use crate::experiment::{load_experiment, Experiment};
use crate::gan::GanJob;
use crate::lesson::LessonJob;
use crate::run_dir::{default_run_dir, ARTIFACTS_DIR};
use crate::run_folder::WriteMode;
use crate::sequence::SequenceJob;
use crate::training::TrainJob;

#[derive(clap::Args)]
pub struct TrainArgs {
    experiment: String,
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
    /// Folder holding the dataset's four IDX files.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Folder for the run's files (default: artifacts/<experiment name>).
    #[arg(long)]
    run_dir: Option<PathBuf>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the first N training images only.
    #[arg(long)]
    limit: Option<usize>,
    /// Continue the run in the run folder from its last complete checkpoint
    /// (its settings must match; more epochs may be asked).
    #[arg(long, conflicts_with = "overwrite")]
    resume: bool,
    /// Replace the run in the run folder (only the files the suite wrote
    /// there go).
    #[arg(long)]
    overwrite: bool,
    /// Never show the terminal dashboard, even in a terminal.
    #[arg(long)]
    plain: bool,
}

impl TrainArgs {
    fn apply_overrides(&self, t: &mut TrainSpec) {
        t.epochs = self.epochs.unwrap_or(t.epochs);
        t.batch_size = self.batch_size.unwrap_or(t.batch_size);
        t.lr = self.lr.unwrap_or(t.lr);
        t.seed = self.seed.unwrap_or(t.seed);
        t.limit = self.limit.or(t.limit);
    }

    /// A run that keeps no checkpoints (an autoencoder's, a GAN's): `--resume`
    /// is refused, the other overrides apply.
    fn without_checkpoints(
        &self,
        mode: WriteMode,
        name: &str,
        noun: &str,
        train: &mut TrainSpec,
    ) -> anyhow::Result<()> {
        if mode == WriteMode::Resume {
            anyhow::bail!(
                "{name}: {noun} keeps no checkpoints to resume from; --overwrite trains it again"
            );
        }
        self.apply_overrides(train);
        Ok(())
    }

    fn dashboard(&self) -> bool {
        !self.plain && std::io::IsTerminal::is_terminal(&std::io::stdout())
    }

    pub fn run(self) -> anyhow::Result<()> {
        let mode = match (self.resume, self.overwrite) {
            (true, _) => WriteMode::Resume,
            (_, true) => WriteMode::Overwrite,
            _ => WriteMode::Fresh,
        };
        let run_dir = |name: &str| {
            self.run_dir
                .clone()
                .unwrap_or_else(|| default_run_dir(name))
        };
        let mut config = match load_experiment(&self.experiment)? {
            Experiment::Training(config) => config,
            Experiment::Lesson(lesson) => {
                if mode == WriteMode::Resume {
                    anyhow::bail!(
                        "{}: a lesson runs in seconds and keeps no checkpoints, so there is nothing to resume; --overwrite runs it again",
                        lesson.name
                    );
                }
                let run_dir = run_dir(&lesson.name);
                dispatch(
                    self.backend,
                    LessonJob {
                        experiment: lesson,
                        backend: self.backend,
                        run_dir,
                        mnist_dir: self.data_dir.clone(),
                        mode,
                    },
                )??;
                return Ok(());
            }
            Experiment::Ensemble(ensemble) => {
                let overrides = self.epochs.is_some()
                    || self.batch_size.is_some()
                    || self.lr.is_some()
                    || self.seed.is_some()
                    || self.limit.is_some()
                    || self.resume;
                if overrides {
                    anyhow::bail!(
                        "{}: an ensemble trains its members as their own files say; --epochs, --batch-size, --lr, --seed, --limit and --resume do not apply",
                        ensemble.name
                    );
                }
                let run_dir = run_dir(&ensemble.name);
                dispatch(
                    self.backend,
                    EnsembleJob {
                        experiment: ensemble,
                        backend: self.backend,
                        data_dir: self.data_dir,
                        run_dir,
                        artifacts: PathBuf::from(ARTIFACTS_DIR),
                        mode,
                    },
                )??;
                return Ok(());
            }
            Experiment::Autoencoder(mut experiment) => {
                self.without_checkpoints(
                    mode,
                    &experiment.name,
                    "an autoencoder run",
                    &mut experiment.train,
                )?;
                experiment
                    .validate()
                    .context("after command-line overrides")?;
                let run_dir = run_dir(&experiment.name);
                dispatch(
                    self.backend,
                    AutoencoderJob {
                        experiment,
                        backend: self.backend,
                        data_dir: self.data_dir.clone(),
                        run_dir,
                        dashboard: self.dashboard(),
                        mode,
                    },
                )??;
                return Ok(());
            }
            Experiment::Gan(mut experiment) => {
                self.without_checkpoints(
                    mode,
                    &experiment.name,
                    "a GAN run",
                    &mut experiment.train,
                )?;
                experiment
                    .validate()
                    .context("after command-line overrides")?;
                let run_dir = run_dir(&experiment.name);
                dispatch(
                    self.backend,
                    GanJob {
                        experiment,
                        backend: self.backend,
                        data_dir: self.data_dir.clone(),
                        run_dir,
                        artifacts: PathBuf::from(ARTIFACTS_DIR),
                        dashboard: self.dashboard(),
                        mode,
                    },
                )??;
                return Ok(());
            }
            Experiment::Sequence(mut experiment) => {
                let name = experiment.name().to_string();
                self.without_checkpoints(mode, &name, "a sequence run", experiment.train_mut())?;
                experiment
                    .validate()
                    .context("after command-line overrides")?;
                let run_dir = run_dir(&name);
                dispatch(
                    self.backend,
                    SequenceJob {
                        experiment,
                        backend: self.backend,
                        run_dir,
                        dashboard: self.dashboard(),
                        mode,
                    },
                )??;
                return Ok(());
            }
        };
        self.apply_overrides(&mut config.train);
        config.validate().context("after command-line overrides")?;
        let run_dir = run_dir(&config.name);
        let dashboard = self.dashboard();
        dispatch(
            self.backend,
            TrainJob {
                config,
                backend: self.backend,
                data_dir: self.data_dir,
                run_dir,
                dashboard,
                mode,
            },
        )??;
        Ok(())
    }
}

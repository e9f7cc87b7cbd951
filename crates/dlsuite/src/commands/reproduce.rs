//! `reproduce`: run one experiment, a group or all of them, say first how
//! long that should take, then write the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::autoencoder::AutoencoderJob;
use crate::backend::{dispatch, BackendChoice};
use crate::check::draw_figure;
use crate::commands::BACKEND_HELP;
use crate::config::{DatasetName, RunConfig};
use crate::ensemble::EnsembleJob;
use crate::experiment::{select, Experiment, EXPERIMENTS_DIR};
use crate::gan::GanJob;
use crate::lesson::LessonJob;
use crate::report::{duration, estimate_seconds, write_report};
use crate::run_dir::ARTIFACTS_DIR;
use crate::run_folder::{inspect, record_pictures, FoundRun, Holds, WriteMode};
use crate::run_lock::RunLock;
use crate::sequence::SequenceJob;
use crate::training::TrainJob;

#[derive(clap::Args)]
pub struct ReproduceArgs {
    #[arg(default_value = "all")]
    which: String,
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
    /// Folder holding MNIST's four IDX files.
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Folder holding Fashion-MNIST's four IDX files.
    #[arg(long)]
    fashion_dir: Option<PathBuf>,
    /// Where the run folders and REPORT.md go.
    #[arg(long, default_value = ARTIFACTS_DIR)]
    artifacts: PathBuf,
    /// Only print what would run and how long it should take.
    #[arg(long)]
    plan: bool,
}

impl ReproduceArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let reproduce = Reproduce {
            backend: self.backend,
            mnist_dir: self.mnist_dir,
            fashion_dir: self.fashion_dir,
            artifacts: self.artifacts,
        };
        if self.plan {
            reproduce.plan(&self.which)
        } else {
            reproduce.run(&self.which)
        }
    }
}

/// Ensembles run after everything else, so that a member which is also an
/// experiment of the set is trained once, at its own turn, and the ensemble
/// reuses it whatever the names' order. The rest keep the report's order.
pub fn running_order(mut chosen: Vec<Experiment>) -> Vec<Experiment> {
    chosen.sort_by_key(|e| matches!(e, Experiment::Ensemble(_)));
    chosen
}

pub struct Reproduce {
    pub backend: BackendChoice,
    pub mnist_dir: Option<PathBuf>,
    pub fashion_dir: Option<PathBuf>,
    /// Where run folders and REPORT.md go.
    pub artifacts: PathBuf,
}

impl Reproduce {
    /// Prints what `run(which)` would run and how long it should take.
    pub fn plan(&self, which: &str) -> anyhow::Result<()> {
        let chosen = running_order(select(which, Path::new(EXPERIMENTS_DIR))?);
        self.print_plan(&chosen);
        Ok(())
    }

    /// Runs `which` (`all`, a group or an experiment), replacing earlier
    /// runs of them (only the suite's files; a folder of anything else is
    /// refused). A failed experiment does not stop the others; the report
    /// is written either way.
    pub fn run(&self, which: &str) -> anyhow::Result<()> {
        let dir = Path::new(EXPERIMENTS_DIR);
        let chosen = running_order(select(which, dir)?);
        self.print_plan(&chosen);
        let started = Instant::now();
        let mut failed = Vec::new();
        for (i, experiment) in chosen.iter().enumerate() {
            println!(
                "\n[{}/{}] {} ({})",
                i + 1,
                chosen.len(),
                experiment.name(),
                experiment.description()
            );
            if let Err(err) = self.run_one(experiment) {
                eprintln!("{}: failed: {err:#}", experiment.name());
                failed.push(experiment.name().to_string());
            }
        }
        draw_figures(&chosen, &self.artifacts);
        let everything = select("all", dir)?;
        let (report, rows) = write_report(&everything, &self.artifacts)?;
        println!(
            "\n{} experiments in {}; report ({} rows): {}",
            chosen.len(),
            duration(started.elapsed().as_secs_f64()),
            rows,
            report.display()
        );
        if !failed.is_empty() {
            anyhow::bail!(
                "{} experiment(s) failed: {}",
                failed.len(),
                failed.join(", ")
            );
        }
        Ok(())
    }

    fn print_plan(&self, chosen: &[Experiment]) {
        println!("{} experiment(s) on {}:", chosen.len(), self.backend.name());
        let mut total = Some(0.0);
        for (i, e) in chosen.iter().enumerate() {
            let before: Vec<&str> = chosen[..i].iter().map(Experiment::name).collect();
            let estimate = estimate_seconds(e, self.backend, &self.artifacts, &before);
            total = total.zip(estimate).map(|(t, e)| t + e);
            println!(
                "  {:<32} {:<8} {}",
                e.name(),
                e.group(),
                estimate.map_or("?".into(), |s| format!("~{}", duration(s)))
            );
        }
        match total {
            Some(t) => println!("expected time: about {} (2 CPU cores)", duration(t)),
            None => println!("expected time: unknown on {}", self.backend.name()),
        }
    }

    fn data_dir(&self, dataset: DatasetName) -> Option<PathBuf> {
        match dataset {
            DatasetName::Mnist => self.mnist_dir.clone(),
            DatasetName::FashionMnist => self.fashion_dir.clone(),
        }
    }

    fn run_one(&self, experiment: &Experiment) -> anyhow::Result<()> {
        let run_dir = self.artifacts.join(experiment.name());
        match experiment {
            Experiment::Training(config) => {
                let runs = std::iter::once((config.clone(), run_dir)).chain(
                    config.repeat_seeds.iter().map(|&seed| {
                        let copy = config.repeat(seed);
                        let dir = self.artifacts.join(&copy.name);
                        (copy, dir)
                    }),
                );
                for (config, run_dir) in runs {
                    if config.name != experiment.name() {
                        println!(
                            "\n{}: the same run from seed {}",
                            config.name, config.train.seed
                        );
                    }
                    dispatch(
                        self.backend,
                        TrainJob {
                            data_dir: self.data_dir(config.dataset),
                            config,
                            backend: self.backend,
                            run_dir,
                            dashboard: false,
                            mode: WriteMode::Overwrite,
                        },
                    )??;
                }
            }
            Experiment::Ensemble(ensemble) => {
                let data_dir = self.data_dir(ensemble.dataset);
                dispatch(
                    self.backend,
                    EnsembleJob {
                        experiment: ensemble.clone(),
                        backend: self.backend,
                        data_dir,
                        run_dir,
                        artifacts: self.artifacts.clone(),
                        mode: WriteMode::Overwrite,
                    },
                )??;
            }
            Experiment::Lesson(lesson) => {
                dispatch(
                    self.backend,
                    LessonJob {
                        experiment: lesson.clone(),
                        backend: self.backend,
                        run_dir,
                        mnist_dir: self.mnist_dir.clone(),
                        mode: WriteMode::Overwrite,
                    },
                )??;
            }
            Experiment::Autoencoder(autoencoder) => {
                dispatch(
                    self.backend,
                    AutoencoderJob {
                        experiment: autoencoder.clone(),
                        backend: self.backend,
                        data_dir: self.mnist_dir.clone(),
                        run_dir,
                        dashboard: false,
                        mode: WriteMode::Overwrite,
                    },
                )??;
            }
            Experiment::Gan(gan) => {
                dispatch(
                    self.backend,
                    GanJob {
                        experiment: gan.clone(),
                        backend: self.backend,
                        data_dir: self.mnist_dir.clone(),
                        run_dir,
                        artifacts: self.artifacts.clone(),
                        dashboard: false,
                        mode: WriteMode::Overwrite,
                    },
                )??;
            }
            Experiment::Sequence(sequence) => {
                dispatch(
                    self.backend,
                    SequenceJob {
                        experiment: sequence.clone(),
                        backend: self.backend,
                        run_dir,
                        dashboard: false,
                        mode: WriteMode::Overwrite,
                    },
                )??;
            }
        }
        Ok(())
    }
}

/// Comparisons' pictures, drawn once every run they show has finished;
/// one that cannot be drawn is reported and the others go on.
fn draw_figures(chosen: &[Experiment], artifacts: &Path) {
    for experiment in chosen {
        let Experiment::Training(config) = experiment else {
            continue;
        };
        if config.figure.is_none() {
            continue;
        }
        match draw_and_record(config, artifacts) {
            Ok(Some(path)) => println!("{}: drew {}", config.name, path.display()),
            Ok(None) => {}
            Err(err) => eprintln!("{}: cannot draw its figure: {err:#}", config.name),
        }
    }
}

/// Draws `config`'s figure into its run folder under the folder's lock and
/// records it in the run's marker, so that `--overwrite` removes it too.
fn draw_and_record(config: &RunConfig, artifacts: &Path) -> anyhow::Result<Option<PathBuf>> {
    let dir = artifacts.join(&config.name);
    let _lock = RunLock::acquire(&dir)?;
    let Some(path) = draw_figure(config, artifacts)? else {
        return Ok(None);
    };
    if let Ok(Holds::Run(FoundRun {
        marker: Some(mut marker),
        ..
    })) = inspect(&dir)
    {
        record_pictures(&dir, &mut marker, std::slice::from_ref(&path))?;
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensembles_run_after_the_experiments_they_may_reuse() {
        let training = |name: &str| {
            Experiment::parse(
                &format!(
                    "name = \"{name}\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n\
                     [train]\nepochs = 1\nbatch_size = 10\nlr = 0.1\n"
                ),
                name,
            )
            .unwrap()
        };
        let ensemble = Experiment::parse(
            "name = \"a-vote\"\ndataset = \"mnist\"\n[[member]]\nexperiment = \"z-net\"\n\
             [[member]]\nexperiment = \"z-net\"\nseed = 2\n",
            "a-vote",
        )
        .unwrap();
        let order = running_order(vec![training("b-net"), ensemble, training("z-net")]);
        let names: Vec<&str> = order.iter().map(Experiment::name).collect();
        assert_eq!(names, ["b-net", "z-net", "a-vote"]);
    }
}

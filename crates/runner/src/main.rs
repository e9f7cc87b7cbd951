use std::path::PathBuf;

use anyhow::Context;
use burn::backend::NdArray;
use clap::{Parser, Subcommand};
use dlsuite::backend::{dispatch, BackendChoice};
use dlsuite::bench::{bench, parse_lists, BenchOptions};
use dlsuite::ensemble::EnsembleJob;
use dlsuite::experiment::{load_experiment, Experiment};
use dlsuite::inference::{default_run_dir, print_summary, EvalJob, PredictJob, ARTIFACTS_DIR};
use dlsuite::lesson::LessonJob;
use dlsuite::reproduce::Reproduce;
use dlsuite::run::{build_net, describe, TrainJob};
use dlsuite_data::Kind;

/// Training allocates and frees tensors of megabytes every step. glibc's
/// malloc hands such blocks back to the kernel, so each step page-faults
/// them in again (a quarter of the CPU time of a CNN step); mimalloc keeps
/// them, which makes a CNN step on the CPU 1.5–2× faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What `--backend` takes; spelled out because a parser of our own (one
/// that says how to get cuda) hides clap's list of values.
const BACKEND_HELP: &str = "flex (CPU, the fastest here), ndarray (CPU), wgpu (GPU through \
     Vulkan/Metal/DX12, or Mesa's software Vulkan), cuda (NVIDIA GPU; needs a build with \
     --features cuda)";

/// Hands-on deep learning with Burn: the classic course's models, trained on
/// the CPU or the GPU.
#[derive(Parser)]
#[command(name = "dlsuite", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an experiment: a name from experiments/ or a path to a TOML file.
    Train {
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
        /// Continue from the run folder's last complete checkpoint.
        #[arg(long)]
        resume: bool,
        /// Never show the terminal dashboard, even in a terminal.
        #[arg(long)]
        plain: bool,
    },
    /// Run experiments and write artifacts/REPORT.md: `all`, a group
    /// (lessons, mnist, compare, fashion) or one experiment's name.
    Reproduce {
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
    },
    /// Time training and inference of the reference models on each backend,
    /// with the PyTorch reference script's settings.
    Bench {
        /// Backends, comma-separated (ndarray, flex, wgpu; cuda when built
        /// with `--features cuda`) or `all`.
        #[arg(long, default_value = "ndarray,flex")]
        backends: String,
        /// Models, comma-separated: softmax, mlp300, dnn512, cnn.
        #[arg(long, default_value = "softmax,mlp300,dnn512,cnn")]
        models: String,
        /// Share of an epoch to time (1 = all 60,000 training images).
        #[arg(long, default_value_t = 0.25)]
        fraction: f64,
        #[arg(long)]
        mnist_dir: Option<PathBuf>,
        /// A Python with torch installed: also run the reference script, one
        /// epoch per model, and print the ratios.
        #[arg(long)]
        torch: Option<PathBuf>,
        /// The reference script.
        #[arg(long, default_value = "../shared/reference/pytorch_mnist.py")]
        reference: PathBuf,
    },
    /// Reload a run's trained model and measure its test accuracy again.
    Eval {
        /// The run folder (artifacts/<name>) or an experiment name.
        run: String,
        #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
        backend: BackendChoice,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Classify picture files (PNG, JPEG, ...; any size, colour or polarity).
    Predict {
        /// The run folder (artifacts/<name>) or an experiment name.
        run: String,
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
        backend: BackendChoice,
        /// Also draw, into this folder, each input as the model saw it
        /// (28×28) with its class probabilities.
        #[arg(long)]
        show: Option<PathBuf>,
    },
    /// Print an experiment's parameter count per layer and in total.
    Summary { experiment: String },
    /// Print counts, class histogram, pixel statistics and a sample of a dataset.
    Data {
        #[arg(long, value_enum, default_value = "all")]
        dataset: DatasetArg,
        /// Folder holding MNIST's four IDX files.
        #[arg(long)]
        mnist_dir: Option<PathBuf>,
        /// Folder holding Fashion-MNIST's four IDX files.
        #[arg(long)]
        fashion_dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DatasetArg {
    All,
    Mnist,
    FashionMnist,
}

fn main() {
    if let Err(err) = run(Cli::parse()) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train {
            experiment,
            backend,
            data_dir,
            run_dir,
            epochs,
            batch_size,
            lr,
            seed,
            limit,
            resume,
            plain,
        } => {
            let mut config = match load_experiment(&experiment)? {
                Experiment::Training(config) => config,
                Experiment::Lesson(lesson) => {
                    let run_dir = run_dir.unwrap_or_else(|| default_run_dir(&lesson.name));
                    dispatch(
                        backend,
                        LessonJob {
                            experiment: lesson,
                            backend,
                            run_dir,
                        },
                    )??;
                    return Ok(());
                }
                Experiment::Ensemble(ensemble) => {
                    let overrides = epochs.is_some()
                        || batch_size.is_some()
                        || lr.is_some()
                        || seed.is_some()
                        || limit.is_some()
                        || resume;
                    if overrides {
                        anyhow::bail!(
                            "{}: an ensemble trains its members as their own files say; --epochs, --batch-size, --lr, --seed, --limit and --resume do not apply",
                            ensemble.name
                        );
                    }
                    let run_dir = run_dir.unwrap_or_else(|| default_run_dir(&ensemble.name));
                    dispatch(
                        backend,
                        EnsembleJob {
                            experiment: ensemble,
                            backend,
                            data_dir,
                            run_dir,
                            artifacts: PathBuf::from(ARTIFACTS_DIR),
                        },
                    )??;
                    return Ok(());
                }
            };
            let t = &mut config.train;
            t.epochs = epochs.unwrap_or(t.epochs);
            t.batch_size = batch_size.unwrap_or(t.batch_size);
            t.lr = lr.unwrap_or(t.lr);
            t.seed = seed.unwrap_or(t.seed);
            t.limit = limit.or(t.limit);
            config.validate().context("after command-line overrides")?;
            let run_dir = run_dir.unwrap_or_else(|| default_run_dir(&config.name));
            let dashboard = !plain && std::io::IsTerminal::is_terminal(&std::io::stdout());
            dispatch(
                backend,
                TrainJob {
                    config,
                    backend,
                    data_dir,
                    run_dir,
                    dashboard,
                    resume,
                },
            )??;
            Ok(())
        }
        Command::Reproduce {
            which,
            backend,
            mnist_dir,
            fashion_dir,
            artifacts,
            plan,
        } => {
            let reproduce = Reproduce {
                backend,
                mnist_dir,
                fashion_dir,
                artifacts,
            };
            if plan {
                reproduce.plan(&which)
            } else {
                reproduce.run(&which)
            }
        }
        Command::Bench {
            backends,
            models,
            fraction,
            mnist_dir,
            torch,
            reference,
        } => {
            let (backends, models) = parse_lists(&backends, &models)?;
            bench(BenchOptions {
                backends,
                models,
                fraction,
                mnist_dir,
                torch,
                reference,
            })
        }
        Command::Eval {
            run,
            backend,
            data_dir,
        } => {
            dispatch(
                backend,
                EvalJob {
                    run_dir: run_path(&run),
                    data_dir,
                    backend,
                },
            )??;
            Ok(())
        }
        Command::Predict {
            run,
            images,
            backend,
            show,
        } => {
            dispatch(
                backend,
                PredictJob {
                    run_dir: run_path(&run),
                    images,
                    show,
                    backend,
                },
            )??;
            Ok(())
        }
        Command::Summary { experiment } => {
            let config = match load_experiment(&experiment)? {
                Experiment::Training(config) => config,
                Experiment::Lesson(_) => {
                    anyhow::bail!("{experiment} is a lesson: it has no single model to summarise")
                }
                Experiment::Ensemble(e) => anyhow::bail!(
                    "{experiment} is an ensemble: summarise its members ({})",
                    e.members
                        .iter()
                        .map(|m| m.experiment.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let device = Default::default();
            let net = build_net::<NdArray>(&config.model, &device);
            print_summary(
                &format!("{} ({})", config.name, describe(&config.model)),
                &net,
            );
            Ok(())
        }
        Command::Data {
            dataset,
            mnist_dir,
            fashion_dir,
        } => {
            if dataset != DatasetArg::FashionMnist {
                dlsuite::inspect::inspect(Kind::Mnist, mnist_dir)?;
            }
            if dataset != DatasetArg::Mnist {
                dlsuite::inspect::inspect(Kind::FashionMnist, fashion_dir)?;
            }
            Ok(())
        }
    }
}

/// A run folder, or an experiment name standing for artifacts/<name>.
fn run_path(run: &str) -> PathBuf {
    let path = PathBuf::from(run);
    if path.is_dir() || run.contains('/') {
        path
    } else {
        default_run_dir(run)
    }
}

//! `dlsuite serve`: a local web server with a page to draw digits for a
//! trained model, the runs' figures and the report, and `/api/predict`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::Context;
use burn::tensor::activation::softmax;
use dlsuite_data::idx::PIXELS;
use dlsuite_data::ImageBatcher;
use dlsuite_speed::{Tuned, TunedAutodiff};
use dlsuite_web::{Catalog, ClassifyError, RunCard};

use crate::backend::{dispatch, BackendChoice, OnBackend};
use crate::commands::BACKEND_HELP;
use crate::run_dir::{load_run, read_run_config, read_summary, ARTIFACTS_DIR};

#[derive(clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The address to listen on. The default serves this machine only;
    /// 0.0.0.0 (or another address of this machine) opens the server to
    /// every network it is on, with no password: anyone who can reach it can
    /// use it.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The folder of run folders to show and classify with.
    #[arg(long, default_value = ARTIFACTS_DIR)]
    artifacts: PathBuf,
    /// Where the models classify.
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
}

impl ServeArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let address = SocketAddr::new(self.host, self.port);
        let listener = TcpListener::bind(address).with_context(|| {
            format!("cannot listen on {address} (pick another port with --port)")
        })?;
        if !self.artifacts.is_dir() {
            eprintln!(
                "warning: {} does not exist yet: no runs to show until one is trained (dlsuite train mnist-cnn)",
                self.artifacts.display()
            );
        }
        println!(
            "serving http://{address}/ : draw a digit at /, the runs at /runs, the report at /report (runs from {}); Ctrl-C stops it",
            self.artifacts.display()
        );
        dispatch(
            self.backend,
            ServeJob {
                listener,
                artifacts: self.artifacts,
            },
        )?
    }
}

/// Serves until the process ends.
pub struct ServeJob {
    pub listener: TcpListener,
    pub artifacts: PathBuf,
}

impl OnBackend for ServeJob {
    type Output = anyhow::Result<()>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<()> {
        let catalog = RunCatalog::<B::InnerBackend>::new(self.artifacts.clone(), device);
        let router = dlsuite_web::router(Arc::new(catalog), self.artifacts);
        dlsuite_web::serve(self.listener, router).context("the web server stopped")
    }
}

/// The run folders of an artifacts folder; each classifier's model is
/// loaded on its first request into a thread of its own, so that requests
/// to different models run side by side and none holds up the pages.
pub struct RunCatalog<B: Tuned> {
    artifacts: PathBuf,
    device: B::Device,
    workers: Mutex<HashMap<String, Worker>>,
}

/// A model's thread, and the model file it loaded (by modification time):
/// a run trained again gets a fresh worker.
struct Worker {
    requests: mpsc::Sender<Request>,
    loaded: SystemTime,
}

struct Request {
    pixels: [u8; PIXELS],
    reply: mpsc::Sender<Result<Vec<f32>, String>>,
}

/// The run of the README's main command.
const MAIN_RUN: &str = "mnist-cnn";

/// Files shown first on a run's card, in this order; other pictures follow
/// by name.
const FIRST_PICTURES: [&str; 3] = ["curves.png", "confusion.png", "misclassified.png"];

/// The JSON files that say what a run that classifies no images found.
const OTHER_SUMMARIES: [&str; 5] = [
    "lesson.json",
    "autoencoder.json",
    "gan.json",
    "sequence.json",
    "ensemble.json",
];

impl<B: Tuned> RunCatalog<B> {
    pub fn new(artifacts: PathBuf, device: B::Device) -> Self {
        RunCatalog {
            artifacts,
            device,
            workers: Mutex::new(HashMap::new()),
        }
    }

    fn card(&self, dir: &Path, name: String) -> Option<RunCard> {
        let pictures = pictures(dir);
        let description = read_json(&dir.join("config.json"))
            .and_then(|c| c.get("description")?.as_str().map(String::from))
            .unwrap_or_default();
        if let Ok(summary) = read_summary(dir) {
            let facts = vec![
                ("dataset".into(), summary.dataset.clone()),
                (
                    "test accuracy".into(),
                    format!("{:.2}%", summary.test_accuracy),
                ),
                ("epochs".into(), summary.epochs.to_string()),
                (
                    "time".into(),
                    format!(
                        "{:.1} s ({:.1} s per epoch)",
                        summary.wall_seconds, summary.seconds_per_epoch
                    ),
                ),
                ("backend".into(), summary.backend.clone()),
                ("parameters".into(), summary.parameters.to_string()),
                ("revision".into(), summary.git_revision.clone()),
            ];
            // Offered for drawing only with a model to draw for.
            let classes = read_run_config(dir)
                .ok()
                .filter(|_| dir.join("model.mpk").is_file())
                .map(|config| {
                    let names = config.dataset.kind().class_names();
                    names.iter().map(|c| c.to_string()).collect()
                });
            return Some(RunCard {
                name,
                description,
                facts,
                pictures,
                classes,
            });
        }
        // Another kind of run: the plain values of its summary file.
        let summary = OTHER_SUMMARIES
            .iter()
            .find_map(|file| read_json(&dir.join(file)))?;
        let facts = summary
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| {
                let shown = match value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((key.replace('_', " "), shown))
            })
            .collect();
        Some(RunCard {
            name,
            description,
            facts,
            pictures,
            classes: None,
        })
    }

    /// The worker of `run`'s model, started if there is none for the model
    /// file as it is now.
    fn worker(&self, run: &str) -> Result<mpsc::Sender<Request>, ClassifyError> {
        let unknown = || ClassifyError::UnknownRun(run.to_string());
        if !plain_name(run) {
            return Err(unknown());
        }
        let dir = self.artifacts.join(run);
        let loaded = std::fs::metadata(dir.join("model.mpk"))
            .and_then(|m| m.modified())
            .map_err(|_| unknown())?;
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(worker) = workers.get(run) {
            if worker.loaded == loaded {
                return Ok(worker.requests.clone());
            }
        }
        let (requests, queue) = mpsc::channel::<Request>();
        let device = self.device.clone();
        std::thread::Builder::new()
            .name(format!("model {run}"))
            .spawn(move || answer::<B>(&dir, &device, queue))
            .map_err(|e| ClassifyError::Model {
                run: run.to_string(),
                reason: format!("cannot start its thread: {e}"),
            })?;
        workers.insert(
            run.to_string(),
            Worker {
                requests: requests.clone(),
                loaded,
            },
        );
        Ok(requests)
    }
}

/// A model's thread: loads the run, then answers requests until the
/// catalog drops the worker. A run that cannot be loaded answers each
/// request with why.
fn answer<B: Tuned>(dir: &Path, device: &B::Device, queue: mpsc::Receiver<Request>) {
    let loaded = load_run::<B>(dir, device).map_err(|e| format!("{e:#}"));
    let loaded = loaded.map(|(config, net)| {
        let batcher = ImageBatcher::grid(config.dataset.kind().normalization());
        (batcher, net)
    });
    for request in queue {
        let reply = match &loaded {
            Err(reason) => Err(reason.clone()),
            Ok((batcher, net)) => {
                let logits = net.forward(batcher.images::<B>(&request.pixels, device));
                softmax(logits, 1)
                    .into_data()
                    .convert::<f32>()
                    .to_vec::<f32>()
                    .map_err(|e| format!("cannot read its output: {e:?}"))
            }
        };
        let _ = request.reply.send(reply);
    }
}

impl<B: Tuned> Catalog for RunCatalog<B> {
    fn runs(&self) -> Vec<RunCard> {
        let Ok(entries) = std::fs::read_dir(&self.artifacts) else {
            return Vec::new();
        };
        let mut dirs: Vec<(String, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
            .filter(|(name, _)| !name.starts_with('.'))
            .collect();
        // The README's main model first: the page and the API pick it when
        // asked for no run in particular.
        dirs.sort_by_key(|(name, _)| (name != MAIN_RUN, name.clone()));
        dirs.into_iter()
            .filter_map(|(name, dir)| self.card(&dir, name))
            .collect()
    }

    fn run(&self, name: &str) -> Option<RunCard> {
        if !plain_name(name) {
            return None;
        }
        let dir = self.artifacts.join(name);
        dir.is_dir().then(|| self.card(&dir, name.to_string()))?
    }

    fn classify(&self, run: &str, pixels: &[u8; PIXELS]) -> Result<Vec<f32>, ClassifyError> {
        let failed = |reason: String| ClassifyError::Model {
            run: run.to_string(),
            reason,
        };
        let requests = self.worker(run)?;
        let (reply, answer) = mpsc::channel();
        let request = Request {
            pixels: *pixels,
            reply,
        };
        // A send to a stopped worker drops the request, and with it the
        // reply channel: the receive below tells.
        let _ = requests.send(request);
        match answer.recv() {
            Ok(Ok(probabilities)) => Ok(probabilities),
            Ok(Err(reason)) => Err(failed(reason)),
            Err(_) => {
                // Its thread stopped (a panic in the model): the next request
                // starts a fresh one.
                self.workers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(run);
                Err(failed("its model stopped while classifying".into()))
            }
        }
    }
}

/// A run folder's own name: nothing that reaches outside the artifacts
/// folder or into a hidden one.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\'])
}

fn pictures(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".png"))
        .collect();
    names.sort_by_key(|n| {
        let rank = FIRST_PICTURES
            .iter()
            .position(|f| f == n)
            .unwrap_or(FIRST_PICTURES.len());
        (rank, n.clone())
    });
    names
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

//! `dlsuite predict RUN IMAGE...`: classify picture files with a run's
//! model.

use std::collections::HashSet;
use std::path::PathBuf;

use burn::tensor::activation::softmax;
use dlsuite_data::picture::load_picture;
use dlsuite_data::ImageBatcher;
use dlsuite_plots::prediction_card;
use dlsuite_speed::TunedAutodiff;

use crate::backend::{dispatch, BackendChoice, OnBackend};
use crate::commands::BACKEND_HELP;
use crate::run_dir::{load_run, run_path};

#[derive(clap::Args)]
pub struct PredictArgs {
    /// The run folder (artifacts/<name>) or an experiment name.
    run: String,
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
    /// Also draw, into this folder, each input as the model saw it (28×28)
    /// with its class probabilities.
    #[arg(long)]
    show: Option<PathBuf>,
}

impl PredictArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let job = PredictJob {
            run_dir: run_path(&self.run),
            images: self.images,
            show: self.show,
        };
        let outcome = dispatch(self.backend, job)??;
        if !outcome.failed.is_empty() {
            anyhow::bail!(
                "{} of {} pictures could not be classified: {}",
                outcome.failed.len(),
                outcome.failed.len() + outcome.predictions.len(),
                outcome
                    .failed
                    .iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(())
    }
}

/// What classifying a list of files gave: a bad file is reported and
/// skipped, the rest are classified.
#[derive(Clone, Debug)]
pub struct PredictOutcome {
    pub predictions: Vec<Prediction>,
    /// Each file that could not be read as a picture, and why.
    pub failed: Vec<(PathBuf, String)>,
    /// Pictures classified though they look blank.
    pub blank: Vec<PathBuf>,
}

/// Fewer inked pixels than this, of 784, and the picture is as good as
/// blank: whatever class comes out says nothing about it.
const MIN_INKED_PIXELS: usize = 8;

/// A pixel counts as ink from this value up (0 background, 255 full ink).
const INK_LEVEL: u8 = 64;

/// One picture's three most likely classes.
#[derive(Clone, Debug)]
pub struct Prediction {
    pub path: PathBuf,
    pub top: Vec<(usize, f32)>,
}

/// Classifies picture files with a run's model.
pub struct PredictJob {
    pub run_dir: PathBuf,
    pub images: Vec<PathBuf>,
    /// Folder for a picture per input: the 28×28 image the model saw and
    /// its class probabilities.
    pub show: Option<PathBuf>,
}

impl OnBackend for PredictJob {
    type Output = anyhow::Result<PredictOutcome>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<PredictOutcome> {
        let (config, net) = load_run::<B::InnerBackend>(&self.run_dir, &device)?;
        let kind = config.dataset.kind();
        let names = kind.class_names();
        let batcher = ImageBatcher::grid(kind.normalization());
        let mut out = Vec::new();
        let mut failed = Vec::new();
        let mut blank = Vec::new();
        let mut cards = HashSet::new();
        for path in &self.images {
            let pixels = match load_picture(path) {
                Ok(pixels) => pixels,
                Err(err) => {
                    eprintln!("error: {err}");
                    failed.push((path.clone(), err.to_string()));
                    continue;
                }
            };
            let inked = pixels.iter().filter(|&&v| v >= INK_LEVEL).count();
            if inked < MIN_INKED_PIXELS {
                blank.push(path.clone());
                eprintln!(
                    "warning: {}: looks blank ({inked} of {} pixels inked once scaled to 28×28): the classes below are a guess, not a reading",
                    path.display(),
                    pixels.len()
                );
            }
            let probs = softmax(
                net.forward(batcher.images::<B::InnerBackend>(&pixels, &device)),
                1,
            );
            let probs: Vec<f32> = probs
                .into_data()
                .convert::<f32>()
                .to_vec()
                .unwrap_or_default();
            let mut ranked: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            ranked.truncate(3);
            let shown: Vec<String> = ranked
                .iter()
                .map(|(c, p)| format!("{} {:.1}%", names[*c], 100.0 * p))
                .collect();
            println!("{}: {}", path.display(), shown.join(", "));
            if let Some(dir) = &self.show {
                let stem = path
                    .file_stem()
                    .map_or("image".into(), |s| s.to_string_lossy().into_owned());
                // Two inputs of one name (a/1.png, b/1.png) get a card each.
                let mut n = 1;
                let card = loop {
                    let card = match n {
                        1 => dir.join(format!("{stem}-seen.png")),
                        n => dir.join(format!("{stem}-{n}-seen.png")),
                    };
                    if cards.insert(card.clone()) {
                        break card;
                    }
                    n += 1;
                };
                let ink: Vec<f32> = pixels.iter().map(|&v| v as f32 / 255.0).collect();
                prediction_card(
                    &card,
                    &format!("{}: {}", path.display(), shown.join(", ")),
                    &ink,
                    &probs,
                    &names,
                )?;
                println!("  as the model saw it: {}", card.display());
            }
            out.push(Prediction {
                path: path.clone(),
                top: ranked,
            });
        }
        Ok(PredictOutcome {
            predictions: out,
            failed,
            blank,
        })
    }
}

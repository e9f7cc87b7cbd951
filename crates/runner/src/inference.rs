//! Using a trained run: `eval` reproduces its test accuracy, `predict`
//! classifies picture files, `summary` counts parameters layer by layer.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use burn::tensor::backend::AutodiffBackend;
use dlsuite_data::picture::load_picture;
use dlsuite_data::{ImageBatcher, Locator};
use dlsuite_plots::prediction_card;

use crate::backend::{BackendChoice, OnBackend};
use crate::pictures::draw_run_pictures;
use crate::run::{evaluate, load_run, read_metrics, read_summary, report_pictures, Evaluation};

/// Reloads a run's model and measures it on the test set again.
pub struct EvalJob {
    pub run_dir: PathBuf,
    pub data_dir: Option<PathBuf>,
    /// The backend it runs on, to pick its fastest way to compute the net.
    pub backend: BackendChoice,
}

impl OnBackend for EvalJob {
    type Output = anyhow::Result<Evaluation>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> anyhow::Result<Evaluation> {
        let (config, net) = load_run::<B::InnerBackend>(&self.run_dir, &device)?;
        let net = net.tuned_for(self.backend);
        let kind = config.dataset.kind();
        let (_, test) = Locator::new(kind, self.data_dir).load()?;
        let evaluation = evaluate(&net, &test, kind, &device);
        let recorded = read_summary(&self.run_dir).ok();
        print!(
            "{}: test accuracy {:.2}% (loss {:.4}) on {} {} images",
            config.name,
            evaluation.accuracy,
            evaluation.loss,
            test.len(),
            kind.name()
        );
        match recorded {
            Some(s) => println!("; the run recorded {:.2}%", s.test_accuracy),
            None => println!(),
        }
        let epochs = read_metrics(&self.run_dir).unwrap_or_default();
        report_pictures(draw_run_pictures(
            &self.run_dir,
            &config.name,
            kind,
            &net,
            &test,
            &evaluation.predictions,
            &epochs,
        ));
        Ok(evaluation)
    }
}

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
    /// The backend it runs on, to pick its fastest way to compute the net.
    pub backend: BackendChoice,
}

impl OnBackend for PredictJob {
    type Output = anyhow::Result<Vec<Prediction>>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> anyhow::Result<Vec<Prediction>> {
        let (config, net) = load_run::<B::InnerBackend>(&self.run_dir, &device)?;
        let net = net.tuned_for(self.backend);
        let kind = config.dataset.kind();
        let names = kind.class_names();
        let batcher = ImageBatcher::grid(kind.normalization());
        let mut out = Vec::new();
        for path in &self.images {
            let pixels = load_picture(path)?;
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
                let card = dir.join(format!("{stem}-seen.png"));
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
        Ok(out)
    }
}

/// Counts parameters by the module that holds them.
#[derive(Default)]
struct Counter {
    path: Vec<String>,
    layers: Vec<(String, usize)>,
}

impl<B: Backend> ModuleVisitor<B> for Counter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // The innermost name is the tensor's own (weight, bias); the layer is above it.
        let depth = self.path.len().saturating_sub(1);
        let layer = self.path[..depth].join(".");
        let n = param.val().shape().num_elements();
        match self.layers.last_mut() {
            Some((name, count)) if *name == layer => *count += n,
            _ => self.layers.push((layer, n)),
        }
    }
}

/// Prints each layer's parameter count and the total; returns the total.
pub fn print_summary<B: Backend, M: Module<B>>(title: &str, model: &M) -> usize {
    let mut counter = Counter::default();
    model.visit(&mut counter);
    println!("{title}");
    let width = counter
        .layers
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(5)
        .max(5);
    for (name, count) in &counter.layers {
        println!("  {name:<width$}  {count:>10}");
    }
    let total: usize = counter.layers.iter().map(|(_, c)| c).sum();
    println!("  {:<width$}  {total:>10}", "total");
    total
}

/// Where run folders go by default, relative to the repository root.
pub const ARTIFACTS_DIR: &str = "artifacts";

/// Where an experiment's run folder is by default.
pub fn default_run_dir(name: &str) -> PathBuf {
    Path::new(ARTIFACTS_DIR).join(name)
}

//! `dlsuite import FILE --experiment NAME`: PyTorch-trained weights loaded
//! into the experiment's net, saved as a run folder and scored on the test
//! set, so that `eval`, `predict` and `serve` use it like a trained run.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use dlsuite_data::Locator;
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::Recorder;

use crate::artifacts::{git_revision, write_json};
use crate::backend::{dispatch, BackendChoice, OnBackend};
use crate::commands::BACKEND_HELP;
use crate::config::RunConfig;
use crate::evaluate::evaluate;
use crate::experiment::{load_experiment, Experiment};
use crate::net::build_net;
use crate::pictures::{draw_run_pictures, report_pictures};
use crate::portable::{import_weights, TorchNames};
use crate::run_dir::{default_run_dir, RunSummary};
use crate::run_folder::{
    open_run, record_pictures, RunFolderError, RunKind, RunRequest, WriteMode, MARKER_FILE,
};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The weights: a .safetensors file, or PyTorch's .pt/.pth (a state dict).
    file: PathBuf,
    /// The experiment whose net the weights are for (mnist-softmax,
    /// mnist-mlp-homl, mnist-cnn, ...).
    #[arg(long)]
    experiment: String,
    /// Folder for the run (default: artifacts/<experiment>-imported).
    #[arg(long)]
    run_dir: Option<PathBuf>,
    /// Replace the run in the run folder.
    #[arg(long)]
    overwrite: bool,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, value_parser = BackendChoice::parse, default_value = "flex", help = BACKEND_HELP)]
    backend: BackendChoice,
}

impl ImportArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let config = match load_experiment(&self.experiment)? {
            Experiment::Training(config) => config,
            _ => anyhow::bail!(
                "{}: not a classifier's experiment; weights are imported into the nets of [model] experiments",
                self.experiment
            ),
        };
        let run_dir = self
            .run_dir
            .unwrap_or_else(|| default_run_dir(&format!("{}-imported", config.name)));
        let job = ImportJob {
            file: self.file,
            config,
            run_dir,
            data_dir: self.data_dir,
            backend: self.backend,
            mode: if self.overwrite {
                WriteMode::Overwrite
            } else {
                WriteMode::Fresh
            },
        };
        dispatch(self.backend, job)??;
        Ok(())
    }
}

pub struct ImportJob {
    pub file: PathBuf,
    pub config: RunConfig,
    pub run_dir: PathBuf,
    pub data_dir: Option<PathBuf>,
    pub backend: BackendChoice,
    pub mode: WriteMode,
}

impl OnBackend for ImportJob {
    type Output = anyhow::Result<RunSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<RunSummary> {
        let started = Instant::now();
        let config = &self.config;
        let names =
            TorchNames::of(&config.model).with_context(|| format!("experiment {}", config.name))?;
        // The weights first: a file that does not fit touches no folder.
        let mut net = build_net::<B::InnerBackend>(&config.model, &device);
        import_weights(&mut net, &names, &self.file)?;
        let request = RunRequest {
            experiment: config.name.clone(),
            kind: RunKind::Training,
            backend: self.backend.name().into(),
            optimizer_state: None,
            settings: serde_json::to_value(config)?,
        };
        let mut open = open_run(&self.run_dir, &request, self.mode).map_err(|e| match e {
            // `import` has no --resume to offer.
            RunFolderError::HoldsRun { dir, what, .. } => anyhow::anyhow!(
                "{}: holds {what}; add --overwrite to replace it (only the suite's own files go) or choose another --run-dir",
                dir.display()
            ),
            other => other.into(),
        })?;
        let kind = config.dataset.kind();
        let load_started = Instant::now();
        let (_, test_digits) = Locator::new(kind, self.data_dir.clone()).load()?;
        let load_seconds = load_started.elapsed().as_secs_f64();
        write_json(&self.run_dir.join(MARKER_FILE), &open.marker)?;
        write_json(&self.run_dir.join("config.json"), config)?;
        net.clone()
            .save_file(self.run_dir.join("model"), &Recorder::new())
            .with_context(|| format!("{}: cannot save the model", self.run_dir.display()))?;
        let test = evaluate(&net, &test_digits, kind, &device);
        let summary = RunSummary {
            name: config.name.clone(),
            dataset: kind.name().into(),
            backend: self.backend.name().into(),
            test_accuracy: test.accuracy,
            test_loss: test.loss,
            lecture_accuracy: config.lecture_accuracy,
            epochs: 0,
            wall_seconds: started.elapsed().as_secs_f64(),
            seconds_per_epoch: 0.0,
            load_seconds,
            parameters: net.num_params(),
            git_revision: git_revision(),
            kept_epoch: None,
        };
        write_json(&self.run_dir.join("summary.json"), &summary)?;
        let pictures = draw_run_pictures(
            &self.run_dir,
            &config.name,
            kind,
            &net,
            &test_digits,
            &test.predictions,
            &[],
        );
        if let Ok(drawn) = &pictures {
            record_pictures(&self.run_dir, &mut open.marker, drawn)?;
        }
        report_pictures(pictures);
        println!(
            "{}: imported into {} ({}); test accuracy {:.2}% (loss {:.4}) on {} {} images; run in {}",
            self.file.display(),
            config.name,
            names.torch,
            summary.test_accuracy,
            summary.test_loss,
            test_digits.len(),
            kind.name(),
            self.run_dir.display()
        );
        Ok(summary)
    }
}

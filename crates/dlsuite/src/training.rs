//! Training one experiment end to end: data, model, Learner, test accuracy,
//! and the run's artifacts. Every command that trains goes through here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::data::dataset::Dataset;
use burn::module::Module;
use dlsuite_data::augment::RandomShift;
use dlsuite_data::{DigitSet, ImageBatcher, Locator};
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::{fit, remove_leftover_temporaries, FitConfig, Recorder};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{digit_loader, BackendChoice, OnBackend};
use crate::config::RunConfig;
use crate::evaluate::{evaluate, EVAL_BATCH};
use crate::memory::{check_fits, Use};
use crate::net::{build_net, describe, Net};
use crate::pictures::{draw_run_pictures, report_pictures};
use crate::run_dir::{mean_seconds, read_metrics, read_summary, RunSummary};
use crate::run_folder::{
    open_run, record_pictures, RunKind, RunRequest, Start, WriteMode, MARKER_FILE,
};

/// Which images get wrong labels does not depend on the run's seed: runs
/// from several seeds see the same noisy set.
const LABEL_NOISE_SEED: u64 = 0x004e_015e;

/// A training request, ready to be dispatched to a backend.
pub struct TrainJob {
    pub config: RunConfig,
    pub backend: BackendChoice,
    pub data_dir: Option<PathBuf>,
    pub run_dir: PathBuf,
    pub dashboard: bool,
    /// What may be done with a run folder that already holds something.
    pub mode: WriteMode,
}

impl OnBackend for TrainJob {
    type Output = anyhow::Result<RunSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<RunSummary> {
        let started = Instant::now();
        let config = &self.config;
        let kind = config.dataset.kind();
        let t = &config.train;
        check_fits(&config.model, Use::Training)
            .with_context(|| format!("experiment {}", config.name))?;
        let optimizer = B::optimizer::<Net<B>>(&config.optimizer());
        let request = RunRequest {
            experiment: config.name.clone(),
            kind: RunKind::Training,
            backend: self.backend.name().into(),
            optimizer_state: Some(optimizer.state_kind().into()),
            settings: serde_json::to_value(config)?,
        };
        // Before the data is read, so that a refusal comes at once; the lock
        // is held until this job returns.
        let mut open = open_run(&self.run_dir, &request, self.mode)?;
        let resume_from = match &open.start {
            Start::NothingToDo { what } => {
                println!(
                    "{}: holds {what}; nothing left to do (--epochs above the run's trains it further)",
                    self.run_dir.display()
                );
                return read_summary(&self.run_dir);
            }
            Start::Resume { after_epoch } => *after_epoch,
            Start::Fresh => None,
        };
        let resumed = matches!(open.start, Start::Resume { .. });

        let load_started = Instant::now();
        let (train_digits, test_digits) = Locator::new(kind, self.data_dir.clone()).load()?;
        let load_seconds = load_started.elapsed().as_secs_f64();
        let (mut train_set, valid_set) =
            DigitSet::new(Arc::new(train_digits)).split_last(t.validation)?;
        if let Some(limit) = t.limit {
            train_set = train_set.take(limit);
        }
        if t.label_noise > 0.0 {
            train_set = train_set.with_label_noise(t.label_noise, LABEL_NOISE_SEED)?;
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
            } + &match t.label_noise {
                0.0 => String::new(),
                f => format!(", {:.0}% of them wrongly labelled", 100.0 * f),
            },
            valid_set.len(),
            test_digits.len(),
            load_seconds,
            self.backend.name()
        );

        // Temporary files of writes a kill cut short.
        for folder in [self.run_dir.clone(), self.run_dir.join("checkpoint")] {
            remove_leftover_temporaries(&folder);
        }
        write_json(&self.run_dir.join(MARKER_FILE), &open.marker)?;
        write_json(&self.run_dir.join("config.json"), config)?;
        match resume_from {
            Some(epoch) => println!("resuming after epoch {epoch}"),
            None if resumed => println!("no epoch had finished: starting from the beginning"),
            None => {}
        }

        B::seed(&device, t.seed);
        let net: Net<B> = build_net(&config.model, &device);
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
        let train_loader = digit_loader::<B, 4>(
            train_set,
            batcher.clone().with_shift(shift),
            t.batch_size,
            Some(t.seed),
            Some(self.backend),
            &device,
        );
        // Batched on the training thread: on wgpu, 1000-image batches made
        // on a loader thread reached the model wrong (validation loss rose
        // while the test accuracy of the same model was right).
        let valid_loader =
            digit_loader::<B::InnerBackend, 4>(valid_set, batcher, EVAL_BATCH, None, None, &device);
        let fit_config = FitConfig {
            epochs: t.epochs,
            schedule: config.schedule(t.epochs * steps_per_epoch),
            patience: t.patience,
            dashboard: self.dashboard,
            resume_from,
            read_every: B::READ_EVERY,
        };
        let result = fit(
            net,
            optimizer,
            &fit_config,
            train_loader,
            valid_loader,
            &self.run_dir,
        )?;
        let model = result.model;
        let kept_epoch = t.patience.is_some().then_some(result.kept_epoch);

        model
            .clone()
            .save_file(self.run_dir.join("model"), &Recorder::new())
            .with_context(|| {
                format!("{}: cannot save the trained model", self.run_dir.display())
            })?;

        let test = evaluate(&model, &test_digits, kind, &device);
        // A resumed run's history starts before this process: take it whole
        // from metrics.jsonl.
        let epochs = if resumed {
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
            kept_epoch,
        };
        write_json(&self.run_dir.join("summary.json"), &summary)?;
        let pictures = draw_run_pictures(
            &self.run_dir,
            &config.name,
            kind,
            &model,
            &test_digits,
            &test.predictions,
            &epochs,
        );
        if let Ok(drawn) = &pictures {
            record_pictures(&self.run_dir, &mut open.marker, drawn)?;
        }
        report_pictures(pictures);
        if let Some(kept) = kept_epoch.filter(|&k| k != summary.epochs) {
            println!("early stopping: keeping epoch {kept}'s weights, the lowest validation loss");
        }
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

//! Training one experiment end to end: data, model, Learner, test accuracy,
//! and the run's artifacts. Every command that trains goes through here.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::module::Module;
use dlsuite_data::augment::RandomShift;
use dlsuite_data::{DigitSet, ImageBatcher, Locator};
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::{fit, FitConfig, Recorder};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{BackendChoice, OnBackend};
use crate::config::RunConfig;
use crate::evaluate::{evaluate, EVAL_BATCH};
use crate::net::{build_net, describe, Net};
use crate::pictures::{draw_run_pictures, report_pictures};
use crate::run_dir::{last_checkpoint, mean_seconds, prepare_run_dir, read_metrics, RunSummary};

/// A training request, ready to be dispatched to a backend.
pub struct TrainJob {
    pub config: RunConfig,
    pub backend: BackendChoice,
    pub data_dir: Option<PathBuf>,
    pub run_dir: PathBuf,
    pub dashboard: bool,
    pub resume: bool,
}

impl OnBackend for TrainJob {
    type Output = anyhow::Result<RunSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<RunSummary> {
        let started = Instant::now();
        let config = &self.config;
        let kind = config.dataset.kind();
        let t = &config.train;

        let load_started = Instant::now();
        let (train_digits, test_digits) = Locator::new(kind, self.data_dir.clone()).load()?;
        let load_seconds = load_started.elapsed().as_secs_f64();
        let (mut train_set, valid_set) =
            DigitSet::new(Arc::new(train_digits)).split_last(t.validation)?;
        if let Some(limit) = t.limit {
            train_set = train_set.take(limit);
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
            },
            valid_set.len(),
            test_digits.len(),
            load_seconds,
            self.backend.name()
        );

        prepare_run_dir(&self.run_dir, self.resume)?;
        write_json(&self.run_dir.join("config.json"), config)?;
        let resume_from = if self.resume {
            last_checkpoint(&self.run_dir)
        } else {
            None
        };
        if let Some(epoch) = resume_from {
            println!("resuming after epoch {epoch}");
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
        let train_loader = DataLoaderBuilder::new(batcher.clone().with_shift(shift))
            .batch_size(t.batch_size)
            .shuffle(t.seed)
            .num_workers(1)
            .set_device(device.clone())
            .build(train_set);
        let valid_loader = DataLoaderBuilder::new(batcher)
            .batch_size(EVAL_BATCH)
            // Batched on the training thread: on wgpu, 1000-image batches made
            // on a loader thread reached the model wrong (validation loss rose
            // while the test accuracy of the same model was right).
            .set_device(device.clone())
            .build(valid_set);
        let optimizer = B::optimizer::<Net<B>>(&config.optimizer());
        let fit_config = FitConfig {
            epochs: t.epochs,
            schedule: config.schedule(t.epochs * steps_per_epoch),
            patience: t.patience,
            dashboard: self.dashboard,
            resume_from,
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

        model
            .clone()
            .save_file(self.run_dir.join("model"), &Recorder::new())
            .context("saving the trained model")?;

        let test = evaluate(&model, &test_digits, kind, &device);
        // A resumed run's history starts before this process: take it whole
        // from metrics.jsonl.
        let epochs = if self.resume {
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
        };
        write_json(&self.run_dir.join("summary.json"), &summary)?;
        report_pictures(draw_run_pictures(
            &self.run_dir,
            &config.name,
            kind,
            &model,
            &test_digits,
            &test.predictions,
            &epochs,
        ));
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

//! Autoencoder experiments (an `[autoencoder]` table): one trained on MNIST
//! through the Learner, its reconstruction error on the test set, and its
//! pictures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::prelude::*;
use dlsuite_autoencoder::{
    decode, encode_set, image_batcher, Autoencoder, AutoencoderConfig, Layout,
};
use dlsuite_data::idx::PIXELS;
use dlsuite_data::{DigitSet, Digits, Kind, Locator};
use dlsuite_plots::{class_scatter, curves, digit_grid, image_mosaic, EpochCurve, Tile};
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::{
    fit_regression, remove_leftover_temporaries, EpochMetrics, FitConfig, Recorder,
};
use serde::{Deserialize, Serialize};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{digit_loader, BackendChoice, OnBackend};
use crate::config::{check_name, invalid, ConfigError, TrainSpec};
use crate::evaluate::EVAL_BATCH;
use crate::pictures::report_pictures;
use crate::run_dir::mean_seconds;
use crate::run_folder::{open_run, record_pictures, RunKind, RunRequest, WriteMode, MARKER_FILE};

/// What a finished autoencoder run reports, in its folder.
pub const SUMMARY_FILE: &str = "autoencoder.json";

/// Steps per side of the grid decoded from a sweep of a 2-D code.
const SWEEP_SIDE: usize = 15;

/// An autoencoder's experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderExperiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the lecture shows, in words: the report's "lecture" column.
    pub lecture: String,
    pub autoencoder: AutoencoderSpec,
    pub train: TrainSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderSpec {
    pub layout: Layout,
    /// The code's width.
    pub code: usize,
    /// The check: the test images' mean squared reconstruction error per
    /// pixel (pixels in [0, 1]) must be at most this.
    pub max_test_mse: f64,
}

impl AutoencoderExperiment {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        self.train.validate()?;
        let a = &self.autoencoder;
        if !(1..=PIXELS).contains(&a.code) {
            return invalid(
                "autoencoder.code",
                a.code.to_string(),
                "must be 1 to 784 values",
            );
        }
        if !(a.max_test_mse.is_finite() && a.max_test_mse > 0.0 && a.max_test_mse < 1.0) {
            return invalid(
                "autoencoder.max_test_mse",
                a.max_test_mse.to_string(),
                "must be between 0 and 1 (pixels are in [0, 1])",
            );
        }
        if self.train.shift > 0 {
            return invalid(
                "train.shift",
                self.train.shift.to_string(),
                "does not apply: an autoencoder rebuilds the image it is given",
            );
        }
        if self.train.label_noise > 0.0 {
            return invalid(
                "train.label_noise",
                self.train.label_noise.to_string(),
                "does not apply: an autoencoder reads no labels",
            );
        }
        Ok(())
    }

    pub fn model_config(&self) -> AutoencoderConfig {
        AutoencoderConfig::new(self.autoencoder.layout).with_code(self.autoencoder.code)
    }
}

/// `autoencoder.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutoencoderSummary {
    pub name: String,
    pub lecture: String,
    pub layout: Layout,
    pub code: usize,
    pub test_mse: f64,
    pub max_test_mse: f64,
    pub as_lectured: bool,
    pub epochs: usize,
    pub seconds_per_epoch: f64,
    pub wall_seconds: f64,
    pub parameters: usize,
    pub backend: String,
    pub git_revision: String,
}

/// Reads a finished autoencoder run's summary.
pub fn read_autoencoder_summary(dir: &Path) -> anyhow::Result<AutoencoderSummary> {
    crate::artifacts::read_run_json(dir, SUMMARY_FILE, "an autoencoder summary")
}

pub struct AutoencoderJob {
    pub experiment: AutoencoderExperiment,
    pub backend: BackendChoice,
    /// MNIST's folder (found as training runs find it when absent).
    pub data_dir: Option<PathBuf>,
    pub run_dir: PathBuf,
    pub dashboard: bool,
    /// `Fresh` or `Overwrite`: an autoencoder run is not resumed.
    pub mode: WriteMode,
}

impl OnBackend for AutoencoderJob {
    type Output = anyhow::Result<AutoencoderSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<AutoencoderSummary> {
        let started = Instant::now();
        let e = &self.experiment;
        let t = &e.train;
        let request = RunRequest {
            experiment: e.name.clone(),
            kind: RunKind::Autoencoder,
            backend: self.backend.name().into(),
            optimizer_state: None,
            settings: serde_json::to_value(e)?,
        };
        // Data first: a missing dataset leaves no half-made run folder.
        let (train_digits, test) = Locator::new(Kind::Mnist, self.data_dir.clone()).load()?;
        let mut open = open_run(&self.run_dir, &request, self.mode)?;
        for folder in [self.run_dir.clone(), self.run_dir.join("checkpoint")] {
            remove_leftover_temporaries(&folder);
        }
        write_json(&self.run_dir.join(MARKER_FILE), &open.marker)?;
        write_json(&self.run_dir.join("config.json"), e)?;

        let (mut train_set, valid_set) =
            DigitSet::new(Arc::new(train_digits)).split_last(t.validation)?;
        if let Some(limit) = t.limit {
            train_set = train_set.take(limit);
        }
        println!(
            "{}: {:?} autoencoder, {}-value code, on MNIST ({} train, {} validation, {} test images), backend {}",
            e.name,
            e.autoencoder.layout,
            e.autoencoder.code,
            train_set.len(),
            valid_set.len(),
            test.len(),
            self.backend.name()
        );
        B::seed(&device, t.seed);
        let model: Autoencoder<B> = e.model_config().init(&device);
        let parameters = model.num_params();
        let steps_per_epoch = train_set.len().div_ceil(t.batch_size);
        let train_loader = digit_loader::<B, 4>(
            train_set,
            image_batcher(),
            t.batch_size,
            Some(t.seed),
            Some(self.backend),
            &device,
        );
        // Batched on the training thread, as the classifiers' validation is.
        let valid_loader = digit_loader::<B::InnerBackend, 4>(
            valid_set,
            image_batcher(),
            EVAL_BATCH,
            None,
            None,
            &device,
        );
        let fit_config = FitConfig {
            epochs: t.epochs,
            schedule: t.schedule(t.epochs * steps_per_epoch),
            patience: t.patience,
            dashboard: self.dashboard,
            resume_from: None,
            read_every: B::READ_EVERY,
        };
        let optimizer = B::optimizer::<Autoencoder<B>>(&t.optimizer());
        let result = fit_regression(
            model,
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
            .with_context(|| {
                format!("{}: cannot save the trained model", self.run_dir.display())
            })?;

        let coded = encode_set(&model, test.pixels(), EVAL_BATCH, 0, &device);
        let summary = AutoencoderSummary {
            name: e.name.clone(),
            lecture: e.lecture.clone(),
            layout: e.autoencoder.layout,
            code: e.autoencoder.code,
            test_mse: coded.mse,
            max_test_mse: e.autoencoder.max_test_mse,
            as_lectured: coded.mse <= e.autoencoder.max_test_mse,
            epochs: result.epochs.len(),
            seconds_per_epoch: mean_seconds(&result.epochs),
            wall_seconds: started.elapsed().as_secs_f64(),
            parameters,
            backend: self.backend.name().into(),
            git_revision: git_revision(),
        };
        write_json(&self.run_dir.join(SUMMARY_FILE), &summary)?;
        let pictures = draw_pictures(
            &self.run_dir,
            &e.name,
            &model,
            &test,
            &coded.codes,
            &result.epochs,
            &device,
        );
        if let Ok(drawn) = &pictures {
            record_pictures(&self.run_dir, &mut open.marker, drawn)?;
        }
        report_pictures(pictures);
        println!(
            "test reconstruction MSE {:.4} (at most {}: {}) after {} epochs, {:.1} s/epoch, {} parameters; artifacts in {}",
            summary.test_mse,
            summary.max_test_mse,
            crate::artifacts::verdict_words(summary.as_lectured),
            summary.epochs,
            summary.seconds_per_epoch,
            summary.parameters,
            self.run_dir.display()
        );
        Ok(summary)
    }
}

/// The first two test images of each digit, above their reconstructions;
/// for a 2-D code also the test set's codes by digit and a grid decoded
/// from a sweep over them; and the loss curves.
fn draw_pictures<B: Backend>(
    dir: &Path,
    name: &str,
    model: &Autoencoder<B>,
    test: &Digits,
    codes: &[f32],
    epochs: &[EpochMetrics],
    device: &B::Device,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if !epochs.is_empty() {
        let path = dir.join("curves.png");
        let points: Vec<EpochCurve> = epochs
            .iter()
            .map(|e| EpochCurve {
                epoch: e.epoch,
                train_loss: e.train_loss as f32,
                valid_loss: e.valid_loss as f32,
                train_accuracy: None,
                valid_accuracy: None,
            })
            .collect();
        curves(
            &path,
            &format!("{name}: reconstruction MSE per epoch"),
            &points,
        )?;
        written.push(path);
    }

    let mut shown = Vec::new();
    for nth in 0..2 {
        for digit in 0..10u8 {
            let mut of_digit = (0..test.len()).filter(|&i| test.label(i) == digit);
            shown.extend(of_digit.nth(nth));
        }
    }
    if !shown.is_empty() {
        let pixels: Vec<u8> = shown.iter().flat_map(|&i| test.image(i).to_vec()).collect();
        let rebuilt = encode_set(model, &pixels, shown.len(), shown.len(), device).kept;
        let original =
            |i: usize| -> Vec<f32> { test.image(i).iter().map(|&v| v as f32 / 255.0).collect() };
        let mut tiles = Vec::new();
        for (row_images, row_rebuilt) in shown.chunks(10).zip(rebuilt.chunks(10)) {
            for &i in row_images {
                tiles.push(Tile {
                    pixels: original(i),
                    signed: false,
                    caption: format!("digit {}", test.label(i)),
                });
            }
            for (&i, r) in row_images.iter().zip(row_rebuilt) {
                let mse = original(i)
                    .iter()
                    .zip(r)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f32>()
                    / PIXELS as f32;
                tiles.push(Tile {
                    pixels: r.clone(),
                    signed: false,
                    caption: format!("MSE {mse:.3}"),
                });
            }
        }
        let path = dir.join("reconstructions.png");
        digit_grid(
            &path,
            "test images (rows 1, 3) and their reconstructions (rows 2, 4)",
            &tiles,
            10,
            3,
        )?;
        written.push(path);
    }

    if model.code_width() == 2 && !codes.is_empty() {
        let points: Vec<[f32; 2]> = codes.chunks(2).map(|c| [c[0], c[1]]).collect();
        let path = dir.join("codes.png");
        let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        class_scatter(
            &path,
            &format!("{name}: the 2-D code of each test image, by digit"),
            &points,
            test.labels(),
            &digits,
        )?;
        written.push(path);

        let (xs, ys) = (sweep_range(&points, 0), sweep_range(&points, 1));
        let step =
            |(lo, hi): (f32, f32), k: usize| lo + (hi - lo) * k as f32 / (SWEEP_SIDE - 1) as f32;
        // Top row is the highest second value, as on the scatter.
        let grid: Vec<f32> = (0..SWEEP_SIDE)
            .flat_map(|row| {
                (0..SWEEP_SIDE).flat_map(move |col| [step(xs, col), step(ys, SWEEP_SIDE - 1 - row)])
            })
            .collect();
        let images = decode(model, &grid, device);
        let path = dir.join("sweep.png");
        image_mosaic(
            &path,
            &format!(
                "decoded from a {SWEEP_SIDE}×{SWEEP_SIDE} sweep: code 1 from {:.1} to {:.1} (left to right), code 2 from {:.1} to {:.1} (bottom to top)",
                xs.0, xs.1, ys.0, ys.1
            ),
            &images,
            SWEEP_SIDE,
            2,
        )?;
        written.push(path);
    }
    Ok(written)
}

/// From the 2nd to the 98th percentile of one axis of the codes: the
/// sweep stays where test images lie.
fn sweep_range(points: &[[f32; 2]], axis: usize) -> (f32, f32) {
    let mut values: Vec<f32> = points
        .iter()
        .map(|p| p[axis])
        .filter(|v| v.is_finite())
        .collect();
    if values.is_empty() {
        return (-1.0, 1.0);
    }
    values.sort_by(f32::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.02), at(0.98))
}

//! A training run's pictures: loss and accuracy curves, the confusion
//! matrix, a grid of misclassified test images and, for softmax regression,
//! the ten weight images.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use dlsuite_data::idx::PIXELS;
use dlsuite_data::{Digits, Kind};
use dlsuite_plots::{confusion_matrix, curves, digit_grid, EpochCurve, Tile};
use dlsuite_train::EpochMetrics;

use crate::net::Net;

/// Misclassified test images shown, at most.
const MISCLASSIFIED_SHOWN: usize = 40;

/// Draws a classifier's loss and accuracy per epoch into `dir/curves.png`;
/// nothing when no epoch finished.
pub fn draw_curves(
    dir: &Path,
    title: &str,
    epochs: &[EpochMetrics],
) -> anyhow::Result<Option<PathBuf>> {
    if epochs.is_empty() {
        return Ok(None);
    }
    let points: Vec<EpochCurve> = epochs
        .iter()
        .map(|e| EpochCurve {
            epoch: e.epoch,
            train_loss: e.train_loss as f32,
            valid_loss: e.valid_loss as f32,
            train_accuracy: Some(e.train_accuracy as f32),
            valid_accuracy: Some(e.valid_accuracy as f32),
        })
        .collect();
    let path = dir.join("curves.png");
    curves(&path, title, &points)?;
    Ok(Some(path))
}

/// Draws the run's pictures into `dir`; returns the files written.
pub fn draw_run_pictures<B: Backend>(
    dir: &Path,
    name: &str,
    kind: Kind,
    net: &Net<B>,
    test: &Digits,
    predictions: &[u8],
    epochs: &[EpochMetrics],
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let names = kind.class_names();

    written.extend(draw_curves(
        dir,
        &format!("{name}: loss and accuracy per epoch"),
        epochs,
    )?);

    let path = dir.join("confusion.png");
    confusion_matrix(
        &path,
        &format!("{name} on {} test", kind.name()),
        &names,
        test.labels(),
        predictions,
    )?;
    written.push(path);

    let wrong: Vec<Tile> = test
        .labels()
        .iter()
        .zip(predictions)
        .enumerate()
        .filter(|(_, (t, p))| t != p)
        .take(MISCLASSIFIED_SHOWN)
        .map(|(i, (&t, &p))| Tile {
            pixels: test.image(i).iter().map(|&v| v as f32 / 255.0).collect(),
            signed: false,
            caption: format!("{}→{}", short(names[t as usize]), short(names[p as usize])),
        })
        .collect();
    if !wrong.is_empty() {
        let path = dir.join("misclassified.png");
        digit_grid(
            &path,
            &format!(
                "misclassified test images (true→predicted), first {}",
                wrong.len()
            ),
            &wrong,
            10,
            3,
        )?;
        written.push(path);
    }

    if let Net::Softmax(model) = net {
        let weights: Vec<f32> = model
            .weights()
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap_or_default();
        let scale = weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-12);
        let classes = weights.len() / PIXELS;
        let tiles: Vec<Tile> = (0..classes)
            .map(|k| Tile {
                pixels: (0..PIXELS)
                    .map(|p| weights[p * classes + k] / scale)
                    .collect(),
                signed: true,
                caption: short(names[k.min(names.len() - 1)]),
            })
            .collect();
        let path = dir.join("weights.png");
        digit_grid(
            &path,
            "what each class looks for: weights (red +, blue −)",
            &tiles,
            5,
            5,
        )?;
        written.push(path);
    }
    Ok(written)
}

fn short(name: &str) -> String {
    name.chars().take(8).collect()
}

/// Pictures are a bonus: failing to draw one is reported, not fatal.
pub fn report_pictures(result: anyhow::Result<Vec<PathBuf>>) {
    match result {
        Ok(paths) if !paths.is_empty() => {
            let names: Vec<String> = paths
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            println!("pictures: {}", names.join(", "));
        }
        Ok(_) => {}
        Err(err) => eprintln!("warning: pictures not drawn: {err:#}"),
    }
}

//! The suite's pictures, drawn with plotters into PNG files.
//!
//! Every function takes plain numbers (no Burn types), so any crate can
//! draw, and writes its file atomically: a temporary file, then a rename.
//! Text uses a small DejaVu Sans subset compiled into the binary, so plots
//! render on a machine without a display server or system fonts.

mod charts;
mod grids;

pub use charts::{
    class_scatter, curves, decision_maps, descent_path, function_panels, gradient_norms, line_fit,
    paths_on_surface, separating_lines, Curve, DecisionPanel, EpochCurve, FunctionPanel,
    LinesPanel, NormSeries, Surface,
};
pub use grids::{confusion_matrix, digit_grid, heat_table, image_mosaic, prediction_card, Tile};

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{path}: cannot draw: {message}")]
    Draw { path: PathBuf, message: String },
    #[error("{path}: nothing to plot: {what}")]
    Empty { path: PathBuf, what: &'static str },
}

/// DejaVu Sans (Bitstream Vera licence, see fonts/LICENSE), cut down to
/// ASCII and the few symbols the captions use.
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans-subset.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are compiled in and known good; a failure would show as
        // missing text, which the tests catch.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws a `width`×`height` PNG into `path` through `paint`, atomically.
fn draw(
    path: &Path,
    (width, height): (u32, u32),
    paint: impl FnOnce(&Area) -> DrawResult,
) -> Result<(), PlotError> {
    register_font();
    let fail = |message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plot".into());
    // The extension must stay .png: plotters picks the format from it.
    let tmp = path.with_file_name(format!(".{name}.{}.tmp.png", std::process::id()));
    let result = (|| -> DrawResult {
        let root = BitMapBackend::new(&tmp, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        paint(&root)?;
        root.present()?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|e| fail(e.to_string())),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(fail(e.to_string()))
        }
    }
}

fn empty(path: &Path, what: &'static str) -> PlotError {
    PlotError::Empty {
        path: path.to_path_buf(),
        what,
    }
}

/// The caption font at `size` pixels.
fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&BLACK)
}

/// A colour for class or series `i`, distinct for the first ten.
fn palette(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    COLOURS[i % COLOURS.len()]
}

/// Blue (0) through white (0.5) to red (1), for probabilities and signed weights.
fn diverging(t: f32) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let (r, g, b) = if t < 0.5 {
        let s = t / 0.5;
        (40.0 + 215.0 * s, 90.0 + 165.0 * s, 200.0 + 55.0 * s)
    } else {
        let s = (t - 0.5) / 0.5;
        (255.0 - 35.0 * s, 255.0 - 195.0 * s, 255.0 - 205.0 * s)
    };
    RGBColor(r as u8, g as u8, b as u8)
}

/// White (0) to dark blue (1), for counts and losses.
fn sequential(t: f32) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    RGBColor(
        (255.0 - 230.0 * t) as u8,
        (255.0 - 190.0 * t) as u8,
        (255.0 - 120.0 * t) as u8,
    )
}

/// The range of `values`, widened when flat so an axis can be drawn.
fn span(values: impl Iterator<Item = f32>) -> Option<(f32, f32)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    Some((lo - pad, hi + pad))
}

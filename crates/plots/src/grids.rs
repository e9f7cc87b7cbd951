//! Pictures made of cells: the confusion matrix, grids of 28×28 images
//! (misclassified digits, softmax weights) and `predict`'s card.

use std::path::Path;

use plotters::prelude::*;

use crate::{diverging, draw, empty, font, palette, sequential, Area, DrawResult, PlotError};

/// Rows are the true class, columns the predicted one; each cell shows its
/// count, shaded by its share of the row.
pub fn confusion_matrix(
    path: &Path,
    title: &str,
    class_names: &[&str],
    truth: &[u8],
    predicted: &[u8],
) -> Result<(), PlotError> {
    let k = class_names.len();
    if k == 0 || truth.is_empty() || truth.len() != predicted.len() {
        return Err(empty(
            path,
            "no labels, or truth and predictions differ in length",
        ));
    }
    let mut counts = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(predicted) {
        if let Some(cell) = counts
            .get_mut(t as usize)
            .and_then(|row| row.get_mut(p as usize))
        {
            *cell += 1;
        }
    }
    let correct: usize = (0..k).map(|i| counts[i][i]).sum();
    let cell = 52i32;
    let (left, top) = (120i32, 70i32);
    let side = (left + cell * k as i32 + 20) as u32;
    let height = (top + cell * k as i32 + 20) as u32;
    draw(path, (side, height), |root| {
        root.draw(&Text::new(
            format!(
                "{title}: {:.2}% of {} right",
                100.0 * correct as f64 / truth.len() as f64,
                truth.len()
            ),
            (12, 10),
            font(17),
        ))?;
        root.draw(&Text::new("predicted →", (left, 34), font(14)))?;
        root.draw(&Text::new("true ↓", (12, top - 18), font(14)))?;
        for (i, row) in counts.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f32;
            let y = top + i as i32 * cell;
            root.draw(&Text::new(
                short(class_names[i]),
                (12, y + cell / 2 - 7),
                font(12),
            ))?;
            for (j, &n) in row.iter().enumerate() {
                let x = left + j as i32 * cell;
                let share = n as f32 / total;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    sequential(share.sqrt()).filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    BLACK.mix(0.2),
                ))?;
                let colour = if share > 0.5 { WHITE } else { BLACK };
                root.draw(&Text::new(
                    n.to_string(),
                    (x + 6, y + cell / 2 - 7),
                    font(13).color(&colour),
                ))?;
            }
        }
        for (j, name) in class_names.iter().enumerate() {
            root.draw(&Text::new(
                short(name),
                (left + j as i32 * cell + 4, top - 18),
                font(11),
            ))?;
        }
        Ok(())
    })
}

/// Class names cut to fit a cell.
fn short(name: &str) -> String {
    name.chars().take(7).collect()
}

/// A 28×28 picture and its caption.
#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    /// 784 values, row by row: grey levels in [0, 1] (1 = ink), or signed
    /// values in [-1, 1] when `signed` (blue negative, red positive).
    pub pixels: Vec<f32>,
    pub signed: bool,
    pub caption: String,
}

const SIDE: usize = 28;

/// Tiles in a grid, `columns` per row, each drawn `scale` pixels per cell.
pub fn digit_grid(
    path: &Path,
    title: &str,
    tiles: &[Tile],
    columns: usize,
    scale: u32,
) -> Result<(), PlotError> {
    if tiles.is_empty() {
        return Err(empty(path, "no images"));
    }
    if tiles.iter().any(|t| t.pixels.len() != SIDE * SIDE) {
        return Err(empty(path, "an image is not 28×28"));
    }
    let columns = columns.clamp(1, tiles.len());
    let rows = tiles.len().div_ceil(columns);
    let scale = scale.max(1);
    let tile_w = SIDE as u32 * scale + 12;
    let tile_h = SIDE as u32 * scale + 26;
    draw(
        path,
        (tile_w * columns as u32 + 12, tile_h * rows as u32 + 40),
        |root| {
            root.draw(&Text::new(title.to_string(), (10, 10), font(17)))?;
            for (k, tile) in tiles.iter().enumerate() {
                let x = 12 + (k % columns) as i32 * tile_w as i32;
                let y = 40 + (k / columns) as i32 * tile_h as i32;
                picture(root, tile, (x, y), scale as i32)?;
                root.draw(&Text::new(
                    tile.caption.clone(),
                    (x, y + (SIDE as u32 * scale) as i32 + 4),
                    font(13),
                ))?;
            }
            Ok(())
        },
    )
}

/// One tile's cells at `(x, y)`.
fn picture(root: &Area, tile: &Tile, (x, y): (i32, i32), scale: i32) -> DrawResult {
    for (k, &v) in tile.pixels.iter().enumerate() {
        let (r, c) = ((k / SIDE) as i32, (k % SIDE) as i32);
        let colour = if tile.signed {
            diverging(0.5 + v / 2.0)
        } else {
            let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
            RGBColor(g, g, g)
        };
        let (x0, y0) = (x + c * scale, y + r * scale);
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + scale, y0 + scale)],
            colour.filled(),
        ))?;
    }
    let side = SIDE as i32 * scale;
    root.draw(&Rectangle::new(
        [(x, y), (x + side, y + side)],
        BLACK.mix(0.4),
    ))?;
    Ok(())
}

/// What `predict` saw (the 28×28 input, ink dark) beside its class
/// probabilities.
pub fn prediction_card(
    path: &Path,
    title: &str,
    pixels: &[f32],
    probabilities: &[f32],
    class_names: &[&str],
) -> Result<(), PlotError> {
    if pixels.len() != SIDE * SIDE || probabilities.is_empty() {
        return Err(empty(
            path,
            "the input is not 28×28, or there are no probabilities",
        ));
    }
    let best = probabilities
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    draw(path, (760, 340), |root| {
        root.draw(&Text::new(title.to_string(), (10, 10), font(16)))?;
        let tile = Tile {
            pixels: pixels.to_vec(),
            signed: false,
            caption: String::new(),
        };
        picture(root, &tile, (16, 48), 9)?;
        root.draw(&Text::new("the model's input (28×28)", (16, 310), font(13)))?;
        let (_, right) = root.split_horizontally(290);
        let mut chart = ChartBuilder::on(&right)
            .margin(16)
            .margin_top(40)
            .x_label_area_size(40)
            .y_label_area_size(40)
            .build_cartesian_2d(
                (0..probabilities.len() as i32 - 1).into_segmented(),
                0f32..1f32,
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => class_names
                    .get(*i as usize)
                    .map_or(i.to_string(), |s| short(s)),
                _ => String::new(),
            })
            .y_desc("probability")
            .label_style(font(12))
            .draw()?;
        chart.draw_series(probabilities.iter().enumerate().map(|(i, &p)| {
            let colour = if i == best { palette(1) } else { palette(0) };
            let i = i as i32;
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), p),
                ],
                colour.filled(),
            )
        }))?;
        Ok(())
    })
}

/// 28×28 grey images (ink 1) edge to edge, `columns` per row, `scale`
/// pixels per cell, under a title: a sweep through a code reads as one
/// picture.
pub fn image_mosaic(
    path: &Path,
    title: &str,
    images: &[Vec<f32>],
    columns: usize,
    scale: u32,
) -> Result<(), PlotError> {
    if images.is_empty() {
        return Err(empty(path, "no images"));
    }
    if images.iter().any(|p| p.len() != SIDE * SIDE) {
        return Err(empty(path, "an image is not 28×28"));
    }
    let columns = columns.clamp(1, images.len());
    let rows = images.len().div_ceil(columns);
    let scale = scale.max(1);
    let side = SIDE as u32 * scale;
    let width = (side * columns as u32 + 20).max(420);
    draw(path, (width, side * rows as u32 + 46), |root| {
        root.draw(&Text::new(title.to_string(), (10, 10), font(17)))?;
        for (k, pixels) in images.iter().enumerate() {
            let x = 10 + (k % columns) as i32 * side as i32;
            let y = 36 + (k / columns) as i32 * side as i32;
            for (i, &v) in pixels.iter().enumerate() {
                let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                let (x0, y0) = (
                    x + (i % SIDE) as i32 * scale as i32,
                    y + (i / SIDE) as i32 * scale as i32,
                );
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + scale as i32, y0 + scale as i32)],
                    RGBColor(g, g, g).filled(),
                ))?;
            }
        }
        Ok(())
    })
}

/// A table of shaded cells: `values[row][column]` in [0, 1] (darker is
/// more), each row and column named by a short label. Attention (answer
/// characters against question characters), a model's next-token
/// probabilities, a piano roll.
pub fn heat_table(
    path: &Path,
    title: &str,
    row_labels: &[String],
    column_labels: &[String],
    values: &[Vec<f32>],
) -> Result<(), PlotError> {
    let (rows, columns) = (row_labels.len(), column_labels.len());
    if rows == 0
        || columns == 0
        || values.len() != rows
        || values.iter().any(|r| r.len() != columns)
    {
        return Err(empty(
            path,
            "no cells, or labels that do not match the values",
        ));
    }
    let cell = match rows.max(columns) {
        0..=30 => 22i32,
        31..=60 => 14,
        _ => 9,
    };
    let label_width = 9 * row_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1) as i32;
    let (left, top) = (16 + label_width, 64i32);
    // Wide enough for the title too.
    let title_width = 12 + 8 * title.chars().count() as i32;
    let width = (left + cell * columns as i32 + 20).max(title_width) as u32;
    let height = (top + cell * rows as i32 + 20) as u32;
    draw(path, (width, height), |root| {
        root.draw(&Text::new(title.to_string(), (12, 10), font(16)))?;
        for (j, label) in column_labels.iter().enumerate() {
            if cell >= 14 || j % 4 == 0 {
                root.draw(&Text::new(
                    label.clone(),
                    (left + j as i32 * cell + 3, top - 20),
                    font(12),
                ))?;
            }
        }
        for (i, (label, row)) in row_labels.iter().zip(values).enumerate() {
            let y = top + i as i32 * cell;
            if cell >= 14 || i % 2 == 0 {
                root.draw(&Text::new(label.clone(), (12, y + cell / 2 - 7), font(12)))?;
            }
            for (j, &v) in row.iter().enumerate() {
                let x = left + j as i32 * cell;
                let v = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    sequential(v.sqrt()).filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    BLACK.mix(0.1),
                ))?;
            }
        }
        Ok(())
    })
}

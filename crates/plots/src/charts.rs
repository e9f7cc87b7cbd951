//! Line and map charts: training curves, the regression lesson, decision
//! boundaries and per-layer gradient norms.

use std::path::Path;

use plotters::prelude::*;

use crate::{diverging, draw, empty, font, palette, sequential, span, Area, DrawResult, PlotError};

/// One epoch's figures; accuracies in percent, absent for regressions.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochCurve {
    pub epoch: usize,
    pub train_loss: f32,
    pub valid_loss: f32,
    pub train_accuracy: Option<f32>,
    pub valid_accuracy: Option<f32>,
}

/// Loss (left) and accuracy (right) per epoch, train and validation.
pub fn curves(path: &Path, title: &str, epochs: &[EpochCurve]) -> Result<(), PlotError> {
    if epochs.is_empty() {
        return Err(empty(path, "no epochs"));
    }
    draw(path, (1000, 420), |root| {
        let root = root.titled(title, font(20))?;
        let (left, right) = root.split_horizontally(500);
        let x = |e: &EpochCurve| e.epoch as f32;
        let loss: Vec<[(f32, f32); 2]> = epochs
            .iter()
            .map(|e| [(x(e), e.train_loss), (x(e), e.valid_loss)])
            .collect();
        two_lines(&left, "loss", &loss)?;
        let acc: Vec<[(f32, f32); 2]> = epochs
            .iter()
            .filter_map(|e| Some([(x(e), e.train_accuracy?), (x(e), e.valid_accuracy?)]))
            .collect();
        if !acc.is_empty() {
            two_lines(&right, "accuracy (%)", &acc)?;
        }
        Ok(())
    })
}

/// Axis label for whole numbers only (epochs, layers).
fn whole(v: &f32) -> String {
    if (v - v.round()).abs() < 1e-3 {
        format!("{v:.0}")
    } else {
        String::new()
    }
}

/// Train and validation lines with points, on one panel.
fn two_lines(area: &Area, y_desc: &str, points: &[[(f32, f32); 2]]) -> DrawResult {
    let xs = span(points.iter().map(|p| p[0].0)).unwrap_or((0.0, 1.0));
    let ys = span(points.iter().flat_map(|p| [p[0].1, p[1].1])).unwrap_or((0.0, 1.0));
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(points.len().clamp(2, 12))
        .x_label_formatter(&whole)
        .y_desc(y_desc)
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()?;
    for (i, label) in ["train", "validation"].iter().enumerate() {
        let colour = palette(i);
        let line: Vec<(f32, f32)> = points.iter().map(|p| p[i]).collect();
        chart
            .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))?
            .label(*label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart.draw_series(line.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// The data points, the fitted line and (dashed) the closed-form line.
pub fn line_fit(
    path: &Path,
    xs: &[f32],
    ys: &[f32],
    fitted: (f32, f32),
    closed_form: (f32, f32),
) -> Result<(), PlotError> {
    let (Some(xr), Some(yr)) = (span(xs.iter().copied()), span(ys.iter().copied())) else {
        return Err(empty(path, "no points"));
    };
    draw(path, (640, 480), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("fit y = {:.4}·x + {:.4}", fitted.0, fitted.1),
                font(18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
        chart
            .configure_mesh()
            .x_desc("x")
            .y_desc("y")
            .label_style(font(13))
            .draw()?;
        chart
            .draw_series(
                xs.iter()
                    .zip(ys)
                    .map(|(&x, &y)| Circle::new((x, y), 3, palette(0).filled())),
            )?
            .label("data")
            .legend(|(x, y)| Circle::new((x + 8, y), 3, palette(0).filled()));
        let line = |(w, b): (f32, f32)| vec![(xr.0, w * xr.0 + b), (xr.1, w * xr.1 + b)];
        chart
            .draw_series(LineSeries::new(line(fitted), palette(1).stroke_width(3)))?
            .label("gradient descent")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], palette(1).stroke_width(3))
            });
        chart
            .draw_series(DashedLineSeries::new(
                line(closed_form),
                8,
                6,
                BLACK.stroke_width(1),
            ))?
            .label("normal equation")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK));
        chart
            .configure_series_labels()
            .label_font(font(13))
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// The mean squared error over (W, b) as a map (darker is lower), with the
/// path gradient descent took across it.
pub fn descent_path(
    path: &Path,
    xs: &[f32],
    ys: &[f32],
    steps: &[(f32, f32)],
) -> Result<(), PlotError> {
    if xs.is_empty() || steps.is_empty() {
        return Err(empty(path, "no points or no steps"));
    }
    let wr = span(steps.iter().map(|s| s.0).chain([0.0, 0.5])).unwrap_or((-1.0, 1.0));
    let br = span(steps.iter().map(|s| s.1).chain([0.0, 0.5])).unwrap_or((-1.0, 1.0));
    let mse = |w: f32, b: f32| {
        xs.iter()
            .zip(ys)
            .map(|(&x, &y)| (w * x + b - y).powi(2))
            .sum::<f32>()
            / xs.len() as f32
    };
    const CELLS: usize = 90;
    let (dw, db) = ((wr.1 - wr.0) / CELLS as f32, (br.1 - br.0) / CELLS as f32);
    let mut grid = Vec::with_capacity(CELLS * CELLS);
    for i in 0..CELLS {
        for j in 0..CELLS {
            let (w, b) = (wr.0 + (i as f32 + 0.5) * dw, br.0 + (j as f32 + 0.5) * db);
            grid.push((w, b, mse(w, b).max(1e-12).ln()));
        }
    }
    let (lo, hi) = span(grid.iter().map(|g| g.2)).unwrap_or((0.0, 1.0));
    draw(path, (640, 560), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("loss surface and the descent path", font(18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(wr.0..wr.1, br.0..br.1)?;
        chart.draw_series(grid.iter().map(|&(w, b, l)| {
            Rectangle::new(
                [(w - dw / 2.0, b - db / 2.0), (w + dw / 2.0, b + db / 2.0)],
                sequential(1.0 - (l - lo) / (hi - lo)).filled(),
            )
        }))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("W")
            .y_desc("b")
            .label_style(font(13))
            .draw()?;
        chart.draw_series(LineSeries::new(steps.to_vec(), palette(1).stroke_width(2)))?;
        chart.draw_series(
            steps
                .iter()
                .map(|&p| Circle::new(p, 3, palette(3).filled())),
        )?;
        if let (Some(first), Some(last)) = (steps.first(), steps.last()) {
            chart.draw_series([
                Text::new("start".to_string(), *first, font(14)),
                Text::new(
                    format!("end ({:.3}, {:.3})", last.0, last.1),
                    *last,
                    font(14),
                ),
            ])?;
        }
        Ok(())
    })
}

/// One decision map: P(class 1) over a grid, and the points on top.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionPanel {
    pub title: String,
    pub x: (f32, f32),
    pub y: (f32, f32),
    /// Cells per side.
    pub resolution: usize,
    /// P(class 1) per cell, row by row from the bottom (y = y.0) up.
    pub probabilities: Vec<f32>,
    pub points: Vec<[f32; 2]>,
    pub labels: Vec<u8>,
}

/// Decision maps side by side, `columns` per row.
pub fn decision_maps(
    path: &Path,
    panels: &[DecisionPanel],
    columns: usize,
) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(empty(path, "no panels"));
    }
    if panels
        .iter()
        .any(|p| p.resolution == 0 || p.probabilities.len() != p.resolution * p.resolution)
    {
        return Err(empty(path, "a panel's grid does not match its resolution"));
    }
    let columns = columns.clamp(1, panels.len());
    let rows = panels.len().div_ceil(columns);
    draw(path, (360 * columns as u32, 380 * rows as u32), |root| {
        for (panel, area) in panels.iter().zip(root.split_evenly((rows, columns))) {
            decision_panel(&area, panel)?;
        }
        Ok(())
    })
}

fn decision_panel(area: &Area, p: &DecisionPanel) -> DrawResult {
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, font(15))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(36)
        .build_cartesian_2d(p.x.0..p.x.1, p.y.0..p.y.1)?;
    let n = p.resolution;
    let (dx, dy) = ((p.x.1 - p.x.0) / n as f32, (p.y.1 - p.y.0) / n as f32);
    chart.draw_series(p.probabilities.iter().enumerate().map(|(k, &prob)| {
        let (row, col) = (k / n, k % n);
        let (x, y) = (p.x.0 + col as f32 * dx, p.y.0 + row as f32 * dy);
        Rectangle::new(
            [(x, y), (x + dx, y + dy)],
            diverging(0.25 + prob * 0.5).filled(),
        )
    }))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(font(11))
        .draw()?;
    chart.draw_series(p.points.iter().zip(&p.labels).map(|(pt, &l)| {
        let colour = if l == 1 {
            RGBColor(200, 30, 30)
        } else {
            RGBColor(30, 60, 200)
        };
        Circle::new((pt[0], pt[1]), 4, ShapeStyle::from(&colour).filled())
    }))?;
    chart.draw_series(
        p.points
            .iter()
            .map(|pt| Circle::new((pt[0], pt[1]), 4, BLACK.stroke_width(1))),
    )?;
    Ok(())
}

/// One net's gradient norm per layer (input side first).
#[derive(Clone, Debug, PartialEq)]
pub struct NormSeries {
    pub label: String,
    pub norms: Vec<f32>,
}

/// Gradient norm against layer on a log scale: vanishing gradients show as
/// a line falling steeply toward the input side.
pub fn gradient_norms(path: &Path, title: &str, series: &[NormSeries]) -> Result<(), PlotError> {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.norms.iter().copied())
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f32::INFINITY, 0f32), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi <= 0.0 {
        return Err(empty(path, "no positive gradient norms"));
    }
    // A factor of 3 of room on each side, in log space.
    let (lo, hi) = (lo / 3.0, hi * 3.0);
    let layers = series.iter().map(|s| s.norms.len()).max().unwrap_or(1);
    draw(path, (760, 480), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5f32..layers as f32 + 0.5, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("layer (1 = next to the input)")
            .x_labels(layers.min(20))
            .x_label_formatter(&whole)
            .y_desc("gradient norm (log)")
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .label_style(font(12))
            .draw()?;
        for (i, s) in series.iter().enumerate() {
            let colour = palette(i);
            let points: Vec<(f32, f32)> = s
                .norms
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite() && **v > 0.0)
                .map(|(l, &v)| (l as f32 + 1.0, v))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        chart
            .configure_series_labels()
            .label_font(font(13))
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// One named curve of a [`FunctionPanel`].
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f32, f32)>,
}

/// A panel of curves over the same x, with an optional marked point (drawn
/// as a dot with its caption beside it).
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionPanel {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub curves: Vec<Curve>,
    pub mark: Option<((f32, f32), String)>,
}

/// Panels side by side, each its curves over a shared x axis: functions on
/// one, their slopes on the next, say.
pub fn function_panels(
    path: &Path,
    title: &str,
    panels: &[FunctionPanel],
) -> Result<(), PlotError> {
    if panels
        .iter()
        .all(|p| p.curves.iter().all(|c| c.points.is_empty()))
    {
        return Err(empty(path, "no curves"));
    }
    let width = 500 * panels.len().max(1) as u32;
    draw(path, (width, 440), |root| {
        let root = root.titled(title, font(20))?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (area, panel) in areas.iter().zip(panels) {
            let points = || panel.curves.iter().flat_map(|c| c.points.iter());
            let xs = span(points().map(|p| p.0)).unwrap_or((0.0, 1.0));
            let ys = span(points().map(|p| p.1)).unwrap_or((0.0, 1.0));
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, font(16))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(56)
                .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)?;
            chart
                .configure_mesh()
                .x_desc(panel.x_desc.as_str())
                .y_desc(panel.y_desc.as_str())
                .label_style(font(13))
                .axis_desc_style(font(14))
                .draw()?;
            for (i, curve) in panel.curves.iter().enumerate() {
                let colour = palette(i);
                chart
                    .draw_series(LineSeries::new(
                        curve.points.clone(),
                        colour.stroke_width(2),
                    ))?
                    .label(curve.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                    });
            }
            if let Some((at, caption)) = &panel.mark {
                chart.draw_series([Circle::new(*at, 5, BLACK.filled())])?;
                chart.draw_series([Text::new(
                    caption.clone(),
                    (at.0 + (xs.1 - xs.0) * 0.03, at.1),
                    font(13),
                )])?;
            }
            chart
                .configure_series_labels()
                .label_font(font(13))
                .position(emptiest_corner(points().copied(), xs, ys))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
        }
        Ok(())
    })
}

/// The corner of the plot (a third of each side) that the fewest points
/// fall in, for the legend.
fn emptiest_corner(
    points: impl Iterator<Item = (f32, f32)>,
    xs: (f32, f32),
    ys: (f32, f32),
) -> SeriesLabelPosition {
    let mut counts = [0usize; 4];
    let third = |v: f32, (lo, hi): (f32, f32)| (v - lo) / (hi - lo);
    for (x, y) in points {
        let (u, v) = (third(x, xs), third(y, ys));
        let corner = match (u < 1.0 / 3.0, u > 2.0 / 3.0, v > 2.0 / 3.0, v < 1.0 / 3.0) {
            (true, _, true, _) => 0,
            (_, true, true, _) => 1,
            (_, true, _, true) => 2,
            (true, _, _, true) => 3,
            _ => continue,
        };
        counts[corner] += 1;
    }
    let best = (0..4).min_by_key(|&i| (counts[i], i)).unwrap_or(0);
    [
        SeriesLabelPosition::UpperLeft,
        SeriesLabelPosition::UpperRight,
        SeriesLabelPosition::LowerRight,
        SeriesLabelPosition::LowerLeft,
    ][best]
        .clone()
}

/// A perceptron's lines over its points, one panel per problem.
#[derive(Clone, Debug, PartialEq)]
pub struct LinesPanel {
    pub title: String,
    /// Each point and whether its class is 1.
    pub points: Vec<([f32; 2], bool)>,
    /// `w1·x + w2·y + b = 0` after each epoch, first to last.
    pub lines: Vec<[f32; 3]>,
}

/// Panels of points with a separating line per epoch: earlier lines pale,
/// the last one dark, class 1 filled and class 0 hollow.
pub fn separating_lines(path: &Path, title: &str, panels: &[LinesPanel]) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(empty(path, "no panels"));
    }
    const LO: f32 = -0.5;
    const HI: f32 = 1.5;
    let width = 330 * panels.len() as u32;
    draw(path, (width, 380), |root| {
        let root = root.titled(title, font(18))?;
        let areas = root.split_evenly((1, panels.len()));
        for (area, panel) in areas.iter().zip(panels) {
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, font(15))
                .margin(10)
                .x_label_area_size(28)
                .y_label_area_size(36)
                .build_cartesian_2d(LO..HI, LO..HI)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .label_style(font(12))
                .draw()?;
            let n = panel.lines.len();
            for (i, &[w1, w2, b]) in panel.lines.iter().enumerate() {
                let segment = if w2.abs() > 1e-6 {
                    vec![(LO, -(w1 * LO + b) / w2), (HI, -(w1 * HI + b) / w2)]
                } else if w1.abs() > 1e-6 {
                    vec![(-b / w1, LO), (-b / w1, HI)]
                } else {
                    continue;
                };
                let last = i + 1 == n;
                let style = if last {
                    palette(1).stroke_width(3)
                } else {
                    BLACK.mix(0.12 + 0.4 * i as f64 / n as f64).stroke_width(1)
                };
                chart.draw_series([PathElement::new(segment, style)])?;
            }
            for &([x, y], one) in &panel.points {
                let style = if one {
                    palette(0).filled()
                } else {
                    palette(0).stroke_width(2)
                };
                chart.draw_series([Circle::new((x, y), 7, style)])?;
            }
        }
        Ok(())
    })
}

/// A loss surface over two parameters, sampled on a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Surface {
    pub x: (f32, f32),
    pub y: (f32, f32),
    /// Cells per side.
    pub resolution: usize,
    /// The loss per cell, row by row from the bottom (y = y.0) up.
    pub loss: Vec<f32>,
}

/// Paths across a loss surface (darker is lower, on a log scale), one
/// colour per path, each starting with a ring and ending with a dot.
pub fn paths_on_surface(
    path: &Path,
    title: &str,
    surface: &Surface,
    paths: &[Curve],
) -> Result<(), PlotError> {
    let n = surface.resolution;
    if n == 0 || surface.loss.len() != n * n {
        return Err(empty(path, "no surface"));
    }
    let logs: Vec<f32> = surface.loss.iter().map(|l| l.max(1e-12).ln()).collect();
    let (lo, hi) = span(logs.iter().copied()).unwrap_or((0.0, 1.0));
    let (dx, dy) = (
        (surface.x.1 - surface.x.0) / n as f32,
        (surface.y.1 - surface.y.0) / n as f32,
    );
    draw(path, (760, 560), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(surface.x.0..surface.x.1, surface.y.0..surface.y.1)?;
        chart.draw_series(logs.iter().enumerate().map(|(i, &l)| {
            let (col, row) = ((i % n) as f32, (i / n) as f32);
            let (x, y) = (surface.x.0 + col * dx, surface.y.0 + row * dy);
            Rectangle::new(
                [(x, y), (x + dx, y + dy)],
                sequential(1.0 - (l - lo) / (hi - lo)).filled(),
            )
        }))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("first parameter")
            .y_desc("second parameter")
            .label_style(font(13))
            .draw()?;
        for (i, p) in paths.iter().enumerate() {
            let colour = palette(i);
            chart
                .draw_series(LineSeries::new(p.points.clone(), colour.stroke_width(2)))?
                .label(p.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            if let (Some(&first), Some(&last)) = (p.points.first(), p.points.last()) {
                chart.draw_series([
                    Circle::new(first, 6, colour.stroke_width(2)),
                    Circle::new(last, 5, colour.filled()),
                ])?;
            }
        }
        chart
            .configure_series_labels()
            .label_font(font(13))
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}

/// Points in a plane coloured by class (up to ten), with a legend of the
/// class names: where an encoder puts each test image.
pub fn class_scatter(
    path: &Path,
    title: &str,
    points: &[[f32; 2]],
    classes: &[u8],
    class_names: &[&str],
) -> Result<(), PlotError> {
    let (Some(xs), Some(ys)) = (
        span(points.iter().map(|p| p[0])),
        span(points.iter().map(|p| p[1])),
    ) else {
        return Err(empty(path, "no points"));
    };
    if points.len() != classes.len() {
        return Err(empty(path, "a class for every point"));
    }
    draw(path, (760, 700), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(18))
            .margin(14)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("code 1")
            .y_desc("code 2")
            .label_style(font(12))
            .axis_desc_style(font(14))
            .draw()?;
        for (k, name) in class_names.iter().enumerate() {
            let colour = palette(k);
            let mine = points
                .iter()
                .zip(classes)
                .filter(|(_, &c)| c as usize == k)
                .map(|(p, _)| Circle::new((p[0], p[1]), 2, colour.mix(0.6).filled()));
            chart
                .draw_series(mine)?
                .label(*name)
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour.filled()));
        }
        chart
            .configure_series_labels()
            .label_font(font(13))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        Ok(())
    })
}

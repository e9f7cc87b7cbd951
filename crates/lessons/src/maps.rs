//! Decision maps: a model's P(class 1) over a grid of the plane.

use burn::prelude::*;
use dlsuite_data::synthetic::Points2d;
use dlsuite_plots::DecisionPanel;

/// Cells per side of every map.
pub const RESOLUTION: usize = 60;

/// The bounding box of `points`, with a margin.
pub fn frame(points: &[[f32; 2]]) -> ((f32, f32), (f32, f32)) {
    let (mut x, mut y) = ((f32::MAX, f32::MIN), (f32::MAX, f32::MIN));
    for p in points {
        x = (x.0.min(p[0]), x.1.max(p[0]));
        y = (y.0.min(p[1]), y.1.max(p[1]));
    }
    let pad = |(lo, hi): (f32, f32)| {
        let m = ((hi - lo) * 0.15).max(0.25);
        (lo - m, hi + m)
    };
    (pad(x), pad(y))
}

/// `probability` (inputs `[n, 2]` → P(class 1) `[n, 1]`) over the cell
/// centres of a `RESOLUTION`² grid, row by row from the bottom.
pub fn probability_map<B: Backend>(
    x: (f32, f32),
    y: (f32, f32),
    probability: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>,
    device: &B::Device,
) -> Vec<f32> {
    let n = RESOLUTION;
    let (dx, dy) = ((x.1 - x.0) / n as f32, (y.1 - y.0) / n as f32);
    let mut flat = Vec::with_capacity(n * n * 2);
    for row in 0..n {
        for col in 0..n {
            flat.push(x.0 + (col as f32 + 0.5) * dx);
            flat.push(y.0 + (row as f32 + 0.5) * dy);
        }
    }
    let grid = Tensor::<B, 2>::from_data(TensorData::new(flat, [n * n, 2]), device);
    probability(grid)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap_or_default()
}

/// A panel for the plots crate.
pub fn panel(
    title: String,
    set: &Points2d,
    x: (f32, f32),
    y: (f32, f32),
    map: Vec<f32>,
) -> DecisionPanel {
    DecisionPanel {
        title,
        x,
        y,
        resolution: RESOLUTION,
        probabilities: map,
        points: set.points.clone(),
        labels: set.labels.clone(),
    }
}

/// Points as a `[n, 2]` tensor and labels as `[n, 1]` integers.
pub fn tensors<B: Backend>(
    set: &Points2d,
    device: &B::Device,
) -> (Tensor<B, 2>, Tensor<B, 2, Int>) {
    let flat: Vec<f32> = set.points.iter().flatten().copied().collect();
    let n = set.points.len();
    let x = Tensor::from_data(TensorData::new(flat, [n, 2]), device);
    let labels: Vec<i64> = set.labels.iter().map(|&l| l as i64).collect();
    let y = Tensor::from_data(TensorData::new(labels, [n, 1]), device);
    (x, y)
}

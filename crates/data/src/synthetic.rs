//! The small, seeded data sets of the early lessons.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Points on y = 0.1·x + 0.3 with x uniform in [0, 1), as in the lecture's
/// first regression. `noise` is the standard deviation of Gaussian noise on y.
pub fn linear_points(n: usize, noise: f32, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let xs: Vec<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
    let ys = xs
        .iter()
        .map(|&x| 0.1 * x + 0.3 + noise * gaussian(&mut rng))
        .collect();
    (xs, ys)
}

/// Points on the plane `y = x·weights + bias` with each feature uniform in
/// [0, 1), for multi-variable regression. Returns one row per point.
pub fn plane_points(
    n: usize,
    weights: &[f32],
    bias: f32,
    noise: f32,
    seed: u64,
) -> (Vec<Vec<f32>>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let rows: Vec<Vec<f32>> = (0..n)
        .map(|_| weights.iter().map(|_| rng.random::<f32>()).collect())
        .collect();
    let ys = rows
        .iter()
        .map(|row| {
            let clean: f32 = row.iter().zip(weights).map(|(x, w)| x * w).sum::<f32>() + bias;
            clean + noise * gaussian(&mut rng)
        })
        .collect();
    (rows, ys)
}

/// Standard normal sample (Box–Muller).
fn gaussian(rng: &mut StdRng) -> f32 {
    let u1 = rng.random::<f32>().max(f32::MIN_POSITIVE);
    let u2 = rng.random::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Points in the plane, each with a class 0 or 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Points2d {
    pub points: Vec<[f32; 2]>,
    pub labels: Vec<u8>,
}

/// The two-input logic gates of the perceptron lessons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    And,
    Or,
    Nand,
    Nor,
    Xor,
}

impl Gate {
    pub const ALL: [Gate; 5] = [Gate::And, Gate::Or, Gate::Nand, Gate::Nor, Gate::Xor];

    pub fn apply(self, a: bool, b: bool) -> bool {
        match self {
            Gate::And => a && b,
            Gate::Or => a || b,
            Gate::Nand => !(a && b),
            Gate::Nor => !(a || b),
            Gate::Xor => a != b,
        }
    }

    /// The gate's four-row truth table.
    pub fn truth_table(self) -> Points2d {
        let rows = [(false, false), (false, true), (true, false), (true, true)];
        Points2d {
            points: rows
                .iter()
                .map(|&(a, b)| [a as u8 as f32, b as u8 as f32])
                .collect(),
            labels: rows.iter().map(|&(a, b)| self.apply(a, b) as u8).collect(),
        }
    }
}

/// Two interleaved half circles.
pub fn moons(n: usize, noise: f32, seed: u64) -> Points2d {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Points2d {
        points: Vec::with_capacity(n),
        labels: Vec::with_capacity(n),
    };
    for i in 0..n {
        let class = (i % 2) as u8;
        let t = std::f32::consts::PI * rng.random::<f32>();
        let (x, y) = if class == 0 {
            (t.cos(), t.sin())
        } else {
            (1.0 - t.cos(), 0.5 - t.sin())
        };
        out.points.push([
            x + noise * gaussian(&mut rng),
            y + noise * gaussian(&mut rng),
        ]);
        out.labels.push(class);
    }
    out
}

/// A disc of class 1 inside a ring of class 0.
pub fn circles(n: usize, noise: f32, seed: u64) -> Points2d {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Points2d {
        points: Vec::with_capacity(n),
        labels: Vec::with_capacity(n),
    };
    for i in 0..n {
        let class = (i % 2) as u8;
        let radius = if class == 1 { 0.5 } else { 1.0 };
        let t = std::f32::consts::TAU * rng.random::<f32>();
        out.points.push([
            radius * t.cos() + noise * gaussian(&mut rng),
            radius * t.sin() + noise * gaussian(&mut rng),
        ]);
        out.labels.push(class);
    }
    out
}

/// Two arms of a spiral wound around each other, the classic hard case.
pub fn spirals(n: usize, noise: f32, seed: u64) -> Points2d {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Points2d {
        points: Vec::with_capacity(n),
        labels: Vec::with_capacity(n),
    };
    for i in 0..n {
        let class = (i % 2) as u8;
        let r = rng.random::<f32>();
        let t = 3.0 * std::f32::consts::PI * r + class as f32 * std::f32::consts::PI;
        out.points.push([
            r * t.cos() + noise * gaussian(&mut rng),
            r * t.sin() + noise * gaussian(&mut rng),
        ]);
        out.labels.push(class);
    }
    out
}

/// `n` evenly spaced samples of `f` on `[lo, hi]`, for the universal
/// approximation lesson.
pub fn sample_function(f: impl Fn(f32) -> f32, n: usize, lo: f32, hi: f32) -> (Vec<f32>, Vec<f32>) {
    let step = if n > 1 {
        (hi - lo) / (n - 1) as f32
    } else {
        0.0
    };
    let xs: Vec<f32> = (0..n).map(|i| lo + step * i as f32).collect();
    let ys = xs.iter().map(|&x| f(x)).collect();
    (xs, ys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_points_lie_on_the_line_without_noise() {
        let (xs, ys) = linear_points(100, 0.0, 1);
        assert_eq!(xs.len(), 100);
        for (x, y) in xs.iter().zip(&ys) {
            assert!((0.0..1.0).contains(x));
            assert!((y - (0.1 * x + 0.3)).abs() < 1e-6);
        }
    }

    #[test]
    fn same_seed_same_points() {
        assert_eq!(moons(50, 0.1, 7), moons(50, 0.1, 7));
        assert_ne!(moons(50, 0.1, 7), moons(50, 0.1, 8));
    }

    #[test]
    fn gates_match_their_truth_tables() {
        assert_eq!(Gate::And.truth_table().labels, vec![0, 0, 0, 1]);
        assert_eq!(Gate::Or.truth_table().labels, vec![0, 1, 1, 1]);
        assert_eq!(Gate::Nand.truth_table().labels, vec![1, 1, 1, 0]);
        assert_eq!(Gate::Nor.truth_table().labels, vec![1, 0, 0, 0]);
        assert_eq!(Gate::Xor.truth_table().labels, vec![0, 1, 1, 0]);
    }

    #[test]
    fn two_class_sets_are_balanced_and_separated() {
        let c = circles(200, 0.0, 3);
        for (p, &l) in c.points.iter().zip(&c.labels) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            let expected = if l == 1 { 0.5 } else { 1.0 };
            assert!((r - expected).abs() < 1e-5);
        }
        for set in [moons(100, 0.2, 1), spirals(100, 0.2, 1)] {
            assert_eq!(set.labels.iter().filter(|&&l| l == 1).count(), 50);
        }
    }

    #[test]
    fn function_samples_span_the_interval() {
        let (xs, ys) = sample_function(|x| x * x, 5, -1.0, 1.0);
        assert_eq!(xs, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(ys, vec![1.0, 0.25, 0.0, 0.25, 1.0]);
    }
}

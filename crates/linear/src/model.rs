use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// `y = x·W + b` with `inputs` features and one output.
#[derive(Config, Debug)]
pub struct LinearRegressionConfig {
    #[config(default = 1)]
    pub inputs: usize,
}

#[derive(Module, Debug)]
pub struct LinearRegression<B: Backend> {
    linear: Linear<B>,
}

impl LinearRegressionConfig {
    /// Weights drawn uniformly from [-1, 1) as in the lecture, bias likewise.
    pub fn init<B: Backend>(&self, device: &B::Device) -> LinearRegression<B> {
        LinearRegression {
            linear: LinearConfig::new(self.inputs, 1)
                .with_initializer(Initializer::Uniform {
                    min: -1.0,
                    max: 1.0,
                })
                .init(device),
        }
    }
}

impl<B: Backend> LinearRegression<B> {
    /// `[batch, inputs] → [batch, 1]`
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.linear.forward(x)
    }

    /// The weights, one per input.
    pub fn weights(&self) -> Vec<f32> {
        self.linear
            .weight
            .val()
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap_or_default()
    }

    pub fn bias(&self) -> f32 {
        self.linear
            .bias
            .as_ref()
            .map(|b| b.val().into_scalar().elem())
            .unwrap_or(0.0)
    }
}

/// The least-squares answer in closed form: solves `(XᵀX) θ = Xᵀy` for
/// `θ = [w_1 … w_n, b]` by Gaussian elimination. `rows` holds one feature
/// vector per sample. Returns `None` when the system is singular (for
/// example, fewer distinct samples than unknowns).
pub fn normal_equation(rows: &[Vec<f64>], ys: &[f64]) -> Option<(Vec<f64>, f64)> {
    let n = rows.first()?.len() + 1;
    // Augmented matrix [XᵀX | Xᵀy], with a constant 1 appended for the bias.
    let mut a = vec![vec![0.0; n + 1]; n];
    for (row, &y) in rows.iter().zip(ys) {
        let x: Vec<f64> = row.iter().copied().chain(std::iter::once(1.0)).collect();
        for (row, &xi) in a.iter_mut().zip(&x) {
            for (cell, &xj) in row.iter_mut().zip(&x) {
                *cell += xi * xj;
            }
            row[n] += xi * y;
        }
    }
    for col in 0..n {
        let pivot = (col..n).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (cell, &p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *cell -= f * p;
                }
            }
        }
    }
    let theta: Vec<f64> = a
        .iter()
        .enumerate()
        .map(|(i, row)| row[n] / row[i])
        .collect();
    Some((theta[..n - 1].to_vec(), theta[n - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_equation_recovers_an_exact_plane() {
        let rows: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![i as f64, (i * i % 7) as f64])
            .collect();
        let ys: Vec<f64> = rows.iter().map(|r| 2.0 * r[0] - 3.0 * r[1] + 0.5).collect();
        let (w, b) = normal_equation(&rows, &ys).unwrap();
        assert!((w[0] - 2.0).abs() < 1e-9 && (w[1] + 3.0).abs() < 1e-9);
        assert!((b - 0.5).abs() < 1e-9);
    }

    #[test]
    fn normal_equation_reports_a_singular_system() {
        assert!(normal_equation(&[vec![1.0], vec![1.0]], &[1.0, 2.0]).is_none());
    }
}

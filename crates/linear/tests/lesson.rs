//! The lecture's first result: gradient descent finds y = 0.1x + 0.3.

use burn::backend::{Autodiff, NdArray};
use dlsuite_data::synthetic::linear_points;
use dlsuite_linear::{fit_gradient_descent, normal_equation};

#[test]
fn gradient_descent_finds_the_line() {
    let (xs, ys) = linear_points(100, 0.0, 1);
    let rows: Vec<Vec<f32>> = xs.iter().map(|&x| vec![x]).collect();
    let (model, trace) =
        fit_gradient_descent::<Autodiff<NdArray>>(&rows, &ys, 0.5, 200, 20, &Default::default());
    assert_eq!(trace.len(), 11, "steps 0, 20, ..., 200");
    assert!(
        (model.weights()[0] - 0.1).abs() < 1e-3,
        "{:?}",
        model.weights()
    );
    assert!((model.bias() - 0.3).abs() < 1e-3, "{}", model.bias());
    assert!(trace.last().unwrap().loss < trace[0].loss);
}

#[test]
fn closed_form_matches_descent_on_noisy_data() {
    let (xs, ys) = linear_points(200, 0.02, 2);
    let rows64: Vec<Vec<f64>> = xs.iter().map(|&x| vec![x as f64]).collect();
    let ys64: Vec<f64> = ys.iter().map(|&y| y as f64).collect();
    let (w, b) = normal_equation(&rows64, &ys64).unwrap();
    let rows: Vec<Vec<f32>> = xs.iter().map(|&x| vec![x]).collect();
    let (model, _) =
        fit_gradient_descent::<Autodiff<NdArray>>(&rows, &ys, 0.5, 2000, 100, &Default::default());
    assert!((model.weights()[0] as f64 - w[0]).abs() < 1e-3);
    assert!((model.bias() as f64 - b).abs() < 1e-3);
    assert!((w[0] - 0.1).abs() < 0.02 && (b - 0.3).abs() < 0.02);
}

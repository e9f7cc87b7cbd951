//! XOR, the problem a single layer cannot solve, solved by two.

use burn::backend::{Autodiff, NdArray};
use burn::nn::loss::BinaryCrossEntropyLossConfig;
use burn::optim::AdamConfig;
use burn::prelude::*;
use dlsuite_data::synthetic::Gate;
use dlsuite_mlp::{Activation, Init, Mlp, MlpConfig};
use dlsuite_train::full_batch_descent;

type B = Autodiff<NdArray>;

/// The backend's random generator is global: tests running side by side
/// must not interleave their seeding and initialisation.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn train_xor(hidden: Vec<usize>) -> Vec<u8> {
    let _guard = RNG.lock().unwrap_or_else(|e| e.into_inner());
    let device = Default::default();
    B::seed(&device, 3);
    let table = Gate::Xor.truth_table();
    let flat: Vec<f32> = table.points.iter().flatten().copied().collect();
    let x = Tensor::<B, 2>::from_data(TensorData::new(flat, [4, 2]), &device);
    let labels: Vec<i64> = table.labels.iter().map(|&l| l as i64).collect();
    let y = Tensor::<B, 2, Int>::from_data(TensorData::new(labels, [4, 1]), &device);
    let model = MlpConfig::new(2, hidden, 1)
        .with_activation(Activation::Tanh)
        .with_init(Init::Xavier)
        .init::<B>(&device);
    let bce = BinaryCrossEntropyLossConfig::new()
        .with_logits(true)
        .init(&device);
    let model = full_batch_descent(
        model,
        AdamConfig::new().init(),
        0.05,
        2000,
        |m: &Mlp<B>| bce.forward(m.forward(x.clone()), y.clone()),
        |_, _, _| {},
    );
    let logits: Vec<f32> = model
        .forward(x)
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap();
    logits.iter().map(|&l| (l > 0.0) as u8).collect()
}

#[test]
fn two_layer_net_solves_xor() {
    assert_eq!(train_xor(vec![8]), vec![0, 1, 1, 0]);
}

#[test]
fn one_layer_cannot_get_all_four_rows() {
    assert_ne!(train_xor(vec![]), vec![0, 1, 1, 0]);
}

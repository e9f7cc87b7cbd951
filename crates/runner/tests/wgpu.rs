//! The same model code trains on wgpu. CI installs Mesa's software Vulkan
//! driver so this runs there; it skips, saying why, only without an adapter.

use burn::backend::{Autodiff, Wgpu};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::AdamConfig;
use burn::prelude::*;
use dlsuite::backend::wgpu_probe;
use dlsuite::config::ModelSpec;
use dlsuite::net::Net;
use dlsuite::run::build_net;
use dlsuite_train::full_batch_descent;

type B = Autodiff<Wgpu>;

#[test]
fn net_trains_a_few_steps_on_wgpu() {
    if let Err(why) = wgpu_probe() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let device = Default::default();
    B::seed(&device, 5);
    let spec = ModelSpec::Mlp {
        hidden: vec![32],
        activation: dlsuite_mlp::Activation::Relu,
        init: dlsuite_mlp::Init::He,
        dropout: 0.0,
        batch_norm: false,
    };
    let net: Net<B> = build_net(&spec, &device);
    let images = Tensor::<B, 4>::random(
        [16, 1, 28, 28],
        burn::tensor::Distribution::Default,
        &device,
    );
    let targets = Tensor::<B, 1, Int>::from_data(
        TensorData::new((0..16i64).map(|i| i % 10).collect::<Vec<_>>(), [16]),
        &device,
    );
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut losses = Vec::new();
    full_batch_descent(
        net,
        AdamConfig::new().init(),
        0.01,
        20,
        |m: &Net<B>| loss_fn.forward(m.forward(images.clone()), targets.clone()),
        |_, _, loss| losses.push(loss),
    );
    assert_eq!(losses.len(), 21);
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(losses[20] < losses[0] / 2.0, "loss fell: {losses:?}");
}

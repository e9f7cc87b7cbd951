//! The row-reading LSTM on ndarray: its documented shapes, that it reads the
//! rows in order (the same pixels in another row order give other logits),
//! and that a few steps of training on a fixed batch bring its loss down.

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::Distribution;
use dlsuite_rnn::RowLstmConfig;

type Train = Autodiff<NdArray>;

#[test]
fn it_reads_rows_in_order_and_gives_one_logit_per_class() {
    let device = Default::default();
    let net = RowLstmConfig::new()
        .with_hidden(16)
        .init::<NdArray>(&device);
    assert_eq!(net.hidden(), 16);
    let images = Tensor::<NdArray, 4>::random([3, 1, 28, 28], Distribution::Default, &device);
    let logits = net.forward(images.clone());
    assert_eq!(logits.dims(), [3, 10]);
    let upside_down = images.flip([2]);
    let gap: f32 = (net.forward(upside_down) - logits)
        .abs()
        .max()
        .into_scalar();
    assert!(gap > 1e-4, "reading the rows backwards changed nothing");
}

#[test]
fn a_few_steps_bring_its_loss_down() {
    let device = Default::default();
    Train::seed(&device, 3);
    let mut net = RowLstmConfig::new().with_hidden(32).init::<Train>(&device);
    let mut optimizer = AdamConfig::new().init();
    let images = Tensor::<Train, 4>::random([16, 1, 28, 28], Distribution::Default, &device);
    let labels = Tensor::<Train, 1, Int>::from_ints(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5],
        &device,
    );
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let loss = |net: &dlsuite_rnn::RowLstm<Train>| -> f32 {
        let valid = net.valid();
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        loss_fn
            .forward(
                valid.forward(images.clone().inner()),
                labels.clone().inner(),
            )
            .into_scalar()
    };
    let before = loss(&net);
    for _ in 0..50 {
        let l = loss_fn.forward(net.forward(images.clone()), labels.clone());
        let grads = GradientsParams::from_grads(l.backward(), &net);
        net = optimizer.step(1e-2, net, grads);
    }
    let after = loss(&net);
    assert!(
        after < 0.5 * before,
        "cross-entropy {before} → {after} after 50 steps on one batch"
    );
}

//! Where a training step of the reference CNN spends its time, and what each
//! [`ConvTraining`] makes of it: the evidence behind the runner's choice per
//! backend.
//!
//! `cargo run --release -p dlsuite-cnn --example layer_timing [-- flex|ndarray [batches]]`
//! prints milliseconds per batch of 64, forward and backward.

use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::MaxPool2dConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use dlsuite_cnn::im2col::conv2d_im2col;
use dlsuite_cnn::pixel_rows::{self, PixelRows};
use dlsuite_cnn::{CnnConfig, ConvTraining};

// The runner's allocator: without it, large tensors are page-faulted anew each step.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs `f` once to warm up, then `batches` times; prints the mean.
fn time(label: &str, batches: usize, mut f: impl FnMut()) {
    f();
    let start = Instant::now();
    for _ in 0..batches {
        f();
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / batches as f64;
    println!("{label:<44} {ms:8.2} ms/batch");
}

fn run<B: AutodiffBackend>(batches: usize) {
    let device = Default::default();
    B::seed(&device, 1);
    let conv2 = Conv2dConfig::new([32, 64], [3, 3]).init::<B>(&device);
    let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
    // The second convolution's input and output, batch 64.
    let maps = Tensor::<B, 4>::random([64, 32, 26, 26], Distribution::Default, &device);
    let conv_out = Tensor::<B, 4>::random([64, 64, 24, 24], Distribution::Default, &device);
    let maps_rows = PixelRows::from_images(maps.clone());
    let conv_out_rows = PixelRows::from_images(conv_out.clone());

    time("conv 32→64: backend, forward only", batches, || {
        let _ = conv2.forward(maps.clone());
    });
    time("conv 32→64: backend", batches, || {
        let _ = conv2.forward(maps.clone().require_grad()).sum().backward();
    });
    time("conv 32→64: im2col", batches, || {
        let y = conv2d_im2col(&conv2, maps.clone().require_grad());
        let _ = y.sum().backward();
    });
    time("conv 32→64: pixel rows", batches, || {
        let x = maps_rows.clone().map(Tensor::require_grad);
        let _ = pixel_rows::conv2d(&conv2, x).rows.sum().backward();
    });
    time("max-pool 2×2: backend", batches, || {
        let _ = pool
            .forward(conv_out.clone().require_grad())
            .sum()
            .backward();
    });
    time("max-pool 2×2: pixel rows", batches, || {
        let x = conv_out_rows.clone().map(Tensor::require_grad);
        let _ = pixel_rows::max_pool2x2(x).rows.sum().backward();
    });
    time("max-pool 2×2, flatten: backend", batches, || {
        let y: Tensor<B, 2> = pool.forward(conv_out.clone().require_grad()).flatten(1, 3);
        let _ = y.sum().backward();
    });
    time("max-pool 2×2, flatten: pixel rows", batches, || {
        let x = conv_out_rows.clone().map(Tensor::require_grad);
        let _ = pixel_rows::max_pool2x2_flat(x).sum().backward();
    });

    let images = Tensor::<B, 4>::random([64, 1, 28, 28], Distribution::Default, &device);
    for (name, config) in [
        ("reference", CnnConfig::reference()),
        ("deep", CnnConfig::deep()),
    ] {
        let net = config.init::<B>(&device).with_host_dropout_masks(true);
        for how in [
            ConvTraining::Backend,
            ConvTraining::Im2col,
            ConvTraining::PixelRows,
            ConvTraining::Host,
        ] {
            let net = net.clone().with_conv_training(how);
            time(&format!("{name} CNN step: {how:?}"), batches, || {
                let _ = net.forward(images.clone()).sum().backward();
            });
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "flex".into());
    let batches = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    match backend.as_str() {
        "flex" => run::<Autodiff<Flex>>(batches),
        "ndarray" => run::<Autodiff<NdArray>>(batches),
        other => eprintln!("unknown backend `{other}`: flex or ndarray"),
    }
}

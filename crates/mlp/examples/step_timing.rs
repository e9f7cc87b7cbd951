//! A training step and batch-1000 inference of the benchmark's fully
//! connected networks, with Burn's `Linear` or the host operation
//! (`Mlp::with_host_linears`): the evidence behind the runner's choice.
//!
//! `cargo run --release -p dlsuite-mlp --example step_timing [-- flex|ndarray [batches]]`
//! prints milliseconds per batch.

use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use dlsuite_mlp::MlpConfig;

// The runner's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs each of `variants` once to warm up, then all of them in turn
/// `batches` times (so that the machine's changing speed falls on each
/// alike); prints each one's median.
fn compare(label: &str, batches: usize, variants: &mut [(&str, &mut dyn FnMut())]) {
    let mut ms = vec![Vec::with_capacity(batches); variants.len()];
    for round in 0..=batches {
        for (i, (_, f)) in variants.iter_mut().enumerate() {
            let start = Instant::now();
            f();
            if round > 0 {
                ms[i].push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    for ((name, _), ms) in variants.iter().zip(&mut ms) {
        ms.sort_by(f64::total_cmp);
        println!("{label}, {name:<14} {:8.3} ms/batch", ms[ms.len() / 2]);
    }
}

fn run<B: AutodiffBackend>(batches: usize) {
    let device = Default::default();
    B::seed(&device, 1);
    let nets = [
        ("MLP 784-300-100-10", vec![300, 100], 0.0, 50),
        ("deep MLP 784-512×4-10 dropout 0.3", vec![512; 4], 0.3, 100),
    ];
    for (name, hidden, dropout, batch) in nets {
        let net = MlpConfig::new(784, hidden, 10)
            .with_dropout(dropout)
            .init::<B>(&device)
            .with_host_dropout_masks(true);
        let (burns, host) = (net.clone(), net.with_host_linears(true));
        let x = Tensor::<B, 2>::random([batch, 784], Distribution::Default, &device);
        let step = |net: &dlsuite_mlp::Mlp<B>| {
            let _ = net.forward(x.clone()).sum().backward();
        };
        compare(
            &format!("{name}: step, batch {batch}"),
            batches,
            &mut [
                ("Burn's Linear", &mut || step(&burns)),
                ("host linears", &mut || step(&host)),
            ],
        );
        let big = Tensor::<B::InnerBackend, 2>::random([1000, 784], Distribution::Default, &device);
        let (burns, host) = (burns.valid(), host.valid());
        let infer = |net: &dlsuite_mlp::Mlp<B::InnerBackend>| {
            let _ = net.forward(big.clone()).into_data();
        };
        compare(
            &format!("{name}: inference, batch 1000"),
            batches,
            &mut [
                ("Burn's Linear", &mut || infer(&burns)),
                ("host linears", &mut || infer(&host)),
            ],
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "flex".into());
    let batches = args.next().and_then(|b| b.parse().ok()).unwrap_or(50);
    match backend.as_str() {
        "flex" => run::<Autodiff<Flex>>(batches),
        "ndarray" => run::<Autodiff<NdArray>>(batches),
        other => eprintln!("unknown backend {other}: flex or ndarray"),
    }
}

//! Each fast path against the plain model it replaces, on one CPU backend:
//! the figures behind this crate's README and the choices in `Tuned`.
//!
//! `cargo run --release -p dlsuite-speed --example fast_paths [-- flex|ndarray [batches]]`
//! prints the median milliseconds per batch of each way, the ways taking
//! turns batch by batch so that the machine's changing speed falls on each
//! alike.

use std::time::Instant;

use burn::backend::{Autodiff, Flex, NdArray};
use burn::module::AutodiffModule;
use burn::nn::DropoutConfig;
use burn::optim::{GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use dlsuite_cnn::{Cnn, CnnConfig};
use dlsuite_mlp::{Mlp, MlpConfig};
use dlsuite_speed::{cnn_on_host, dropout_on_host, mlp_on_host, Linears, OnHost, TunedOptimizer};
use dlsuite_train::{OptimizerChoice, OptimizerConfig};

// The runner's allocator: without it, large tensors are page-faulted anew each step.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Runs each of `ways` once to warm up, then all of them in turn `batches`
/// times; prints each one's median.
fn compare(label: &str, batches: usize, ways: &mut [(&str, &mut dyn FnMut())]) {
    let mut ms = vec![Vec::with_capacity(batches); ways.len()];
    for round in 0..=batches {
        for (i, (_, f)) in ways.iter_mut().enumerate() {
            let start = Instant::now();
            f();
            if round > 0 {
                ms[i].push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    for ((name, _), ms) in ways.iter().zip(&mut ms) {
        ms.sort_by(f64::total_cmp);
        println!("{label:<44} {name:<22} {:9.3} ms", ms[ms.len() / 2]);
    }
}

fn run<B>(batches: usize)
where
    B: AutodiffBackend + OnHost,
    B::InnerBackend: OnHost,
{
    let device = Default::default();
    B::seed(&device, 1);

    let images = Tensor::<B, 4>::random([64, 1, 28, 28], Distribution::Default, &device);
    for (name, config) in [
        ("reference CNN", CnnConfig::reference()),
        ("deep CNN", CnnConfig::deep()),
    ] {
        let net: Cnn<B> = config.init(&device);
        let step = |forward: &dyn Fn(Tensor<B, 4>) -> Tensor<B, 2>| {
            let _ = forward(images.clone()).sum().backward();
        };
        compare(
            &format!("{name}: step, batch 64"),
            batches,
            &mut [
                ("plain", &mut || step(&|x| net.forward(x))),
                ("host blocks", &mut || {
                    step(&|x| cnn_on_host(&net, x, Linears::Burn))
                }),
                ("host blocks, linears", &mut || {
                    step(&|x| cnn_on_host(&net, x, Linears::Host))
                }),
            ],
        );
    }
    let big =
        Tensor::<B::InnerBackend, 4>::random([1000, 1, 28, 28], Distribution::Default, &device);
    let net = CnnConfig::reference().init::<B>(&device).valid();
    let infer = |forward: &dyn Fn(Tensor<B::InnerBackend, 4>) -> Tensor<B::InnerBackend, 2>| {
        let _ = forward(big.clone()).into_data();
    };
    compare(
        "reference CNN: inference, batch 1000",
        batches.div_ceil(2),
        &mut [
            ("plain", &mut || infer(&|x| net.forward(x))),
            ("host blocks", &mut || {
                infer(&|x| cnn_on_host(&net, x, Linears::Burn))
            }),
            ("host blocks, linears", &mut || {
                infer(&|x| cnn_on_host(&net, x, Linears::Host))
            }),
        ],
    );

    for (name, hidden, dropout, batch) in [
        ("MLP 784-300-100-10", vec![300, 100], 0.0, 50),
        ("deep MLP 784-512×4-10, dropout 0.3", vec![512; 4], 0.3, 100),
    ] {
        let net: Mlp<B> = MlpConfig::new(784, hidden, 10)
            .with_dropout(dropout)
            .init(&device);
        let x = Tensor::<B, 2>::random([batch, 784], Distribution::Default, &device);
        let step = |forward: &dyn Fn(Tensor<B, 2>) -> Tensor<B, 2>| {
            let _ = forward(x.clone()).sum().backward();
        };
        compare(
            &format!("{name}: step, batch {batch}"),
            batches,
            &mut [
                ("plain", &mut || step(&|x| net.forward(x))),
                ("host masks", &mut || {
                    step(&|x| mlp_on_host(&net, x, Linears::Burn))
                }),
                ("host masks, linears", &mut || {
                    step(&|x| mlp_on_host(&net, x, Linears::Host))
                }),
            ],
        );
        let big = Tensor::<B::InnerBackend, 2>::random([1000, 784], Distribution::Default, &device);
        let inner = net.valid();
        let infer = |forward: &dyn Fn(Tensor<B::InnerBackend, 2>) -> Tensor<B::InnerBackend, 2>| {
            let _ = forward(big.clone()).into_data();
        };
        compare(
            &format!("{name}: inference, batch 1000"),
            batches,
            &mut [
                ("plain", &mut || infer(&|x| inner.forward(x))),
                ("host linears", &mut || {
                    infer(&|x| mlp_on_host(&inner, x, Linears::Host))
                }),
            ],
        );
    }

    let dropout = DropoutConfig::new(0.3).init();
    let x = Tensor::<B, 2>::ones([100, 512], &device);
    compare(
        "dropout 0.3, 100×512",
        batches,
        &mut [
            ("Burn's masks", &mut || {
                let _ = dropout.forward(x.clone()).into_data();
            }),
            ("host masks", &mut || {
                let _ = dropout_on_host(&dropout, x.clone()).into_data();
            }),
        ],
    );

    // Each optimizer steps its own net, which it then holds alone, as in
    // training (a shared tensor's data can only be copied out).
    let net: Mlp<B> = MlpConfig::new(784, vec![512; 4], 10).init(&device);
    let x = Tensor::<B, 2>::random([100, 784], Distribution::Default, &device);
    let adam = OptimizerConfig::new(OptimizerChoice::Adam);
    let mut ways = [
        (TunedOptimizer::<Mlp<B>, B>::burn(&adam), Some(net.clone())),
        (TunedOptimizer::<Mlp<B>, B>::host_adam(&adam), Some(net)),
    ];
    let [(burns, burns_net), (host, host_net)] = &mut ways;
    let step = |optimizer: &mut TunedOptimizer<Mlp<B>, B>, net: &mut Option<Mlp<B>>| {
        let current = net.take().expect("the net is put back after each step");
        let grads = current.forward(x.clone()).sum().backward();
        let grads = GradientsParams::from_grads(grads, &current);
        *net = Some(optimizer.step(1e-3, current, grads));
    };
    compare(
        "deep MLP: forward, backward and Adam step",
        batches,
        &mut [
            ("Burn's Adam", &mut || step(burns, burns_net)),
            ("host Adam", &mut || step(host, host_net)),
        ],
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "flex".into());
    let batches = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    match backend.as_str() {
        "flex" => run::<Autodiff<Flex>>(batches),
        "ndarray" => run::<Autodiff<NdArray>>(batches),
        other => eprintln!("unknown backend `{other}`: flex or ndarray"),
    }
}

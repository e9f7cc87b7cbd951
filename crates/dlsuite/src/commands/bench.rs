//! `bench`: training and inference speed of the four reference models on
//! each backend, with the settings of `../shared/reference/pytorch_mnist.py`,
//! and (given a Python with torch) that script's figures beside ours.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer};
use burn::prelude::*;
use dlsuite_data::idx::PIXELS;
use dlsuite_data::{DigitSet, Digits, ImageBatch, ImageBatcher, Kind};
use dlsuite_speed::{Tuned, TunedAutodiff};
use dlsuite_train::{OptimizerChoice, OptimizerConfig};

use crate::backend::{digit_loader, BackendChoice, OnBackend};
use crate::config::{CnnPreset, ModelSpec};
use crate::net::{build_net, describe, Net};

/// A reference model and how the PyTorch script trains it.
#[derive(Clone, Debug)]
pub struct BenchModel {
    /// The PyTorch script's name for it.
    pub key: &'static str,
    pub spec: ModelSpec,
    pub batch: usize,
    pub optimizer: OptimizerChoice,
    pub lr: f64,
}

/// The four models of `pytorch_mnist.py`, with its batch sizes and optimizers.
pub fn reference_models() -> Vec<BenchModel> {
    let mlp = |hidden: Vec<usize>, dropout| ModelSpec::Mlp {
        hidden,
        activation: dlsuite_mlp::Activation::Relu,
        init: dlsuite_mlp::Init::He,
        dropout,
        batch_norm: false,
    };
    vec![
        BenchModel {
            key: "softmax",
            spec: ModelSpec::Softmax,
            batch: 100,
            optimizer: OptimizerChoice::Sgd,
            lr: 0.1,
        },
        BenchModel {
            key: "mlp300",
            spec: mlp(vec![300, 100], 0.0),
            batch: 50,
            optimizer: OptimizerChoice::Adam,
            lr: 1e-3,
        },
        BenchModel {
            key: "dnn512",
            spec: mlp(vec![512; 4], 0.3),
            batch: 100,
            optimizer: OptimizerChoice::Adam,
            lr: 1e-3,
        },
        BenchModel {
            key: "cnn",
            spec: ModelSpec::cnn(CnnPreset::Reference),
            batch: 64,
            optimizer: OptimizerChoice::Adam,
            lr: 1e-3,
        },
    ]
}

/// One model on one backend.
#[derive(Clone, Debug)]
pub struct BenchRow {
    pub model: &'static str,
    pub backend: BackendChoice,
    pub batch: usize,
    pub train_images_per_s: f64,
    /// Seconds for the 60,000 training images at the measured rate.
    pub seconds_per_epoch: f64,
    pub infer_batch1_images_per_s: f64,
    pub infer_batch1000_images_per_s: f64,
    /// The process's peak resident memory so far, in MiB.
    pub peak_rss_mib: Option<f64>,
}

pub struct BenchJob {
    pub models: Vec<BenchModel>,
    /// Share of an epoch to time (1.0 = the 60,000 training images).
    pub fraction: f64,
    pub train: Arc<Digits>,
    pub test: Arc<Digits>,
    pub backend: BackendChoice,
}

impl OnBackend for BenchJob {
    type Output = Vec<BenchRow>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> Vec<BenchRow> {
        let mut rows = Vec::new();
        for m in &self.models {
            B::seed(&device, 0);
            let net: Net<B> = build_net(&m.spec, &device);
            let optimizer = B::optimizer(&OptimizerConfig::new(m.optimizer));
            let (net, images_per_s) = train_pass(net, optimizer, m, &self, &device);
            let model = net.valid();
            let test_images = ((self.test.len() as f64 * self.fraction) as usize)
                .max(1000)
                .min(self.test.len());
            let b1000 =
                inference::<B::InnerBackend>(&model, &self.test, 1000, test_images, &device);
            let b1 = inference::<B::InnerBackend>(&model, &self.test, 1, test_images / 10, &device);
            let row = BenchRow {
                model: m.key,
                backend: self.backend,
                batch: m.batch,
                train_images_per_s: images_per_s,
                seconds_per_epoch: 60_000.0 / images_per_s,
                infer_batch1_images_per_s: b1,
                infer_batch1000_images_per_s: b1000,
                peak_rss_mib: peak_rss_mib(),
            };
            print_row(&row);
            rows.push(row);
        }
        rows
    }
}

/// Trains `net` on a shuffled share of the training set, batch by batch as
/// the PyTorch script does (forward, cross-entropy, backward, step); gives
/// back the net and the training images per second. Two untimed steps come
/// first (wgpu compiles its kernels there). Batches come as training's do:
/// on cuda the images are on the GPU before the clock starts, as the
/// PyTorch script's are.
fn train_pass<B: TunedAutodiff>(
    mut net: Net<B>,
    mut optimizer: impl Optimizer<Net<B>, B>,
    m: &BenchModel,
    job: &BenchJob,
    device: &B::Device,
) -> (Net<B>, f64) {
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let images = ((job.train.len() as f64 * job.fraction) as usize)
        .max(m.batch)
        .min(job.train.len());
    let set = DigitSet::new(job.train.clone()).take(images);
    let loader = digit_loader::<B, 4>(set, batcher, m.batch, Some(0), None, device);
    let mut step = |net: Net<B>, batch: ImageBatch<B, 4>| -> (Net<B>, Tensor<B, 1>) {
        let loss = loss_fn.forward(net.forward(batch.images), batch.targets);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        (optimizer.step(m.lr, net, grads), loss)
    };
    for warm in loader.iter().take(2) {
        let (next, loss) = step(net, warm);
        net = next;
        let _: f32 = loss.into_scalar().elem();
    }
    let started = Instant::now();
    let mut last = None;
    for batch in loader.iter() {
        let (next, loss) = step(net, batch);
        net = next;
        last = Some(loss);
    }
    // Wait for queued work (wgpu) before stopping the clock.
    if let Some(loss) = last {
        let _: f32 = loss.into_scalar().elem();
    }
    (net, images as f64 / started.elapsed().as_secs_f64())
}

/// Images per second classifying `count` test images `batch` at a time.
///
/// Like the reference script, the clock covers the model alone (forward,
/// argmax, result back on the host): the images are normalised and on the
/// device before it starts.
fn inference<B: Tuned>(
    net: &Net<B>,
    test: &Digits,
    batch: usize,
    count: usize,
    device: &B::Device,
) -> f64 {
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    let count = count.max(batch).min(test.len());
    let batches: Vec<Tensor<B, 4>> = (0..count)
        .step_by(batch)
        .map(|start| {
            let end = (start + batch).min(count);
            batcher.images::<B>(&test.pixels()[start * PIXELS..end * PIXELS], device)
        })
        .collect();
    // One untimed batch: wgpu compiles its kernels on first use.
    if let Some(x) = batches.first() {
        let _ = net.forward(x.clone()).argmax(1).into_data();
    }
    let started = Instant::now();
    for x in batches {
        let _ = net.forward(x).argmax(1).into_data();
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// VmHWM from /proc (Linux); `None` elsewhere.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn print_header() {
    println!(
        "{:<8} {:<8} {:>5} {:>12} {:>10} {:>13} {:>15} {:>10}",
        "model",
        "backend",
        "batch",
        "train img/s",
        "s/epoch",
        "infer b1 /s",
        "infer b1000 /s",
        "peak RSS"
    );
}

fn print_row(r: &BenchRow) {
    println!(
        "{:<8} {:<8} {:>5} {:>12.0} {:>10.2} {:>13.0} {:>15.0} {:>10}",
        r.model,
        r.backend.name(),
        r.batch,
        r.train_images_per_s,
        r.seconds_per_epoch,
        r.infer_batch1_images_per_s,
        r.infer_batch1000_images_per_s,
        r.peak_rss_mib.map_or("?".into(), |m| format!("{m:.0} MiB"))
    );
}

/// One line of the PyTorch script's output.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct TorchEpoch {
    pub model: String,
    pub train_s: f64,
    pub infer_img_per_s: f64,
    pub load_s: f64,
    pub torch: String,
    /// The GPU's name, from a script that trains on CUDA; absent for the CPU
    /// reference. A GPU figure is compared with the GPU backends (wgpu, cuda),
    /// a CPU one with the CPU backends.
    #[serde(default)]
    pub device: Option<String>,
}

/// Runs the reference script for one epoch of `model` with `python`.
pub fn torch_epoch(
    python: &Path,
    script: &Path,
    model: &str,
    data: &Path,
) -> anyhow::Result<TorchEpoch> {
    let out = std::process::Command::new(python)
        .arg(script)
        .args([model, "1"])
        .arg(data)
        .output()
        .with_context(|| format!("cannot run {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} {model}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .with_context(|| format!("unexpected output from {}: {line}", script.display()))
}

/// What `dlsuite bench` was asked to do.
pub struct BenchOptions {
    pub backends: Vec<crate::backend::BackendChoice>,
    pub models: Vec<BenchModel>,
    pub fraction: f64,
    pub mnist_dir: Option<PathBuf>,
    /// A Python interpreter with torch, to run the reference script too.
    pub torch: Option<PathBuf>,
    pub reference: PathBuf,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Backends, comma-separated (ndarray, flex; wgpu and cuda in builds
    /// with those features) or `all`.
    #[arg(long, default_value = "ndarray,flex")]
    backends: String,
    /// Models, comma-separated: softmax, mlp300, dnn512, cnn.
    #[arg(long, default_value = "softmax,mlp300,dnn512,cnn")]
    models: String,
    /// Share of an epoch to time (1 = all 60,000 training images).
    #[arg(long, default_value_t = 0.25)]
    fraction: f64,
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// A Python with torch installed: also run the reference script, one
    /// epoch per model, and print the ratios.
    #[arg(long)]
    torch: Option<PathBuf>,
    /// The reference script.
    #[arg(long, default_value = "../shared/reference/pytorch_mnist.py")]
    reference: PathBuf,
}

impl BenchArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let (backends, models) = parse_lists(&self.backends, &self.models)?;
        bench(BenchOptions {
            backends,
            models,
            fraction: self.fraction,
            mnist_dir: self.mnist_dir,
            torch: self.torch,
            reference: self.reference,
        })
    }
}

/// Parses `--backends` (`all` or a comma-separated list) and `--models`.
pub fn parse_lists(
    backends: &str,
    models: &str,
) -> anyhow::Result<(Vec<crate::backend::BackendChoice>, Vec<BenchModel>)> {
    let backends = if backends == "all" {
        BackendChoice::all()
    } else {
        backends
            .split(',')
            .map(|b| {
                BackendChoice::parse(b.trim()).map_err(|e| {
                    anyhow::anyhow!("--backends (a comma-separated list, or all): {e}")
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let known = reference_models();
    let models = models
        .split(',')
        .map(|k| {
            known
                .iter()
                .find(|m| m.key == k.trim())
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--models: unknown model {k:?}; choose from softmax, mlp300, dnn512, cnn"
                    )
                })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((backends, models))
}

/// Runs the benchmark and prints its table (and PyTorch's, when asked).
pub fn bench(opts: BenchOptions) -> anyhow::Result<()> {
    use crate::backend::dispatch;
    if !(opts.fraction > 0.0 && opts.fraction <= 1.0) {
        anyhow::bail!("--fraction {}: must be in (0, 1]", opts.fraction);
    }
    println!("models, as ../shared/reference/pytorch_mnist.py trains them:");
    for m in &opts.models {
        println!(
            "  {:<8} {}, batch {}, {:?} lr {}",
            m.key,
            describe(&m.spec),
            m.batch,
            m.optimizer,
            m.lr
        );
    }
    let locator = dlsuite_data::Locator::new(Kind::Mnist, opts.mnist_dir.clone());
    let data_dir = locator.locate()?;
    let started = Instant::now();
    let (train, test) = locator.load()?;
    println!(
        "MNIST loaded from {} in {:.3} s; timing {:.0}% of an epoch ({} images) per model",
        data_dir.display(),
        started.elapsed().as_secs_f64(),
        100.0 * opts.fraction,
        (train.len() as f64 * opts.fraction) as usize
    );
    let (train, test) = (Arc::new(train), Arc::new(test));
    print_header();
    let mut rows = Vec::new();
    for &backend in &opts.backends {
        let job = BenchJob {
            models: opts.models.clone(),
            fraction: opts.fraction,
            train: train.clone(),
            test: test.clone(),
            backend,
        };
        // `dispatch` fails only where the backend has no usable device.
        match dispatch(backend, job) {
            Ok(backend_rows) => rows.extend(backend_rows),
            Err(e) => println!("{:<9} skipped: {e}", backend.name()),
        }
    }
    if let Some(python) = &opts.torch {
        println!(
            "\nPyTorch, same machine, one full epoch per model ({}):",
            opts.reference.display()
        );
        println!(
            "{:<8} {:>14} {:>16} {:>16} {:>20}",
            "model",
            "torch s/epoch",
            "best ours s/ep",
            "ratio ours/torch",
            "infer b1000 ours/torch"
        );
        for m in &opts.models {
            let t = torch_epoch(python, &opts.reference, m.key, &data_dir)?;
            let on_gpu = t.device.is_some();
            let best = rows
                .iter()
                .filter(|r| r.model == m.key && r.backend.is_gpu() == on_gpu)
                .min_by(|a, b| a.seconds_per_epoch.total_cmp(&b.seconds_per_epoch));
            if let Some(b) = best {
                println!(
                    "{:<8} {:>14.2} {:>11.2} ({:<5}) {:>16.2} {:>12.0}/{:<8.0}",
                    m.key,
                    t.train_s,
                    b.seconds_per_epoch,
                    b.backend.name(),
                    b.seconds_per_epoch / t.train_s,
                    b.infer_batch1000_images_per_s,
                    t.infer_img_per_s
                );
            }
            if m.key == opts.models[0].key {
                let device = t.device.as_deref().unwrap_or("CPU");
                println!(
                    "         (torch {} on {device}, MNIST load {:.3} s)",
                    t.torch, t.load_s
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use dlsuite_data::Split;

    #[test]
    fn lists_parse_and_refuse_unknown_names() {
        let (backends, models) = parse_lists("all", "cnn,softmax").unwrap();
        assert_eq!(backends, BackendChoice::all());
        assert_eq!(backends[..2], [BackendChoice::Ndarray, BackendChoice::Flex]);
        assert_eq!(
            models.iter().map(|m| m.key).collect::<Vec<_>>(),
            ["cnn", "softmax"]
        );
        let err = parse_lists("ndarray,tpu", "cnn").unwrap_err().to_string();
        assert!(
            err.contains("\"tpu\"") && err.contains("ndarray, flex"),
            "{err}"
        );
        #[cfg(not(feature = "cuda"))]
        {
            let err = parse_lists("cuda", "cnn").unwrap_err().to_string();
            assert!(err.contains("\"cuda\""), "{err}");
        }
        let err = parse_lists("flex", "mlp").unwrap_err().to_string();
        assert!(err.contains("\"mlp\"") && err.contains("mlp300"), "{err}");
    }

    #[test]
    fn a_short_bench_on_the_fixture_measures_every_model() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist");
        // The two small models: test builds leave generic code unoptimised.
        let job = BenchJob {
            models: reference_models().into_iter().take(2).collect(),
            fraction: 0.2,
            train: Arc::new(Digits::load_dir(&dir, Split::Train).unwrap()),
            test: Arc::new(Digits::load_dir(&dir, Split::Test).unwrap()),
            backend: BackendChoice::Ndarray,
        };
        let rows = job.run::<Autodiff<NdArray>>(Default::default());
        assert_eq!(rows.len(), 2);
        for r in rows {
            for rate in [
                r.train_images_per_s,
                r.infer_batch1_images_per_s,
                r.infer_batch1000_images_per_s,
            ] {
                assert!(rate.is_finite() && rate > 0.0, "{r:?}");
            }
            assert!((r.seconds_per_epoch * r.train_images_per_s - 60_000.0).abs() < 1e-6);
            assert!(r.peak_rss_mib.is_some_and(|m| m > 1.0));
        }
    }
}

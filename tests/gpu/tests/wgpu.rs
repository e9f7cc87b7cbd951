//! The same model code trains on wgpu. CI installs Mesa's software Vulkan
//! driver so this runs there; it skips, saying why, only without an adapter.

use std::path::Path;

use burn::backend::Autodiff;
use burn::cubecl::config::autotune::AutotuneLevel;
use burn::cubecl::config::cache::CacheConfig;
use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::AdamConfig;
use burn::prelude::*;
use dlsuite::autoencoder::AutoencoderJob;
use dlsuite::backend::{dispatch, probe, BackendChoice};
use dlsuite::config::{ModelSpec, RunConfig};
use dlsuite::experiment::Experiment;
use dlsuite::gan::GanJob;
use dlsuite::net::{build_net, Net};
use dlsuite::run_folder::WriteMode;
use dlsuite::training::TrainJob;
use dlsuite_speed::{loader_on_device, Wgpu};
use dlsuite_train::full_batch_descent;

type B = Autodiff<Wgpu>;

#[test]
fn net_trains_a_few_steps_on_wgpu() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
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

/// Through the runner and burn-train's Learner on fused wgpu, past three
/// checkpoints, each read by burn-train's checkpoint threads while the
/// training thread waits.
#[test]
fn a_run_trains_and_checkpoints_on_wgpu() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let run_dir = tempfile::tempdir().unwrap();
    let config = RunConfig::parse(
        "name = \"w\"\ndataset = \"mnist\"\n[model]\nkind = \"mlp\"\nhidden = [32]\n\
         [train]\nepochs = 3\nbatch_size = 20\nlr = 0.002\nvalidation = 400\nlimit = 200\n",
        "test",
    )
    .unwrap();
    let summary = dispatch(
        BackendChoice::Wgpu,
        TrainJob {
            config,
            backend: BackendChoice::Wgpu,
            data_dir: Some(fixtures()),
            run_dir: run_dir.path().to_path_buf(),
            dashboard: false,
            mode: WriteMode::Fresh,
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(summary.epochs, 3);
    let history = dlsuite::run_dir::read_metrics(run_dir.path()).unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history[2].train_loss < history[0].train_loss,
        "training loss fell: {history:?}"
    );
    // Validation batches made on a loader thread came out wrong on wgpu:
    // validation loss rose while the model improved.
    assert!(
        history[2].valid_loss < history[0].valid_loss,
        "validation loss fell: {history:?}"
    );
    assert_eq!(dlsuite::run_dir::last_checkpoint(run_dir.path()), Some(3));
}

/// Runs a sequence experiment on wgpu through the runner.
fn sequence_on_wgpu(text: &str, run_dir: &Path) -> dlsuite::sequence::SequenceSummary {
    let dlsuite::experiment::Experiment::Sequence(experiment) =
        dlsuite::experiment::Experiment::parse(text, "seq.toml").unwrap()
    else {
        panic!("a [language] or [chat] file parses as a sequence experiment");
    };
    let job = dlsuite::sequence::SequenceJob {
        experiment,
        backend: BackendChoice::Wgpu,
        run_dir: run_dir.to_path_buf(),
        dashboard: false,
        mode: WriteMode::Fresh,
    };
    on_big_stack(move || dispatch(BackendChoice::Wgpu, job).unwrap().unwrap())
}

/// The recurrent nets on wgpu, through the runner: the hello lab's RNN
/// learns "ihello" as on the CPU, and one epoch of a small chatbot (LSTMs,
/// attention, masked padding) trains, answers and writes its pictures.
#[test]
fn the_sequence_models_train_on_wgpu() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let hello = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/rnn-hello.toml"),
    )
    .unwrap();
    let s = sequence_on_wgpu(&hello, &root.path().join("hello"));
    assert_eq!(s.figure, 1.0, "{}", s.headline);
    assert!(
        s.samples[0].contains("predicts \"ihello\""),
        "{:?}",
        s.samples
    );
    let chat =
        "name = \"chat\"\nlecture = \"x\"\n[chat]\nembedding = 8\nhidden = 16\nmin_exact = 0.9\n\
                transcript = [\"hello\"]\n[train]\nepochs = 1\nbatch_size = 64\nlr = 0.01\n";
    let run_dir = root.path().join("chat");
    let s = sequence_on_wgpu(chat, &run_dir);
    assert!(s.headline.contains("NOT as lectured"), "{}", s.headline);
    let history = dlsuite::run_dir::read_metrics(&run_dir).unwrap();
    assert!(history[0].train_loss.is_finite(), "{history:?}");
    assert!(run_dir.join("attention.png").is_file());
}

/// Autotune's results go to the user's cache directory, where they outlive
/// `cargo clean` and a fresh clone: once a GPU backend is probed, CubeCL's
/// settings say so (with shapes grouped at the minimal level), and after a
/// matrix product on wgpu, which autotunes, the folder holds results.
#[test]
fn autotune_results_are_kept_in_the_user_cache() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let dir = dlsuite_speed::autotune_cache_dir().expect("a user cache directory");
    let config = CubeClRuntimeConfig::get();
    match &config.autotune.cache {
        CacheConfig::File(path) => assert_eq!(path, &dir),
        other => panic!("autotune caches in {other:?}"),
    }
    assert!(matches!(config.autotune.level, AutotuneLevel::Minimal));
    let device = Default::default();
    let a = Tensor::<Wgpu, 2>::ones([96, 80], &device);
    let b = Tensor::<Wgpu, 2>::ones([80, 72], &device);
    let sum: f32 = a.matmul(b).sum().into_scalar();
    assert_eq!(sum, (96 * 72 * 80) as f32);
    let files = walk(&dir);
    assert!(!files.is_empty(), "nothing under {}", dir.display());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist")
}

/// Runs `work` on a thread with the 8 MiB of stack that `dlsuite train`'s
/// main thread has: on a test thread's 2 MiB the chatbot's epoch on wgpu
/// overflowed its stack.
fn on_big_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(work)
        .unwrap()
        .join()
        .unwrap()
}

/// The generative models on wgpu, through the runner: a dense autoencoder's
/// validation loss falls, a convolutional one (transposed convolutions)
/// trains, and a conditional DCGAN-style GAN trains its judge, draws and is
/// judged, all on the fixtures.
#[test]
fn the_generative_models_train_on_wgpu() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    for (layout, epochs) in [("dense", 3), ("conv", 1)] {
        let text = format!(
            "name = \"ae\"\nlecture = \"x\"\n[autoencoder]\nlayout = \"{layout}\"\ncode = 2\nmax_test_mse = 0.09\n\
             [train]\nepochs = {epochs}\nbatch_size = 50\noptimizer = \"adam\"\nlr = 0.003\nvalidation = 100\n"
        );
        let Experiment::Autoencoder(experiment) = Experiment::parse(&text, "ae.toml").unwrap()
        else {
            panic!("an [autoencoder] file parses as an autoencoder");
        };
        let run_dir = root.path().join(format!("ae-{layout}"));
        let job = AutoencoderJob {
            experiment,
            backend: BackendChoice::Wgpu,
            data_dir: Some(fixtures()),
            run_dir: run_dir.clone(),
            dashboard: false,
            mode: WriteMode::Fresh,
        };
        let summary = on_big_stack(move || dispatch(BackendChoice::Wgpu, job).unwrap().unwrap());
        assert!(
            summary.test_mse.is_finite() && summary.test_mse < 0.2,
            "{layout}: {}",
            summary.test_mse
        );
        let history = dlsuite::run_dir::read_metrics(&run_dir).unwrap();
        if epochs > 1 {
            assert!(
                history[epochs - 1].valid_loss < history[0].valid_loss,
                "{history:?}"
            );
        }
    }
    let judge = root.path().join("judge.toml");
    std::fs::write(
        &judge,
        "name = \"judge\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n[train]\nepochs = 1\nbatch_size = 25\nlr = 0.002\nvalidation = 100\nlimit = 300\n",
    )
    .unwrap();
    let text = format!(
        "name = \"gan\"\nlecture = \"x\"\n[gan]\nlayout = \"conv\"\nlatent = 16\njudge = {:?}\nsamples = 50\nconditional = true\nmin_share = 0.9\n\
         [train]\nepochs = 1\nbatch_size = 50\nlr = 0.0002\nlimit = 200\n",
        judge.display().to_string()
    );
    let Experiment::Gan(experiment) = Experiment::parse(&text, "gan.toml").unwrap() else {
        panic!("a [gan] file parses as a GAN");
    };
    let artifacts = root.path().join("artifacts");
    let run_dir = artifacts.join("gan");
    let job = GanJob {
        experiment,
        backend: BackendChoice::Wgpu,
        data_dir: Some(fixtures()),
        run_dir: run_dir.clone(),
        artifacts,
        dashboard: false,
        mode: WriteMode::Fresh,
    };
    let summary = on_big_stack(move || dispatch(BackendChoice::Wgpu, job).unwrap().unwrap());
    assert_eq!(summary.history.len(), 1);
    assert!(summary
        .asked_share
        .is_some_and(|s| (0.0..=1.0).contains(&s)));
    assert!(summary.mean_confidence.is_finite());
    assert!(run_dir.join("gan.json").is_file());
}

/// Fused wgpu through the Learner past several checkpoints, killed after
/// epoch 3 (what a kill leaves is copied from a whole run) and resumed: it
/// ends where the uninterrupted run ends. Without the training thread
/// waiting while burn-train's threads write each checkpoint, fusion's
/// streams raced ("Should have handle for tensor"); with batches made on a
/// loader thread, training went wrong and a resumed run ended elsewhere.
#[test]
fn a_fused_run_resumed_after_a_kill_ends_where_the_whole_run_ends() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let job = |dir: &Path, mode: WriteMode| {
        let config = RunConfig::parse(
            "name = \"w\"\ndataset = \"mnist\"\n[model]\nkind = \"mlp\"\nhidden = [32]\n\
             [train]\nepochs = 4\nbatch_size = 20\nlr = 0.002\nschedule = \"cosine\"\nvalidation = 200\nlimit = 200\n",
            "test",
        )
        .unwrap();
        dispatch(
            BackendChoice::Wgpu,
            TrainJob {
                config,
                backend: BackendChoice::Wgpu,
                data_dir: Some(fixtures()),
                run_dir: dir.to_path_buf(),
                dashboard: false,
                mode,
            },
        )
        .unwrap()
        .unwrap()
    };
    let whole = tempfile::tempdir().unwrap();
    let cut = tempfile::tempdir().unwrap();
    let uninterrupted = job(whole.path(), WriteMode::Fresh);
    let checkpoints = cut.path().join("checkpoint");
    std::fs::create_dir_all(&checkpoints).unwrap();
    for name in ["run.json", "config.json"] {
        std::fs::copy(whole.path().join(name), cut.path().join(name)).unwrap();
    }
    for part in ["model", "optim", "scheduler"] {
        let name = format!("{part}-3.mpk");
        std::fs::copy(
            whole.path().join("checkpoint").join(&name),
            checkpoints.join(&name),
        )
        .unwrap();
    }
    let log = std::fs::read_to_string(whole.path().join("metrics.jsonl")).unwrap();
    let kept: String = log.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(cut.path().join("metrics.jsonl"), kept).unwrap();
    let resumed = job(cut.path(), WriteMode::Resume);
    let history = |dir: &Path| dlsuite::run_dir::read_metrics(dir).unwrap();
    let (a, b) = (history(whole.path()), history(cut.path()));
    assert_eq!((a.len(), b.len()), (4, 4));
    for epoch in 2..4 {
        assert_eq!(
            a[epoch].train_loss,
            b[epoch].train_loss,
            "epoch {}",
            epoch + 1
        );
        assert_eq!(
            a[epoch].valid_loss,
            b[epoch].valid_loss,
            "epoch {}",
            epoch + 1
        );
    }
    assert_eq!(uninterrupted.test_loss, resumed.test_loss);
    assert_eq!(dlsuite::run_dir::last_checkpoint(cut.path()), Some(4));
}

/// A set on a GPU backend (CUDA's way; wgpu keeps its sets on the host),
/// batches gathered there: the same batches, in the same order, as the
/// host loader's with the same seed.
#[test]
fn batches_gathered_on_wgpu_are_the_host_loaders() {
    if let Err(why) = probe(BackendChoice::Wgpu) {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let device = burn::backend::wgpu::WgpuDevice::default();
    let digits = dlsuite_data::Digits::load_dir(&fixtures(), dlsuite_data::Split::Train).unwrap();
    let set = dlsuite_data::DigitSet::new(std::sync::Arc::new(digits)).take(130);
    let batcher = dlsuite_data::ImageBatcher::grid(dlsuite_data::Kind::Mnist.normalization());
    let host: std::sync::Arc<dyn DataLoader<Wgpu, _>> = DataLoaderBuilder::new(batcher.clone())
        .batch_size(32)
        .shuffle(3)
        .set_device(device.clone())
        .build(set.clone());
    let ours = loader_on_device::<Wgpu, 4>(&set, &batcher, 32, Some(3), &device).unwrap();
    for _epoch in 0..2 {
        let (mut a, mut b) = (host.iter(), ours.iter());
        let mut batches = 0;
        while let Some(x) = a.next() {
            let y = b.next().expect("as many batches");
            assert_eq!(x.images.into_data(), y.images.into_data());
            assert_eq!(x.targets.into_data(), y.targets.into_data());
            assert_eq!(a.progress().items_processed, b.progress().items_processed);
            batches += 1;
        }
        assert!(b.next().is_none());
        assert_eq!(batches, 5);
    }
}

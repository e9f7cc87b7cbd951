//! The runner end to end on the committed MNIST fixture, on ndarray.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::backend::{Autodiff, NdArray};
use burn::data::dataloader::DataLoaderBuilder;
use burn::module::Module;
use burn::prelude::*;
use dlsuite::autoencoder::AutoencoderJob;
use dlsuite::backend::{dispatch, BackendChoice};
use dlsuite::commands::eval::EvalJob;
use dlsuite::commands::predict::PredictJob;
use dlsuite::config::{CnnPreset, ModelSpec, RunConfig};
use dlsuite::ensemble::{EnsembleJob, MemberResult};
use dlsuite::evaluate::evaluate;
use dlsuite::experiment::Experiment;
use dlsuite::gan::GanJob;
use dlsuite::net::{build_net, Net};
use dlsuite::report::row_for;
use dlsuite::run_dir::RunSummary;
use dlsuite::run_folder::WriteMode;
use dlsuite::training::TrainJob;
use dlsuite_data::{DigitSet, Digits, ImageBatcher, Kind, Split};
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::{
    best_epoch, fit, FitConfig, LrSchedule, OptimizerChoice, OptimizerConfig, Recorder,
};

type B = Autodiff<NdArray>;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist")
}

/// Trains `config` on the MNIST fixture on ndarray into `run_dir`.
fn train(config: RunConfig, run_dir: &Path, mode: WriteMode) -> anyhow::Result<RunSummary> {
    dispatch(
        BackendChoice::Ndarray,
        TrainJob {
            config,
            backend: BackendChoice::Ndarray,
            data_dir: Some(fixture_dir()),
            run_dir: run_dir.to_path_buf(),
            dashboard: false,
            mode,
        },
    )?
}

fn config(model: &str, epochs: usize) -> RunConfig {
    RunConfig::parse(
        &format!(
            "name = \"t\"\ndataset = \"mnist\"\n[model]\n{model}\n[train]\nepochs = {epochs}\nbatch_size = 25\nlr = 0.002\nvalidation = 100\n"
        ),
        "test",
    )
    .unwrap()
}

#[test]
fn mlp_overfits_a_tiny_subset_through_the_learner() {
    let device = Default::default();
    B::seed(&device, 1);
    let digits = Arc::new(Digits::load_dir(&fixture_dir(), Split::Train).unwrap());
    let subset = DigitSet::new(digits.clone()).take(100);
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    let train = DataLoaderBuilder::new(batcher.clone())
        .batch_size(20)
        .shuffle(1)
        .build(subset.clone());
    let valid = DataLoaderBuilder::new(batcher)
        .batch_size(100)
        .build(subset);
    let spec = config("kind = \"mlp\"\nhidden = [128]", 1).model;
    let net: Net<B> = build_net(&spec, &device);
    let dir = tempfile::tempdir().unwrap();
    let optimizer = B::optimizer(&OptimizerConfig::new(OptimizerChoice::Adam));
    let fit_config = FitConfig {
        epochs: 30,
        schedule: LrSchedule::Constant { lr: 0.003 },
        patience: None,
        dashboard: false,
        resume_from: None,
        read_every: 1,
    };
    let result = fit(net, optimizer, &fit_config, train, valid, dir.path()).unwrap();
    assert_eq!(result.epochs.len(), 30);
    assert!(result.epochs[29].train_loss < result.epochs[0].train_loss / 10.0);
    let first_100 = Digits::new(
        digits.pixels()[..100 * 784].to_vec(),
        digits.labels()[..100].to_vec(),
    )
    .unwrap();
    let eval = evaluate(&result.model, &first_100, Kind::Mnist, &device);
    assert_eq!(eval.accuracy, 100.0, "the net memorises 100 images");
    let lines = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 30);
}

/// Reading the steps' loss and accuracy back in batches of steps (as GPUs
/// do) changes how often the device is read, not what is trained or
/// reported; and what is reported is the model's own.
#[test]
fn figures_read_every_few_steps_report_what_reading_each_step_reports() {
    let device = Default::default();
    let digits = Arc::new(Digits::load_dir(&fixture_dir(), Split::Train).unwrap());
    let (train_set, valid_set) = DigitSet::new(digits.clone()).split_last(100).unwrap();
    let train_set = train_set.take(200);
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    let spec = config("kind = \"mlp\"\nhidden = [32]", 1).model;
    // One net for both runs. Burn draws a parameter when it is first used,
    // so one pass draws them all before the net is copied.
    B::seed(&device, 5);
    let first: Net<B> = build_net(&spec, &device);
    let _ = first.forward(Tensor::zeros([1, 1, 28, 28], &device));
    let run = |read_every: usize| {
        let train = DataLoaderBuilder::new(batcher.clone())
            .batch_size(20)
            .shuffle(1)
            .build(train_set.clone());
        let valid = DataLoaderBuilder::new(batcher.clone())
            .batch_size(40)
            .build(valid_set.clone());
        let net = first.clone();
        let optimizer = B::optimizer(&OptimizerConfig::new(OptimizerChoice::Adam));
        let fit_config = FitConfig {
            epochs: 2,
            schedule: LrSchedule::Constant { lr: 0.003 },
            patience: None,
            dashboard: false,
            resume_from: None,
            read_every,
        };
        let dir = tempfile::tempdir().unwrap();
        fit(net, optimizer, &fit_config, train, valid, dir.path()).unwrap()
    };
    let each = run(1);
    let batched = run(4);
    // Per epoch and per figure (accuracy, loss): 10 training steps and 3
    // validation steps, read one by one or 4 at a time and the rest at the
    // epoch's end.
    assert_eq!(each.figure_reads, 2 * 2 * (10 + 3));
    assert_eq!(batched.figure_reads, 2 * 2 * (3 + 1));
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    for (a, b) in each.epochs.iter().zip(&batched.epochs) {
        assert!(close(a.train_loss, b.train_loss), "{a:?} / {b:?}");
        assert!(close(a.train_accuracy, b.train_accuracy), "{a:?} / {b:?}");
        assert!(close(a.valid_loss, b.valid_loss), "{a:?} / {b:?}");
        assert!(close(a.valid_accuracy, b.valid_accuracy), "{a:?} / {b:?}");
    }
    // The last validation pass scored the trained model on those 100 images.
    let n = digits.len();
    let valid_digits = Digits::new(
        digits.pixels()[(n - 100) * 784..].to_vec(),
        digits.labels()[n - 100..].to_vec(),
    )
    .unwrap();
    let scored = evaluate(&batched.model, &valid_digits, Kind::Mnist, &device);
    let last = batched.epochs.last().unwrap();
    assert!(
        (scored.loss - last.valid_loss).abs() < 1e-4 * scored.loss,
        "evaluated {} vs reported {}",
        scored.loss,
        last.valid_loss
    );
    assert!(
        (scored.accuracy - last.valid_accuracy).abs() < 1e-9,
        "evaluated {}% vs reported {}%",
        scored.accuracy,
        last.valid_accuracy
    );
}

#[test]
fn early_stopping_keeps_the_weights_of_its_lowest_validation_loss() {
    let device = Default::default();
    B::seed(&device, 3);
    let digits = Arc::new(Digits::load_dir(&fixture_dir(), Split::Train).unwrap());
    // Noisy labels that a wide net memorises: the validation loss turns up.
    let (train_set, valid_set) = DigitSet::new(digits.clone()).split_last(300).unwrap();
    let train_set = train_set.with_label_noise(0.3, 1).unwrap();
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    let train = DataLoaderBuilder::new(batcher.clone())
        .batch_size(25)
        .shuffle(1)
        .build(train_set);
    let valid = DataLoaderBuilder::new(batcher)
        .batch_size(100)
        .build(valid_set);
    let spec = config("kind = \"mlp\"\nhidden = [256, 256]", 1).model;
    let net: Net<B> = build_net(&spec, &device);
    let dir = tempfile::tempdir().unwrap();
    let optimizer = B::optimizer(&OptimizerConfig::new(OptimizerChoice::Adam));
    let fit_config = FitConfig {
        epochs: 40,
        schedule: LrSchedule::Constant { lr: 0.003 },
        patience: Some(3),
        dashboard: false,
        resume_from: None,
        read_every: 1,
    };
    let result = fit(net, optimizer, &fit_config, train, valid, dir.path()).unwrap();
    let last = result.epochs.last().unwrap().epoch;
    let best = best_epoch(&result.epochs).unwrap();
    assert!(last < 40, "stopped early (after {last} epochs)");
    assert_eq!(result.kept_epoch, best);
    assert!(
        best < last,
        "the best epoch {best} is before the stop {last}"
    );
    // Scoring the kept model on the validation images gives that epoch's loss.
    let valid_digits = Digits::new(
        digits.pixels()[300 * 784..].to_vec(),
        digits.labels()[300..].to_vec(),
    )
    .unwrap();
    let kept = evaluate(&result.model, &valid_digits, Kind::Mnist, &device);
    let at = |e: usize| result.epochs[e - 1].valid_loss;
    assert!(
        (kept.loss - at(best)).abs() < 1e-3 * at(best),
        "kept model's loss {} vs best epoch's {} (last {})",
        kept.loss,
        at(best),
        at(last)
    );
    assert!(at(last) > at(best) * 1.01, "the last weights are worse");
    let on_disk: Vec<String> = std::fs::read_dir(dir.path().join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("model-"))
        .collect();
    assert!(
        on_disk.contains(&format!("model-{best}.mpk")),
        "{on_disk:?}"
    );
    assert_eq!(on_disk.len(), 3, "the last two and the best: {on_disk:?}");
}

#[test]
fn save_then_load_gives_identical_outputs_for_every_family() {
    let device = Default::default();
    let images =
        Tensor::<NdArray, 4>::random([3, 1, 28, 28], burn::tensor::Distribution::Default, &device);
    for spec in [
        ModelSpec::Softmax,
        config("kind = \"mlp\"\nhidden = [32, 16]\ndropout = 0.2", 1).model,
        ModelSpec::cnn(CnnPreset::Lenet),
        ModelSpec::cnn(CnnPreset::DeepBatchNorm),
        ModelSpec::Lstm { hidden: 12 },
    ] {
        <NdArray as Backend>::seed(&device, 1);
        let net: Net<NdArray> = build_net(&spec, &device);
        // Parameters are initialised lazily, on first use: use them before
        // saving so that the saved copy and `net` hold the same values.
        let expected = net.forward(images.clone()).into_data();
        let dir = tempfile::tempdir().unwrap();
        net.clone()
            .save_file(dir.path().join("m"), &Recorder::new())
            .unwrap();
        <NdArray as Backend>::seed(&device, 2);
        let fresh: Net<NdArray> = build_net(&spec, &device);
        assert_ne!(
            fresh.forward(images.clone()).into_data(),
            expected,
            "a different seed gives a different net ({spec:?})"
        );
        let loaded = fresh
            .load_file(dir.path().join("m.mpk"), &Recorder::new(), &device)
            .unwrap();
        assert_eq!(
            loaded.forward(images.clone()).into_data(),
            expected,
            "{spec:?}"
        );
    }
}

#[test]
fn train_writes_artifacts_and_eval_reproduces_the_accuracy() {
    let run_dir = tempfile::tempdir().unwrap();
    let mut config = config("kind = \"cnn\"\npreset = \"lenet\"", 2);
    config.train.limit = Some(300);
    let summary = train(config, run_dir.path(), WriteMode::Fresh).unwrap();
    for file in [
        "config.json",
        "model.mpk",
        "metrics.jsonl",
        "summary.json",
        "curves.png",
        "confusion.png",
        "misclassified.png",
    ] {
        assert!(run_dir.path().join(file).is_file(), "{file}");
    }
    let saved: RunSummary = serde_json::from_str(
        &std::fs::read_to_string(run_dir.path().join("summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved.epochs, 2);
    assert_eq!(saved.backend, "ndarray");
    assert_eq!(saved.parameters, summary.parameters);
    assert!(
        saved.test_accuracy > 30.0,
        "two epochs on 300 images beat chance: {}",
        saved.test_accuracy
    );

    let eval = dispatch(
        BackendChoice::Ndarray,
        EvalJob {
            run_dir: run_dir.path().to_path_buf(),
            data_dir: Some(fixture_dir()),
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(eval.accuracy, saved.test_accuracy);

    // The first test fixture image, drawn dark on light in RGBA as a user would.
    let test = Digits::load_dir(&fixture_dir(), Split::Test).unwrap();
    let png = run_dir.path().join("digit.png");
    image::RgbaImage::from_fn(56, 56, |x, y| {
        let v = test.image(0)[(y / 2 * 28 + x / 2) as usize];
        image::Rgba([255 - v, 255 - v, 255 - v, 255])
    })
    .save(&png)
    .unwrap();
    let predictions = dispatch(
        BackendChoice::Ndarray,
        PredictJob {
            run_dir: run_dir.path().to_path_buf(),
            images: vec![png],
            show: Some(run_dir.path().join("seen")),
        },
    )
    .unwrap()
    .unwrap()
    .predictions;
    assert_eq!(predictions[0].top.len(), 3);
    let total: f32 = predictions[0].top.iter().map(|t| t.1).sum();
    assert!(total > 0.0 && total <= 1.0001);
    let card = image::open(run_dir.path().join("seen/digit-seen.png")).unwrap();
    assert_eq!((card.width(), card.height()), (760, 340));
}

#[test]
fn softmax_run_draws_its_weight_images() {
    let run_dir = tempfile::tempdir().unwrap();
    let mut config = config("kind = \"softmax\"", 1);
    config.train.limit = Some(200);
    train(config, run_dir.path(), WriteMode::Fresh).unwrap();
    let weights = image::open(run_dir.path().join("weights.png"))
        .unwrap()
        .to_rgb8();
    // Ten signed tiles: both red (positive) and blue (negative) weights show.
    let reddish = weights
        .pixels()
        .filter(|p| p.0[0] as i32 > p.0[2] as i32 + 60)
        .count();
    let bluish = weights
        .pixels()
        .filter(|p| p.0[2] as i32 > p.0[0] as i32 + 60)
        .count();
    assert!(
        reddish > 500 && bluish > 500,
        "{reddish} red, {bluish} blue"
    );
}

#[test]
fn predict_reports_a_bad_file_and_goes_on_and_keeps_each_inputs_card() {
    let run_dir = tempfile::tempdir().unwrap();
    let config = config("kind = \"softmax\"", 1);
    std::fs::write(
        run_dir.path().join("config.json"),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    let device = Default::default();
    build_net::<NdArray>(&config.model, &device)
        .save_file(run_dir.path().join("model"), &Recorder::new())
        .unwrap();
    let text = run_dir.path().join("note.png");
    std::fs::write(&text, "not a picture").unwrap();
    // Two pictures of one name in two folders, one of them blank.
    let test = Digits::load_dir(&fixture_dir(), Split::Test).unwrap();
    let (a, b) = (run_dir.path().join("a"), run_dir.path().join("b"));
    for (dir, blank) in [(&a, false), (&b, true)] {
        std::fs::create_dir(dir).unwrap();
        image::GrayImage::from_fn(28, 28, |x, y| {
            image::Luma([if blank {
                0
            } else {
                test.image(0)[(y * 28 + x) as usize]
            }])
        })
        .save(dir.join("1.png"))
        .unwrap();
    }
    let show = run_dir.path().join("seen");
    let outcome = dispatch(
        BackendChoice::Ndarray,
        PredictJob {
            run_dir: run_dir.path().to_path_buf(),
            images: vec![a.join("1.png"), text.clone(), b.join("1.png")],
            show: Some(show.clone()),
        },
    )
    .unwrap()
    .unwrap();
    assert_eq!(outcome.failed.len(), 1);
    let (path, err) = &outcome.failed[0];
    assert_eq!(path, &text);
    assert!(
        err.starts_with(&text.display().to_string()) && err.contains("not an image"),
        "{err}"
    );
    assert_eq!(
        outcome
            .predictions
            .iter()
            .map(|p| &p.path)
            .collect::<Vec<_>>(),
        [&a.join("1.png"), &b.join("1.png")],
        "the file after the bad one is classified too"
    );
    assert_eq!(
        outcome.blank,
        [b.join("1.png")],
        "only the blank one is flagged"
    );
    let mut cards: Vec<String> = std::fs::read_dir(&show)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    cards.sort();
    assert_eq!(cards, ["1-2-seen.png", "1-seen.png"]);
}

#[test]
fn a_diverging_run_stops_naming_epoch_and_step() {
    let run_dir = tempfile::tempdir().unwrap();
    // Softmax regression's loss stays finite at any rate; a hidden layer's
    // weights overflow.
    let mut config = config("kind = \"mlp\"\nhidden = [32]", 3);
    config.train.optimizer = OptimizerChoice::Sgd;
    config.train.lr = 1e30;
    config.train.limit = Some(200);
    let err = train(config, run_dir.path(), WriteMode::Fresh).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("NaN or infinite in epoch 1 (seen at step ")
            && msg.contains("smaller learning rate"),
        "{msg}"
    );
    assert!(msg.contains("no checkpoint"), "{msg}");
    assert!(
        !run_dir.path().join("model.mpk").exists(),
        "no diverged model saved"
    );
    assert!(!run_dir.path().join("summary.json").exists());
}

#[test]
fn resume_skips_a_checkpoint_cut_short() {
    let run_dir = tempfile::tempdir().unwrap();
    let checkpoints = run_dir.path().join("checkpoint");
    std::fs::create_dir_all(&checkpoints).unwrap();
    // Epoch 1 complete; epoch 2's optimizer file cut off mid-array.
    for part in ["model", "optim", "scheduler"] {
        std::fs::write(
            checkpoints.join(format!("{part}-1.mpk")),
            [0x92, 0x01, 0x02],
        )
        .unwrap();
        std::fs::write(
            checkpoints.join(format!("{part}-2.mpk")),
            [0x92, 0x01, 0x02],
        )
        .unwrap();
    }
    assert_eq!(dlsuite::run_dir::last_checkpoint(run_dir.path()), Some(2));
    std::fs::write(checkpoints.join("optim-2.mpk"), [0x92, 0x01]).unwrap();
    assert_eq!(dlsuite::run_dir::last_checkpoint(run_dir.path()), Some(1));
    std::fs::remove_file(checkpoints.join("scheduler-1.mpk")).unwrap();
    assert_eq!(dlsuite::run_dir::last_checkpoint(run_dir.path()), None);
}

#[test]
fn a_resumed_run_keeps_its_history_and_numbers_epochs_on() {
    let run_dir = tempfile::tempdir().unwrap();
    let job = |epochs: usize, mode: WriteMode| {
        let mut config = config("kind = \"softmax\"", epochs);
        config.train.limit = Some(200);
        train(config, run_dir.path(), mode).unwrap()
    };
    job(2, WriteMode::Fresh);
    assert_eq!(dlsuite::run_dir::last_checkpoint(run_dir.path()), Some(2));
    // Temporary files of writes that a kill cut short go when the run resumes.
    let leftovers = [
        run_dir.path().join(".tmp-metrics"),
        run_dir.path().join("checkpoint/.tmp-model"),
    ];
    for file in &leftovers {
        std::fs::write(file, b"half").unwrap();
    }
    let summary = job(4, WriteMode::Resume);
    for file in &leftovers {
        assert!(!file.exists(), "{} left", file.display());
    }
    assert_eq!(summary.epochs, 4, "the summary counts the whole run");
    let history = dlsuite::run_dir::read_metrics(run_dir.path()).unwrap();
    assert_eq!(
        history.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    for e in &history {
        assert!(
            e.train_loss.is_finite() && e.valid_accuracy.is_finite(),
            "{e:?}"
        );
    }
}

/// A run killed after epoch 1 and resumed must end exactly where the same run
/// left alone ends: same weights, optimizer moments, schedule position and
/// data order.
#[test]
fn a_resumed_run_ends_where_the_uninterrupted_run_ends() {
    let whole = tempfile::tempdir().unwrap();
    let cut = tempfile::tempdir().unwrap();
    let job = |dir: &Path, mode: WriteMode| {
        let mut config = config("kind = \"mlp\"\nhidden = [16]", 2);
        config.train.limit = Some(200);
        config.train.schedule = dlsuite::config::ScheduleName::Cosine;
        train(config, dir, mode).unwrap()
    };
    let uninterrupted = job(whole.path(), WriteMode::Fresh);

    // What a kill during epoch 2 leaves behind: the run's marker and config,
    // epoch 1's checkpoint and log line.
    let checkpoints = cut.path().join("checkpoint");
    std::fs::create_dir_all(&checkpoints).unwrap();
    for name in ["run.json", "config.json"] {
        std::fs::copy(whole.path().join(name), cut.path().join(name)).unwrap();
    }
    for part in ["model", "optim", "scheduler"] {
        let name = format!("{part}-1.mpk");
        std::fs::copy(
            whole.path().join("checkpoint").join(&name),
            checkpoints.join(&name),
        )
        .unwrap();
    }
    let log = std::fs::read_to_string(whole.path().join("metrics.jsonl")).unwrap();
    let first_line = log.lines().next().unwrap();
    std::fs::write(cut.path().join("metrics.jsonl"), format!("{first_line}\n")).unwrap();

    let resumed = job(cut.path(), WriteMode::Resume);
    let history = |dir: &Path| dlsuite::run_dir::read_metrics(dir).unwrap();
    let (a, b) = (history(whole.path()), history(cut.path()));
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 2);
    assert_eq!(a[1].train_loss, b[1].train_loss, "epoch 2's training loss");
    assert_eq!(
        a[1].valid_loss, b[1].valid_loss,
        "epoch 2's validation loss"
    );
    assert_eq!(uninterrupted.test_loss, resumed.test_loss);
    assert_eq!(uninterrupted.test_accuracy, resumed.test_accuracy);
}

#[test]
fn an_ensemble_trains_its_missing_members_votes_and_then_reuses_them() {
    let root = tempfile::tempdir().unwrap();
    let artifacts = root.path().join("artifacts");
    let member_file = |name: &str, model: &str, epochs: usize| {
        let path = root.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!("name = \"{name}\"\ndataset = \"mnist\"\n[model]\n{model}\n[train]\nepochs = {epochs}\nbatch_size = 25\nlr = 0.002\nvalidation = 100\nlimit = 300\n"),
        )
        .unwrap();
        path.display().to_string()
    };
    let soft = member_file("soft", "kind = \"softmax\"", 1);
    let mlp = member_file("mlp", "kind = \"mlp\"\nhidden = [32]", 1);
    let text = format!(
        "name = \"vote\"\ndataset = \"mnist\"\n[[member]]\nexperiment = {soft:?}\n[[member]]\nexperiment = {soft:?}\nseed = 5\n[[member]]\nexperiment = {mlp:?}\n"
    );
    let Experiment::Ensemble(ensemble) = Experiment::parse(&text, "vote.toml").unwrap() else {
        panic!("an ensemble file parses as an ensemble");
    };
    let vote = || -> (RunSummary, Vec<MemberResult>) {
        let summary = dispatch(
            BackendChoice::Ndarray,
            EnsembleJob {
                experiment: ensemble.clone(),
                backend: BackendChoice::Ndarray,
                data_dir: Some(fixture_dir()),
                run_dir: artifacts.join("vote"),
                artifacts: artifacts.clone(),
                mode: WriteMode::Overwrite,
            },
        )
        .unwrap()
        .unwrap();
        let members = serde_json::from_str(
            &std::fs::read_to_string(artifacts.join("vote/ensemble.json")).unwrap(),
        )
        .unwrap();
        (summary, members)
    };

    let (first, members) = vote();
    let dirs = [
        artifacts.join("soft"),
        artifacts.join("vote/soft-seed5"),
        artifacts.join("mlp"),
    ];
    assert_eq!(
        members.iter().map(|m| &m.run_dir).collect::<Vec<_>>(),
        dirs.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        members.iter().map(|m| m.seed).collect::<Vec<_>>(),
        [42, 5, 42]
    );
    assert!(members.iter().all(|m| m.trained_now));
    for m in &members {
        // The member's probabilities, as the vote saw them, score what its own run recorded.
        let own: RunSummary =
            serde_json::from_str(&std::fs::read_to_string(m.run_dir.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(
            m.test_accuracy,
            own.test_accuracy,
            "{}",
            m.run_dir.display()
        );
    }
    assert_eq!(first.epochs, 3);
    assert_eq!(
        first.parameters,
        members.iter().map(|m| m.parameters).sum::<usize>()
    );
    assert!(artifacts.join("vote/confusion.png").is_file());
    assert!(first.test_accuracy > 30.0, "{}", first.test_accuracy);

    // Run again: every member is reused, and the vote is the same.
    let (second, members) = vote();
    assert!(members.iter().all(|m| !m.trained_now));
    assert_eq!(second.test_accuracy, first.test_accuracy);

    // eval and predict need one model: an ensemble's folder says what to do instead.
    let err = dispatch(
        BackendChoice::Ndarray,
        EvalJob {
            run_dir: artifacts.join("vote"),
            data_dir: Some(fixture_dir()),
        },
    )
    .unwrap()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("ensemble") && err.contains("ensemble.json"),
        "{err}"
    );

    // A member whose file changed is trained again; the others are kept.
    member_file("soft", "kind = \"softmax\"", 2);
    let (third, members) = vote();
    assert_eq!(
        members.iter().map(|m| m.trained_now).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(third.epochs, 5);
}

/// Every file under `dir` with its bytes (and mode), to show a refusal
/// changed nothing.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn small_softmax() -> RunConfig {
    let mut config = config("kind = \"softmax\"", 1);
    config.train.limit = Some(200);
    config
}

#[test]
fn a_fresh_run_into_a_folder_of_other_files_refuses_and_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("train/cats")).unwrap();
    std::fs::write(dir.path().join("train/cats/1.jpg"), b"x").unwrap();
    let before = snapshot(dir.path());
    for mode in [WriteMode::Fresh, WriteMode::Overwrite] {
        let err = train(small_softmax(), dir.path(), mode)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a dlsuite run folder") && err.contains("train/"),
            "{err}"
        );
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_finished_run_is_refused_kept_on_resume_and_replaced_only_on_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    train(small_softmax(), dir.path(), WriteMode::Fresh).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    let before = snapshot(dir.path());
    let err = train(small_softmax(), dir.path(), WriteMode::Fresh)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a finished run of t (1 epoch")
            && err.contains("--resume")
            && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    // Resuming with nothing left to do changes no file.
    train(small_softmax(), dir.path(), WriteMode::Resume).unwrap();
    assert_eq!(snapshot(dir.path()), before);
    // Overwriting retrains, and the user's file stays.
    train(small_softmax(), dir.path(), WriteMode::Overwrite).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("notes.txt")).unwrap(),
        b"mine"
    );
    assert_ne!(snapshot(dir.path()), before);
}

#[test]
fn a_resume_with_other_settings_or_another_experiment_refuses_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = small_softmax();
    first.train.epochs = 2;
    train(first.clone(), dir.path(), WriteMode::Fresh).unwrap();
    let before = snapshot(dir.path());

    let mut other_lr = first.clone();
    other_lr.train.lr = 0.5;
    other_lr.train.epochs = 3;
    let err = format!(
        "{:#}",
        train(other_lr, dir.path(), WriteMode::Resume).unwrap_err()
    );
    assert!(
        err.contains("train.lr: 0.002 in the run, 0.5 now") && !err.contains("train.epochs"),
        "{err}"
    );
    let mut mlp = config("kind = \"mlp\"\nhidden = [8]", 3);
    mlp.name = "other".into();
    let err = format!(
        "{:#}",
        train(mlp, dir.path(), WriteMode::Resume).unwrap_err()
    );
    assert!(
        err.contains("name: \"t\" in the run, \"other\" now") && err.contains("model.kind"),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);

    // More epochs may be asked; the change is recorded with its epoch.
    let mut longer = first.clone();
    longer.train.epochs = 3;
    let summary = train(longer, dir.path(), WriteMode::Resume).unwrap();
    assert_eq!(summary.epochs, 3);
    let marker: dlsuite::run_folder::RunMarker =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    assert_eq!(marker.changes.len(), 1, "{:?}", marker.changes);
    let change = &marker.changes[0];
    assert_eq!(
        (
            change.field.as_str(),
            change.after_epoch,
            &change.from,
            &change.to
        ),
        (
            "train.epochs",
            2,
            &serde_json::json!(2),
            &serde_json::json!(3)
        )
    );
}

#[test]
fn a_second_writer_is_refused_while_the_first_holds_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let _first = dlsuite::run_lock::RunLock::acquire(dir.path()).unwrap();
    let err = train(small_softmax(), dir.path(), WriteMode::Fresh)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another dlsuite is writing this run folder")
            && err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    assert!(!dir.path().join("config.json").exists());
}

#[test]
fn a_checkpoint_or_history_that_cannot_be_written_ends_training_with_an_error() {
    let digits = Arc::new(Digits::load_dir(&fixture_dir(), Split::Train).unwrap());
    let subset = DigitSet::new(digits).take(100);
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    let spec = config("kind = \"softmax\"", 1).model;
    let device = Default::default();
    // What cannot be written: a file where the checkpoint folder goes, a
    // folder where the history goes.
    for (blocked, expected) in [
        // Whichever of the model, optimizer and scheduler files comes first.
        ("checkpoint", "-1.mpk: cannot write"),
        ("metrics.jsonl", "metrics.jsonl: cannot write"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        if blocked == "checkpoint" {
            std::fs::write(dir.path().join(blocked), b"in the way").unwrap();
        } else {
            std::fs::create_dir_all(dir.path().join(blocked).join("x")).unwrap();
        }
        let train_loader = DataLoaderBuilder::new(batcher.clone())
            .batch_size(50)
            .build(subset.clone());
        let valid_loader = DataLoaderBuilder::new(batcher.clone())
            .batch_size(100)
            .build(subset.clone());
        let fit_config = FitConfig {
            epochs: 3,
            schedule: LrSchedule::Constant { lr: 0.01 },
            patience: None,
            dashboard: false,
            resume_from: None,
            read_every: 1,
        };
        let net: Net<B> = build_net(&spec, &device);
        let optimizer = B::optimizer(&OptimizerConfig::new(OptimizerChoice::Adam));
        let err = match fit(
            net,
            optimizer,
            &fit_config,
            train_loader,
            valid_loader,
            dir.path(),
        ) {
            Ok(_) => panic!("{blocked}: training reported success"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(blocked)
                && err.contains(expected)
                && err.contains("training stopped after"),
            "{blocked}: {err}"
        );
    }
}

#[test]
fn eval_of_a_model_file_that_does_not_fit_its_config_says_so() {
    let dir = tempfile::tempdir().unwrap();
    train(small_softmax(), dir.path(), WriteMode::Fresh).unwrap();
    let eval = || {
        dispatch(
            BackendChoice::Ndarray,
            EvalJob {
                run_dir: dir.path().to_path_buf(),
                data_dir: Some(fixture_dir()),
            },
        )
        .unwrap()
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
    };
    assert_eq!(eval(), Ok(()));
    let model = std::fs::read(dir.path().join("model.mpk")).unwrap();

    // Cut short, as by an interrupted copy.
    std::fs::write(dir.path().join("model.mpk"), &model[..model.len() / 2]).unwrap();
    let err = eval().unwrap_err();
    assert!(err.contains("model.mpk: incomplete"), "{err}");

    // Whole, but the config beside it describes another net.
    std::fs::write(dir.path().join("model.mpk"), &model).unwrap();
    let mut mlp = small_softmax();
    mlp.model = config("kind = \"mlp\"\nhidden = [8]", 1).model;
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&mlp).unwrap(),
    )
    .unwrap();
    let err = eval().unwrap_err();
    assert!(
        err.contains("model.mpk: does not match config.json") && err.contains("MLP [8]"),
        "{err}"
    );

    // The same family with another width.
    let mut wider = config("kind = \"mlp\"\nhidden = [8]", 1);
    wider.train.limit = Some(100);
    let other = tempfile::tempdir().unwrap();
    train(wider.clone(), other.path(), WriteMode::Fresh).unwrap();
    wider.model = config("kind = \"mlp\"\nhidden = [9]", 1).model;
    std::fs::write(
        other.path().join("config.json"),
        serde_json::to_string(&wider).unwrap(),
    )
    .unwrap();
    let err = dispatch(
        BackendChoice::Ndarray,
        EvalJob {
            run_dir: other.path().to_path_buf(),
            data_dir: Some(fixture_dir()),
        },
    )
    .unwrap()
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("is [784, 9] in the config's net, [784, 8] in the file"),
        "{err}"
    );
}

#[test]
fn a_model_too_large_for_memory_is_refused_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let huge = config("kind = \"mlp\"\nhidden = [100000000]", 1);
    let err = format!(
        "{:#}",
        train(huge, dir.path(), WriteMode::Fresh).unwrap_err()
    );
    assert!(
        err.contains("too large for this machine")
            && err.contains("hidden layer 1 (784 → 100000000)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn the_batch_lesson_trains_on_the_mnist_it_is_given_and_names_a_missing_one() {
    let lesson = |max_steps| dlsuite::experiment::LessonExperiment {
        name: "batch-sizes".into(),
        description: String::new(),
        lecture: String::new(),
        lesson: dlsuite_lessons::LessonConfig::BatchSizes(dlsuite_lessons::BatchSizesLesson {
            max_steps: Some(max_steps),
            seconds: 1e6,
            line_steps: 20,
            ..Default::default()
        }),
    };
    let job = |mnist_dir: PathBuf, run_dir: PathBuf| dlsuite::lesson::LessonJob {
        experiment: lesson(5),
        backend: BackendChoice::Ndarray,
        run_dir,
        mnist_dir: Some(mnist_dir),
        mode: WriteMode::Fresh,
    };
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-mnist");
    let err = dispatch(
        BackendChoice::Ndarray,
        job(missing.clone(), tmp.path().join("failed")),
    )
    .unwrap()
    .unwrap_err()
    .to_string();
    assert!(err.contains("no-such-mnist"), "{err}");
    assert!(
        !tmp.path().join("failed").exists(),
        "no run folder is left for a run that never started"
    );

    let run_dir = tmp.path().join("batch-sizes");
    let summary = dispatch(BackendChoice::Ndarray, job(fixture_dir(), run_dir.clone()))
        .unwrap()
        .unwrap();
    assert!(
        summary.headline.contains("full batch (600)"),
        "{}",
        summary.headline
    );
    for file in ["lesson.json", "batch-paths.png", "batch-loss.png"] {
        assert!(run_dir.join(file).is_file(), "{file}");
    }
}

fn autoencoder_file(name: &str, layout: &str, code: &str) -> String {
    format!(
        "name = \"{name}\"\nlecture = \"blurred but recognisable\"\n[autoencoder]\nlayout = \"{layout}\"\ncode = {code}\nmax_test_mse = 0.09\n\
         [train]\nepochs = 3\nbatch_size = 50\noptimizer = \"adam\"\nlr = 0.003\nvalidation = 100\n"
    )
}

#[test]
fn an_autoencoder_run_learns_to_rebuild_draws_its_code_and_is_refused_by_eval() {
    let root = tempfile::tempdir().unwrap();
    let artifacts = root.path().join("artifacts");
    let Experiment::Autoencoder(experiment) =
        Experiment::parse(&autoencoder_file("ae", "dense", "2"), "ae.toml").unwrap()
    else {
        panic!("an [autoencoder] file parses as an autoencoder");
    };
    let run_dir = artifacts.join("ae");
    let job = |mode| AutoencoderJob {
        experiment: experiment.clone(),
        backend: BackendChoice::Ndarray,
        data_dir: Some(fixture_dir()),
        run_dir: run_dir.clone(),
        dashboard: false,
        mode,
    };
    let summary = dispatch(BackendChoice::Ndarray, job(WriteMode::Fresh))
        .unwrap()
        .unwrap();
    for file in [
        "config.json",
        "model.mpk",
        "metrics.jsonl",
        "autoencoder.json",
        "curves.png",
        "reconstructions.png",
        "codes.png",
        "sweep.png",
    ] {
        assert!(run_dir.join(file).is_file(), "{file}");
    }
    assert_eq!((summary.epochs, summary.code), (3, 2));
    // Drawing every test image blank scores the mean of its squared pixels;
    // a net that learned anything does clearly better.
    let test = Digits::load_dir(&fixture_dir(), Split::Test).unwrap();
    let blank = test
        .pixels()
        .iter()
        .map(|&v| (v as f64 / 255.0).powi(2))
        .sum::<f64>()
        / test.pixels().len() as f64;
    assert!(
        summary.test_mse < 0.8 * blank,
        "test MSE {} against {blank} for blank images",
        summary.test_mse
    );
    assert_eq!(summary.as_lectured, summary.test_mse <= 0.09);
    let history = dlsuite_train::read_history(&run_dir.join("metrics.jsonl")).unwrap();
    assert_eq!(history.len(), 3);
    assert!(history[2].valid_loss < history[0].valid_loss, "{history:?}");
    assert!(history.iter().all(|e| e.valid_accuracy.is_nan()));

    let experiment_as_listed = Experiment::Autoencoder(experiment.clone());
    let row = row_for(&experiment_as_listed, &artifacts).unwrap();
    assert_eq!(row.ours, format!("test MSE {:.4}", summary.test_mse));
    assert_eq!(row.group, "generative");
    assert!(row.pictures.contains(&"sweep.png".to_string()));

    let before = snapshot(&run_dir);
    let refused = dispatch(BackendChoice::Ndarray, job(WriteMode::Fresh))
        .unwrap()
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("--overwrite"),
        "{refused:#}"
    );
    let eval = dispatch(
        BackendChoice::Ndarray,
        EvalJob {
            run_dir: run_dir.clone(),
            data_dir: Some(fixture_dir()),
        },
    )
    .unwrap()
    .unwrap_err();
    let message = format!("{eval:#}");
    assert!(message.contains("an autoencoder run"), "{message}");
    assert!(message.contains("autoencoder.json"), "{message}");
    assert_eq!(snapshot(&run_dir), before, "refusals change nothing");
}

#[test]
fn a_convolutional_autoencoder_with_a_wide_code_trains_through_the_runner() {
    let root = tempfile::tempdir().unwrap();
    let Experiment::Autoencoder(mut experiment) =
        Experiment::parse(&autoencoder_file("ae", "conv", "32"), "ae.toml").unwrap()
    else {
        panic!("an [autoencoder] file parses as an autoencoder");
    };
    experiment.train.epochs = 2;
    let run_dir = root.path().join("ae");
    let summary = dispatch(
        BackendChoice::Ndarray,
        AutoencoderJob {
            experiment,
            backend: BackendChoice::Ndarray,
            data_dir: Some(fixture_dir()),
            run_dir: run_dir.clone(),
            dashboard: false,
            mode: WriteMode::Fresh,
        },
    )
    .unwrap()
    .unwrap();
    let history = dlsuite_train::read_history(&run_dir.join("metrics.jsonl")).unwrap();
    assert!(history[1].valid_loss < history[0].valid_loss, "{history:?}");
    assert!((summary.test_mse - history[1].valid_loss).abs() < 0.05);
    // Only a 2-D code is scattered and swept.
    assert!(run_dir.join("reconstructions.png").is_file());
    assert!(!run_dir.join("codes.png").exists());
    assert!(!run_dir.join("sweep.png").exists());
}

#[test]
fn a_bad_autoencoder_file_names_the_file_and_the_field() {
    for (layout, code, field) in [
        ("dense", "0", "autoencoder.code"),
        ("dense", "785", "autoencoder.code"),
        ("ring", "2", "layout"),
    ] {
        let err = Experiment::parse(&autoencoder_file("ae", layout, code), "ae.toml").unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("ae.toml"), "{message}");
        assert!(message.contains(field), "{message}");
    }
    let shifted = autoencoder_file("ae", "dense", "2") + "shift = 2\n";
    let message = format!("{:#}", Experiment::parse(&shifted, "ae.toml").unwrap_err());
    assert!(message.contains("train.shift"), "{message}");
}

/// A GAN experiment file on the fixture, judged by `judge` (a path).
fn gan_file(judge: &str, extra: &str) -> String {
    format!(
        "name = \"gan\"\nlecture = \"draws the digit asked\"\n[gan]\nlayout = \"dense\"\nlatent = 16\njudge = {judge:?}\nsamples = 50\n{extra}\n\
         [train]\nepochs = 2\nbatch_size = 50\nlr = 0.0002\nlimit = 300\n"
    )
}

/// A softmax judge trained in a second on the fixture; its file's path.
fn judge_file(dir: &Path) -> String {
    let path = dir.join("judge.toml");
    std::fs::write(
        &path,
        "name = \"judge\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n[train]\nepochs = 1\nbatch_size = 25\nlr = 0.002\nvalidation = 100\nlimit = 300\n",
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn a_conditional_gan_trains_its_judge_draws_each_epoch_and_is_judged() {
    let root = tempfile::tempdir().unwrap();
    let artifacts = root.path().join("artifacts");
    let text = gan_file(
        &judge_file(root.path()),
        "conditional = true\nmin_share = 0.9",
    );
    let Experiment::Gan(experiment) = Experiment::parse(&text, "gan.toml").unwrap() else {
        panic!("a [gan] file parses as a GAN");
    };
    let run_dir = artifacts.join("gan");
    let job = |mode| GanJob {
        experiment: experiment.clone(),
        backend: BackendChoice::Ndarray,
        data_dir: Some(fixture_dir()),
        run_dir: run_dir.clone(),
        artifacts: artifacts.clone(),
        dashboard: false,
        mode,
    };
    let clock = std::time::Instant::now();
    let summary = dispatch(BackendChoice::Ndarray, job(WriteMode::Fresh))
        .unwrap()
        .unwrap();
    let total = clock.elapsed().as_secs_f64();
    for file in [
        "config.json",
        "gan.json",
        "generator.mpk",
        "discriminator.mpk",
        "metrics.jsonl",
        "samples-epoch-01.png",
        "samples-epoch-02.png",
        "curves.png",
        "judged.png",
    ] {
        assert!(run_dir.join(file).is_file(), "{file}");
    }
    // The judge had no run: it was trained first, where its name says.
    let judge_dir = artifacts.join("judge");
    assert!(judge_dir.join("model.mpk").is_file());
    let judged = dlsuite::run_dir::read_summary(&judge_dir).unwrap();
    assert_eq!(summary.judge_accuracy, judged.test_accuracy);
    // Its time is the judge's row's, not the GAN's.
    assert!(
        summary.wall_seconds <= total - judged.wall_seconds,
        "GAN {} s, judge {} s, both {total} s",
        summary.wall_seconds,
        judged.wall_seconds
    );

    assert_eq!((summary.epochs, summary.samples), (2, 50));
    assert_eq!(summary.judged_counts.iter().sum::<usize>(), 50);
    let share = summary.asked_share.expect("a conditional GAN's share");
    assert!((0.0..=1.0).contains(&share), "{share}");
    assert_eq!(summary.as_lectured, share >= 0.9);
    assert!((0.1..=1.0).contains(&summary.mean_confidence));
    let lines = std::fs::read_to_string(run_dir.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    for h in &summary.history {
        // 300 images in batches of 50.
        assert_eq!(h.stats.steps, 6, "{h:?}");
        for share in [h.stats.real_accuracy, h.stats.fake_accuracy] {
            assert!((0.0..=1.0).contains(&share), "{h:?}");
        }
        assert!(h.stats.discriminator_loss.is_finite() && h.stats.generator_loss.is_finite());
    }

    let row = row_for(&Experiment::Gan(experiment.clone()), &artifacts).unwrap();
    assert_eq!(row.group, "generative");
    assert!(row.ours.contains("judged the digit asked"), "{}", row.ours);
    for picture in ["judged.png", "samples-epoch-01.png", "samples-epoch-02.png"] {
        assert!(
            row.pictures.contains(&picture.to_string()),
            "{:?}",
            row.pictures
        );
    }

    let before = snapshot(&run_dir);
    let refused = dispatch(BackendChoice::Ndarray, job(WriteMode::Fresh))
        .unwrap()
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("--overwrite"),
        "{refused:#}"
    );
    let eval = dispatch(
        BackendChoice::Ndarray,
        EvalJob {
            run_dir: run_dir.clone(),
            data_dir: Some(fixture_dir()),
        },
    )
    .unwrap()
    .unwrap_err();
    let message = format!("{eval:#}");
    assert!(
        message.contains("a GAN run") && message.contains("gan.json"),
        "{message}"
    );
    assert_eq!(snapshot(&run_dir), before, "refusals change nothing");

    // Trained again, it reuses the judge's finished run. (Only the model
    // and summary are compared: burn-train's checkpointer prunes old
    // checkpoints on its own thread, after the judge's run has returned.)
    let kept = || ["model.mpk", "summary.json"].map(|f| std::fs::read(judge_dir.join(f)).unwrap());
    let judge_before = kept();
    dispatch(BackendChoice::Ndarray, job(WriteMode::Overwrite))
        .unwrap()
        .unwrap();
    assert!(kept() == judge_before, "the judge was trained again");
}

#[test]
fn a_bad_gan_file_or_judge_names_what_is_wrong() {
    for (extra, field) in [
        ("conditional = true\nmin_confidence = 0.8", "gan.min_share"),
        ("min_share = 0.9", "gan.min_confidence"),
        ("min_confidence = 1.5", "gan.min_confidence"),
    ] {
        let err = Experiment::parse(&gan_file("mnist-cnn", extra), "gan.toml").unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("gan.toml"), "{message}");
        assert!(message.contains(field), "{extra}: {message}");
    }
    let good = gan_file("mnist-cnn", "min_confidence = 0.8");
    for (text, field) in [
        (good.replace("latent = 16", "latent = 0"), "gan.latent"),
        (good.replace("samples = 50", "samples = 3"), "gan.samples"),
        (
            good.replace("[train]\n", "[train]\noptimizer = \"sgd\"\n"),
            "train.optimizer",
        ),
        (
            good.replace("[train]\n", "[train]\nshift = 2\n"),
            "train.shift",
        ),
    ] {
        let message = format!("{:#}", Experiment::parse(&text, "gan.toml").unwrap_err());
        assert!(message.contains(field), "{field}: {message}");
    }

    let root = tempfile::tempdir().unwrap();
    let text = gan_file("no-such-judge", "min_confidence = 0.8");
    let Experiment::Gan(experiment) = Experiment::parse(&text, "gan.toml").unwrap() else {
        panic!("a [gan] file parses as a GAN");
    };
    let run_dir = root.path().join("gan");
    let err = dispatch(
        BackendChoice::Ndarray,
        GanJob {
            experiment,
            backend: BackendChoice::Ndarray,
            data_dir: Some(fixture_dir()),
            run_dir: run_dir.clone(),
            artifacts: root.path().to_path_buf(),
            dashboard: false,
            mode: WriteMode::Fresh,
        },
    )
    .unwrap()
    .unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("judge \"no-such-judge\""), "{message}");
    assert!(!run_dir.exists(), "a missing judge leaves no run folder");
}

#[test]
fn a_row_lstm_learns_digits_through_the_learner_and_eval_agrees() {
    let run_dir = tempfile::tempdir().unwrap();
    let mut config = config("kind = \"lstm\"\nhidden = 32", 3);
    config.train.limit = Some(400);
    config.train.lr = 0.01;
    let summary = train(config, run_dir.path(), WriteMode::Fresh).unwrap();
    // Ten classes: a net that learned nothing scores about 10%.
    assert!(
        summary.test_accuracy > 40.0,
        "row LSTM test accuracy {}% after 3 epochs on 400 images",
        summary.test_accuracy
    );
    let again = dispatch(
        BackendChoice::Ndarray,
        EvalJob {
            run_dir: run_dir.path().to_path_buf(),
            data_dir: Some(fixture_dir()),
        },
    )
    .unwrap()
    .unwrap();
    assert!((again.accuracy - summary.test_accuracy).abs() < 1e-9);
}

fn sequence_job(
    text: &str,
    run_dir: &Path,
    mode: WriteMode,
) -> anyhow::Result<dlsuite::sequence::SequenceSummary> {
    let Experiment::Sequence(experiment) = Experiment::parse(text, "seq.toml").unwrap() else {
        panic!("a [language] or [chat] file parses as a sequence experiment");
    };
    dispatch(
        BackendChoice::Ndarray,
        dlsuite::sequence::SequenceJob {
            experiment,
            backend: BackendChoice::Ndarray,
            run_dir: run_dir.to_path_buf(),
            dashboard: false,
            mode,
        },
    )
    .unwrap()
}

/// The hello lab through the runner: the RNN learns "ihello" and says so,
/// the folder holds what a reader and `dlsuite chat` need, and a second
/// fresh run, eval and chat are refused with the folder unchanged.
#[test]
fn the_hello_rnn_trains_through_the_runner_and_is_checked() {
    let root = tempfile::tempdir().unwrap();
    let run_dir = root.path().join("rnn-hello");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/rnn-hello.toml"),
    )
    .unwrap();
    let s = sequence_job(&text, &run_dir, WriteMode::Fresh).unwrap();
    assert_eq!(s.figure, 1.0, "{}", s.headline);
    assert!(s.as_lectured);
    assert!(
        s.samples[0].contains("predicts \"ihello\""),
        "{:?}",
        s.samples
    );
    for file in [
        "config.json",
        "sequence.json",
        "vocab.json",
        "model.mpk",
        "metrics.jsonl",
        "curves.png",
        "next.png",
    ] {
        assert!(run_dir.join(file).is_file(), "{file}");
    }
    let before = std::fs::read(run_dir.join("sequence.json")).unwrap();
    let err = sequence_job(&text, &run_dir, WriteMode::Fresh).unwrap_err();
    assert!(format!("{err:#}").contains("--overwrite"), "{err:#}");
    let err = dlsuite::run_dir::read_run_config(&run_dir).unwrap_err();
    assert!(format!("{err:#}").contains("a sequence run"), "{err:#}");
    let err = dlsuite::sequence::load_chatbot::<NdArray>(&run_dir, &Default::default())
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("a language model's run, not a chatbot's"),
        "{err:#}"
    );
    assert_eq!(
        std::fs::read(run_dir.join("sequence.json")).unwrap(),
        before
    );
    let row = row_for(
        &Experiment::parse(&text, "rnn-hello.toml").unwrap(),
        root.path(),
    )
    .unwrap();
    assert_eq!(row.group, "sequences");
    assert!(row.pictures.contains(&"next.png".to_string()));
    assert!(!row.samples.is_empty());
}

/// A short chatbot run writes its files and loads back to answer; a short
/// melody run writes its WAV file and piano roll; a check it misses says so.
#[test]
fn a_chatbot_and_a_melody_model_train_through_the_runner() {
    let root = tempfile::tempdir().unwrap();
    let chat = "name = \"chat\"\nlecture = \"x\"\n[chat]\nembedding = 8\nhidden = 16\nmin_exact = 0.9\n\
                transcript = [\"hello\", \"안녕\"]\n[train]\nepochs = 1\nbatch_size = 64\nlr = 0.01\n";
    let run_dir = root.path().join("chat");
    let s = sequence_job(chat, &run_dir, WriteMode::Fresh).unwrap();
    assert!(!s.as_lectured, "one epoch of a tiny net: {}", s.headline);
    assert!(s.headline.contains("NOT as lectured"));
    assert_eq!(s.samples.iter().filter(|l| l.starts_with("> ")).count(), 2);
    assert!(run_dir.join("attention.png").is_file());
    let bot = dlsuite::sequence::load_chatbot::<NdArray>(&run_dir, &Default::default()).unwrap();
    let mut rng = rand::SeedableRng::seed_from_u64(0);
    let reply = bot.reply(
        "hello",
        dlsuite_rnn::Decoding::Greedy,
        &mut rng,
        &Default::default(),
    );
    assert!(reply.chars().count() <= dlsuite_rnn::MAX_ANSWER);

    let melodies = "name = \"tunes\"\nlecture = \"x\"\n[language]\ncorpus = \"melodies\"\ncell = \"lstm\"\n\
                    embedding = 4\nhidden = 8\nwindow = 16\nstride = 8\nmelodies = 20\nprompts = [\"| 60\"]\n\
                    generate = 10\nmin_accuracy = 0.99\n[train]\nepochs = 1\nbatch_size = 16\nlr = 0.01\n";
    let run_dir = root.path().join("tunes");
    let s = sequence_job(melodies, &run_dir, WriteMode::Fresh).unwrap();
    assert!(s.figure < 0.99 && !s.as_lectured, "{}", s.headline);
    for file in ["melody.wav", "piano-roll.png", "curves.png"] {
        assert!(run_dir.join(file).is_file(), "{file}");
    }
}

#[test]
fn bad_sequence_files_name_the_file_and_field() {
    let cases = [
        (
            "[language]\ncorpus = \"essay\"\ncell = \"lstm\"\nwindow = 8\nprompts = [\"ζ\"]\nmin_accuracy = 0.5\n",
            "language.prompts",
        ),
        (
            "[language]\ncorpus = \"melodies\"\ncell = \"lstm\"\nwindow = 8\nheld_out = 0.1\nmin_accuracy = 0.5\n",
            "language.held_out",
        ),
        (
            "[language]\ncorpus = \"melodies\"\ncell = \"lstm\"\nwindow = 8\nprompts = [\"| C4\"]\nmin_accuracy = 0.5\n",
            "language.prompts",
        ),
        (
            "[language]\ncorpus = \"essay\"\ncell = \"lstm\"\nwindow = 8\ndropout = 0.95\nmin_accuracy = 0.5\n",
            "language.dropout",
        ),
        ("[chat]\nmin_exact = 0.5\ndropout = -0.1\n", "chat.dropout"),
        ("[chat]\nmin_exact = 1.5\n", "chat.min_exact"),
        ("[chat]\nmin_exact = 0.5\ntemperature = 0\n", "chat.temperature"),
    ];
    for (table, field) in cases {
        let text = format!(
            "name = \"s\"\nlecture = \"x\"\n{table}[train]\nepochs = 1\nbatch_size = 8\nlr = 0.01\n"
        );
        let err = Experiment::parse(&text, "bad.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml") && err.contains(field),
            "{field}: {err}"
        );
    }
}

//! Each small lesson shows, on ndarray, what the lecture says it shows.

use burn::backend::{Autodiff, NdArray};
use dlsuite_lessons::*;

type B = Autodiff<NdArray>;

/// The backend's random generator is global: lessons seed it, so tests
/// running side by side must take turns.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn linear_regression_finds_the_line_and_the_plane() {
    let _turn = turn();
    let r = linear_regression::<B>(&LinearRegressionLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(
        r.trace.iter().map(|t| t.step).collect::<Vec<_>>(),
        (0..=200).step_by(20).collect::<Vec<_>>(),
        "W and b logged every 20 steps"
    );
    assert!((r.w - 0.1).abs() < 1e-3, "W = {}", r.w);
    assert!((r.b - 0.3).abs() < 1e-3, "b = {}", r.b);
    assert!((r.closed_form_w - 0.1).abs() < 1e-6 && (r.closed_form_b - 0.3).abs() < 1e-6);
    assert!(
        r.trace.windows(2).all(|w| w[1].loss <= w[0].loss),
        "loss falls"
    );
    for (d, t) in r.multi.descent_weights.iter().zip(&r.multi.true_weights) {
        assert!((d - t).abs() < 1e-2, "{:?}", r.multi);
    }
    assert!(r.plane_gap() < 1e-2);
    assert!(r.as_lectured());
}

#[test]
fn one_neuron_learns_four_gates_but_not_xor_and_two_layers_learn_xor() {
    let _turn = turn();
    let r = logic_gates::<B>(&LogicGatesLesson::default(), &Default::default());
    println!("{}", r.headline());
    for fit in &r.single_neuron {
        let expect_right = fit.gate != "XOR";
        assert_eq!(fit.all_right(), expect_right, "{fit:?}");
    }
    assert_eq!(
        r.two_layers.predicted,
        vec![0, 1, 1, 0],
        "{:?}",
        r.two_layers
    );
    assert!(r.as_lectured());
}

#[test]
fn chain_rule_by_hand_matches_autodiff() {
    let _turn = turn();
    let r = backprop_check::<B>(&BackpropLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(r.gradients.len(), 4);
    let sizes: Vec<usize> = r.gradients.iter().map(|g| g.by_hand.len()).collect();
    assert_eq!(sizes, vec![2 * 3, 3, 3, 1]);
    // The gradients are not trivially zero, and agree to 1e-5.
    assert!(r
        .gradients
        .iter()
        .any(|g| g.by_hand.iter().any(|v| v.abs() > 1e-3)));
    assert!(r.max_abs_difference() < 1e-5, "{}", r.max_abs_difference());
    assert!(r.as_lectured());
}

#[test]
fn deep_sigmoid_nets_starve_their_first_layers_and_relu_learns() {
    let _turn = turn();
    let r = vanishing_gradient::<B>(&VanishingGradientLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(r.runs.len(), 4, "sigmoid and ReLU at depths 5 and 10");
    for run in &r.runs {
        assert_eq!(run.gradient_norms[0].len(), run.depth, "a norm per layer");
        match run.activation {
            dlsuite_mlp::Activation::Sigmoid => {
                assert!(!run.learned, "{run:?}");
                assert!(
                    run.first_to_last_ratio() < 1e-2,
                    "{}",
                    run.first_to_last_ratio()
                );
            }
            _ => assert!(
                run.learned,
                "ReLU ×{} failed: {:?}",
                run.depth, run.predicted
            ),
        }
    }
    assert!(r.as_lectured());
}

#[test]
fn the_lecture_net_has_881_weights() {
    let r = parameter_count::<NdArray>(&ParameterCountLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(r.weights_per_layer, vec![400, 256, 144, 81]);
    assert_eq!(r.weights, LECTURE_WEIGHTS);
    assert_eq!(r.biases, 16 + 16 + 9 + 9);
    assert_eq!(r.total, 931);
    assert!(r.as_lectured());
}

#[test]
fn lesson_tables_parse_and_refuse_nonsense() {
    let c: LessonConfig = toml::from_str("kind = \"logic-gates\"\nsteps = 500").unwrap();
    assert!(matches!(c, LessonConfig::LogicGates(ref g) if g.steps == 500 && g.lr == 1.0));
    let err = toml::from_str::<LessonConfig>("kind = \"logic-gates\"\nstepz = 5").unwrap_err();
    assert!(err.to_string().contains("unknown field `stepz`"), "{err}");
    let err = toml::from_str::<LessonConfig>("kind = \"telepathy\"").unwrap_err();
    assert!(err.to_string().contains("logic-gates"), "{err}");
    let bad: LessonConfig = toml::from_str("kind = \"vanishing-gradient\"\nlr = -1.0").unwrap();
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "lesson.lr = -1: must be a positive number"
    );
}

#[test]
fn capacity_and_l2_show_in_the_decision_boundaries() {
    let _turn = turn();
    let r = decision_boundaries::<B>(&DecisionBoundariesLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert!(
        r.enough.test_accuracy > r.too_few.test_accuracy + 2.0,
        "{} vs {}",
        r.enough.test_accuracy,
        r.too_few.test_accuracy
    );
    assert!(r.overfitted.train_accuracy >= 99.9, "the big net memorises");
    assert!(
        r.regularised.test_accuracy > r.overfitted.test_accuracy,
        "L2 generalises better: {} vs {}",
        r.regularised.test_accuracy,
        r.overfitted.test_accuracy
    );
    assert!(r.as_lectured());
}

#[test]
fn lessons_draw_their_pictures() {
    let _turn = turn();
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    for (config, expected) in [
        (
            LessonConfig::LinearRegression(LinearRegressionLesson::default()),
            vec!["fit.png", "descent.png"],
        ),
        (
            LessonConfig::LogicGates(LogicGatesLesson {
                steps: 300,
                xor_steps: 300,
                ..Default::default()
            }),
            vec!["boundaries.png"],
        ),
        (
            LessonConfig::VanishingGradient(VanishingGradientLesson {
                epochs: 3,
                ..Default::default()
            }),
            vec!["gradients.png"],
        ),
    ] {
        let out = run::<B>(&config, &device, None, Some(dir.path())).unwrap();
        let names: Vec<String> = out
            .pictures
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, expected);
        for p in &out.pictures {
            let img = image::open(p).unwrap().to_rgb8();
            let inked = img
                .pixels()
                .filter(|px| px.0.iter().any(|&c| c < 200))
                .count();
            assert!(inked > 1000, "{}: {inked} pixels drawn", p.display());
        }
    }
}

#[test]
fn sigmoids_slope_peaks_at_a_quarter_and_relus_is_a_switch() {
    let _turn = turn();
    let r = activations::<B>(&ActivationsLesson::default(), &Default::default());
    println!("{}", r.headline());
    let (slope, at) = r.sigmoid_max_slope;
    assert!(
        (slope - 0.25).abs() < 1e-4 && at.abs() < 1e-6,
        "{slope} at {at}"
    );
    assert!(
        r.curves[0].slopes.iter().all(|&s| s <= 0.25 + 1e-6),
        "sigmoid's slope nowhere above 0.25"
    );
    assert!((r.ten_layer_factor - 0.25f32.powi(10)).abs() < 1e-9);
    // Autodiff's slopes are the functions' own: σ' = σ(1 − σ), tanh' = 1 − tanh².
    let (sigmoid, tanh) = (&r.curves[0], &r.curves[1]);
    for i in 0..r.xs.len() {
        let s = sigmoid.values[i];
        assert!((sigmoid.slopes[i] - s * (1.0 - s)).abs() < 1e-5);
        let t = tanh.values[i];
        assert!((tanh.slopes[i] - (1.0 - t * t)).abs() < 1e-5);
    }
    assert_eq!(
        r.curves.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Sigmoid", "Tanh", "Relu", "Elu", "LeakyRelu"]
    );
    assert!(r.as_lectured());
    let dir = tempfile::tempdir().unwrap();
    let pictures = r.draw(dir.path()).unwrap();
    let picture = image::open(&pictures[0]).unwrap();
    assert_eq!((picture.width(), picture.height()), (1000, 440));

    // The check can fail: sampled where sigmoid is flatter, it misses 0.25.
    let away = ActivationsLesson {
        from: 1.0,
        to: 6.0,
        points: 51,
    };
    let r = activations::<B>(&away, &Default::default());
    assert!(!r.as_lectured(), "{}", r.headline());
}

#[test]
fn the_perceptron_rule_settles_on_the_separable_gates_and_never_on_xor() {
    let r = perceptron(&PerceptronLesson::default());
    println!("{}", r.headline());
    for run in &r.runs[..4] {
        let epoch = run.converged_at_epoch.unwrap_or_else(|| panic!("{run:?}"));
        assert!(epoch <= 10 && run.updates >= 1, "{run:?}");
        // The last line classifies every row (the step fires from 0 up).
        assert_eq!(run.last_epoch_mistakes, 0);
        let [w1, w2, b] = *run.lines.last().unwrap();
        let gate = dlsuite_data::synthetic::Gate::ALL
            [r.runs.iter().position(|x| x.gate == run.gate).unwrap()];
        let table = gate.truth_table();
        for (x, &label) in table.points.iter().zip(&table.labels) {
            assert_eq!(w1 * x[0] + w2 * x[1] + b >= 0.0, label == 1, "{run:?}");
        }
        assert_eq!(run.lines.len(), epoch);
    }
    let xor = &r.runs[4];
    assert_eq!(xor.gate, "XOR");
    assert_eq!((xor.converged_at_epoch, xor.epochs_run), (None, 1000));
    assert!(xor.last_epoch_mistakes >= 1, "{xor:?}");
    assert!(r.as_lectured());
    let dir = tempfile::tempdir().unwrap();
    let pictures = r.draw(dir.path()).unwrap();
    assert_eq!(image::open(&pictures[0]).unwrap().width(), 5 * 330);

    // The check can fail: given one epoch, AND has not settled yet.
    let hurried = perceptron(&PerceptronLesson {
        lr: 1.0,
        max_epochs: 1,
    });
    assert!(!hurried.as_lectured(), "{}", hurried.headline());
}

#[test]
fn more_sigmoid_units_fit_the_function_closer() {
    let _turn = turn();
    let r = universal_approximation::<B>(&ApproximationLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(
        r.fits.iter().map(|f| f.units).collect::<Vec<_>>(),
        [1, 2, 4, 8, 16, 64]
    );
    for f in &r.fits {
        assert_eq!(f.fitted.len(), r.xs.len());
        // The recorded error is the fit's own.
        let max = f
            .fitted
            .iter()
            .zip(&r.xs)
            .map(|(y, &x)| (y - target(x)).abs())
            .fold(0.0, f32::max);
        assert!((max - f.max_error).abs() < 1e-6);
    }
    assert!(r.as_lectured());
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(r.draw(dir.path()).unwrap().len(), 1);

    // The check can fail: with a single width there is nothing to fall.
    let one = universal_approximation::<B>(
        &ApproximationLesson {
            units: vec![64],
            steps: 50,
            ..ApproximationLesson::default()
        },
        &Default::default(),
    );
    assert!(!one.as_lectured(), "{}", one.headline());
}

#[test]
fn tensors_add_take_shapes_and_autodiff_gives_the_chain_rules_slope() {
    let r = tensors::<B>(&TensorsLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(r.sum, [6.0, 7.0, 8.0]);
    assert_eq!(r.sum_inner, r.sum, "the same code without autodiff");
    assert_eq!(r.shapes, [vec![64], vec![8, 8], vec![4, 4, 4]]);
    assert_eq!(r.gradients.len(), 17);
    for g in &r.gradients {
        assert!((g.autodiff - 2.0 * (g.w - 1.0)).abs() < 1e-5, "{g:?}");
        assert!((g.error - (g.w - 1.0).powi(2)).abs() < 1e-5, "{g:?}");
    }
    assert_eq!(r.words.len(), TF1_IN_BURN.len());
    assert!(r.as_lectured());
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(r.draw(dir.path()).unwrap().len(), 1);

    // The check can fail: for x = 2 the slope is 4(2w − 1), not 2(w − 1).
    let other = tensors::<B>(
        &TensorsLesson {
            x: 2.0,
            ..TensorsLesson::default()
        },
        &Default::default(),
    );
    assert!(!other.as_lectured(), "{}", other.headline());
    let w = other.gradients[0].w;
    assert!((other.gradients[0].autodiff - 4.0 * (2.0 * w - 1.0)).abs() < 1e-5);
}

#[test]
fn momentum_and_the_adaptive_optimizers_beat_plain_descent_across_the_bowl() {
    let _turn = turn();
    let r = optimizer_paths::<B>(&OptimizerPathsLesson::default(), &Default::default());
    println!("{}", r.headline());
    assert_eq!(
        r.paths
            .iter()
            .map(|p| p.optimizer.as_str())
            .collect::<Vec<_>>(),
        ["Sgd", "Momentum", "AdaGrad", "RmsProp", "Adam"]
    );
    for p in &r.paths {
        assert_eq!(p.path.len(), r.steps + 1, "{}", p.optimizer);
        assert_eq!(p.path[0], r.start);
    }
    assert!(r.as_lectured());
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(r.draw(dir.path()).unwrap().len(), 1);

    // The check can fail: on a round bowl plain descent is no slower.
    let round = optimizer_paths::<B>(
        &OptimizerPathsLesson {
            shallow: 1.0,
            lrs: vec![0.5, 0.05, 0.3, 0.01, 0.01],
            ..OptimizerPathsLesson::default()
        },
        &Default::default(),
    );
    assert!(!round.as_lectured(), "{}", round.headline());
}

/// The committed 600-image MNIST fixture's training split.
fn fixture_digits() -> dlsuite_data::Digits {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mnist");
    dlsuite_data::Digits::load_dir(&dir, dlsuite_data::Split::Train).unwrap()
}

#[test]
fn one_example_steps_wander_and_full_batches_take_the_best_steps() {
    let _turn = turn();
    let digits = fixture_digits();
    // Capped by steps, not seconds, so that the test never reads the clock.
    let config = BatchSizesLesson {
        max_steps: Some(25),
        seconds: 1e6,
        ..BatchSizesLesson::default()
    };
    let mut r = batch_sizes::<B>(&config, &digits, &Default::default());
    println!("{}", r.headline());
    assert_eq!(
        r.line.iter().map(|p| p.batch).collect::<Vec<_>>(),
        [1, 50, 200]
    );
    let [sgd, mini, full] = &r.line[..] else {
        panic!("three line paths")
    };
    assert_eq!(full.rises(), 0, "the true gradient never climbs");
    assert!(sgd.rises() > mini.rises() && mini.rises() > 0);
    assert!(full.wander() < mini.wander() && mini.wander() < sgd.wander());
    assert!(full.loss.last() < full.loss.first());

    assert_eq!(r.mnist_images, 600);
    let (step, losses) = r.at_equal_steps().unwrap();
    assert_eq!(step, 25, "every run stops at max_steps");
    assert!(
        losses[0] > losses[1] && losses[0] > losses[2],
        "per step, one example does worst: {losses:?}"
    );
    let full = &r.mnist[2].points;
    assert!(full.windows(2).all(|w| w[1].loss < w[0].loss));
    assert!(full.windows(2).all(|w| w[1].step > w[0].step));

    let dir = tempfile::tempdir().unwrap();
    assert_eq!(r.draw(dir.path()).unwrap().len(), 2);

    // The seconds are the clock's, so the test does not claim who won them;
    // it shows the check reads them: a mini-batch run left behind fails it.
    let behind = r.mnist[0].last().loss + 1.0;
    r.mnist[1].points.last_mut().unwrap().loss = behind;
    assert!(!r.as_lectured());
}

#[test]
fn the_batch_lesson_needs_mnist_and_refuses_a_nonsense_batch() {
    let config = LessonConfig::BatchSizes(BatchSizesLesson::default());
    let err = run::<B>(&config, &Default::default(), None, None).unwrap_err();
    assert!(err.to_string().contains("MNIST"), "{err}");
    assert!(config.needs_mnist());
    let bad: LessonConfig =
        toml::from_str("kind = \"batch-sizes\"\nmini_batch = 500\npoints = 200").unwrap();
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "lesson.points = 200: must be at least 501"
    );
    let bad: LessonConfig =
        toml::from_str("kind = \"batch-sizes\"\nmnist_lrs = [0.001, 0.0, 0.1]").unwrap();
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "lesson.mnist_lrs = 0: must be a positive number"
    );
}

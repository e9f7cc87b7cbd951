//! Every picture is a PNG of the promised size with something drawn on it.

use std::path::Path;

use dlsuite_plots::*;

/// Decodes `path` and checks its size, that it is not blank (many pixels
/// off-white, several colours) and that text was drawn (dark pixels).
fn check_png(path: &Path, width: u32, height: u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: not a PNG",
        path.display()
    );
    let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (width, height), "{}", path.display());
    let total = (width * height) as usize;
    let inked = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 235))
        .count();
    assert!(
        inked * 100 > total,
        "{}: only {inked} of {total} pixels drawn",
        path.display()
    );
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 60)).count();
    assert!(
        dark > 50,
        "{}: no text or axes ({dark} dark pixels)",
        path.display()
    );
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() >= 4,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn digit(k: usize) -> Vec<f32> {
    (0..784)
        .map(|i| {
            let (r, c) = (i / 28, i % 28);
            ((r + c + k).is_multiple_of(7) && (6..22).contains(&r)) as u8 as f32
        })
        .collect()
}

#[test]
fn training_curves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    let epochs: Vec<EpochCurve> = (1..=5)
        .map(|e| EpochCurve {
            epoch: e,
            train_loss: 1.0 / e as f32,
            valid_loss: 1.2 / e as f32,
            train_accuracy: Some(90.0 + e as f32),
            valid_accuracy: Some(89.0 + e as f32),
        })
        .collect();
    curves(&path, "mnist-mlp", &epochs).unwrap();
    check_png(&path, 1000, 420);
    assert!(
        curves(&path, "x", &[]).is_err(),
        "nothing to plot is an error"
    );
}

#[test]
fn regression_fit_and_descent_path() {
    let dir = tempfile::tempdir().unwrap();
    let xs: Vec<f32> = (0..50).map(|i| i as f32 / 50.0).collect();
    let ys: Vec<f32> = xs.iter().map(|x| 0.1 * x + 0.3).collect();
    let fit = dir.path().join("fit.png");
    line_fit(&fit, &xs, &ys, (0.1, 0.3), (0.1, 0.3)).unwrap();
    check_png(&fit, 640, 480);
    let steps: Vec<(f32, f32)> = (0..10)
        .map(|i| (0.8 - 0.07 * i as f32, -0.5 + 0.08 * i as f32))
        .collect();
    let surface = dir.path().join("surface.png");
    descent_path(&surface, &xs, &ys, &steps).unwrap();
    check_png(&surface, 640, 560);
}

#[test]
fn decision_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let panel = |title: &str, sharp: f32| DecisionPanel {
        title: title.into(),
        x: (-1.0, 1.0),
        y: (-1.0, 1.0),
        resolution: 40,
        probabilities: (0..1600)
            .map(|k| {
                let (r, c) = ((k / 40) as f32, (k % 40) as f32);
                1.0 / (1.0 + (-(c - r) * sharp).exp())
            })
            .collect(),
        points: vec![[-0.5, 0.5], [0.5, -0.5]],
        labels: vec![0, 1],
    };
    let path = dir.path().join("maps.png");
    decision_maps(
        &path,
        &[
            panel("2 units", 0.1),
            panel("16 units", 1.0),
            panel("c", 5.0),
        ],
        3,
    )
    .unwrap();
    check_png(&path, 1080, 380);
    let mut bad = panel("bad", 1.0);
    bad.probabilities.pop();
    assert!(decision_maps(&path, &[bad], 1).is_err());
}

#[test]
fn gradient_norms_on_a_log_scale() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("norms.png");
    let series = [
        NormSeries {
            label: "sigmoid ×10".into(),
            norms: (0..10).map(|l| 10f32.powi(l - 9)).collect(),
        },
        NormSeries {
            label: "ReLU ×10".into(),
            norms: vec![0.5; 10],
        },
    ];
    gradient_norms(&path, "vanishing gradient", &series).unwrap();
    check_png(&path, 760, 480);
}

#[test]
fn confusion_matrix_of_ten_classes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("confusion.png");
    let names: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let truth: Vec<u8> = (0..500).map(|i| (i % 10) as u8).collect();
    let predicted: Vec<u8> = truth
        .iter()
        .enumerate()
        .map(|(i, &t)| if i % 13 == 0 { (t + 1) % 10 } else { t })
        .collect();
    confusion_matrix(&path, "test set", &names, &truth, &predicted).unwrap();
    check_png(&path, 660, 610);
    assert!(confusion_matrix(&path, "x", &names, &truth, &predicted[1..]).is_err());
}

#[test]
fn digit_grid_and_prediction_card() {
    let dir = tempfile::tempdir().unwrap();
    let tiles: Vec<Tile> = (0..12)
        .map(|k| Tile {
            pixels: digit(k),
            signed: k % 2 == 1,
            caption: format!("{k} → {}", (k + 1) % 10),
        })
        .collect();
    let grid = dir.path().join("grid.png");
    digit_grid(&grid, "misclassified", &tiles, 6, 3).unwrap();
    check_png(&grid, 6 * (84 + 12) + 12, 2 * (84 + 26) + 40);
    let short = Tile {
        pixels: vec![0.0; 10],
        signed: false,
        caption: "x".into(),
    };
    assert!(
        digit_grid(&grid, "x", &[short], 1, 3).is_err(),
        "a tile that is not 28×28"
    );

    let card = dir.path().join("card.png");
    let probs = [0.01, 0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.9, 0.01, 0.01];
    let names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    prediction_card(&card, "seven.png: 7 (90.0%)", &digit(3), &probs, &names).unwrap();
    check_png(&card, 760, 340);
}

#[test]
fn an_unwritable_path_is_a_clear_error_and_the_old_file_stays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    std::fs::write(&path, b"old").unwrap();
    let err = curves(&path, "x", &[]).unwrap_err().to_string();
    assert!(
        err.contains("curves.png") && err.contains("nothing to plot"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"old");
    let blocked = dir.path().join("curves.png").join("inside.png");
    let epochs = [EpochCurve {
        epoch: 1,
        train_loss: 1.0,
        valid_loss: 1.0,
        train_accuracy: None,
        valid_accuracy: None,
    }];
    let err = curves(&blocked, "x", &epochs).unwrap_err().to_string();
    assert!(
        err.contains("inside.png") && err.contains("cannot draw"),
        "{err}"
    );
}

#[test]
fn codes_scattered_by_class_and_a_seamless_mosaic() {
    let dir = tempfile::tempdir().unwrap();
    let points: Vec<[f32; 2]> = (0..200)
        .map(|i| {
            let a = i as f32 * 0.7;
            [a.cos() * (i % 10) as f32, a.sin() * (i % 10) as f32]
        })
        .collect();
    let classes: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
    let names = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let scatter = dir.path().join("codes.png");
    class_scatter(&scatter, "2-D codes", &points, &classes, &names).unwrap();
    check_png(&scatter, 760, 700);
    assert!(
        class_scatter(&scatter, "x", &points, &classes[..3], &names).is_err(),
        "a class missing for some points"
    );

    let mosaic = dir.path().join("sweep.png");
    let images: Vec<Vec<f32>> = (0..12).map(digit).collect();
    image_mosaic(&mosaic, "decoded from a sweep of the code", &images, 4, 2).unwrap();
    // Narrow mosaics are widened to fit their title.
    check_png(&mosaic, 420, 3 * 56 + 46);
    assert!(image_mosaic(&mosaic, "x", &[vec![0.5; 9]], 1, 2).is_err());
}

#[test]
fn heat_table_of_attention() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("attention.png");
    let rows: Vec<String> = "hello".chars().map(String::from).collect();
    let columns: Vec<String> = "hi there".chars().map(String::from).collect();
    let values: Vec<Vec<f32>> = (0..5)
        .map(|i| (0..8).map(|j| if i == j { 1.0 } else { 0.05 }).collect())
        .collect();
    heat_table(&path, "attention", &rows, &columns, &values).unwrap();
    // Labels one character wide (9 + 16 px), 8 columns of 22 px, 20 px margin.
    check_png(&path, 25 + 8 * 22 + 20, 64 + 5 * 22 + 20);
    assert!(heat_table(&path, "x", &rows, &columns, &values[1..]).is_err());
}

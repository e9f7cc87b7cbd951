//! Weights under PyTorch's names: the committed softmax fixture (made by
//! tests/fixtures/weights/make_softmax.py) imports to the logits numpy
//! computed for it, from safetensors and from PyTorch's .pt; each reference
//! net exported and imported again gives the same outputs; the exported
//! file holds PyTorch's names and shapes; and files of the wrong kind are
//! refused, naming what is wrong.

use std::path::{Path, PathBuf};

use burn::backend::NdArray;
use dlsuite::config::{CnnPreset, ModelSpec};
use dlsuite::net::{build_net, Net};
use dlsuite::portable::{export_safetensors, import_weights, TorchNames};
use dlsuite_data::{ImageBatcher, Kind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/weights")
        .join(name)
}

fn mlp(hidden: Vec<usize>, dropout: f64) -> ModelSpec {
    ModelSpec::Mlp {
        hidden,
        activation: dlsuite_mlp::Activation::Relu,
        init: dlsuite_mlp::Init::He,
        dropout,
        batch_norm: false,
    }
}

/// The reference script's four nets.
fn references() -> Vec<(&'static str, ModelSpec)> {
    vec![
        ("softmax", ModelSpec::Softmax),
        ("mlp300", mlp(vec![300, 100], 0.0)),
        ("dnn512", mlp(vec![512; 4], 0.3)),
        ("cnn", ModelSpec::cnn(CnnPreset::Reference)),
    ]
}

fn logits(net: &Net<NdArray>, pixels: &[u8]) -> Vec<f32> {
    let batcher = ImageBatcher::grid(Kind::Mnist.normalization());
    net.forward(batcher.images::<NdArray>(pixels, &Default::default()))
        .into_data()
        .to_vec::<f32>()
        .unwrap()
}

/// The names and shapes in a safetensors file's header.
fn header(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let bytes = std::fs::read(path).unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    header.remove("__metadata__");
    header
}

#[test]
fn the_committed_softmax_imports_to_its_known_logits() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("softmax-expected.json")).unwrap())
            .unwrap();
    let pixels: Vec<u8> = expected["pixels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|image| {
            image
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
        })
        .collect();
    let want: Vec<f32> = expected["logits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    let names = TorchNames::of(&ModelSpec::Softmax).unwrap();
    for file in ["softmax.safetensors", "softmax.pt"] {
        let mut net = build_net::<NdArray>(&ModelSpec::Softmax, &Default::default());
        let before = logits(&net, &pixels);
        import_weights(&mut net, &names, &fixture(file)).unwrap();
        let got = logits(&net, &pixels);
        assert_eq!(got.len(), 30);
        let gap = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(gap < 1e-4, "{file}: logits differ from numpy's by {gap}");
        let moved = before.iter().zip(&got).any(|(a, b)| (a - b).abs() > 1e-3);
        assert!(moved, "{file}: the import changed nothing");
    }
}

#[test]
fn each_reference_net_exported_and_imported_gives_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let pixels: Vec<u8> = (0..2 * 784).map(|i| ((i * 37) % 256) as u8).collect();
    for (key, spec) in references() {
        let names = TorchNames::of(&spec).unwrap();
        let net = build_net::<NdArray>(&spec, &device);
        let path = dir.path().join(format!("{key}.safetensors"));
        export_safetensors(&net, &names, &path, key).unwrap();
        let mut fresh = build_net::<NdArray>(&spec, &device);
        let before = logits(&fresh, &pixels);
        import_weights(&mut fresh, &names, &path).unwrap();
        let (a, b) = (logits(&net, &pixels), logits(&fresh, &pixels));
        assert_eq!(a, b, "{key}: outputs differ after the round trip");
        assert_ne!(before, b, "{key}: the import changed nothing");
        let mut stored: Vec<String> = header(&path).keys().cloned().collect();
        let mut wanted = names.torch_tensors();
        stored.sort();
        wanted.sort();
        assert_eq!(stored, wanted, "{key}");
    }
}

#[test]
fn the_export_holds_pytorchs_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let shape = |header: &serde_json::Map<String, serde_json::Value>, name: &str| -> Vec<u64> {
        header[name]["shape"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    let cnn = ModelSpec::cnn(CnnPreset::Reference);
    let path = dir.path().join("cnn.safetensors");
    let names = TorchNames::of(&cnn).unwrap();
    export_safetensors(&build_net::<NdArray>(&cnn, &device), &names, &path, "cnn").unwrap();
    let h = header(&path);
    assert_eq!(shape(&h, "c1.weight"), [32, 1, 3, 3]);
    assert_eq!(shape(&h, "c2.weight"), [64, 32, 3, 3]);
    // PyTorch's Linear is [outputs, inputs]; Burn's the other way round.
    assert_eq!(shape(&h, "f1.weight"), [128, 9216]);
    assert_eq!(shape(&h, "f2.weight"), [10, 128]);
    assert_eq!(shape(&h, "f2.bias"), [10]);
    let dnn = mlp(vec![512; 4], 0.3);
    let path = dir.path().join("dnn.safetensors");
    let names = TorchNames::of(&dnn).unwrap();
    export_safetensors(&build_net::<NdArray>(&dnn, &device), &names, &path, "dnn").unwrap();
    let h = header(&path);
    // Flatten, then Linear, ReLU, Dropout per hidden layer: 1, 4, 7, 10, 13.
    assert_eq!(shape(&h, "1.weight"), [512, 784]);
    assert_eq!(shape(&h, "10.weight"), [512, 512]);
    assert_eq!(shape(&h, "13.weight"), [10, 512]);
}

#[test]
fn files_of_the_wrong_kind_are_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let device = Default::default();
    let cnn = ModelSpec::cnn(CnnPreset::Reference);
    let mlp300 = mlp(vec![300, 100], 0.0);
    let mlp_file = dir.path().join("mlp300.safetensors");
    export_safetensors(
        &build_net::<NdArray>(&mlp300, &device),
        &TorchNames::of(&mlp300).unwrap(),
        &mlp_file,
        "mlp300",
    )
    .unwrap();
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"these are not weights at all").unwrap();
    let text = dir.path().join("weights.txt");
    std::fs::write(&text, b"1.weight").unwrap();
    let narrower = mlp(vec![200, 100], 0.0);
    let cases: [(&ModelSpec, PathBuf, &str); 6] = [
        (&cnn, mlp_file.clone(), "missing c1.bias, c1.weight"),
        (&ModelSpec::Softmax, mlp_file.clone(), "not in the net: 3."),
        (
            &narrower,
            mlp_file.clone(),
            "1.weight is [784, 300] where the net's is [784, 200]",
        ),
        (&cnn, garbage, "garbage.safetensors"),
        (&cnn, text, ".safetensors, or PyTorch's .pt"),
        (&cnn, dir.path().join("absent.pt"), "no such file"),
    ];
    for (spec, path, says) in cases {
        let mut net = build_net::<NdArray>(spec, &device);
        let err = import_weights(&mut net, &TorchNames::of(spec).unwrap(), &path)
            .map(|_| ())
            .unwrap_err();
        let err = format!("{err:#}");
        assert!(err.contains(says), "{}: {err}", path.display());
    }
    // Nets with no PyTorch twin say so.
    let tanh = ModelSpec::Mlp {
        hidden: vec![10],
        activation: dlsuite_mlp::Activation::Tanh,
        init: dlsuite_mlp::Init::He,
        dropout: 0.0,
        batch_norm: false,
    };
    let err = TorchNames::of(&tanh).unwrap_err().to_string();
    assert!(err.contains("ReLU") && err.contains("Tanh"), "{err}");
    let err = TorchNames::of(&ModelSpec::Lstm { hidden: 8 })
        .unwrap_err()
        .to_string();
    assert!(err.contains("LSTM"), "{err}");
}

//! Weights that travel between Burn and PyTorch: a net's parameters under
//! the names the shared PyTorch reference script gives them, in a
//! safetensors file, and such weights (safetensors, or PyTorch's own `.pt`)
//! loaded into the same net. Burn's `Linear` keeps its weight as
//! `[inputs, outputs]`, PyTorch's as `[outputs, inputs]`; burn-store's
//! adapters transpose it on the way.

use std::path::Path;

use anyhow::Context;
use burn::prelude::*;
use burn_store::{
    ApplyError, ApplyResult, BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot,
    PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};

use crate::config::{CnnPreset, ModelSpec};
use crate::net::Net;

/// How a net's layers are named in PyTorch: each pair is a Burn module
/// path and the PyTorch module name that holds the same `weight` and `bias`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TorchNames {
    /// The PyTorch net, in words, for messages.
    pub torch: String,
    pairs: Vec<(String, String)>,
}

impl TorchNames {
    /// The names of `spec`'s net in the reference script: softmax
    /// regression and the MLPs are `nn.Sequential(Flatten, Linear, ReLU,
    /// [Dropout,] ...)`, so their linear layers sit at indices 1, 3, 5 (1,
    /// 4, 7 with dropout); the reference CNN names its layers `c1`, `c2`,
    /// `f1`, `f2`. Other nets have no PyTorch twin here.
    pub fn of(spec: &ModelSpec) -> anyhow::Result<TorchNames> {
        let pair = |burn: String, torch: String| (burn, torch);
        match spec {
            ModelSpec::Softmax => Ok(TorchNames {
                torch: "nn.Sequential(nn.Flatten(), nn.Linear(784, 10))".into(),
                pairs: vec![pair("linear".into(), "1".into())],
            }),
            ModelSpec::Mlp {
                hidden,
                activation,
                dropout,
                batch_norm,
                ..
            } => {
                anyhow::ensure!(
                    !batch_norm && *activation == dlsuite_mlp::Activation::Relu,
                    "only ReLU MLPs without batch norm have a PyTorch twin here (the reference script's mlp300 and dnn512); this one is {activation:?}{}",
                    if *batch_norm { " with batch norm" } else { "" }
                );
                let step = if *dropout > 0.0 { 3 } else { 2 };
                let mut pairs: Vec<_> = (0..hidden.len())
                    .map(|i| pair(format!("hidden.{i}.linear"), (1 + step * i).to_string()))
                    .collect();
                pairs.push(pair("output".into(), (1 + step * hidden.len()).to_string()));
                Ok(TorchNames {
                    torch: format!(
                        "mlp([784, {}, 10]{}) of the reference script",
                        hidden
                            .iter()
                            .map(|w| w.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if *dropout > 0.0 {
                            format!(", dropout={dropout}")
                        } else {
                            String::new()
                        }
                    ),
                    pairs,
                })
            }
            ModelSpec::Cnn { .. } => {
                let reference = ModelSpec::cnn(CnnPreset::Reference).cnn_config();
                anyhow::ensure!(
                    spec.cnn_config() == reference,
                    "only the reference CNN (conv 32, conv 64, max-pool, fc 128; experiments/mnist-cnn.toml) has a PyTorch twin here"
                );
                Ok(TorchNames {
                    torch: "the reference script's CNN (c1, c2, f1, f2)".into(),
                    pairs: [
                        ("blocks.0.conv", "c1"),
                        ("blocks.1.conv", "c2"),
                        ("dense.0", "f1"),
                        ("output", "f2"),
                    ]
                    .into_iter()
                    .map(|(b, t)| pair(b.into(), t.into()))
                    .collect(),
                })
            }
            ModelSpec::Lstm { .. } => {
                anyhow::bail!("the row-reading LSTM has no PyTorch twin in the reference script")
            }
        }
    }

    /// Every tensor name in the PyTorch file, in layer order.
    pub fn torch_tensors(&self) -> Vec<String> {
        self.pairs
            .iter()
            .flat_map(|(_, t)| [format!("{t}.weight"), format!("{t}.bias")])
            .collect()
    }

    /// PyTorch's name for a Burn tensor path (`blocks.0.conv.weight` →
    /// `c1.weight`).
    fn torch_name(&self, burn: &str) -> Option<String> {
        let (layer, tensor) = burn.rsplit_once('.')?;
        let (_, torch) = self.pairs.iter().find(|(b, _)| b == layer)?;
        Some(format!("{torch}.{tensor}"))
    }

    fn remapper(&self, to_torch: bool) -> KeyRemapper {
        let patterns = self.pairs.iter().map(|(burn, torch)| {
            let (from, to) = if to_torch {
                (burn, torch)
            } else {
                (torch, burn)
            };
            (
                format!("^{}\\.(weight|bias)$", regex_escape(from)),
                format!("{to}.$1"),
            )
        });
        KeyRemapper::from_pattern_iter(patterns).expect("escaped names make valid patterns")
    }
}

fn regex_escape(name: &str) -> String {
    name.replace('.', "\\.")
}

/// Writes `net`'s weights to `path` as safetensors under PyTorch's names
/// and layouts, through a temporary file renamed into place.
pub fn export_safetensors<B: Backend>(
    net: &Net<B>,
    names: &TorchNames,
    path: &Path,
    experiment: &str,
) -> anyhow::Result<()> {
    let partial = path.with_extension("safetensors.partial");
    let mut store = SafetensorsStore::from_file(&partial)
        .overwrite(true)
        .skip_enum_variants(true)
        .with_to_adapter(BurnToPyTorchAdapter)
        .remap(names.remapper(true))
        .metadata("dlsuite.experiment", experiment)
        .metadata("dlsuite.pytorch_net", names.torch.as_str());
    net.save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move {} to {}", partial.display(), path.display()))
}

/// Loads PyTorch-named weights from `path` (`.safetensors`, or `.pt` /
/// `.pth` written by `torch.save(net.state_dict())`) into `net`; every
/// tensor the net has must be there with its shape, and nothing else.
pub fn import_weights<B: Backend>(
    net: &mut Net<B>,
    names: &TorchNames,
    path: &Path,
) -> anyhow::Result<()> {
    anyhow::ensure!(path.is_file(), "{}: no such file", path.display());
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let result = match extension.as_str() {
        "safetensors" => {
            let mut store = SafetensorsStore::from_file(path)
                .skip_enum_variants(true)
                .with_from_adapter(PyTorchToBurnAdapter)
                .remap(names.remapper(false))
                .validate(false)
                .allow_partial(true);
            net.load_from(&mut store)
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
        "pt" | "pth" => {
            let mut store = PytorchStore::from_file(path)
                .remap(names.remapper(false))
                .map_indices_contiguous(false)
                .validate(false)
                .allow_partial(true);
            net.load_from(&mut store)
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
        _ => anyhow::bail!(
            "{}: not a weights file this reads (.safetensors, or PyTorch's .pt/.pth)",
            path.display()
        ),
    }
    .with_context(|| format!("{}: cannot read it as weights", path.display()))?;
    check_applied(&result, names, path)
}

/// The loads above report what did not fit instead of failing on it, so
/// that one short message can say it in PyTorch's names: a tensor missing,
/// one the net does not have, or one of another shape.
fn check_applied(result: &ApplyResult, names: &TorchNames, path: &Path) -> anyhow::Result<()> {
    let torch = |burn: &str| names.torch_name(burn).unwrap_or_else(|| burn.to_string());
    let mut problems: Vec<String> = Vec::new();
    let missing: Vec<String> = result.missing.iter().map(|(t, _)| torch(t)).collect();
    if !missing.is_empty() {
        problems.push(format!("missing {}", missing.join(", ")));
    }
    if !result.unused.is_empty() {
        problems.push(format!("not in the net: {}", result.unused.join(", ")));
    }
    for error in &result.errors {
        problems.push(match error {
            ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => format!(
                "{} is {:?} where the net's is {:?} (in Burn's layout)",
                torch(path),
                found.as_slice(),
                expected.as_slice()
            ),
            other => other.to_string(),
        });
    }
    anyhow::ensure!(
        problems.is_empty(),
        "{}: not the weights of {} ({}): {}",
        path.display(),
        names.torch,
        names.torch_tensors().join(", "),
        problems.join("; ")
    );
    Ok(())
}

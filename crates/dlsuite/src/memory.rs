//! A model's size, worked out from its config before any tensor exists, so
//! that a layer of a hundred million units is refused with its name instead
//! of growing until the machine kills the process.

use crate::config::ModelSpec;

/// One layer's share of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSize {
    /// As the summary names it: "hidden layer 1 (784 → 300)".
    pub name: String,
    /// Trained values: weights and biases, batch norm's scale and shift.
    pub parameters: u128,
    /// Values kept but not trained: batch norm's running statistics.
    pub buffers: u128,
}

/// What the model's memory is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// The weights, and a copy while a saved model is checked and loaded.
    Inference,
    /// Weights, gradients and Adam's two moments.
    Training,
}

impl Use {
    fn copies(self) -> u128 {
        match self {
            Use::Inference => 2,
            Use::Training => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Use::Inference => "to load",
            Use::Training => "to train",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the model is too large for this machine: {largest} alone has {} parameters ({} as 32-bit floats); the whole model needs about {} {purpose}, and {} of memory is available. Make that layer smaller",
    grouped(*largest_parameters),
    bytes(largest_parameters.saturating_mul(FLOAT)),
    bytes(*needed),
    bytes(*available)
)]
pub struct TooLarge {
    pub largest: String,
    pub largest_parameters: u128,
    /// Bytes.
    pub needed: u128,
    pub purpose: &'static str,
    /// Bytes.
    pub available: u128,
}

/// Bytes per value: the suite trains in 32-bit floats.
const FLOAT: u128 = 4;

/// Every layer of the net `spec` describes, input side first.
pub fn layer_sizes(spec: &ModelSpec) -> Vec<LayerSize> {
    let linear = |name: String, inputs: usize, outputs: usize| LayerSize {
        name: format!("{name} ({inputs} → {outputs})"),
        parameters: (inputs as u128 + 1).saturating_mul(outputs as u128),
        buffers: 0,
    };
    let norm = |name: String, width: usize| LayerSize {
        name,
        parameters: 2 * width as u128,
        buffers: 2 * width as u128,
    };
    let mut layers = Vec::new();
    match spec {
        ModelSpec::Softmax => layers.push(linear("softmax layer".into(), 784, 10)),
        ModelSpec::Mlp { .. } => {
            let Some(config) = spec.mlp_config() else {
                return layers;
            };
            let mut fan_in = config.inputs;
            for (i, &width) in config.hidden.iter().enumerate() {
                layers.push(linear(format!("hidden layer {}", i + 1), fan_in, width));
                if config.batch_norm {
                    layers.push(norm(format!("batch norm {}", i + 1), width));
                }
                fan_in = width;
            }
            layers.push(linear("output layer".into(), fan_in, config.outputs));
        }
        ModelSpec::Cnn { .. } => {
            let Some(config) = spec.cnn_config() else {
                return layers;
            };
            let mut channels = 1usize;
            for (i, b) in config.blocks.iter().enumerate() {
                let k = (b.kernel as u128).min(u64::MAX as u128);
                layers.push(LayerSize {
                    name: format!(
                        "convolution {} ({channels} → {} channels, {}×{})",
                        i + 1,
                        b.channels,
                        b.kernel,
                        b.kernel
                    ),
                    parameters: (channels as u128)
                        .saturating_mul(k * k)
                        .saturating_add(1)
                        .saturating_mul(b.channels as u128),
                    buffers: 0,
                });
                if b.batch_norm {
                    layers.push(norm(format!("batch norm {}", i + 1), b.channels));
                }
                channels = b.channels;
            }
            let mut fan_in = config.flat_features();
            for (i, &width) in config.dense.iter().enumerate() {
                layers.push(linear(format!("dense layer {}", i + 1), fan_in, width));
                fan_in = width;
            }
            layers.push(linear("output layer".into(), fan_in, config.classes));
        }
        ModelSpec::Lstm { hidden } => {
            // Four gates, each a linear map of the row and one of the state.
            let (row, state) = (28u128, *hidden as u128);
            layers.push(LayerSize {
                name: format!("LSTM (28 → {hidden}, four gates)"),
                parameters: 4u128.saturating_mul(
                    (row + 1)
                        .saturating_mul(state)
                        .saturating_add((state + 1).saturating_mul(state)),
                ),
                buffers: 0,
            });
            layers.push(linear("output layer".into(), *hidden, 10));
        }
    }
    layers
}

/// Refuses a model whose values would not fit in the memory available now
/// (the check is skipped where that cannot be read).
pub fn check_fits(spec: &ModelSpec, purpose: Use) -> Result<(), TooLarge> {
    match available_bytes() {
        Some(available) => check_fits_in(spec, purpose, available),
        None => Ok(()),
    }
}

/// As [`check_fits`], against `available` bytes.
pub fn check_fits_in(spec: &ModelSpec, purpose: Use, available: u128) -> Result<(), TooLarge> {
    let layers = layer_sizes(spec);
    let values: u128 = layers
        .iter()
        .map(|l| {
            l.parameters
                .saturating_mul(purpose.copies())
                .saturating_add(l.buffers)
        })
        .fold(0, u128::saturating_add);
    let needed = values.saturating_mul(FLOAT);
    if needed <= available {
        return Ok(());
    }
    let largest = layers
        .iter()
        .max_by_key(|l| l.parameters)
        .cloned()
        .unwrap_or(LayerSize {
            name: "the model".into(),
            parameters: 0,
            buffers: 0,
        });
    Err(TooLarge {
        largest: largest.name,
        largest_parameters: largest.parameters,
        needed,
        purpose: purpose.name(),
        available,
    })
}

/// `MemAvailable` from `/proc/meminfo` (Linux).
fn available_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u128 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// 78500000000 → "78,500,000,000".
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: u128) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{list_experiments, Experiment};
    use crate::net::build_net;
    use burn::backend::NdArray;
    use burn::module::Module;
    use std::path::Path;

    #[test]
    fn the_estimate_counts_what_burn_builds_for_every_committed_experiment() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
        let mut checked = 0;
        for name in list_experiments(&dir) {
            let Ok(Experiment::Training(config)) =
                Experiment::from_toml(&dir.join(format!("{name}.toml")))
            else {
                continue;
            };
            let estimated: u128 = layer_sizes(&config.model)
                .iter()
                .map(|l| l.parameters)
                .sum();
            let built = build_net::<NdArray>(&config.model, &Default::default()).num_params();
            assert_eq!(estimated, built as u128, "{name}");
            checked += 1;
        }
        assert!(checked >= 5, "{checked} experiments checked");
    }

    #[test]
    fn a_layer_too_large_is_refused_by_name_and_size() {
        let spec = ModelSpec::Mlp {
            hidden: vec![100_000_000],
            activation: dlsuite_mlp::Activation::Relu,
            init: dlsuite_mlp::Init::He,
            dropout: 0.0,
            batch_norm: false,
        };
        let err = check_fits_in(&spec, Use::Training, 24_000_000_000)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "hidden layer 1 (784 → 100000000) alone has 78,500,000,000 parameters (314.0 GB"
            ) && err.contains("24.0 GB of memory is available"),
            "{err}"
        );
        let small = ModelSpec::Mlp {
            hidden: vec![300],
            activation: dlsuite_mlp::Activation::Relu,
            init: dlsuite_mlp::Init::He,
            dropout: 0.0,
            batch_norm: false,
        };
        assert!(check_fits_in(&small, Use::Training, 24_000_000_000).is_ok());
        assert!(check_fits_in(&small, Use::Training, 1_000).is_err());
    }

    #[test]
    fn absurd_widths_do_not_overflow() {
        let spec = ModelSpec::Mlp {
            hidden: vec![usize::MAX, usize::MAX],
            activation: dlsuite_mlp::Activation::Relu,
            init: dlsuite_mlp::Init::He,
            dropout: 0.0,
            batch_norm: true,
        };
        assert!(check_fits_in(&spec, Use::Inference, u128::MAX / 2).is_err());
    }
}

//! A run's configuration: the experiment file (TOML), command-line
//! overrides, and the checks that catch nonsense before any training starts.

use std::path::Path;

use dlsuite_cnn::CnnConfig;
use dlsuite_data::augment::MAX_SHIFT;
use dlsuite_data::Kind;
use dlsuite_mlp::{Activation, Init, MlpConfig};
use dlsuite_train::{LrSchedule, OptimizerChoice, OptimizerConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{field} = {value}: {expected}")]
    Invalid {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    Mnist,
    FashionMnist,
}

impl DatasetName {
    pub fn kind(self) -> Kind {
        match self {
            DatasetName::Mnist => Kind::Mnist,
            DatasetName::FashionMnist => Kind::FashionMnist,
        }
    }

    /// The report section of experiments on this dataset, unless they name another.
    pub fn group(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CnnPreset {
    Lenet,
    Reference,
    Deep,
}

/// Which network, and its shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelSpec {
    /// Softmax (multinomial logistic) regression on the 784 pixels.
    Softmax,
    Mlp {
        hidden: Vec<usize>,
        #[serde(default = "default_activation")]
        activation: Activation,
        #[serde(default = "default_init")]
        init: Init,
        #[serde(default)]
        dropout: f64,
        #[serde(default)]
        batch_norm: bool,
    },
    Cnn {
        preset: CnnPreset,
        /// Overrides the preset's batch norm (the lecture's deep CNN has none).
        #[serde(default)]
        batch_norm: Option<bool>,
    },
}

fn default_activation() -> Activation {
    Activation::Relu
}

fn default_init() -> Init {
    Init::He
}

impl ModelSpec {
    pub fn mlp_config(&self) -> Option<MlpConfig> {
        match self {
            ModelSpec::Mlp {
                hidden,
                activation,
                init,
                dropout,
                batch_norm,
            } => Some(
                MlpConfig::new(784, hidden.clone(), 10)
                    .with_activation(*activation)
                    .with_init(*init)
                    .with_dropout(*dropout)
                    .with_batch_norm(*batch_norm),
            ),
            _ => None,
        }
    }

    pub fn cnn_config(&self) -> Option<CnnConfig> {
        match self {
            ModelSpec::Cnn { preset, batch_norm } => {
                let config = match preset {
                    CnnPreset::Lenet => CnnConfig::lenet(),
                    CnnPreset::Reference => CnnConfig::reference(),
                    CnnPreset::Deep => CnnConfig::deep(),
                };
                Some(match batch_norm {
                    Some(on) => config.with_batch_norm(*on),
                    None => config,
                })
            }
            _ => None,
        }
    }
}

/// The training half of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    pub epochs: usize,
    pub batch_size: usize,
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerChoice,
    pub lr: f64,
    /// Learning-rate shape over the run: `constant` or `cosine` (to lr/100).
    #[serde(default)]
    pub schedule: ScheduleName,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Training images held out for validation (the last ones).
    #[serde(default = "default_validation")]
    pub validation: usize,
    /// Early stopping: epochs without validation-loss improvement.
    #[serde(default)]
    pub patience: Option<usize>,
    /// Train on the first `limit` training images only (for small runs).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Data augmentation: move each training image by a fresh random offset
    /// of up to this many pixels along each axis (0: none). Validation and
    /// test images are never moved.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shift: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleName {
    #[default]
    Constant,
    Cosine,
}

fn default_optimizer() -> OptimizerChoice {
    OptimizerChoice::Adam
}
fn default_seed() -> u64 {
    42
}
fn default_validation() -> usize {
    5000
}

/// One experiment: what to train on what, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub name: String,
    /// What the experiment shows, in one line.
    #[serde(default)]
    pub description: String,
    /// The lecture's test accuracy for this model, in percent.
    #[serde(default)]
    pub lecture_accuracy: Option<f64>,
    /// The report section it belongs to; by default the dataset's.
    #[serde(default)]
    pub group: Option<String>,
    pub dataset: DatasetName,
    pub model: ModelSpec,
    pub train: TrainSpec,
}

/// Experiment names name folders: letters, digits, '-', '_' and '.' only.
pub fn check_name(name: &str) -> Result<(), ConfigError> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(ConfigError::Invalid {
            field: "name",
            value: format!("{name:?}"),
            expected: "must be letters, digits, '-', '_' or '.' (it names the run's folder)",
        });
    }
    Ok(())
}

impl RunConfig {
    pub fn from_toml(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: RunConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects values that cannot train, naming the field and what is allowed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, value: String, expected| {
            Err(ConfigError::Invalid {
                field,
                value,
                expected,
            })
        };
        let t = &self.train;
        if t.epochs == 0 {
            return invalid("train.epochs", "0".into(), "must be at least 1");
        }
        if t.batch_size == 0 {
            return invalid("train.batch_size", "0".into(), "must be at least 1");
        }
        if !(t.lr.is_finite() && t.lr > 0.0) {
            return invalid("train.lr", t.lr.to_string(), "must be a positive number");
        }
        if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
            return invalid(
                "train.weight_decay",
                t.weight_decay.to_string(),
                "must be zero or positive",
            );
        }
        if t.validation == 0 || t.validation >= 60_000 {
            return invalid(
                "train.validation",
                t.validation.to_string(),
                "must be between 1 and 59999 images",
            );
        }
        if t.patience == Some(0) {
            return invalid("train.patience", "0".into(), "must be at least 1 epoch");
        }
        if t.limit == Some(0) {
            return invalid("train.limit", "0".into(), "must be at least 1 image");
        }
        if t.shift > MAX_SHIFT {
            return invalid(
                "train.shift",
                t.shift.to_string(),
                "must be 0 to 14 pixels (half the image)",
            );
        }
        if let ModelSpec::Mlp {
            hidden,
            dropout,
            init,
            ..
        } = &self.model
        {
            if hidden.contains(&0) {
                return invalid(
                    "model.hidden",
                    format!("{hidden:?}"),
                    "every width must be at least 1",
                );
            }
            if !(0.0..1.0).contains(dropout) {
                return invalid("model.dropout", dropout.to_string(), "must be in [0, 1)");
            }
            if let Init::Normal { std } | Init::TruncatedNormal { std } = init {
                if !(std.is_finite() && *std > 0.0) {
                    return invalid("model.init.std", std.to_string(), "must be positive");
                }
            }
        }
        check_name(&self.name)?;
        Ok(())
    }

    pub fn optimizer(&self) -> OptimizerConfig {
        let mut o = OptimizerConfig::new(self.train.optimizer);
        o.weight_decay = self.train.weight_decay;
        o
    }

    /// The learning-rate schedule over `steps` optimizer steps.
    pub fn schedule(&self, steps: usize) -> LrSchedule {
        let lr = self.train.lr;
        match self.train.schedule {
            ScheduleName::Constant => LrSchedule::Constant { lr },
            ScheduleName::Cosine => LrSchedule::Cosine {
                lr,
                min_lr: lr / 100.0,
                steps,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
dataset = "mnist"
[model]
kind = "mlp"
hidden = [256, 256]
[train]
epochs = 2
batch_size = 100
lr = 0.001
"#;

    #[test]
    fn a_good_config_parses_with_defaults() {
        let c = RunConfig::parse(GOOD, "t.toml").unwrap();
        assert_eq!(c.train.optimizer, OptimizerChoice::Adam);
        assert_eq!(c.train.validation, 5000);
        assert_eq!(c.model.mlp_config().unwrap().hidden, vec![256, 256]);
        assert_eq!(c.train.shift, 0);
    }

    #[test]
    fn a_shift_is_written_only_when_set_so_older_runs_still_match() {
        let c = RunConfig::parse(GOOD, "t.toml").unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("shift"), "{json}");
        let shifted =
            RunConfig::parse(&GOOD.replace("lr = 0.001", "lr = 0.001\nshift = 2"), "t").unwrap();
        assert_eq!(shifted.train.shift, 2);
        let json = serde_json::to_string(&shifted).unwrap();
        let back: RunConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, shifted);
        assert_ne!(back, c);
    }

    fn err(text: &str) -> String {
        RunConfig::parse(text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn unknown_key_is_named() {
        let msg = err(&GOOD.replace("lr = 0.001", "lr = 0.001\nlearning_rat = 3"));
        assert!(msg.contains("unknown field `learning_rat`"), "{msg}");
        assert!(msg.starts_with("t.toml:"), "{msg}");
    }

    #[test]
    fn wrong_type_is_named() {
        let msg = err(&GOOD.replace("epochs = 2", "epochs = \"two\""));
        assert!(
            msg.contains("epochs") && msg.contains("invalid type"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_field() {
        for (from, to, field) in [
            (
                "lr = 0.001",
                "lr = -0.1",
                "train.lr = -0.1: must be a positive number",
            ),
            (
                "lr = 0.001",
                "lr = 0.0",
                "train.lr = 0: must be a positive number",
            ),
            ("batch_size = 100", "batch_size = 0", "train.batch_size = 0"),
            ("epochs = 2", "epochs = 0", "train.epochs = 0"),
            ("hidden = [256, 256]", "hidden = [256, 0]", "model.hidden"),
            (
                "lr = 0.001",
                "lr = 0.001\nshift = 15",
                "train.shift = 15: must be 0 to 14 pixels",
            ),
        ] {
            let msg = err(&GOOD.replace(from, to));
            assert!(msg.starts_with(field), "{msg}");
        }
    }

    #[test]
    fn unknown_optimizer_lists_the_choices() {
        let msg = err(&GOOD.replace("lr = 0.001", "lr = 0.001\noptimizer = \"adamm\""));
        assert!(msg.contains("adamm") && msg.contains("adam_w"), "{msg}");
    }
}

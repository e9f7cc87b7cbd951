//! A run's configuration: the experiment file (TOML), command-line
//! overrides, and the checks that catch nonsense before any training starts.

use std::collections::HashSet;
use std::path::Path;

use dlsuite_cnn::{CnnConfig, ConvBlockConfig, Padding};
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
        field: String,
        value: String,
        expected: String,
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

/// Named CNNs, as shorthands for their blocks and dense layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CnnPreset {
    Lenet,
    Reference,
    /// The lecture's deep CNN.
    Deep,
    /// The deep CNN with batch norm after every convolution.
    DeepBatchNorm,
}

impl CnnPreset {
    pub fn config(self) -> CnnConfig {
        match self {
            CnnPreset::Lenet => CnnConfig::lenet(),
            CnnPreset::Reference => CnnConfig::reference(),
            CnnPreset::Deep => CnnConfig::deep(),
            CnnPreset::DeepBatchNorm => CnnConfig::deep_batch_norm(),
        }
    }
}

/// One convolution block of an experiment file's CNN: a `[[model.blocks]]`
/// table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    pub channels: usize,
    #[serde(default = "default_kernel")]
    pub kernel: usize,
    /// `valid` (no padding) or `same` (keep the side).
    #[serde(default)]
    pub padding: Padding,
    #[serde(default)]
    pub batch_norm: bool,
    /// A 2×2 max-pool of stride 2.
    #[serde(default)]
    pub pool: bool,
    #[serde(default)]
    pub dropout: f64,
}

fn default_kernel() -> usize {
    3
}

impl BlockSpec {
    fn config(&self) -> ConvBlockConfig {
        ConvBlockConfig::new(self.channels)
            .with_kernel(self.kernel)
            .with_padding(self.padding)
            .with_batch_norm(self.batch_norm)
            .with_pool(self.pool)
            .with_dropout(self.dropout)
    }
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
    /// A preset, or blocks and dense layers spelled out; fields given beside
    /// a preset replace the preset's.
    Cnn {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preset: Option<CnnPreset>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        blocks: Option<Vec<BlockSpec>>,
        /// Widths of the hidden fully connected layers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dense: Option<Vec<usize>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dense_dropout: Option<f64>,
        /// Batch norm after every convolution, or after none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch_norm: Option<bool>,
    },
    /// An LSTM that reads the image row by row (28 steps of 28 pixels).
    Lstm {
        /// Width of its hidden state.
        hidden: usize,
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

    /// A CNN given by its preset alone.
    pub fn cnn(preset: CnnPreset) -> Self {
        ModelSpec::Cnn {
            preset: Some(preset),
            blocks: None,
            dense: None,
            dense_dropout: None,
            batch_norm: None,
        }
    }

    pub fn cnn_config(&self) -> Option<CnnConfig> {
        let ModelSpec::Cnn {
            preset,
            blocks,
            dense,
            dense_dropout,
            batch_norm,
        } = self
        else {
            return None;
        };
        let mut config = match preset {
            Some(preset) => preset.config(),
            None => CnnConfig::new(vec![], vec![]),
        };
        if let Some(blocks) = blocks {
            config.blocks = blocks.iter().map(BlockSpec::config).collect();
        }
        if let Some(dense) = dense {
            config.dense = dense.clone();
        }
        if let Some(p) = dense_dropout {
            config.dense_dropout = *p;
        }
        if let Some(on) = batch_norm {
            for block in &mut config.blocks {
                block.batch_norm = *on;
            }
        }
        Some(config)
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
    /// This share of the training images (after `limit`) get a wrong label,
    /// the same images whatever the seed: noise a large net memorises.
    #[serde(default, skip_serializing_if = "is_nothing")]
    pub label_noise: f64,
}

impl TrainSpec {
    /// Rejects values that cannot train, naming the field and what is allowed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let t = self;
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
        if !(0.0..1.0).contains(&t.label_noise) {
            return invalid(
                "train.label_noise",
                t.label_noise.to_string(),
                "must be a fraction in [0, 1): the share of training labels made wrong",
            );
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
        Ok(())
    }

    /// The optimizer's settings.
    pub fn optimizer(&self) -> OptimizerConfig {
        let mut o = OptimizerConfig::new(self.optimizer);
        o.weight_decay = self.weight_decay;
        o
    }

    /// The learning-rate schedule over `steps` optimizer steps.
    pub fn schedule(&self, steps: usize) -> LrSchedule {
        let lr = self.lr;
        match self.schedule {
            ScheduleName::Constant => LrSchedule::Constant { lr },
            ScheduleName::Cosine => LrSchedule::Cosine {
                lr,
                min_lr: lr / 100.0,
                steps,
            },
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_nothing(x: &f64) -> bool {
    *x == 0.0
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
    /// What this run must show against others (`[[check]]` tables): the
    /// report's verdict for a comparison with no lecture figure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub check: Vec<Claim>,
    /// `reproduce` trains the run again from each of these seeds, into
    /// `<name>-seed<N>` beside it; checks compare the mean over all seeds
    /// and can demand a margin beyond their range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeat_seeds: Vec<u64>,
    /// A picture `reproduce` draws once the runs it names are done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<FigureSpec>,
}

/// A figure a run's check is about, measured from its run folder(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimMetric {
    /// Test accuracy, in percent.
    TestAccuracy,
    /// Mean training loss over the first epoch: how fast a net starts to learn.
    FirstEpochTrainLoss,
    /// Training accuracy in the last epoch, in percent.
    FinalTrainAccuracy,
    /// Validation loss after the last epoch over its lowest: above 1, the
    /// net got worse on unseen images while it trained on.
    ValidLossRise,
}

impl ClaimMetric {
    pub fn words(self) -> &'static str {
        match self {
            ClaimMetric::TestAccuracy => "test accuracy",
            ClaimMetric::FirstEpochTrainLoss => "first-epoch training loss",
            ClaimMetric::FinalTrainAccuracy => "last-epoch training accuracy",
            ClaimMetric::ValidLossRise => "last over lowest validation loss",
        }
    }
}

/// How much a claim's figure must clear the others by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MarginText", into = "MarginText")]
pub enum Margin {
    #[default]
    Nothing,
    /// In the metric's own units (points of accuracy, units of loss).
    By(f64),
    /// The widest range across seeds among the runs compared.
    Spread,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum MarginText {
    Number(f64),
    Word(String),
}

impl TryFrom<MarginText> for Margin {
    type Error = String;
    fn try_from(text: MarginText) -> Result<Self, String> {
        match text {
            MarginText::Number(x) if x.is_finite() && x >= 0.0 => Ok(Margin::By(x)),
            MarginText::Number(x) => Err(format!("by = {x}: must be zero or a positive number")),
            MarginText::Word(w) if w == "spread" => Ok(Margin::Spread),
            MarginText::Word(w) => Err(format!(
                "by = {w:?}: must be a number or \"spread\" (the runs' range across seeds)"
            )),
        }
    }
}

impl From<Margin> for MarginText {
    fn from(m: Margin) -> Self {
        match m {
            Margin::Nothing => MarginText::Number(0.0),
            Margin::By(x) => MarginText::Number(x),
            Margin::Spread => MarginText::Word("spread".into()),
        }
    }
}

/// One claim of a `[[check]]`: this run's `metric` is above or below each
/// named run's (by more than `by`), or at least or at most a value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub metric: ClaimMetric,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub above: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub below: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    #[serde(default)]
    pub by: Margin,
}

/// A comparison's picture: `metric` per epoch of this run and of `with`,
/// one curve each, with each early-stopped run's kept epoch marked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    pub metric: CurveMetric,
    pub with: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveMetric {
    ValidLoss,
    TrainLoss,
    ValidAccuracy,
}

impl CurveMetric {
    pub fn words(self) -> &'static str {
        match self {
            CurveMetric::ValidLoss => "validation loss",
            CurveMetric::TrainLoss => "training loss",
            CurveMetric::ValidAccuracy => "validation accuracy (%)",
        }
    }

    /// The picture's file name.
    pub fn file(self) -> &'static str {
        match self {
            CurveMetric::ValidLoss => "validation-loss.png",
            CurveMetric::TrainLoss => "training-loss.png",
            CurveMetric::ValidAccuracy => "validation-accuracy.png",
        }
    }
}

impl Claim {
    /// Exactly one kind of comparison, naming real experiments.
    fn validate(&self, i: usize) -> Result<(), ConfigError> {
        let field = |name: &str| format!("check[{i}].{name}");
        let kinds = [
            !self.above.is_empty(),
            !self.below.is_empty(),
            self.at_least.is_some(),
            self.at_most.is_some(),
        ];
        if kinds.iter().filter(|&&k| k).count() != 1 {
            return Err(ConfigError::Invalid {
                field: format!("check[{i}]"),
                value: format!("{:?}", self.metric),
                expected:
                    "needs exactly one of above = [runs], below = [runs], at_least = x, at_most = x"
                        .into(),
            });
        }
        for name in self.above.iter().chain(&self.below) {
            check_name(name).map_err(|_| ConfigError::Invalid {
                field: field(if self.above.is_empty() {
                    "below"
                } else {
                    "above"
                }),
                value: format!("{name:?}"),
                expected: "must name an experiment".into(),
            })?;
        }
        if let Some(x) = self.at_least.or(self.at_most) {
            if !x.is_finite() {
                return Err(ConfigError::Invalid {
                    field: field(if self.at_least.is_some() {
                        "at_least"
                    } else {
                        "at_most"
                    }),
                    value: x.to_string(),
                    expected: "must be a number".into(),
                });
            }
            if self.by == Margin::Spread {
                return Err(ConfigError::Invalid {
                    field: field("by"),
                    value: "\"spread\"".into(),
                    expected: "only compares with other runs (above or below)".into(),
                });
            }
        }
        Ok(())
    }
}

/// Rejects a CNN that cannot be built or cannot see its image: no blocks,
/// zero sizes, dropout outside [0, 1), or a kernel or pool larger than the
/// maps it is applied to; naming the block.
fn check_cnn(config: &CnnConfig) -> Result<(), ConfigError> {
    let invalid = |field: String, value: String, expected: String| {
        Err(ConfigError::Invalid {
            field,
            value,
            expected,
        })
    };
    if config.blocks.is_empty() {
        return invalid(
            "model.blocks".into(),
            "[]".into(),
            "a CNN needs at least one [[model.blocks]] table (or a preset)".into(),
        );
    }
    let mut side = config.side;
    for (i, b) in config.blocks.iter().enumerate() {
        let field = |name: &str| format!("model.blocks[{i}].{name}");
        if b.channels == 0 {
            return invalid(field("channels"), "0".into(), "must be at least 1".into());
        }
        if b.kernel == 0 {
            return invalid(field("kernel"), "0".into(), "must be at least 1".into());
        }
        if !(0.0..1.0).contains(&b.dropout) {
            return invalid(
                field("dropout"),
                b.dropout.to_string(),
                "must be in [0, 1)".into(),
            );
        }
        // Even padded, a kernel larger than its maps would mostly see zeros.
        if b.kernel > side {
            return invalid(
                field("kernel"),
                b.kernel.to_string(),
                format!(
                    "larger than the {side}×{side} maps it reads (block {} of {}); use a smaller kernel or fewer pools before it",
                    i + 1,
                    config.blocks.len()
                ),
            );
        }
        if b.padding == Padding::Valid {
            side = side + 1 - b.kernel;
        }
        if b.pool {
            if side < 2 {
                return invalid(
                    field("pool"),
                    "true".into(),
                    format!(
                        "the {side}×{side} maps of block {} are too small to pool 2×2",
                        i + 1
                    ),
                );
            }
            side /= 2;
        }
    }
    if config.dense.contains(&0) {
        return invalid(
            "model.dense".into(),
            format!("{:?}", config.dense),
            "every width must be at least 1".into(),
        );
    }
    if !(0.0..1.0).contains(&config.dense_dropout) {
        return invalid(
            "model.dense_dropout".into(),
            config.dense_dropout.to_string(),
            "must be in [0, 1)".into(),
        );
    }
    Ok(())
}

/// The error for a field whose value cannot be used, naming what is allowed.
pub fn invalid(field: &str, value: String, expected: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid {
        field: field.into(),
        value,
        expected: expected.into(),
    })
}

/// The folder of a run repeated from another seed.
pub fn repeat_name(name: &str, seed: u64) -> String {
    format!("{name}-seed{seed}")
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
            field: "name".into(),
            value: format!("{name:?}"),
            expected: "must be letters, digits, '-', '_' or '.' (it names the run's folder)".into(),
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
        self.train.validate()?;
        let t = &self.train;
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
        if let Some(config) = self.model.cnn_config() {
            check_cnn(&config)?;
        }
        if let ModelSpec::Lstm { hidden } = self.model {
            if !(1..=4096).contains(&hidden) {
                return invalid(
                    "model.hidden",
                    hidden.to_string(),
                    "must be 1 to 4096 values",
                );
            }
        }
        check_name(&self.name)?;
        for (i, claim) in self.check.iter().enumerate() {
            claim.validate(i)?;
        }
        let mut seeds = HashSet::from([t.seed]);
        if let Some(again) = self.repeat_seeds.iter().find(|s| !seeds.insert(**s)) {
            return invalid(
                "repeat_seeds",
                again.to_string(),
                "each seed once, and not train.seed (the run itself)",
            );
        }
        Ok(())
    }

    /// The run again from `seed`, as `reproduce` trains it for a check's
    /// spread: its own name, nothing left to check or draw.
    pub fn repeat(&self, seed: u64) -> RunConfig {
        let mut copy = self.clone();
        copy.name = repeat_name(&self.name, seed);
        copy.train.seed = seed;
        copy.check.clear();
        copy.repeat_seeds.clear();
        copy.figure = None;
        copy
    }

    pub fn optimizer(&self) -> OptimizerConfig {
        self.train.optimizer()
    }

    /// The learning-rate schedule over `steps` optimizer steps.
    pub fn schedule(&self, steps: usize) -> LrSchedule {
        self.train.schedule(steps)
    }
}

/// An ensemble's experiment file: `[[member]]` tables naming training
/// experiments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleExperiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The lecture's test accuracy for its ensemble, in percent.
    #[serde(default)]
    pub lecture_accuracy: Option<f64>,
    pub dataset: DatasetName,
    #[serde(rename = "member")]
    pub members: Vec<Member>,
}

/// One voter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// A training experiment: a name in `experiments/` or a path.
    pub experiment: String,
    /// Without a seed the member is the experiment's own run
    /// (`artifacts/<experiment>`); with one, a copy trained from that seed
    /// in the ensemble's folder, so that one recipe can vote several times.
    #[serde(default)]
    pub seed: Option<u64>,
}

impl EnsembleExperiment {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        if self.members.len() < 2 {
            return Err(ConfigError::Invalid {
                field: "member".into(),
                value: format!("{} table(s)", self.members.len()),
                expected: "an ensemble needs at least 2 [[member]] tables".into(),
            });
        }
        let mut seen = HashSet::new();
        for m in &self.members {
            if !seen.insert((&m.experiment, m.seed)) {
                return Err(ConfigError::Invalid {
                    field: "member".into(),
                    value: format!("{:?} (seed {:?}) twice", m.experiment, m.seed),
                    expected: "each member must be a different run: give repeats their own seed"
                        .into(),
                });
            }
        }
        Ok(())
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
    fn a_margin_is_a_number_or_spread_and_nothing_else() {
        let with = |by: &str| {
            GOOD.replace(
                "lr = 0.001",
                "lr = 0.001\n[[check]]\nmetric = \"test_accuracy\"\nabove = [\"a\"]",
            ) + &format!("by = {by}\n")
        };
        // `[[check]]` follows `[train]`: put it last so `by` lands in the claim.
        let parsed = |by: &str| RunConfig::parse(&with(by), "t.toml").map(|c| c.check[0].by);
        assert_eq!(parsed("2.5").unwrap(), Margin::By(2.5));
        assert_eq!(parsed("\"spread\"").unwrap(), Margin::Spread);
        let msg = parsed("\"lots\"").unwrap_err().to_string();
        assert!(msg.contains("must be a number or \"spread\""), "{msg}");
        let msg = parsed("-1.0").unwrap_err().to_string();
        assert!(msg.contains("must be zero or a positive number"), "{msg}");
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
            (
                "lr = 0.001",
                "lr = 0.001\nlabel_noise = 1.0",
                "train.label_noise = 1: must be a fraction",
            ),
            (
                "name = \"t\"",
                "name = \"t\"\nrepeat_seeds = [1, 42]",
                "repeat_seeds = 42: each seed once, and not train.seed",
            ),
            (
                "lr = 0.001",
                "lr = 0.001\n[[check]]\nmetric = \"test_accuracy\"\nabove = [\"a\"]\nat_least = 3.0",
                "check[0] = TestAccuracy: needs exactly one of",
            ),
            (
                "lr = 0.001",
                "lr = 0.001\n[[check]]\nmetric = \"test_accuracy\"\nat_least = 90.0\nby = \"spread\"",
                "check[0].by = \"spread\": only compares with other runs",
            ),
            (
                "lr = 0.001",
                "lr = 0.001\n[[check]]\nmetric = \"test_accuracy\"\nbelow = [\"../x\"]",
                "check[0].below = \"../x\": must name an experiment",
            ),
        ] {
            let msg = err(&GOOD.replace(from, to));
            assert!(msg.starts_with(field), "{msg}");
        }
    }

    const CNN: &str = r#"
name = "c"
dataset = "mnist"
[model]
kind = "cnn"
dense = [64]
[[model.blocks]]
channels = 8
kernel = 5
padding = "same"
pool = true
[[model.blocks]]
channels = 16
batch_norm = true
pool = true
dropout = 0.25
[train]
epochs = 1
batch_size = 10
lr = 0.001
"#;

    #[test]
    fn a_cnn_spelled_out_builds_the_net_it_describes() {
        let c = RunConfig::parse(CNN, "c.toml").unwrap();
        let net = c.model.cnn_config().unwrap();
        assert_eq!(net.blocks.len(), 2);
        assert_eq!(
            (net.blocks[0].kernel, net.blocks[0].padding),
            (5, Padding::Same)
        );
        assert!(!net.blocks[0].batch_norm && net.blocks[1].batch_norm);
        assert_eq!(net.blocks[1].kernel, 3, "the default kernel");
        assert_eq!(net.dense, vec![64]);
        // 28 → 28 (same) → 14 (pool) → 12 (3×3) → 6 (pool), 16 channels.
        assert_eq!(net.flat_features(), 16 * 6 * 6);
        // The same net given as a preset with overrides.
        let preset = CNN.replace("dense = [64]", "preset = \"reference\"\ndense = [64]");
        let from_preset = RunConfig::parse(&preset, "c.toml").unwrap();
        assert_eq!(from_preset.model.cnn_config().unwrap().blocks, net.blocks);
        assert_eq!(from_preset.model.cnn_config().unwrap().dense_dropout, 0.5);
    }

    #[test]
    fn the_spelled_out_reference_cnn_is_the_preset() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/mnist-cnn.toml"),
        )
        .unwrap();
        let c = RunConfig::parse(&text, "mnist-cnn.toml").unwrap();
        assert_eq!(c.model.cnn_config(), Some(CnnConfig::reference()));
    }

    #[test]
    fn a_cnn_that_cannot_see_its_image_is_refused_naming_the_block() {
        for (from, to, start) in [
            (
                "kernel = 5",
                "kernel = 29",
                "model.blocks[0].kernel = 29: larger than the 28×28 maps",
            ),
            (
                "channels = 16",
                "channels = 16\nkernel = 15",
                "model.blocks[1].kernel = 15: larger than the 14×14 maps",
            ),
            (
                "channels = 8",
                "channels = 0",
                "model.blocks[0].channels = 0",
            ),
            (
                "dropout = 0.25",
                "dropout = 1.0",
                "model.blocks[1].dropout = 1",
            ),
            ("dense = [64]", "dense = [64, 0]", "model.dense = [64, 0]"),
            ("kernel = 5", "kernal = 5", "unknown field `kernal`"),
        ] {
            let msg = err(&CNN.replace(from, to));
            assert!(msg.contains(start), "{msg}");
        }
        let start = CNN.find("[[model.blocks]]").unwrap();
        let end = CNN.find("[train]").unwrap();
        let none = format!("{}{}", &CNN[..start], &CNN[end..]);
        let msg = err(&none);
        assert!(
            msg.starts_with("model.blocks = []: a CNN needs at least one"),
            "{msg}"
        );
        // Five pools leave nothing of 28 pixels to pool.
        let pools = "[[model.blocks]]\nchannels = 2\nkernel = 1\npool = true\n".repeat(5);
        let deep = CNN.replace("[train]", &format!("{pools}[train]"));
        let msg = err(&deep);
        assert!(msg.contains("too small to pool"), "{msg}");
    }

    #[test]
    fn unknown_optimizer_lists_the_choices() {
        let msg = err(&GOOD.replace("lr = 0.001", "lr = 0.001\noptimizer = \"adamm\""));
        assert!(msg.contains("adamm") && msg.contains("adam_w"), "{msg}");
    }
}

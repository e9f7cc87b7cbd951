//! Experiment files: a training run on MNIST-format images (`[model]` and
//! `[train]` tables), a small lesson (a `[lesson]` table), an ensemble
//! (`[[member]]` tables), an autoencoder (an `[autoencoder]` table) or a GAN
//! (a `[gan]` table), found by name in `experiments/` and grouped for
//! `reproduce`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use dlsuite_lessons::LessonConfig;
use serde::{Deserialize, Serialize};

use crate::autoencoder::AutoencoderExperiment;
use crate::config::EnsembleExperiment;
use crate::config::{check_name, ConfigError, RunConfig};
use crate::gan::GanExperiment;
use crate::sequence::{ChatExperiment, LanguageExperiment, SequenceExperiment};

/// Where experiment files live, relative to the repository root.
pub const EXPERIMENTS_DIR: &str = "experiments";

/// The report's sections, in the order `reproduce all` runs them.
pub const GROUPS: [&str; 6] = [
    "lessons",
    "mnist",
    "compare",
    "fashion",
    "generative",
    "sequences",
];

/// A lesson's experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonExperiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the lecture shows, in words: the report's "lecture" column.
    pub lecture: String,
    pub lesson: LessonConfig,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Experiment {
    Training(RunConfig),
    Lesson(LessonExperiment),
    Ensemble(EnsembleExperiment),
    Autoencoder(AutoencoderExperiment),
    Gan(GanExperiment),
    Sequence(SequenceExperiment),
}

impl Experiment {
    /// Reads and checks an experiment file; every error names the file.
    pub fn from_toml(path: &Path) -> Result<Self, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: origin.clone(),
            source,
        })?;
        Self::parse(&text, &origin)
    }

    /// Parses TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let in_file = |e: &dyn std::fmt::Display| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| in_file(&e))?;
        if table.contains_key("lesson") {
            let lesson: LessonExperiment = toml::from_str(text).map_err(|e| in_file(&e))?;
            check_name(&lesson.name).map_err(|e| in_file(&e))?;
            lesson.lesson.validate().map_err(|e| in_file(&e))?;
            Ok(Experiment::Lesson(lesson))
        } else if table.contains_key("autoencoder") {
            let autoencoder: AutoencoderExperiment =
                toml::from_str(text).map_err(|e| in_file(&e))?;
            autoencoder.validate().map_err(|e| in_file(&e))?;
            Ok(Experiment::Autoencoder(autoencoder))
        } else if table.contains_key("gan") {
            let gan: GanExperiment = toml::from_str(text).map_err(|e| in_file(&e))?;
            gan.validate().map_err(|e| in_file(&e))?;
            Ok(Experiment::Gan(gan))
        } else if table.contains_key("language") || table.contains_key("chat") {
            let sequence = if table.contains_key("language") {
                let l: LanguageExperiment = toml::from_str(text).map_err(|e| in_file(&e))?;
                SequenceExperiment::Language(l)
            } else {
                let c: ChatExperiment = toml::from_str(text).map_err(|e| in_file(&e))?;
                SequenceExperiment::Chat(c)
            };
            sequence.validate().map_err(|e| in_file(&e))?;
            Ok(Experiment::Sequence(sequence))
        } else if table.contains_key("member") {
            let ensemble: EnsembleExperiment = toml::from_str(text).map_err(|e| in_file(&e))?;
            ensemble.validate().map_err(|e| in_file(&e))?;
            Ok(Experiment::Ensemble(ensemble))
        } else {
            match RunConfig::parse(text, origin) {
                Ok(config) => Ok(Experiment::Training(config)),
                Err(e @ ConfigError::Invalid { .. }) => Err(in_file(&e)),
                Err(e) => Err(e),
            }
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Experiment::Training(c) => &c.name,
            Experiment::Lesson(l) => &l.name,
            Experiment::Ensemble(e) => &e.name,
            Experiment::Autoencoder(a) => &a.name,
            Experiment::Gan(g) => &g.name,
            Experiment::Sequence(s) => s.name(),
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Experiment::Training(c) => &c.description,
            Experiment::Lesson(l) => &l.description,
            Experiment::Ensemble(e) => &e.description,
            Experiment::Autoencoder(a) => &a.description,
            Experiment::Gan(g) => &g.description,
            Experiment::Sequence(s) => s.description(),
        }
    }

    pub fn group(&self) -> &str {
        match self {
            Experiment::Lesson(_) => "lessons",
            Experiment::Training(c) => c.group.as_deref().unwrap_or(c.dataset.group()),
            Experiment::Ensemble(e) => e.dataset.group(),
            Experiment::Autoencoder(_) | Experiment::Gan(_) => "generative",
            Experiment::Sequence(_) => "sequences",
        }
    }
}

/// `NAME` means `experiments/NAME.toml`; anything with a slash or ending in
/// `.toml` is a path.
pub fn experiment_path(experiment: &str) -> PathBuf {
    if experiment.ends_with(".toml") || experiment.contains('/') {
        PathBuf::from(experiment)
    } else {
        Path::new(EXPERIMENTS_DIR).join(format!("{experiment}.toml"))
    }
}

/// The names of the experiment files in `dir`, sorted.
pub fn list_experiments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| {
                let p = e.ok()?.path();
                (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Loads one experiment by name or path; an unknown name suggests the
/// closest known ones, then lists them all.
pub fn load_experiment(experiment: &str) -> anyhow::Result<Experiment> {
    let path = experiment_path(experiment);
    if !path.is_file() {
        let known = list_experiments(Path::new(EXPERIMENTS_DIR));
        let close = closest(experiment, &known);
        anyhow::bail!(
            "experiment {experiment:?}: no file {}; {}known experiments: {}",
            path.display(),
            match close.as_slice() {
                [] => String::new(),
                names => format!("did you mean {}? ", names.join(" or ")),
            },
            if known.is_empty() {
                "none (run from the repository root)".into()
            } else {
                known.join(", ")
            }
        );
    }
    Ok(Experiment::from_toml(&path)?)
}

/// Up to three of `known` that look like a misspelling of `name`, or begin
/// with it, closest first.
fn closest(name: &str, known: &[String]) -> Vec<String> {
    let name = name.trim_end_matches(".toml");
    let mut scored: Vec<(usize, &String)> = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), k))
        .filter(|(d, k)| *d <= (k.len() / 4).max(2) || (name.len() >= 3 && k.starts_with(name)))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

/// What `reproduce WHICH` runs: `all`, a group, or one experiment, in
/// report order (by group, then by name).
pub fn select(which: &str, dir: &Path) -> anyhow::Result<Vec<Experiment>> {
    let names = list_experiments(dir);
    if names.is_empty() {
        anyhow::bail!(
            "{}: no experiment files (run from the repository root)",
            dir.display()
        );
    }
    let mut all = Vec::new();
    for name in &names {
        let path = dir.join(format!("{name}.toml"));
        all.push(Experiment::from_toml(&path).with_context(|| "in the experiments folder")?);
    }
    all.sort_by_key(|e| {
        (
            GROUPS
                .iter()
                .position(|g| *g == e.group())
                .unwrap_or(GROUPS.len()),
            e.name().to_string(),
        )
    });
    let chosen: Vec<Experiment> = match which {
        "all" => all,
        group if all.iter().any(|e| e.group() == group) => {
            all.into_iter().filter(|e| e.group() == group).collect()
        }
        _ => vec![load_experiment(which).with_context(|| {
            format!(
                "not an experiment, nor a group ({}), nor \"all\"",
                GROUPS.join(", ")
            )
        })?],
    };
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
    }

    #[test]
    fn every_committed_experiment_is_valid_and_named_for_its_file() {
        let names = list_experiments(&committed());
        assert!(names.len() >= 10, "{names:?}");
        for name in &names {
            let e = Experiment::from_toml(&committed().join(format!("{name}.toml")))
                .unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(e.name(), name);
            assert!(!e.description().is_empty(), "{name} has no description");
            assert!(GROUPS.contains(&e.group()), "{name}: group {}", e.group());
            if let Experiment::Ensemble(ensemble) = &e {
                for m in &ensemble.members {
                    let path = committed().join(format!("{}.toml", m.experiment));
                    let member = Experiment::from_toml(&path).unwrap_or_else(|err| panic!("{err}"));
                    assert!(
                        matches!(&member, Experiment::Training(c) if c.dataset == ensemble.dataset),
                        "{name}: member {} is not a training experiment on its dataset",
                        m.experiment
                    );
                }
            }
            if let Experiment::Training(c) = &e {
                let compared = c.check.iter().flat_map(|k| k.above.iter().chain(&k.below));
                let drawn = c.figure.iter().flat_map(|f| &f.with);
                for other in compared.chain(drawn) {
                    assert!(
                        names.contains(other) && other != name,
                        "{name}: compares with {other:?}, which is no other experiment"
                    );
                }
                if c.group.as_deref() == Some("compare") {
                    assert!(!c.check.is_empty(), "{name}: a comparison without a check");
                }
            }
        }
    }

    #[test]
    fn every_group_has_experiments_and_selection_keeps_report_order() {
        let all = select("all", &committed()).unwrap();
        let groups: Vec<&str> = all.iter().map(Experiment::group).collect();
        let mut sorted = groups.clone();
        sorted.sort_by_key(|g| GROUPS.iter().position(|x| x == g));
        assert_eq!(groups, sorted);
        for group in GROUPS {
            let chosen = select(group, &committed()).unwrap();
            assert!(!chosen.is_empty(), "group {group} is empty");
            assert!(chosen.iter().all(|e| e.group() == group));
        }
    }

    #[test]
    fn a_lesson_file_with_a_bad_value_names_file_and_field() {
        let text =
            "name = \"x\"\nlecture = \"l\"\n[lesson]\nkind = \"linear-regression\"\nsteps = 0\n";
        let err = Experiment::parse(text, "x.toml").unwrap_err().to_string();
        assert_eq!(err, "x.toml: lesson.steps = 0: must be at least 1");
        let text = "name = \"x\"\nlecture = \"l\"\nlectur = 1\n[lesson]\nkind = \"backprop\"\n";
        let err = Experiment::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.contains("unknown field `lectur`"), "{err}");
    }

    #[test]
    fn a_training_file_with_a_bad_value_names_file_and_field() {
        let text = "name = \"x\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n[train]\nepochs = 1\nbatch_size = 0\nlr = 0.1\n";
        let err = Experiment::parse(text, "x.toml").unwrap_err().to_string();
        assert_eq!(err, "x.toml: train.batch_size = 0: must be at least 1");
    }

    #[test]
    fn an_ensemble_file_with_one_member_names_file_and_field() {
        let text = "name = \"x\"\ndataset = \"mnist\"\n[[member]]\nexperiment = \"mnist-cnn\"\n";
        let err = Experiment::parse(text, "x.toml").unwrap_err().to_string();
        assert_eq!(
            err,
            "x.toml: member = 1 table(s): an ensemble needs at least 2 [[member]] tables"
        );
        let text = "name = \"x\"\ndataset = \"mnist\"\n[[member]]\nexperiment = \"a\"\nseed = -1\n";
        let err = Experiment::parse(text, "x.toml").unwrap_err().to_string();
        assert!(err.starts_with("x.toml: ") && err.contains("seed"), "{err}");
    }

    #[test]
    fn selecting_from_a_folder_without_experiments_says_so() {
        let empty = tempfile::tempdir().unwrap();
        let err = select("all", empty.path()).unwrap_err().to_string();
        assert!(err.contains("no experiment files"), "{err}");
    }

    #[test]
    fn a_misspelt_name_suggests_the_closest_ones() {
        let known: Vec<String> = ["mnist-cnn", "mnist-cnn-deep", "mnist-mlp", "xor"]
            .map(String::from)
            .to_vec();
        assert_eq!(closest("mnist-cnnn", &known), ["mnist-cnn"]);
        assert_eq!(closest("mnsit-mlp", &known), ["mnist-mlp"]);
        assert_eq!(closest("mnist-m", &known), ["mnist-mlp"]);
        assert_eq!(closest("mnist-cn", &known), ["mnist-cnn", "mnist-cnn-deep"]);
        assert!(closest("cifar10-resnet", &known).is_empty());
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = load_experiment("no-such-experiment")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no-such-experiment") && err.contains("known experiments"),
            "{err}"
        );
    }
}

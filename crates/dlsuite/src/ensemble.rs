//! Ensembles: trained classifiers that vote by averaging their class
//! probabilities on the test set, as the lecture's ensemble of deep CNNs
//! did. Members are training experiments; a finished run of a member is
//! reused, so an ensemble costs only the members not trained yet.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::tensor::activation::softmax;
use dlsuite_data::idx::PIXELS;
use dlsuite_data::{Digits, ImageBatcher, Kind, Locator};
use dlsuite_plots::confusion_matrix;
use dlsuite_speed::{Tuned, TunedAutodiff};
use serde::{Deserialize, Serialize};

use crate::artifacts::{git_revision, write_json};
use crate::backend::{BackendChoice, OnBackend};
use crate::config::{EnsembleExperiment, RunConfig};
use crate::evaluate::EVAL_BATCH;
use crate::experiment::{load_experiment, Experiment};
use crate::net::Net;
use crate::run_dir::{load_run, read_run_config, read_summary, RunSummary};
use crate::run_folder::{
    inspect, open_run, record_pictures, Holds, RunFolderError, RunKind, RunRequest, WriteMode,
    MARKER_FILE,
};
use crate::training::TrainJob;

/// Classes of MNIST and Fashion-MNIST.
const CLASSES: usize = 10;

/// A member made concrete: how it is trained and where its run lives.
#[derive(Clone, Debug)]
pub struct ResolvedMember {
    pub config: RunConfig,
    pub run_dir: PathBuf,
}

impl ResolvedMember {
    /// Whether its folder holds a finished run trained as its config says
    /// (same data, model and training settings; the wording may differ).
    pub fn is_trained(&self) -> bool {
        let finished =
            self.run_dir.join("model.mpk").is_file() && self.run_dir.join("summary.json").is_file();
        finished
            && read_run_config(&self.run_dir).is_ok_and(|done| {
                done.dataset == self.config.dataset
                    && done.model == self.config.model
                    && done.train == self.config.train
            })
    }
}

/// Trains `m` unless its folder holds a finished run trained as its config
/// says; `true` when it trained now. A finished run trained otherwise (its
/// experiment file changed, say) is replaced, and an unfinished one
/// continues if it is the same run.
pub fn train_if_needed<B: TunedAutodiff>(
    m: &ResolvedMember,
    label: &str,
    backend: BackendChoice,
    data_dir: &Option<PathBuf>,
    device: &B::Device,
) -> anyhow::Result<bool> {
    if m.is_trained() {
        println!(
            "{label}: reusing the finished run in {}",
            m.run_dir.display()
        );
        return Ok(false);
    }
    let mode = match inspect(&m.run_dir)? {
        Holds::Run(run) if run.finished => {
            println!(
                "{label}: replacing {} in {}, trained otherwise",
                run.describe(&m.run_dir),
                m.run_dir.display()
            );
            WriteMode::Overwrite
        }
        _ => WriteMode::Resume,
    };
    println!("{label}: training into {}", m.run_dir.display());
    let job = |mode| TrainJob {
        config: m.config.clone(),
        backend,
        data_dir: data_dir.clone(),
        run_dir: m.run_dir.clone(),
        dashboard: false,
        mode,
    };
    match job(mode).run::<B>(device.clone()) {
        Err(err)
            if matches!(
                err.downcast_ref::<RunFolderError>(),
                Some(RunFolderError::Mismatch { .. })
            ) =>
        {
            println!("{label}: {err}; training it afresh");
            job(WriteMode::Overwrite).run::<B>(device.clone())
        }
        result => result,
    }
    .with_context(|| label.to_string())?;
    Ok(true)
}

impl EnsembleExperiment {
    /// Each member's config and run folder: plain members under
    /// `artifacts`, seeded ones inside `run_dir`.
    pub fn resolve(&self, run_dir: &Path, artifacts: &Path) -> anyhow::Result<Vec<ResolvedMember>> {
        self.members
            .iter()
            .map(|m| {
                let context = || format!("ensemble {}: member {:?}", self.name, m.experiment);
                let Experiment::Training(mut config) =
                    load_experiment(&m.experiment).with_context(context)?
                else {
                    anyhow::bail!("{}: not a training experiment", context());
                };
                if config.dataset != self.dataset {
                    anyhow::bail!(
                        "{}: trains on {:?}, the ensemble votes on {:?}",
                        context(),
                        config.dataset,
                        self.dataset
                    );
                }
                let run_dir = match m.seed {
                    None => artifacts.join(&config.name),
                    Some(seed) => {
                        config.train.seed = seed;
                        run_dir.join(format!("{}-seed{seed}", config.name))
                    }
                };
                Ok(ResolvedMember { config, run_dir })
            })
            .collect()
    }
}

/// What `ensemble.json` records of each member.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberResult {
    pub experiment: String,
    pub run_dir: PathBuf,
    pub seed: u64,
    pub test_accuracy: f64,
    pub epochs: usize,
    pub parameters: usize,
    /// Trained by this run (false: an earlier run was reused).
    pub trained_now: bool,
}

/// The soft vote of several classifiers over the same images.
#[derive(Clone, Debug, PartialEq)]
pub struct Vote {
    pub accuracy: f64,
    /// Cross-entropy of the averaged probabilities.
    pub loss: f64,
    pub predictions: Vec<u8>,
}

/// Averages each image's class probabilities over `members` (each
/// `images × classes`, row-major) and scores the mean against `labels`.
pub fn soft_vote(members: &[Vec<f32>], labels: &[u8], classes: usize) -> Vote {
    let n = labels.len();
    let mut predictions = Vec::with_capacity(n);
    let (mut correct, mut loss) = (0usize, 0.0f64);
    for (i, &label) in labels.iter().enumerate() {
        let mean: Vec<f64> = (0..classes)
            .map(|c| {
                members
                    .iter()
                    .map(|p| p[i * classes + c] as f64)
                    .sum::<f64>()
                    / members.len() as f64
            })
            .collect();
        let best = (0..classes)
            .max_by(|&a, &b| mean[a].total_cmp(&mean[b]))
            .unwrap_or(0);
        correct += usize::from(best == label as usize);
        loss -= mean[label as usize].max(1e-12).ln();
        predictions.push(best as u8);
    }
    let n = n.max(1) as f64;
    Vote {
        accuracy: 100.0 * correct as f64 / n,
        loss: loss / n,
        predictions,
    }
}

/// `net`'s class probabilities for every image of `digits`, row-major.
pub fn probabilities<B: Tuned>(
    net: &Net<B>,
    digits: &Digits,
    kind: Kind,
    device: &B::Device,
) -> Vec<f32> {
    let batcher = ImageBatcher::grid(kind.normalization());
    let mut out = Vec::with_capacity(digits.len() * CLASSES);
    for start in (0..digits.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(digits.len());
        let images = batcher.images::<B>(&digits.pixels()[start * PIXELS..end * PIXELS], device);
        let probs = softmax(net.forward(images), 1).into_data().convert::<f32>();
        out.extend(probs.to_vec::<f32>().unwrap_or_default());
    }
    out
}

/// Trains the members that have no finished run, then votes on the test set.
pub struct EnsembleJob {
    pub experiment: EnsembleExperiment,
    pub backend: BackendChoice,
    pub data_dir: Option<PathBuf>,
    /// The ensemble's own folder (summary, seeded members).
    pub run_dir: PathBuf,
    /// Where plain members' runs live (`artifacts/<experiment>`).
    pub artifacts: PathBuf,
    /// What may be done with an ensemble folder that holds a vote already
    /// (members are reused or resumed either way).
    pub mode: WriteMode,
}

impl OnBackend for EnsembleJob {
    type Output = anyhow::Result<RunSummary>;

    fn run<B: TunedAutodiff>(self, device: B::Device) -> anyhow::Result<RunSummary> {
        let started = Instant::now();
        let e = &self.experiment;
        e.validate()?;
        let members = e.resolve(&self.run_dir, &self.artifacts)?;
        let request = RunRequest {
            experiment: e.name.clone(),
            kind: RunKind::Ensemble,
            backend: self.backend.name().into(),
            optimizer_state: None,
            settings: serde_json::to_value(e)?,
        };
        let mut open = open_run(&self.run_dir, &request, self.mode)?;
        write_json(&self.run_dir.join(MARKER_FILE), &open.marker)?;
        let mut trained_now = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let label = format!(
                "{}: member {}/{} ({}, seed {})",
                e.name,
                i + 1,
                members.len(),
                m.config.name,
                m.config.train.seed
            );
            let now = train_if_needed::<B>(m, &label, self.backend, &self.data_dir, &device)?;
            trained_now.push(now);
        }

        let kind = e.dataset.kind();
        let (_, test) = Locator::new(kind, self.data_dir.clone()).load()?;
        let mut all_probs = Vec::new();
        let mut results = Vec::new();
        for (m, now) in members.iter().zip(trained_now) {
            let (_, net) = load_run::<B::InnerBackend>(&m.run_dir, &device)?;
            let probs = probabilities(&net, &test, kind, &device);
            anyhow::ensure!(
                probs.len() == test.len() * CLASSES,
                "{}: the model gave {} probabilities for {} test images, not {CLASSES} each",
                m.run_dir.display(),
                probs.len(),
                test.len()
            );
            let alone = soft_vote(std::slice::from_ref(&probs), test.labels(), CLASSES);
            let summary = read_summary(&m.run_dir)?;
            println!(
                "  {:<28} seed {:<4} test accuracy {:.2}%",
                m.config.name, m.config.train.seed, alone.accuracy
            );
            results.push(MemberResult {
                experiment: m.config.name.clone(),
                run_dir: m.run_dir.clone(),
                seed: m.config.train.seed,
                test_accuracy: alone.accuracy,
                epochs: summary.epochs,
                parameters: summary.parameters,
                trained_now: now,
            });
            all_probs.push(probs);
        }
        let vote = soft_vote(&all_probs, test.labels(), CLASSES);
        write_json(&self.run_dir.join("ensemble.json"), &results)?;
        let summary = RunSummary {
            name: e.name.clone(),
            dataset: kind.name().into(),
            backend: self.backend.name().into(),
            test_accuracy: vote.accuracy,
            test_loss: vote.loss,
            lecture_accuracy: e.lecture_accuracy,
            epochs: results.iter().map(|r| r.epochs).sum(),
            wall_seconds: started.elapsed().as_secs_f64(),
            seconds_per_epoch: 0.0,
            load_seconds: 0.0,
            parameters: results.iter().map(|r| r.parameters).sum(),
            git_revision: git_revision(),
            kept_epoch: None,
        };
        write_json(&self.run_dir.join("summary.json"), &summary)?;
        let picture = self.run_dir.join("confusion.png");
        if let Err(err) = confusion_matrix(
            &picture,
            &format!("{} on {} test", e.name, kind.name()),
            &kind.class_names(),
            test.labels(),
            &vote.predictions,
        ) {
            eprintln!("warning: {}: not drawn: {err}", picture.display());
        } else {
            record_pictures(&self.run_dir, &mut open.marker, &[picture])?;
        }
        println!(
            "{}: {} members vote: test accuracy {:.2}% (loss {:.4}); best member alone {:.2}%; artifacts in {}",
            e.name,
            results.len(),
            vote.accuracy,
            vote.loss,
            results
                .iter()
                .map(|r| r.test_accuracy)
                .fold(f64::MIN, f64::max),
            self.run_dir.display()
        );
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DatasetName, Member};

    #[test]
    fn the_soft_vote_can_overrule_the_majority() {
        // Image 0 (label 0): two members lean to 1, one is sure of 0; the
        // mean favours 0. Image 1 (label 1): all lean to 1.
        let a = vec![0.9, 0.1, 0.2, 0.8];
        let b = vec![0.4, 0.6, 0.4, 0.6];
        let c = vec![0.45, 0.55, 0.3, 0.7];
        let vote = soft_vote(&[a, b, c], &[0, 1], 2);
        assert_eq!(vote.predictions, [0, 1]);
        assert_eq!(vote.accuracy, 100.0);
        let expected = -((1.75f64 / 3.0).ln() + (2.1f64 / 3.0).ln()) / 2.0;
        assert!((vote.loss - expected).abs() < 1e-6, "{}", vote.loss);
        // One member alone is its own argmax.
        let alone = soft_vote(&[vec![0.4, 0.6, 0.4, 0.6]], &[0, 1], 2);
        assert_eq!((alone.predictions, alone.accuracy), (vec![1, 1], 50.0));
    }

    #[test]
    fn an_ensemble_needs_two_different_members() {
        let e = |members: Vec<Member>| EnsembleExperiment {
            name: "e".into(),
            description: String::new(),
            lecture_accuracy: None,
            dataset: DatasetName::Mnist,
            members,
        };
        let m = |seed| Member {
            experiment: "mnist-cnn".into(),
            seed,
        };
        let err = e(vec![m(None)]).validate().unwrap_err().to_string();
        assert!(err.contains("at least 2"), "{err}");
        let err = e(vec![m(Some(1)), m(Some(1))])
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("twice"), "{err}");
        assert!(e(vec![m(None), m(Some(1))]).validate().is_ok());
    }
}

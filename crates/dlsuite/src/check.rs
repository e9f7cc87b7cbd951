//! A comparison's checks: what a run must show against the other runs of
//! its comparison, measured from their folders once they have all run, and
//! the comparison's picture.

use std::path::{Path, PathBuf};

use dlsuite_plots::{function_panels, Curve, FunctionPanel};

use crate::config::{repeat_name, Claim, ClaimMetric, CurveMetric, Margin, RunConfig};
use crate::run_dir::{read_metrics, read_run_config, read_summary};

/// A figure over a run and its repeats: the mean and the range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub mean: f64,
    /// Largest minus smallest over the seeds (0 for one seed).
    pub range: f64,
    pub seeds: usize,
}

/// What came of one claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimOutcome {
    /// The claim in words: the report's "lecture" column.
    pub claim: String,
    /// The figures behind the verdict.
    pub measured: String,
    /// `None`: a run it needs has no result (yet).
    pub holds: Option<bool>,
}

/// One run's figure for `metric`, from its folder.
fn one(metric: ClaimMetric, dir: &Path) -> Result<f64, String> {
    let missing = || format!("{} has no result", dir.display());
    match metric {
        ClaimMetric::TestAccuracy => read_summary(dir)
            .map(|s| s.test_accuracy)
            .map_err(|_| missing()),
        _ => {
            // Only a finished run's history counts.
            read_summary(dir).map_err(|_| missing())?;
            let epochs = read_metrics(dir)
                .filter(|e| !e.is_empty())
                .ok_or_else(missing)?;
            Ok(match metric {
                ClaimMetric::FirstEpochTrainLoss => epochs[0].train_loss,
                ClaimMetric::FinalTrainAccuracy => epochs[epochs.len() - 1].train_accuracy,
                _ => {
                    let lowest = epochs
                        .iter()
                        .map(|e| e.valid_loss)
                        .fold(f64::INFINITY, f64::min);
                    epochs[epochs.len() - 1].valid_loss / lowest
                }
            })
        }
    }
}

/// The folders of a run and of the repeats its recorded config asks for;
/// a repeat trained with other settings than the run's is an error.
pub fn run_and_repeats(name: &str, artifacts: &Path) -> Result<Vec<PathBuf>, String> {
    let dir = artifacts.join(name);
    let config = read_run_config(&dir).map_err(|_| format!("{name} has no result"))?;
    let mut dirs = vec![dir];
    for &seed in &config.repeat_seeds {
        let copy = repeat_name(name, seed);
        let copy_dir = artifacts.join(&copy);
        let trained = read_run_config(&copy_dir).map_err(|_| format!("{copy} has no result"))?;
        let expected = config.repeat(seed);
        if (trained.dataset, &trained.model, &trained.train)
            != (expected.dataset, &expected.model, &expected.train)
        {
            return Err(format!(
                "{copy} was trained with other settings than {name}: reproduce it again"
            ));
        }
        dirs.push(copy_dir);
    }
    Ok(dirs)
}

/// `metric` over `name` and its repeats.
pub fn measure(metric: ClaimMetric, name: &str, artifacts: &Path) -> Result<Measured, String> {
    let values = run_and_repeats(name, artifacts)?
        .iter()
        .map(|d| one(metric, d))
        .collect::<Result<Vec<f64>, String>>()?;
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    Ok(Measured {
        mean: values.iter().sum::<f64>() / values.len() as f64,
        range: hi - lo,
        seeds: values.len(),
    })
}

/// What sets `name` apart from `of`: the words after their shared
/// dash-separated start ("relu" of "compare-activation-relu").
fn short<'a>(name: &'a str, of: &str) -> &'a str {
    let mut cut = 0;
    for ((i, a), b) in name.char_indices().zip(of.chars()) {
        if a != b {
            break;
        }
        if a == '-' {
            cut = i + 1;
        }
    }
    &name[cut..]
}

fn figure(metric: ClaimMetric, m: &Measured) -> String {
    let value = match metric {
        ClaimMetric::TestAccuracy | ClaimMetric::FinalTrainAccuracy => format!("{:.2}%", m.mean),
        ClaimMetric::FirstEpochTrainLoss => format!("{:.3}", m.mean),
        ClaimMetric::ValidLossRise => format!("{:.2}×", m.mean),
    };
    if m.seeds > 1 {
        format!("{value} (mean of {} seeds, range {:.2})", m.seeds, m.range)
    } else {
        value
    }
}

/// Checks `claim` of the run `name` against the results under `artifacts`.
pub fn check_claim(name: &str, claim: &Claim, artifacts: &Path) -> ClaimOutcome {
    let words = claim.metric.words();
    let margin = match claim.by {
        Margin::Nothing => String::new(),
        Margin::By(x) => format!(" by more than {x}"),
        Margin::Spread => " by more than the seeds' range".into(),
    };
    let (others, higher) = if claim.above.is_empty() {
        (&claim.below, false)
    } else {
        (&claim.above, true)
    };
    let text = match (claim.at_least, claim.at_most) {
        (Some(x), _) => format!("{words} at least {x}"),
        (_, Some(x)) => format!("{words} at most {x}"),
        _ => format!(
            "{words} {} {}'s{margin}",
            if higher { "above" } else { "below" },
            others
                .iter()
                .map(|o| short(o, name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let outcome = |measured: String, holds| ClaimOutcome {
        claim: text.clone(),
        measured,
        holds,
    };
    let ours = match measure(claim.metric, name, artifacts) {
        Ok(m) => m,
        Err(why) => return outcome(why, None),
    };
    let mine = format!("{words} {}", figure(claim.metric, &ours));
    if let Some(x) = claim.at_least {
        return outcome(mine, Some(ours.mean >= x));
    }
    if let Some(x) = claim.at_most {
        return outcome(mine, Some(ours.mean <= x));
    }
    let mut theirs = Vec::new();
    for other in others {
        match measure(claim.metric, other, artifacts) {
            Ok(m) => theirs.push((short(other, name), m)),
            Err(why) => return outcome(why, None),
        }
    }
    let needed = match claim.by {
        Margin::Nothing => 0.0,
        Margin::By(x) => x,
        Margin::Spread => theirs
            .iter()
            .map(|(_, m)| m.range)
            .fold(ours.range, f64::max),
    };
    let holds = theirs.iter().all(|(_, m)| {
        let gap = if higher {
            ours.mean - m.mean
        } else {
            m.mean - ours.mean
        };
        gap > needed
    });
    let listed: Vec<String> = theirs
        .iter()
        .map(|(n, m)| format!("{n} {}", figure(claim.metric, m)))
        .collect();
    let gap = if claim.by == Margin::Spread {
        format!("; margin needed {needed:.2}")
    } else {
        String::new()
    };
    outcome(format!("{mine}; {}{gap}", listed.join(", ")), Some(holds))
}

/// Draws `config`'s figure into its run folder from its own and the named
/// runs' histories; returns the file, or `None` if some have not run yet.
pub fn draw_figure(config: &RunConfig, artifacts: &Path) -> anyhow::Result<Option<PathBuf>> {
    let Some(spec) = &config.figure else {
        return Ok(None);
    };
    let mut curves = Vec::new();
    let mut mark = None;
    // This run last, drawn over the others: an early-stopped run follows
    // its plain twin until it stops.
    let label = |name: &str| {
        let other = spec
            .with
            .iter()
            .find(|w| *w != name)
            .unwrap_or(&config.name);
        short(
            name,
            if name == config.name {
                other
            } else {
                &config.name
            },
        )
        .to_string()
    };
    for name in spec.with.iter().chain(std::iter::once(&config.name)) {
        let dir = artifacts.join(name);
        let (Some(epochs), Ok(summary)) = (read_metrics(&dir), read_summary(&dir)) else {
            return Ok(None);
        };
        let value = |e: &dlsuite_train::EpochMetrics| match spec.metric {
            CurveMetric::ValidLoss => e.valid_loss,
            CurveMetric::TrainLoss => e.train_loss,
            CurveMetric::ValidAccuracy => e.valid_accuracy,
        } as f32;
        if let Some(kept) = summary.kept_epoch {
            if let Some(e) = epochs.iter().find(|e| e.epoch == kept) {
                let caption = format!("{} keeps epoch {kept}", label(name));
                mark = Some(((kept as f32, value(e)), caption));
            }
        }
        curves.push(Curve {
            label: label(name),
            points: epochs.iter().map(|e| (e.epoch as f32, value(e))).collect(),
        });
    }
    let path = artifacts.join(&config.name).join(spec.metric.file());
    function_panels(
        &path,
        &format!("{} per epoch", spec.metric.words()),
        &[FunctionPanel {
            title: format!("{} and the runs it is compared with", label(&config.name)),
            x_desc: "epoch".into(),
            y_desc: spec.metric.words().into(),
            curves,
            mark,
        }],
    )?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::write_json;
    use crate::run_dir::RunSummary;
    use dlsuite_train::EpochMetrics;

    fn config(name: &str, repeat_seeds: &[u64]) -> RunConfig {
        let mut c = RunConfig::parse(
            &format!(
                "name = \"{name}\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n\
                 [train]\nepochs = 2\nbatch_size = 10\nlr = 0.1\n"
            ),
            name,
        )
        .unwrap();
        c.repeat_seeds = repeat_seeds.to_vec();
        c
    }

    /// A finished run folder: its config, a summary with `accuracy` and a
    /// two-epoch history starting at `first_loss`.
    fn finished(artifacts: &Path, config: &RunConfig, accuracy: f64, first_loss: f64) {
        let dir = artifacts.join(&config.name);
        std::fs::create_dir_all(&dir).unwrap();
        write_json(&dir.join("config.json"), config).unwrap();
        let summary = RunSummary {
            name: config.name.clone(),
            dataset: "MNIST".into(),
            backend: "ndarray".into(),
            test_accuracy: accuracy,
            test_loss: 0.1,
            lecture_accuracy: None,
            epochs: 2,
            wall_seconds: 1.0,
            seconds_per_epoch: 0.5,
            load_seconds: 0.0,
            parameters: 7850,
            git_revision: "x".into(),
            kept_epoch: None,
        };
        write_json(&dir.join("summary.json"), &summary).unwrap();
        let lines: Vec<String> = [(1, first_loss, 0.5), (2, first_loss / 2.0, 0.6)]
            .iter()
            .map(|&(epoch, train_loss, valid_loss)| {
                serde_json::to_string(&EpochMetrics {
                    epoch,
                    train_loss,
                    train_accuracy: 90.0,
                    valid_loss,
                    valid_accuracy: 90.0,
                    lr: 0.1,
                    seconds: 0.5,
                })
                .unwrap()
            })
            .collect();
        std::fs::write(dir.join("metrics.jsonl"), lines.join("\n") + "\n").unwrap();
    }

    fn claim(text: &str) -> Claim {
        let c = RunConfig::parse(
            &format!(
                "name = \"a\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n\
                 [train]\nepochs = 2\nbatch_size = 10\nlr = 0.1\n[[check]]\n{text}\n"
            ),
            "a",
        )
        .unwrap();
        c.check[0].clone()
    }

    #[test]
    fn a_claim_holds_or_fails_on_the_measured_figures() {
        let tmp = tempfile::tempdir().unwrap();
        let artifacts = tmp.path();
        finished(artifacts, &config("cmp-a", &[]), 95.0, 0.4);
        finished(artifacts, &config("cmp-b", &[]), 97.5, 0.2);
        let check = |text: &str| check_claim("cmp-a", &claim(text), artifacts).holds;
        let below = "metric = \"test_accuracy\"\nbelow = [\"cmp-b\"]";
        assert_eq!(check(&format!("{below}\nby = 2.0")), Some(true));
        assert_eq!(
            check(&format!("{below}\nby = 3.0")),
            Some(false),
            "2.5 apart"
        );
        assert_eq!(
            check("metric = \"test_accuracy\"\nabove = [\"cmp-b\"]"),
            Some(false)
        );
        let slower = "metric = \"first_epoch_train_loss\"\nabove = [\"cmp-b\"]\nby = 0.1";
        assert_eq!(check(slower), Some(true));
        assert_eq!(check(&slower.replace("0.1", "0.25")), Some(false));
        assert_eq!(
            check("metric = \"valid_loss_rise\"\nat_least = 1.1"),
            Some(true)
        );
        assert_eq!(
            check("metric = \"valid_loss_rise\"\nat_least = 1.3"),
            Some(false)
        );
        assert_eq!(
            check("metric = \"final_train_accuracy\"\nat_most = 89.0"),
            Some(false)
        );
        let outcome = check_claim("cmp-a", &claim(below), artifacts);
        assert_eq!(outcome.claim, "test accuracy below b's");
        assert_eq!(outcome.measured, "test accuracy 95.00%; b 97.50%");
        // A run it needs that has not run: no verdict, and why.
        let missing = check_claim(
            "cmp-a",
            &claim("metric = \"test_accuracy\"\nbelow = [\"cmp-c\"]"),
            artifacts,
        );
        assert_eq!(missing.holds, None);
        assert!(
            missing.measured.contains("cmp-c has no result"),
            "{}",
            missing.measured
        );
    }

    #[test]
    fn a_figure_waits_for_every_run_it_shows() {
        let tmp = tempfile::tempdir().unwrap();
        let artifacts = tmp.path();
        let mut stopped = config("o-stopped", &[]);
        stopped.figure = Some(crate::config::FigureSpec {
            metric: CurveMetric::ValidLoss,
            with: vec!["o-plain".into()],
        });
        finished(artifacts, &stopped, 84.0, 1.0);
        assert_eq!(
            draw_figure(&stopped, artifacts).unwrap(),
            None,
            "o-plain has not run"
        );
        finished(artifacts, &config("o-plain", &[]), 80.0, 1.0);
        let path = draw_figure(&stopped, artifacts).unwrap().unwrap();
        assert_eq!(path, artifacts.join("o-stopped/validation-loss.png"));
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        assert_eq!(
            draw_figure(&config("o-plain", &[]), artifacts).unwrap(),
            None,
            "no figure asked"
        );
    }

    #[test]
    fn a_spread_margin_is_the_widest_range_over_the_seeds() {
        let tmp = tempfile::tempdir().unwrap();
        let artifacts = tmp.path();
        let plain = config("o-plain", &[1, 2]);
        finished(artifacts, &plain, 80.0, 1.0);
        finished(artifacts, &plain.repeat(1), 81.0, 1.0);
        finished(artifacts, &plain.repeat(2), 82.0, 1.0);
        let cure = config("o-cure", &[1, 2]);
        finished(artifacts, &cure, 84.0, 1.0);
        finished(artifacts, &cure.repeat(1), 84.5, 1.0);
        finished(artifacts, &cure.repeat(2), 85.0, 1.0);
        let above = claim("metric = \"test_accuracy\"\nabove = [\"o-plain\"]\nby = \"spread\"");
        let outcome = check_claim("o-cure", &above, artifacts);
        // Means 84.5 and 81, apart by 3.5; the plain run's range is 2.
        assert_eq!(outcome.holds, Some(true), "{}", outcome.measured);
        assert!(
            outcome.measured.contains("mean of 3 seeds, range 1.00"),
            "{}",
            outcome.measured
        );
        assert!(
            outcome.measured.ends_with("margin needed 2.00"),
            "{}",
            outcome.measured
        );
        // One noisy seed widens the range past the gap.
        finished(artifacts, &plain.repeat(2), 86.0, 1.0);
        assert_eq!(check_claim("o-cure", &above, artifacts).holds, Some(false));
        // A repeat trained otherwise is not counted as the same run.
        let mut stale = plain.repeat(2);
        stale.train.lr = 0.5;
        finished(artifacts, &stale, 81.0, 1.0);
        let outcome = check_claim("o-cure", &above, artifacts);
        assert_eq!(outcome.holds, None);
        assert!(
            outcome
                .measured
                .contains("o-plain-seed2 was trained with other settings"),
            "{}",
            outcome.measured
        );
    }

    #[test]
    fn a_name_is_shortened_to_what_sets_it_apart() {
        assert_eq!(
            short("compare-activation-relu", "compare-activation-sigmoid"),
            "relu"
        );
        assert_eq!(
            short("compare-overfit-plain", "compare-overfit-dropout"),
            "plain"
        );
        assert_eq!(short("mnist-cnn", "fashion-cnn"), "mnist-cnn");
        assert_eq!(short("mnist-cnn", "mnist-cnn-deep"), "cnn");
    }
}

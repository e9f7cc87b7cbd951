//! `artifacts/REPORT.md`: a row per experiment with a result, the lecture's
//! figure beside ours; and how long experiments should take before they run.

use std::path::{Path, PathBuf};

use dlsuite_cnn::Padding;
use dlsuite_lessons::LessonConfig;

use crate::artifacts::write_atomic;
use crate::autoencoder::{read_autoencoder_summary, AutoencoderExperiment};
use crate::backend::BackendChoice;
use crate::check::{check_claim, ClaimOutcome};
use crate::config::{ClaimMetric, EnsembleExperiment, ModelSpec, RunConfig, TrainSpec};
use crate::experiment::{Experiment, GROUPS};
use crate::gan::{headline, read_gan_summary, report_pictures_of, GanExperiment};
use crate::lesson::LessonSummary;
use crate::run_dir::read_summary;
use crate::sequence::{read_sequence_summary, Corpus, SequenceExperiment};
use dlsuite_autoencoder::Layout;
use dlsuite_gan::Layout as GanLayout;
use dlsuite_rnn::Cell;

/// Whether ours meets the lecture's figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Meets,
    Misses,
    /// The lecture printed no figure for this one.
    NoFigure,
}

impl Verdict {
    /// A run that checks itself against its bar: it meets it or misses it.
    fn of_check(as_lectured: bool) -> Self {
        if as_lectured {
            Verdict::Meets
        } else {
            Verdict::Misses
        }
    }
}

/// One report row, read back from a run's artifacts.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub group: String,
    pub name: String,
    pub description: String,
    pub lecture: String,
    pub ours: String,
    pub verdict: Verdict,
    pub epochs: Option<usize>,
    pub wall_seconds: f64,
    pub backend: String,
    pub parameters: Option<usize>,
    /// The PNG files in the run folder, by name.
    pub pictures: Vec<String>,
    /// What the trained net wrote, shown under its pictures.
    pub samples: Vec<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The row for `experiment`, if its run folder under `artifacts` holds a result.
pub fn row_for(experiment: &Experiment, artifacts: &Path) -> Option<Row> {
    let dir = artifacts.join(experiment.name());
    let base = |lecture: String, ours: String, verdict| Row {
        group: experiment.group().into(),
        name: experiment.name().into(),
        description: experiment.description().into(),
        lecture,
        ours,
        verdict,
        epochs: None,
        wall_seconds: 0.0,
        backend: String::new(),
        parameters: None,
        pictures: pictures_in(&dir),
        samples: Vec::new(),
    };
    match experiment {
        Experiment::Training(config) if !config.check.is_empty() => {
            let s = read_summary(&dir).ok()?;
            let outcomes: Vec<ClaimOutcome> = config
                .check
                .iter()
                .map(|c| check_claim(&config.name, c, artifacts))
                .collect();
            let verdict = if outcomes.iter().any(|o| o.holds == Some(false)) {
                Verdict::Misses
            } else if outcomes.iter().all(|o| o.holds == Some(true)) {
                Verdict::Meets
            } else {
                Verdict::NoFigure
            };
            let join = |part: fn(&ClaimOutcome) -> &str| {
                outcomes.iter().map(part).collect::<Vec<_>>().join("; and ")
            };
            let measured = join(|o| &o.measured);
            let ours = if config
                .check
                .iter()
                .any(|c| c.metric == ClaimMetric::TestAccuracy)
            {
                measured
            } else {
                format!("{:.2}%; {measured}", s.test_accuracy)
            };
            Some(Row {
                epochs: Some(s.epochs),
                wall_seconds: s.wall_seconds,
                backend: s.backend,
                parameters: Some(s.parameters),
                ..base(join(|o| &o.claim), ours, verdict)
            })
        }
        Experiment::Training(RunConfig {
            lecture_accuracy, ..
        })
        | Experiment::Ensemble(EnsembleExperiment {
            lecture_accuracy, ..
        }) => {
            let s = read_summary(&dir).ok()?;
            let (lecture, verdict) = match *lecture_accuracy {
                Some(l) if s.test_accuracy >= l => (format!("{l:.2}%"), Verdict::Meets),
                Some(l) => (format!("{l:.2}%"), Verdict::Misses),
                None => ("—".into(), Verdict::NoFigure),
            };
            Some(Row {
                epochs: Some(s.epochs),
                wall_seconds: s.wall_seconds,
                backend: s.backend,
                parameters: Some(s.parameters),
                ..base(lecture, format!("{:.2}%", s.test_accuracy), verdict)
            })
        }
        Experiment::Lesson(lesson) => {
            let s: LessonSummary = read_json(&dir.join("lesson.json"))?;
            let verdict = Verdict::of_check(s.as_lectured);
            Some(Row {
                wall_seconds: s.wall_seconds,
                backend: s.backend,
                ..base(lesson.lecture.clone(), s.headline, verdict)
            })
        }
        Experiment::Autoencoder(a) => {
            let s = read_autoencoder_summary(&dir).ok()?;
            let verdict = Verdict::of_check(s.as_lectured);
            Some(Row {
                epochs: Some(s.epochs),
                wall_seconds: s.wall_seconds,
                backend: s.backend,
                parameters: Some(s.parameters),
                ..base(
                    format!(
                        "{}: test MSE at most {}",
                        a.lecture, a.autoencoder.max_test_mse
                    ),
                    format!("test MSE {:.4}", s.test_mse),
                    verdict,
                )
            })
        }
        Experiment::Gan(g) => {
            let s = read_gan_summary(&dir).ok()?;
            let verdict = Verdict::of_check(s.as_lectured);
            let claim = if g.gan.conditional {
                format!(
                    "{}: at least {:.0}% of samples judged the digit asked for by {}",
                    g.lecture,
                    100.0 * g.bar(),
                    g.gan.judge
                )
            } else {
                format!(
                    "{}: {}'s mean confidence on samples at least {}",
                    g.lecture,
                    g.gan.judge,
                    g.bar()
                )
            };
            let ours = format!(
                "{}; {} of 10 digits drawn; judge {:.2}% on real test digits",
                headline(&s),
                s.digits_drawn(),
                s.judge_accuracy
            );
            let shown = report_pictures_of(&s);
            Some(Row {
                epochs: Some(s.epochs),
                wall_seconds: s.wall_seconds,
                backend: s.backend.clone(),
                parameters: Some(s.generator_parameters + s.discriminator_parameters),
                pictures: pictures_in(&dir)
                    .into_iter()
                    .filter(|p| shown.contains(p))
                    .collect(),
                ..base(claim, ours, verdict)
            })
        }
        Experiment::Sequence(e) => {
            let s = read_sequence_summary(&dir).ok()?;
            Some(Row {
                epochs: Some(s.epochs),
                wall_seconds: s.wall_seconds,
                backend: s.backend,
                parameters: Some(s.parameters),
                samples: s.samples,
                ..base(e.claim(), s.headline, Verdict::of_check(s.as_lectured))
            })
        }
    }
}

fn pictures_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str().map(String::from))
                .filter(|n| n.ends_with(".png") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The report as Markdown, a section per group.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "# Results against the lectures\n\n\
         Written by `dlsuite reproduce`: one row per experiment that has a result in this folder.\n\
         ✅ meets or beats the lecture's figure (for lessons and comparisons: shows what the \
         lecture shows), ❌ does not, · no figure to compare (or a run a check needs is missing).\n",
    );
    let total: f64 = rows.iter().map(|r| r.wall_seconds).sum();
    let misses = rows.iter().filter(|r| r.verdict == Verdict::Misses).count();
    out.push_str(&format!(
        "\n{} experiments, {} short of the lecture, {:.1} minutes of training in all.\n",
        rows.len(),
        misses,
        total / 60.0
    ));
    let groups = GROUPS
        .iter()
        .map(|g| g.to_string())
        .chain(rows.iter().map(|r| r.group.clone()));
    let mut seen = Vec::new();
    for group in groups {
        if seen.contains(&group) {
            continue;
        }
        seen.push(group.clone());
        let in_group: Vec<&Row> = rows.iter().filter(|r| r.group == group).collect();
        if in_group.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "\n## {}\n\n| experiment | what it shows | lecture | ours | | epochs | wall time | backend | parameters |\n|---|---|---|---|---|---|---|---|---|\n",
            section_title(&group)
        ));
        for r in &in_group {
            out.push_str(&format!(
                "| [{name}]({name}/) | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                cell(&r.description),
                cell(&r.lecture),
                cell(&r.ours),
                match r.verdict {
                    Verdict::Meets => "✅",
                    Verdict::Misses => "❌",
                    Verdict::NoFigure => "·",
                },
                r.epochs.map_or("—".into(), |e| e.to_string()),
                duration(r.wall_seconds),
                r.backend,
                r.parameters.map_or("—".into(), |p| p.to_string()),
                name = r.name,
            ));
        }
        let pictured: Vec<&&Row> = in_group
            .iter()
            .filter(|r| !r.pictures.is_empty() || !r.samples.is_empty())
            .collect();
        if !pictured.is_empty() {
            out.push_str("\n### Pictures\n");
            for r in pictured {
                out.push_str(&format!("\n**{}**\n\n", r.name));
                for p in &r.pictures {
                    out.push_str(&format!("![{name} {p}]({name}/{p})\n", name = r.name));
                }
                if !r.samples.is_empty() {
                    out.push_str(&format!("\n```text\n{}\n```\n", r.samples.join("\n")));
                }
            }
        }
    }
    out
}

fn section_title(group: &str) -> &str {
    match group {
        "lessons" => "Lessons",
        "mnist" => "The MNIST ladder",
        "compare" => "Comparisons on one MLP",
        "fashion" => "Fashion-MNIST",
        "generative" => "Generative models",
        "sequences" => "Sequence models",
        other => other,
    }
}

/// Table cells cannot hold a `|` or a line break.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `12.3 s`, `4 min 05 s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let s = seconds.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// Writes `artifacts/REPORT.md` from every experiment that has a result;
/// returns its path and the number of rows.
pub fn write_report(
    experiments: &[Experiment],
    artifacts: &Path,
) -> anyhow::Result<(PathBuf, usize)> {
    let rows: Vec<Row> = experiments
        .iter()
        .filter_map(|e| row_for(e, artifacts))
        .collect();
    let path = artifacts.join("REPORT.md");
    write_atomic(&path, render(&rows).as_bytes())?;
    Ok((path, rows.len()))
}

/// Multiply-adds ×2 of one forward pass over one image.
pub fn forward_flops(spec: &ModelSpec) -> f64 {
    let dense =
        |widths: &[usize]| -> f64 { widths.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum() };
    match spec {
        ModelSpec::Softmax => dense(&[784, 10]),
        ModelSpec::Mlp { hidden, .. } => {
            let widths: Vec<usize> = std::iter::once(784)
                .chain(hidden.iter().copied())
                .chain(std::iter::once(10))
                .collect();
            dense(&widths)
        }
        ModelSpec::Cnn { .. } => {
            let c = spec.cnn_config().expect("a CNN spec has a CNN config");
            let (mut side, mut channels, mut flops) = (c.side, 1usize, 0.0);
            for b in &c.blocks {
                let out = match b.padding {
                    Padding::Same => side,
                    Padding::Valid => side.saturating_sub(b.kernel - 1),
                };
                flops += 2.0 * (out * out * b.channels * channels * b.kernel * b.kernel) as f64;
                side = if b.pool { out / 2 } else { out };
                channels = b.channels;
            }
            let widths: Vec<usize> = std::iter::once(side * side * channels)
                .chain(c.dense.iter().copied())
                .chain(std::iter::once(c.classes))
                .collect();
            flops + dense(&widths)
        }
        // Each of 28 steps: four gates, each a map of the row and of the state.
        ModelSpec::Lstm { hidden } => {
            28.0 * 4.0 * 2.0 * ((28 + hidden) * hidden) as f64 + dense(&[*hidden, 10])
        }
    }
}

/// A rough figure for how long an experiment takes on the 2-core machine
/// this suite was measured on: throughput and per-step overhead fitted to
/// the suite's own runs (docs/report). `None` where there is no basis
/// (a GPU backend: it depends on the GPU). An ensemble counts only the members that
/// are neither trained already nor `scheduled` to run before it; a GAN its
/// judge likewise.
pub fn estimate_seconds(
    experiment: &Experiment,
    backend: BackendChoice,
    artifacts: &Path,
    scheduled: &[&str],
) -> Option<f64> {
    if let Experiment::Ensemble(e) = experiment {
        let members = e.resolve(&artifacts.join(&e.name), artifacts).ok()?;
        let mut total = 0.0;
        for m in members {
            let reused = m.is_trained()
                || (m.run_dir == artifacts.join(&m.config.name)
                    && scheduled.contains(&m.config.name.as_str()));
            if !reused {
                total +=
                    estimate_seconds(&Experiment::Training(m.config), backend, artifacts, &[])?;
            }
        }
        // Each member classifies the test set once more to vote.
        return Some(total + 15.0 * e.members.len() as f64);
    }
    if let Experiment::Gan(g) = experiment {
        // Its judge trains first when it has no run and none runs before it.
        let judge = g.resolve_judge(artifacts).ok()?;
        let own = from_history(experiment, backend, artifacts)
            .or_else(|| (!backend.is_gpu()).then(|| gan_seconds(g)))?;
        if judge.is_trained() || scheduled.contains(&judge.config.name.as_str()) {
            return Some(own);
        }
        let judge = Experiment::Training(judge.config);
        return Some(own + estimate_seconds(&judge, backend, artifacts, &[])?);
    }
    if let Experiment::Training(c) = experiment {
        if !c.repeat_seeds.is_empty() {
            // Its repeats train the same net on the same data.
            let mut once = c.repeat(c.train.seed);
            once.name = c.name.clone();
            let one = Experiment::Training(once);
            let each = estimate_seconds(&one, backend, artifacts, scheduled)?;
            return Some(each * (1 + c.repeat_seeds.len()) as f64);
        }
    }
    if let Some(seconds) = from_history(experiment, backend, artifacts) {
        return Some(seconds);
    }
    if backend.is_gpu() {
        return None;
    }
    match experiment {
        Experiment::Lesson(l) => Some(match &l.lesson {
            LessonConfig::VanishingGradient(c) => {
                // Seconds per layer per full-batch epoch, fitted to ndarray's runs.
                3.3e-4 * (c.epochs * 2 * c.depths.iter().sum::<usize>()) as f64
            }
            // Three timed runs, their evaluations, and loading MNIST.
            LessonConfig::BatchSizes(c) => 3.0 * c.seconds * 1.1 + 3.0,
            _ => 2.0,
        }),
        Experiment::Training(c) => Some(training_seconds(c, backend)),
        Experiment::Autoencoder(a) => Some(autoencoder_seconds(a)),
        Experiment::Sequence(s) => Some(sequence_seconds(s)),
        Experiment::Ensemble(_) | Experiment::Gan(_) => None,
    }
}

/// An earlier run of the same experiment on the same backend is the best
/// guide: its seconds per epoch times this run's epochs, plus its overhead.
fn from_history(experiment: &Experiment, backend: BackendChoice, artifacts: &Path) -> Option<f64> {
    // What ran: backend, wall seconds, seconds per epoch, epochs; and the epochs asked now.
    let (ran, wall, per_epoch, done, asked) = match experiment {
        Experiment::Training(c) => {
            let s = read_summary(&artifacts.join(&c.name)).ok()?;
            let (w, p, e) = (s.wall_seconds, s.seconds_per_epoch, s.epochs);
            (s.backend, w, p, e, c.train.epochs)
        }
        Experiment::Autoencoder(a) => {
            let s = read_autoencoder_summary(&artifacts.join(&a.name)).ok()?;
            let (w, p, e) = (s.wall_seconds, s.seconds_per_epoch, s.epochs);
            (s.backend, w, p, e, a.train.epochs)
        }
        Experiment::Gan(g) => {
            let s = read_gan_summary(&artifacts.join(&g.name)).ok()?;
            let (w, p, e) = (s.wall_seconds, s.seconds_per_epoch, s.epochs);
            (s.backend, w, p, e, g.train.epochs)
        }
        Experiment::Sequence(q) => {
            let s = read_sequence_summary(&artifacts.join(q.name())).ok()?;
            let (w, p, e) = (s.wall_seconds, s.seconds_per_epoch, s.epochs);
            (s.backend, w, p, e, q.train().epochs)
        }
        _ => return None,
    };
    if ran != backend.name() || done == 0 {
        return None;
    }
    let overhead = (wall - per_epoch * done as f64).max(0.0);
    Some(per_epoch * asked as f64 + overhead)
}

fn training_seconds(c: &RunConfig, backend: BackendChoice) -> f64 {
    let conv = matches!(c.model, ModelSpec::Cnn { .. });
    // Sustained FLOP/s of a training step, and fixed seconds per step,
    // fitted to the committed report's runs (docs/report) and the bench on
    // the 2-core machine the suite is measured on.
    let costs = match (backend, conv) {
        // An LSTM's 28 small steps a batch run far below the dense rate
        // (fitted to flex's rnn-mnist-rows run).
        _ if matches!(c.model, ModelSpec::Lstm { .. }) => (12e9, 3e-3),
        (BackendChoice::Ndarray, true) => (25e9, 3e-3),
        (BackendChoice::Ndarray, false) => (40e9, 3e-4),
        (_, true) => (47e9, 3e-3),
        (_, false) => (60e9, 3e-4),
    };
    fit_seconds(&c.train, forward_flops(&c.model), costs) + 1.0
}

/// Like `training_seconds`, for an autoencoder: its forward pass is the
/// encoder's and the decoder's; its pictures cost a little more.
fn autoencoder_seconds(a: &AutoencoderExperiment) -> f64 {
    let code = a.autoencoder.code;
    let dense =
        |widths: &[usize]| -> f64 { widths.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum() };
    // Rates fitted to flex's runs in docs/report: an autoencoder runs
    // through plain Burn layers, none of `crates/speed`'s host kernels, and
    // transposed convolutions are slow on the CPU.
    let (fwd, rate) = match a.autoencoder.layout {
        Layout::Dense => (2.0 * dense(&[784, 512, 128, code]), 15e9),
        // Two 3×3 stride-2 convolutions (1→16 onto 14², 16→32 onto 7²)
        // and the code's dense layer, each mirrored in the decoder.
        Layout::Conv => {
            let convs = 2.0 * (14 * 14 * 16 * 9 + 7 * 7 * 32 * 16 * 9) as f64;
            (2.0 * (convs + dense(&[1568, code])), 3.3e9)
        }
    };
    fit_seconds(&a.train, fwd, (rate, 3e-4)) + 3.0
}

/// Like `training_seconds`, for a recurrent net: every token of an epoch
/// goes through the cell's gates and the output layer, forward and back,
/// one step after another.
fn sequence_seconds(s: &SequenceExperiment) -> f64 {
    let t = s.train();
    let gates = |cell: Cell| if cell == Cell::Lstm { 4.0 } else { 1.0 };
    // Tokens per epoch, their flops each, sequences per epoch, and the
    // steps through time each batch unrolls.
    let (tokens, per_token, sequences, unrolled) = match s {
        SequenceExperiment::Language(l) => {
            let l = &l.language;
            let stream = match l.corpus {
                Corpus::Hello => 7.0,
                Corpus::Essay => 9400.0 * (1.0 - l.held_out),
                Corpus::Melodies => 16.0 * l.melodies as f64,
            };
            let sequences =
                ((stream - l.window as f64) / l.stride as f64).max(1.0) * l.repeat as f64;
            let (width, vocab) = ((l.embedding + l.hidden) as f64, 60.0);
            let flops = 2.0 * (gates(l.cell) * width * l.hidden as f64 + l.hidden as f64 * vocab);
            (
                sequences * l.window as f64,
                flops,
                sequences,
                l.window as f64,
            )
        }
        SequenceExperiment::Chat(c) => {
            let c = &c.chat;
            let width = (c.embedding + c.hidden) as f64;
            // Two LSTMs, attention and the output over some 400 characters.
            let flops = 2.0
                * (2.0 * 4.0 * width * c.hidden as f64
                    + 3.0 * c.hidden as f64 * c.hidden as f64
                    + c.hidden as f64 * 400.0);
            // A batch's longest question (some 60 characters) and answer
            // (80); a decoder step, with its attention, costs two.
            (290.0 * 50.0, flops, 290.0, 60.0 + 2.0 * 80.0)
        }
    };
    let steps = (sequences / t.batch_size as f64).ceil();
    // Fitted to flex's runs in docs/report (rnn-melodies, rnn-chars,
    // chat-seq2seq): small recurrent steps are bound by their fixed cost
    // per step through time, not by their flops.
    let per_epoch = 3.0 * tokens * per_token / 1.4e11 + steps * unrolled * 2.5e-3 + 0.1;
    t.epochs as f64 * per_epoch + 3.0
}

/// Like `training_seconds`, for a GAN: a step runs the generator forward
/// and back once and the discriminator three times (on real images, on
/// fakes, and on fakes again for the generator's gradient), over every
/// training image.
fn gan_seconds(g: &GanExperiment) -> f64 {
    let dense =
        |widths: &[usize]| -> f64 { widths.windows(2).map(|w| 2.0 * (w[0] * w[1]) as f64).sum() };
    let input = g.gan.latent + if g.gan.conditional { 10 } else { 0 };
    // Fitted to flex's runs in docs/report: the dense nets run as fast as
    // the dense autoencoders; the convolutional ones, with batch norm and
    // transposed convolutions at batch 64, at under half the conv
    // autoencoders' rate.
    let (generator, discriminator, rate) = match g.gan.layout {
        GanLayout::Dense => (
            dense(&[input, 256, 512, 784]),
            dense(&[784, 512, 256, 1]),
            15e9,
        ),
        GanLayout::Conv => {
            let convs = 2.0 * (14 * 14 * 16 * 9 + 7 * 7 * 32 * 16 * 9) as f64;
            (
                convs + dense(&[input, 1568]),
                convs + dense(&[1568, 1]),
                1.5e9,
            )
        }
    };
    let images = 60_000f64.min(g.train.limit.unwrap_or(usize::MAX) as f64);
    let steps = (images / g.train.batch_size as f64).ceil();
    let per_image = 3.0 * (generator + 3.0 * discriminator);
    let per_epoch = images * per_image / rate + steps * 6e-4 + 1.0;
    g.train.epochs as f64 * per_epoch + 5.0
}

/// Seconds to train `t`'s epochs of a net whose forward pass over one image
/// costs `fwd` FLOPs at `(FLOP/s, seconds per step)`, then to run it over
/// the 10 000 test images.
fn fit_seconds(t: &TrainSpec, fwd: f64, (rate, overhead): (f64, f64)) -> f64 {
    let images = (60_000 - t.validation).min(t.limit.unwrap_or(usize::MAX)) as f64;
    let steps = (images / t.batch_size as f64).ceil();
    let per_epoch = images * 3.0 * fwd / rate + steps * overhead + t.validation as f64 * fwd / rate;
    t.epochs as f64 * per_epoch + 10_000.0 * fwd / rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ensemble_estimate_counts_only_members_still_to_train() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("m.toml");
        let member_text = "name = \"m\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n[train]\nepochs = 3\nbatch_size = 100\nlr = 0.1\n";
        std::fs::write(&member, member_text).unwrap();
        let text = format!(
            "name = \"e\"\ndataset = \"mnist\"\n[[member]]\nexperiment = {m:?}\n[[member]]\nexperiment = {m:?}\nseed = 7\n",
            m = member.display().to_string()
        );
        let ensemble = Experiment::parse(&text, "e.toml").unwrap();
        let artifacts = dir.path().join("artifacts");
        let flex = BackendChoice::Flex;
        let alone = Experiment::parse(member_text, "m.toml").unwrap();
        let one_member = estimate_seconds(&alone, flex, &artifacts, &[]).unwrap();
        let both = estimate_seconds(&ensemble, flex, &artifacts, &[]).unwrap();
        // Its plain member runs earlier in the same reproduce: only the seeded copy is left.
        let seeded_only = estimate_seconds(&ensemble, flex, &artifacts, &["m"]).unwrap();
        assert!(one_member > 1.0, "{one_member}");
        assert!(
            (both - seeded_only - one_member).abs() < 1e-9,
            "{both} {seeded_only}"
        );
        assert!(seeded_only > one_member, "the seeded copy still counts");
    }

    #[test]
    fn a_gan_estimate_counts_its_judge_only_while_it_is_still_to_train() {
        let dir = tempfile::tempdir().unwrap();
        let judge = dir.path().join("j.toml");
        let judge_text = "name = \"j\"\ndataset = \"mnist\"\n[model]\nkind = \"softmax\"\n[train]\nepochs = 3\nbatch_size = 100\nlr = 0.1\n";
        std::fs::write(&judge, judge_text).unwrap();
        let text = format!(
            "name = \"g\"\nlecture = \"l\"\n[gan]\nlayout = \"dense\"\njudge = {:?}\nmin_confidence = 0.8\n[train]\nepochs = 2\nbatch_size = 64\nlr = 0.0002\n",
            judge.display().to_string()
        );
        let gan = Experiment::parse(&text, "g.toml").unwrap();
        let artifacts = dir.path().join("artifacts");
        let flex = BackendChoice::Flex;
        let alone = Experiment::parse(judge_text, "j.toml").unwrap();
        let judge_only = estimate_seconds(&alone, flex, &artifacts, &[]).unwrap();
        let with_judge = estimate_seconds(&gan, flex, &artifacts, &[]).unwrap();
        let judged_before = estimate_seconds(&gan, flex, &artifacts, &["j"]).unwrap();
        assert!(judged_before > 0.0);
        assert!(
            (with_judge - judged_before - judge_only).abs() < 1e-9,
            "{with_judge} {judged_before} {judge_only}"
        );
    }

    fn row(name: &str, group: &str, verdict: Verdict) -> Row {
        Row {
            group: group.into(),
            name: name.into(),
            description: "a | b".into(),
            lecture: "98.85%".into(),
            ours: "99.05%".into(),
            verdict,
            epochs: Some(4),
            wall_seconds: 605.0,
            backend: "flex".into(),
            parameters: Some(1_199_882),
            pictures: vec!["curves.png".into()],
            samples: Vec::new(),
        }
    }

    #[test]
    fn a_rows_samples_are_shown_as_text_under_its_pictures() {
        let mut r = row("chat-seq2seq", "sequences", Verdict::Meets);
        r.samples = vec![
            "> hello  →  hello !".into(),
            "> 안녕  →  안녕하세요 !".into(),
        ];
        let text = render(&[r]);
        assert!(text.contains("## Sequence models"), "{text}");
        assert!(
            text.contains("```text\n> hello  →  hello !\n> 안녕  →  안녕하세요 !\n```"),
            "{text}"
        );
    }

    #[test]
    fn report_has_a_section_per_group_and_a_row_per_result() {
        let text = render(&[
            row("mnist-cnn", "mnist", Verdict::Meets),
            row("xor", "lessons", Verdict::Misses),
        ]);
        let lessons = text.find("## Lessons").unwrap();
        let ladder = text.find("## The MNIST ladder").unwrap();
        assert!(lessons < ladder, "groups in report order");
        assert!(text.contains(
            "| [mnist-cnn](mnist-cnn/) | a \\| b | 98.85% | 99.05% | ✅ | 4 | 10 min 05 s | flex | 1199882 |"
        ));
        assert!(text.contains("2 experiments, 1 short of the lecture"));
        assert!(!text.contains("## Fashion-MNIST"), "no empty sections");
        assert!(text.contains("![mnist-cnn curves.png](mnist-cnn/curves.png)"));
    }

    #[test]
    fn flops_of_the_reference_cnn() {
        let spec = ModelSpec::cnn(crate::config::CnnPreset::Reference);
        // conv 1→32 3×3 on 26², conv 32→64 3×3 on 24², fc 9216→128→10.
        let expected =
            2.0 * (26 * 26 * 32 * 9 + 24 * 24 * 64 * 32 * 9 + 9216 * 128 + 128 * 10) as f64;
        assert_eq!(forward_flops(&spec), expected);
    }
}

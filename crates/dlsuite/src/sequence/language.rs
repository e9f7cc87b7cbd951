//! `[language]` experiments: a plain RNN or an LSTM learns to predict the
//! next token of one of the suite's corpora, then completes prompts and
//! writes on by itself.

use std::path::{Path, PathBuf};

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::module::Module;
use dlsuite_data::text::{
    melodies, melody_tokens, note_vocab, Vocab, Windows, ESSAY, HELLO, MELODY_END,
};
use dlsuite_plots::heat_table;
use dlsuite_rnn::{
    continue_tokens, next_probabilities, next_token_accuracy, predict_each, Cell, Decoding,
    LanguageModel, LanguageModelConfig, TokenBatcher,
};
use dlsuite_speed::TunedAutodiff;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{
    check_dropout, check_share, check_temperature, refuse_image_settings, sound, SequenceJob,
    SequenceSummary, Session,
};
use crate::artifacts::verdict_words;
use crate::backend::batching;
use crate::config::{check_name, invalid, ConfigError, TrainSpec};
use crate::evaluate::EVAL_BATCH;

/// Held-out melodies come from another seed than the training ones.
const HELD_OUT_MELODY_SEED: u64 = 0x0e1_0d1e;
/// Characters of held-out text drawn in `next.png`.
const SHOWN_STEPS: usize = 40;

/// Which of the suite's token streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corpus {
    /// "hihello", the course's first RNN lab.
    Hello,
    /// The essay on the course's ideas (`crates/data/corpus/essay.txt`).
    Essay,
    /// Seeded melodies: scales, arpeggios and three old tunes, as MIDI notes.
    Melodies,
}

impl Corpus {
    fn name(self) -> &'static str {
        match self {
            Corpus::Hello => "hello",
            Corpus::Essay => "essay",
            Corpus::Melodies => "melodies",
        }
    }

    /// What one token is, in the figures' words.
    fn unit(self) -> &'static str {
        match self {
            Corpus::Melodies => "note",
            _ => "character",
        }
    }

    fn vocab(self) -> Vocab {
        match self {
            Corpus::Hello => Vocab::of_chars([HELLO]),
            Corpus::Essay => Vocab::of_chars([ESSAY]),
            Corpus::Melodies => note_vocab(),
        }
    }

    /// A prompt as tokens: characters, or notes and end marks between spaces.
    fn encode(self, vocab: &Vocab, prompt: &str) -> Result<Vec<usize>, String> {
        match self {
            Corpus::Melodies => prompt
                .split_whitespace()
                .map(|t| {
                    vocab.id(t).ok_or_else(|| {
                        format!(
                            "{t:?} is not a note from {} to {} or the end mark {MELODY_END:?}",
                            dlsuite_data::text::LOWEST_NOTE,
                            dlsuite_data::text::HIGHEST_NOTE
                        )
                    })
                })
                .collect(),
            _ => vocab.encode_chars(prompt).map_err(|e| e.to_string()),
        }
    }

    fn decode(self, vocab: &Vocab, ids: &[usize]) -> String {
        match self {
            Corpus::Melodies => vocab.decode(ids, " "),
            _ => vocab.decode(ids, ""),
        }
    }
}

/// A language model's experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageExperiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the lecture shows, in words: the report's "lecture" column.
    pub lecture: String,
    pub language: LanguageSpec,
    pub train: TrainSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageSpec {
    pub corpus: Corpus,
    pub cell: Cell,
    #[serde(default = "default_embedding")]
    pub embedding: usize,
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// The share of embedded tokens and hidden states dropped while
    /// training.
    #[serde(default)]
    pub dropout: f64,
    /// Tokens read per training sequence.
    pub window: usize,
    /// Tokens between the starts of two training sequences.
    #[serde(default = "one")]
    pub stride: usize,
    /// Times each sequence is seen per epoch (a text shorter than a batch).
    #[serde(default = "one")]
    pub repeat: usize,
    /// The share of the text held out at its end and scored; 0 scores the
    /// training text itself (the hello lab has nothing to hold out).
    /// Melodies hold out a tenth as many melodies, drawn from another seed.
    #[serde(default)]
    pub held_out: f64,
    /// Melodies to train on.
    #[serde(default = "default_melodies")]
    pub melodies: usize,
    /// What the trained model is asked to continue (characters; for
    /// melodies, notes and end marks separated by spaces).
    #[serde(default)]
    pub prompts: Vec<String>,
    /// Tokens written after each prompt.
    #[serde(default = "default_generate")]
    pub generate: usize,
    /// Sampling temperature of the sampled continuations.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    /// The check: next-token accuracy on the held-out part at least this.
    pub min_accuracy: f64,
}

fn default_embedding() -> usize {
    32
}
fn default_hidden() -> usize {
    128
}
fn one() -> usize {
    1
}
fn default_melodies() -> usize {
    500
}
fn default_generate() -> usize {
    60
}
fn default_temperature() -> f32 {
    0.8
}

impl LanguageExperiment {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        self.train.validate()?;
        let l = &self.language;
        for (field, value, range) in [
            ("language.embedding", l.embedding, 1..=4096),
            ("language.hidden", l.hidden, 1..=4096),
            ("language.window", l.window, 1..=1024),
            ("language.stride", l.stride, 1..=1024),
            ("language.repeat", l.repeat, 1..=100_000),
            ("language.melodies", l.melodies, 10..=1_000_000),
            ("language.generate", l.generate, 1..=10_000),
        ] {
            if !range.contains(&value) {
                return invalid(
                    field,
                    value.to_string(),
                    &format!("must be {} to {}", range.start(), range.end()),
                );
            }
        }
        if !(l.held_out.is_finite() && (0.0..0.5).contains(&l.held_out)) {
            return invalid(
                "language.held_out",
                l.held_out.to_string(),
                "must be a share from 0 up to (not including) 0.5",
            );
        }
        if l.corpus == Corpus::Melodies && l.held_out > 0.0 {
            return invalid(
                "language.held_out",
                l.held_out.to_string(),
                "does not apply to melodies: a tenth as many are drawn from another seed and scored",
            );
        }
        check_dropout("language.dropout", l.dropout)?;
        check_temperature("language.temperature", l.temperature)?;
        check_share("language.min_accuracy", l.min_accuracy)?;
        let vocab = l.corpus.vocab();
        for prompt in &l.prompts {
            match l.corpus.encode(&vocab, prompt) {
                Ok(ids) if ids.is_empty() => {
                    return invalid("language.prompts", format!("{prompt:?}"), "is empty")
                }
                Ok(_) => {}
                Err(reason) => return invalid("language.prompts", format!("{prompt:?}"), &reason),
            }
        }
        refuse_image_settings(&self.train, "a language model")
    }

    pub fn model_config(&self) -> LanguageModelConfig {
        let l = &self.language;
        LanguageModelConfig::new(l.corpus.vocab().len(), l.cell)
            .with_embedding(l.embedding)
            .with_hidden(l.hidden)
            .with_dropout(l.dropout)
    }

    pub fn claim(&self) -> String {
        let l = &self.language;
        let scored = if l.held_out == 0.0 && l.corpus != Corpus::Melodies {
            "on the training text"
        } else {
            "held out"
        };
        format!(
            "{}: next-{} accuracy {scored} at least {:.0}%",
            self.lecture,
            l.corpus.unit(),
            100.0 * l.min_accuracy
        )
    }

    /// The training tokens and the scored ones.
    fn streams(&self, vocab: &Vocab) -> (Vec<usize>, Vec<usize>) {
        let l = &self.language;
        match l.corpus {
            Corpus::Melodies => {
                let train = melodies(l.melodies, self.train.seed);
                let held = melodies((l.melodies / 10).max(2), HELD_OUT_MELODY_SEED);
                (melody_tokens(&train, vocab), melody_tokens(&held, vocab))
            }
            corpus => {
                let text = if corpus == Corpus::Hello {
                    HELLO
                } else {
                    ESSAY
                };
                let all = vocab.encode_lossy(text);
                if l.held_out == 0.0 {
                    return (all.clone(), all);
                }
                let cut = all.len() - (all.len() as f64 * l.held_out).round() as usize;
                (all[..cut].to_vec(), all[cut..].to_vec())
            }
        }
    }
}

pub(super) fn train<B: TunedAutodiff>(
    job: &SequenceJob,
    e: &LanguageExperiment,
    device: B::Device,
) -> anyhow::Result<SequenceSummary> {
    let l = &e.language;
    let t = &e.train;
    let vocab = l.corpus.vocab();
    let (train_tokens, held_tokens) = e.streams(&vocab);
    let train_set = Windows::new(train_tokens.clone(), l.window, l.stride, l.repeat)?;
    let valid_window = l.window.min(held_tokens.len().saturating_sub(1)).max(1);
    let valid_set = Windows::new(held_tokens.clone(), valid_window, valid_window, 1)?;
    let session = Session::open(job)?;
    println!(
        "{}: {:?} language model over {} {}s ({} tokens, {} training sequences of {}; {}), backend {}",
        e.name,
        l.cell,
        vocab.len(),
        l.corpus.unit(),
        train_tokens.len(),
        train_set.len(),
        l.window,
        if l.held_out == 0.0 && l.corpus != Corpus::Melodies {
            "nothing held out: scored on the training text".to_string()
        } else {
            format!("{} held-out tokens", held_tokens.len())
        },
        job.backend.name()
    );
    B::seed(&device, t.seed);
    let model: LanguageModel<B> = e.model_config().init(&device);
    let parameters = model.num_params();
    let steps = train_set.len().div_ceil(t.batch_size);
    let train_loader = batching(
        DataLoaderBuilder::new(TokenBatcher)
            .batch_size(t.batch_size)
            .shuffle(t.seed),
        job.backend,
    )
    .set_device(device.clone())
    .build(train_set);
    let valid_loader = DataLoaderBuilder::new(TokenBatcher)
        .batch_size(EVAL_BATCH)
        .set_device(device.clone())
        .build(valid_set);
    let (model, epochs) =
        session.fit::<B, _>(job, model, &vocab, steps, train_loader, valid_loader)?;

    let accuracy = next_token_accuracy(&model, &held_tokens, l.window, EVAL_BATCH, &device);
    let mut counts = vec![0usize; vocab.len()];
    for &t in held_tokens.iter().skip(1) {
        counts[t] += 1;
    }
    let commonest = counts.iter().copied().max().unwrap_or(0) as f64
        / held_tokens.len().saturating_sub(1).max(1) as f64;
    let as_lectured = accuracy >= l.min_accuracy;
    let scored = match (l.corpus, l.held_out) {
        (Corpus::Melodies, _) => "held-out melodies",
        (_, 0.0) => "the training text, nothing held out",
        _ => "held-out text",
    };
    let headline = format!(
        "next-{unit} accuracy {:.1}% on {scored} (at least {:.0}%: {}); always guessing the commonest {unit} scores {:.1}%",
        100.0 * accuracy,
        100.0 * l.min_accuracy,
        verdict_words(as_lectured),
        100.0 * commonest,
        unit = l.corpus.unit(),
    );

    let mut rng = StdRng::seed_from_u64(t.seed);
    let mut samples = Vec::new();
    if l.corpus == Corpus::Hello {
        let inputs = &held_tokens[..held_tokens.len() - 1];
        let predicted = predict_each(&model, inputs, &device);
        samples.push(format!(
            "reads {:?}, predicts {:?} (the next character after each)",
            vocab.decode(inputs, ""),
            vocab.decode(&predicted, "")
        ));
    }
    let stop = (l.corpus == Corpus::Melodies)
        .then(|| vocab.id(MELODY_END))
        .flatten();
    let mut melody = Vec::new();
    for prompt in &l.prompts {
        let ids = l
            .corpus
            .encode(&vocab, prompt)
            .map_err(anyhow::Error::msg)?;
        let greedy = continue_tokens(
            &model,
            &ids,
            l.generate,
            stop,
            Decoding::Greedy,
            &mut rng,
            &device,
        );
        let sampled = continue_tokens(
            &model,
            &ids,
            l.generate,
            stop,
            Decoding::Sampled {
                temperature: l.temperature,
            },
            &mut rng,
            &device,
        );
        let show = |ids: &[usize]| l.corpus.decode(&vocab, ids).replace('\n', "⏎");
        samples.push(format!("{prompt:?} → greedy: {:?}", show(&greedy)));
        samples.push(format!(
            "{prompt:?} → sampled (temperature {}): {:?}",
            l.temperature,
            show(&sampled)
        ));
        if melody.is_empty() {
            melody = sampled;
        }
    }
    let summary = SequenceSummary {
        name: e.name.clone(),
        lecture: e.lecture.clone(),
        task: l.corpus.name().into(),
        model: format!(
            "{:?}: {}-value embedding, {}-value state, dropout {}, {} {}s",
            l.cell,
            l.embedding,
            l.hidden,
            l.dropout,
            vocab.len(),
            l.corpus.unit()
        ),
        figure: accuracy,
        figure_name: format!("next-{} accuracy on {scored}", l.corpus.unit()),
        bar: l.min_accuracy,
        as_lectured,
        headline,
        samples,
        epochs: 0,
        seconds_per_epoch: 0.0,
        wall_seconds: 0.0,
        parameters,
        backend: String::new(),
        git_revision: String::new(),
    };
    let pictures = match l.corpus {
        Corpus::Melodies => {
            let notes: Vec<u8> = melody
                .iter()
                .filter_map(|&id| vocab.token(id).parse().ok())
                .collect();
            sound::write_melody(&session.run_dir, &e.name, &notes)
        }
        _ => draw_next(
            &session.run_dir,
            &e.name,
            &model,
            &vocab,
            &held_tokens,
            &device,
        ),
    };
    session.finish(job, summary, &epochs, pictures)
}

/// The model's probability of each character coming next, at each step of
/// the start of the scored text.
fn draw_next<B: burn::prelude::Backend>(
    dir: &Path,
    name: &str,
    model: &LanguageModel<B>,
    vocab: &Vocab,
    tokens: &[usize],
    device: &B::Device,
) -> anyhow::Result<Vec<PathBuf>> {
    let shown = &tokens[..tokens.len().min(SHOWN_STEPS + 1)];
    let (inputs, truth) = (&shown[..shown.len() - 1], &shown[1..]);
    let probs = next_probabilities(model, inputs, device);
    let label = |id: usize| match vocab.token(id) {
        " " => "␣".to_string(),
        "\n" => "⏎".to_string(),
        t => t.to_string(),
    };
    // Only the characters that come next or get some belief: a row per
    // character of the whole vocabulary would be mostly white.
    let rows: Vec<usize> = (0..vocab.len())
        .filter(|&c| truth.contains(&c) || probs.iter().any(|p| p[c] > 0.2))
        .collect();
    let values: Vec<Vec<f32>> = rows
        .iter()
        .map(|&c| probs.iter().map(|p| p[c]).collect())
        .collect();
    let path = dir.join("next.png");
    heat_table(
        &path,
        &format!(
            "{name}: belief in each next character (rows) after reading each character (columns)"
        ),
        &rows.iter().map(|&c| label(c)).collect::<Vec<_>>(),
        &inputs.iter().map(|&c| label(c)).collect::<Vec<_>>(),
        &values,
    )?;
    Ok(vec![path])
}

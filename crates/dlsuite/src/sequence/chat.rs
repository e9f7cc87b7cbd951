//! `[chat]` experiments: a sequence-to-sequence chatbot with attention,
//! trained on the suite's dialogue corpus (`crates/data/corpus/chat.tsv`)
//! and scored on wordings of its questions it never saw; and the trained
//! bot loaded back for `dlsuite chat`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::prelude::*;
use dlsuite_data::text::{parse_pairs, split_held_out, Pair, Vocab, CHAT};
use dlsuite_plots::heat_table;
use dlsuite_rnn::{
    answer, answer_output, encode_pair, encode_question, Answer, ChatNet, ChatNetConfig, Decoding,
    PairBatcher,
};
use dlsuite_speed::TunedAutodiff;
use dlsuite_train::Recorder;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{
    check_dropout, check_share, check_temperature, read_vocab, refuse_image_settings, SequenceJob,
    SequenceSummary, Session, SUMMARY_FILE,
};
use crate::artifacts::verdict_words;
use crate::backend::batching;
use crate::config::{check_name, invalid, ConfigError, TrainSpec};
use crate::evaluate::EVAL_BATCH;

/// Held-out questions the bot got wrong, listed in the summary.
const MISSES_SHOWN: usize = 8;

/// A chatbot's experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatExperiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// What the lecture shows, in words: the report's "lecture" column.
    pub lecture: String,
    pub chat: ChatSpec,
    pub train: TrainSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSpec {
    #[serde(default = "default_embedding")]
    pub embedding: usize,
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// The share of embedded characters and attended states dropped while
    /// training.
    #[serde(default)]
    pub dropout: f64,
    /// The check: at least this share of held-out questions answered
    /// exactly as the corpus does.
    pub min_exact: f64,
    /// Questions put to the trained bot for the report's transcript.
    #[serde(default)]
    pub transcript: Vec<String>,
    /// Sampling temperature of the transcript's sampled answers.
    #[serde(default = "default_temperature")]
    pub temperature: f32,
}

fn default_embedding() -> usize {
    64
}
fn default_hidden() -> usize {
    256
}
fn default_temperature() -> f32 {
    0.8
}

impl ChatExperiment {
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_name(&self.name)?;
        self.train.validate()?;
        let c = &self.chat;
        for (field, value) in [("chat.embedding", c.embedding), ("chat.hidden", c.hidden)] {
            if !(1..=4096).contains(&value) {
                return invalid(field, value.to_string(), "must be 1 to 4096");
            }
        }
        check_dropout("chat.dropout", c.dropout)?;
        check_share("chat.min_exact", c.min_exact)?;
        check_temperature("chat.temperature", c.temperature)?;
        if let Some(q) = c.transcript.iter().find(|q| q.trim().is_empty()) {
            return invalid("chat.transcript", format!("{q:?}"), "a question is empty");
        }
        refuse_image_settings(&self.train, "a chatbot")
    }

    pub fn claim(&self) -> String {
        format!(
            "{}: at least {:.0}% of held-out questions answered exactly",
            self.lecture,
            100.0 * self.chat.min_exact
        )
    }

    /// The net as it starts training, over the corpus's vocabulary.
    pub fn untrained<B: Backend>(&self, device: &B::Device) -> anyhow::Result<ChatNet<B>> {
        let (_, _, vocab) = corpus()?;
        Ok(self.model_config(&vocab).init(device))
    }

    fn model_config(&self, vocab: &Vocab) -> ChatNetConfig {
        ChatNetConfig::new(vocab.len())
            .with_embedding(self.chat.embedding)
            .with_hidden(self.chat.hidden)
            .with_dropout(self.chat.dropout)
    }
}

/// The corpus's training and held-out pairs, and the vocabulary of the
/// training pairs (a character only held-out questions use reads as
/// `<unk>`, as a user's would).
fn corpus() -> anyhow::Result<(Vec<Pair>, Vec<Pair>, Vocab)> {
    let pairs = parse_pairs(CHAT, "crates/data/corpus/chat.tsv")?;
    let (train, held) = split_held_out(&pairs);
    let vocab = Vocab::with_specials(
        train
            .iter()
            .flat_map(|p| [p.question.as_str(), p.answer.as_str()]),
    );
    Ok((train, held, vocab))
}

pub(super) fn train<B: TunedAutodiff>(
    job: &SequenceJob,
    e: &ChatExperiment,
    device: B::Device,
) -> anyhow::Result<SequenceSummary> {
    let t = &e.train;
    let (train_pairs, held, vocab) = corpus()?;
    let session = Session::open(job)?;
    println!(
        "{}: sequence-to-sequence chatbot with attention over {} characters: {} training pairs, {} held-out questions (new wordings), backend {}",
        e.name,
        vocab.len(),
        train_pairs.len(),
        held.len(),
        job.backend.name()
    );
    B::seed(&device, t.seed);
    let model: ChatNet<B> = e.model_config(&vocab).init(&device);
    let parameters = model.num_params();
    let encode = |pairs: &[Pair]| {
        pairs
            .iter()
            .map(|p| encode_pair(&vocab, p))
            .collect::<Vec<_>>()
    };
    let steps = train_pairs.len().div_ceil(t.batch_size);
    let train_loader = batching(
        DataLoaderBuilder::new(PairBatcher)
            .batch_size(t.batch_size)
            .shuffle(t.seed),
        job.backend,
    )
    .set_device(device.clone())
    .build(InMemDataset::new(encode(&train_pairs)));
    let valid_loader = DataLoaderBuilder::new(PairBatcher)
        .batch_size(EVAL_BATCH)
        .set_device(device.clone())
        .build(InMemDataset::new(encode(&held)));
    let (model, epochs) =
        session.fit::<B, _>(job, model, &vocab, steps, train_loader, valid_loader)?;

    let mut rng = StdRng::seed_from_u64(t.seed);
    let exact = |pairs: &[Pair], rng: &mut StdRng| -> (f64, Vec<(Pair, Answer)>) {
        let questions: Vec<String> = pairs.iter().map(|p| p.question.clone()).collect();
        let said = answer(&model, &vocab, &questions, Decoding::Greedy, rng, &device);
        let right = pairs
            .iter()
            .zip(&said)
            .filter(|(p, a)| a.text == p.answer)
            .count();
        let wrong = pairs
            .iter()
            .zip(said)
            .filter(|(p, a)| a.text != p.answer)
            .map(|(p, a)| (p.clone(), a))
            .collect();
        (right as f64 / pairs.len().max(1) as f64, wrong)
    };
    let (held_exact, misses) = exact(&held, &mut rng);
    let (train_exact, _) = exact(&train_pairs, &mut rng);
    let batch = PairBatcher.batch(encode(&held), &device);
    let (_, token_accuracy) = answer_output(&model, batch).1.read();
    let as_lectured = held_exact >= e.chat.min_exact;
    let headline = format!(
        "{:.1}% of {} held-out questions answered exactly (at least {:.0}%: {}); held-out character accuracy {:.1}% (teacher-forced); {:.1}% of training questions answered exactly",
        100.0 * held_exact,
        held.len(),
        100.0 * e.chat.min_exact,
        verdict_words(as_lectured),
        100.0 * token_accuracy,
        100.0 * train_exact
    );

    let mut samples = Vec::new();
    for q in &e.chat.transcript {
        let question = vec![q.clone()];
        let greedy = answer(
            &model,
            &vocab,
            &question,
            Decoding::Greedy,
            &mut rng,
            &device,
        );
        let sampled = answer(
            &model,
            &vocab,
            &question,
            Decoding::Sampled {
                temperature: e.chat.temperature,
            },
            &mut rng,
            &device,
        );
        let text = |a: &[Answer]| a.first().map_or(String::new(), |a| a.text.clone());
        samples.push(format!(
            "> {q}  →  {}   (sampled: {})",
            text(&greedy),
            text(&sampled)
        ));
    }
    for (p, a) in misses.iter().take(MISSES_SHOWN) {
        samples.push(format!(
            "missed: {:?} → {:?} (the corpus: {:?})",
            p.question, a.text, p.answer
        ));
    }
    let summary = SequenceSummary {
        name: e.name.clone(),
        lecture: e.lecture.clone(),
        task: "chat".into(),
        model: format!(
            "encoder and decoder LSTMs with attention: {}-value embedding, {}-value state, dropout {}, {} characters",
            e.chat.embedding,
            e.chat.hidden,
            e.chat.dropout,
            vocab.len()
        ),
        figure: held_exact,
        figure_name: "held-out questions answered exactly".into(),
        bar: e.chat.min_exact,
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
    // The first English transcript question: the picture's font has no Hangul.
    let shown = e
        .chat
        .transcript
        .iter()
        .find(|q| q.is_ascii())
        .cloned()
        .or_else(|| held.first().map(|p| p.question.clone()));
    let pictures = match shown {
        Some(q) => draw_attention(&session.run_dir, &e.name, &model, &vocab, &q, &device),
        None => Ok(Vec::new()),
    };
    session.finish(job, summary, &epochs, pictures)
}

/// Which question characters the decoder looked at while writing each
/// answer character.
fn draw_attention<B: Backend>(
    dir: &Path,
    name: &str,
    model: &ChatNet<B>,
    vocab: &Vocab,
    question: &str,
    device: &B::Device,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut rng = StdRng::seed_from_u64(0);
    let said = answer(
        model,
        vocab,
        &[question.to_string()],
        Decoding::Greedy,
        &mut rng,
        device,
    );
    let Some(a) = said.into_iter().next().filter(|a| !a.ids.is_empty()) else {
        return Ok(Vec::new());
    };
    let label = |t: &str| {
        if t == " " {
            "␣".to_string()
        } else {
            t.to_string()
        }
    };
    let read = encode_question(vocab, question);
    let path = dir.join("attention.png");
    heat_table(
        &path,
        &format!("{name}: attention while answering {question:?} (rows: what it wrote; columns: what it read)"),
        &a.ids.iter().map(|&id| label(vocab.token(id))).collect::<Vec<_>>(),
        &read.iter().map(|&id| label(vocab.token(id))).collect::<Vec<_>>(),
        &a.attention,
    )?;
    Ok(vec![path])
}

/// A trained chatbot loaded from its run folder.
pub struct Chatbot<B: Backend> {
    pub model: ChatNet<B>,
    pub vocab: Vocab,
    pub experiment: ChatExperiment,
}

impl<B: Backend> Chatbot<B> {
    pub fn reply(
        &self,
        question: &str,
        decoding: Decoding,
        rng: &mut StdRng,
        device: &B::Device,
    ) -> String {
        answer(
            &self.model,
            &self.vocab,
            &[question.to_string()],
            decoding,
            rng,
            device,
        )
        .pop()
        .map_or(String::new(), |a| a.text)
    }
}

/// Loads the chatbot a finished `[chat]` run trained; any other run folder
/// is refused, saying what it holds.
pub fn load_chatbot<B: Backend>(dir: &Path, device: &B::Device) -> anyhow::Result<Chatbot<B>> {
    let config_path = dir.join("config.json");
    let text = std::fs::read_to_string(&config_path).with_context(|| {
        format!(
            "{}: not a run folder (no readable config.json); train one with `dlsuite train chat-seq2seq`",
            dir.display()
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", config_path.display()))?;
    if value.get("chat").is_none() {
        let what = [
            "language",
            "gan",
            "autoencoder",
            "lesson",
            "member",
            "model",
        ]
        .iter()
        .find(|k| value.get(**k).is_some())
        .map_or("not a chatbot's", |k| match *k {
            "language" => "a language model's",
            "gan" => "a GAN's",
            "autoencoder" => "an autoencoder's",
            "lesson" => "a lesson's",
            "member" => "an ensemble's",
            _ => "a classifier's",
        });
        anyhow::bail!(
            "{}: {what} run, not a chatbot's: `dlsuite chat` talks to a run of a [chat] experiment (e.g. `dlsuite train chat-seq2seq`)",
            dir.display()
        );
    }
    let experiment: ChatExperiment = serde_json::from_value(value)
        .with_context(|| format!("{}: not a chatbot's settings", config_path.display()))?;
    anyhow::ensure!(
        dir.join(SUMMARY_FILE).is_file(),
        "{}: the chatbot's training did not finish (no {SUMMARY_FILE}); train it again with --overwrite",
        dir.display()
    );
    let vocab = read_vocab(dir)?;
    let model = experiment
        .model_config(&vocab)
        .init::<B>(device)
        .load_file(dir.join("model"), &Recorder::new(), device)
        .with_context(|| format!("{}: cannot load model.mpk", dir.display()))?;
    Ok(Chatbot {
        model,
        vocab,
        experiment,
    })
}

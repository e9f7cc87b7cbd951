use burn::prelude::*;
use burn::tensor::activation::softmax;
use dlsuite_data::text::{Vocab, BOS, EOS};
use rand::rngs::StdRng;
use rand::Rng;

use crate::chat::ChatNet;
use crate::data::{encode_question, question_tensors, MAX_ANSWER};
use crate::language::{Carry, LanguageModel};

/// How the next token is chosen from the model's scores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decoding {
    /// The most likely token every time: the same answer every time.
    Greedy,
    /// Drawn from the softmax of the scores divided by `temperature`: below
    /// 1 sharper, above 1 flatter.
    Sampled { temperature: f32 },
}

impl Decoding {
    /// Chooses from each row of `logits` `[rows, vocab]`.
    fn choose<B: Backend>(self, logits: Tensor<B, 2>, rng: &mut StdRng) -> Vec<usize> {
        let [rows, vocab] = logits.dims();
        let scale = match self {
            Decoding::Greedy => 1.0,
            Decoding::Sampled { temperature } => 1.0 / temperature.max(1e-3),
        };
        let probs = softmax(logits.mul_scalar(scale), 1)
            .into_data()
            .to_vec::<f32>()
            .unwrap_or_default();
        (0..rows)
            .map(|r| {
                let p = probs.get(r * vocab..(r + 1) * vocab).unwrap_or(&[]);
                match self {
                    Decoding::Greedy => argmax(p),
                    Decoding::Sampled { .. } => {
                        let mut left = rng.random::<f32>() * p.iter().sum::<f32>();
                        p.iter()
                            .position(|&q| {
                                left -= q;
                                left <= 0.0
                            })
                            .unwrap_or_else(|| argmax(p))
                    }
                }
            })
            .collect()
    }
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

fn row<B: Backend>(tokens: &[usize], device: &B::Device) -> Tensor<B, 2, Int> {
    let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
    Tensor::from_data(TensorData::new(ids, [1, tokens.len()]), device)
}

/// Reads `prompt` (at least one token) and writes up to `count` tokens
/// after it, one a step, stopping early after `stop` if given.
pub fn continue_tokens<B: Backend>(
    model: &LanguageModel<B>,
    prompt: &[usize],
    count: usize,
    stop: Option<usize>,
    decoding: Decoding,
    rng: &mut StdRng,
    device: &B::Device,
) -> Vec<usize> {
    let Some(_) = prompt.first() else {
        return Vec::new();
    };
    let (logits, mut carry) = model.forward(row(prompt, device), None::<Carry<B>>);
    let steps = prompt.len();
    let [_, _, vocab] = logits.dims();
    let mut last = logits.slice([0..1, steps - 1..steps]).reshape([1, vocab]);
    let mut written = Vec::with_capacity(count);
    for _ in 0..count {
        let next = decoding.choose(last, rng)[0];
        written.push(next);
        if Some(next) == stop {
            break;
        }
        let (logits, after) = model.forward(row(&[next], device), Some(carry));
        carry = after;
        last = logits.reshape([1, vocab]);
    }
    written
}

/// The model's probabilities for the token after each position of
/// `tokens`, read as one sequence from a zero state: `[steps][vocab]`.
pub fn next_probabilities<B: Backend>(
    model: &LanguageModel<B>,
    tokens: &[usize],
    device: &B::Device,
) -> Vec<Vec<f32>> {
    if tokens.is_empty() {
        return Vec::new();
    }
    let (logits, _) = model.forward(row(tokens, device), None);
    let [_, steps, vocab] = logits.dims();
    let probs = softmax(logits.reshape([steps, vocab]), 1)
        .into_data()
        .to_vec::<f32>()
        .unwrap_or_default();
    probs.chunks(vocab).map(<[f32]>::to_vec).collect()
}

/// The model's most likely next token after each position of `tokens`.
pub fn predict_each<B: Backend>(
    model: &LanguageModel<B>,
    tokens: &[usize],
    device: &B::Device,
) -> Vec<usize> {
    next_probabilities(model, tokens, device)
        .iter()
        .map(|p| argmax(p))
        .collect()
}

/// The share of tokens after the first in `tokens` that the model guesses
/// from those before, reading windows of `window` (as it trained) from a
/// zero state, `batch` windows at a time.
pub fn next_token_accuracy<B: Backend>(
    model: &LanguageModel<B>,
    tokens: &[usize],
    window: usize,
    batch: usize,
    device: &B::Device,
) -> f64 {
    let window = window.max(1);
    let scored = tokens.len().saturating_sub(1);
    // Whole windows in batches; the tokens after the last whole one, if
    // any, as one shorter window.
    let whole: Vec<usize> = (0..scored / window).map(|k| k * window).collect();
    let mut groups: Vec<(&[usize], usize)> =
        whole.chunks(batch.max(1)).map(|c| (c, window)).collect();
    let tail = [scored / window * window];
    if !scored.is_multiple_of(window) {
        groups.push((&tail, scored % window));
    }
    let (mut right, mut total) = (0usize, 0usize);
    for (group, width) in groups {
        let inputs: Vec<i64> = group
            .iter()
            .flat_map(|&s| tokens[s..s + width].iter().map(|&t| t as i64))
            .collect();
        let input = Tensor::from_data(TensorData::new(inputs, [group.len(), width]), device);
        let (logits, _) = model.forward(input, None);
        let guesses: Vec<i64> = logits.argmax(2).into_data().iter::<i64>().collect();
        for (k, &s) in group.iter().enumerate() {
            for t in 0..width {
                right += usize::from(guesses[k * width + t] as usize == tokens[s + t + 1]);
                total += 1;
            }
        }
    }
    right as f64 / total.max(1) as f64
}

/// One answer the chatbot wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub text: String,
    /// Its characters' classes, without the end mark.
    pub ids: Vec<usize>,
    /// For each character written, the attention it gave to each position
    /// of the question (padding left out): `[answer steps][question steps]`.
    pub attention: Vec<Vec<f32>>,
}

/// Answers each question, a character a step until the end mark (or
/// [`MAX_ANSWER`]), all questions in one batch.
pub fn answer<B: Backend>(
    model: &ChatNet<B>,
    vocab: &Vocab,
    questions: &[String],
    decoding: Decoding,
    rng: &mut StdRng,
    device: &B::Device,
) -> Vec<Answer> {
    let encoded_questions: Vec<Vec<usize>> = questions
        .iter()
        .map(|q| encode_question(vocab, q))
        .collect();
    let n = questions.len();
    if n == 0 {
        return Vec::new();
    }
    let (ids, padding) = question_tensors::<B>(&encoded_questions, device);
    let encoded = model.encode(ids, padding);
    let steps = encoded.states.dims()[1];
    let mut state = encoded.start();
    let mut previous = vec![BOS; n];
    let mut written: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut attention: Vec<Vec<Vec<f32>>> = vec![Vec::new(); n];
    let mut done = vec![false; n];
    for _ in 0..MAX_ANSWER {
        let tokens: Vec<i64> = previous.iter().map(|&t| t as i64).collect();
        let input = Tensor::from_data(TensorData::new(tokens, [n, 1]), device);
        let (logits, after, weights) = model.decode(&encoded, input, state);
        state = after;
        let vocab_size = logits.dims()[2];
        let next = decoding.choose(logits.reshape([n, vocab_size]), rng);
        let weights = weights.into_data().to_vec::<f32>().unwrap_or_default();
        for r in 0..n {
            if done[r] {
                continue;
            }
            if next[r] == EOS {
                done[r] = true;
                continue;
            }
            written[r].push(next[r]);
            let shown = steps - encoded_questions[r].len();
            attention[r].push(
                weights
                    .get(r * steps + shown..(r + 1) * steps)
                    .unwrap_or(&[])
                    .to_vec(),
            );
        }
        previous = next;
        if done.iter().all(|&d| d) {
            break;
        }
    }
    written
        .into_iter()
        .zip(attention)
        .map(|(ids, attention)| Answer {
            text: vocab.decode(&ids, ""),
            ids,
            attention,
        })
        .collect()
}

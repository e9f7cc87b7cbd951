use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use dlsuite_data::text::{Pair, Vocab, BOS, EOS, PAD};

/// The longest question read, in characters: a longer one keeps its start.
pub const MAX_QUESTION: usize = 80;
/// The longest answer trained on or written, end mark included.
pub const MAX_ANSWER: usize = 80;

/// Windows of a token stream: the first `window` tokens of each are read,
/// and each one's successor is the target.
#[derive(Clone, Debug)]
pub struct TokenBatch<B: Backend> {
    /// `[batch, window]`.
    pub inputs: Tensor<B, 2, Int>,
    /// `[batch · window]`: the next token after each input, row by row.
    pub targets: Tensor<B, 1, Int>,
}

/// Builds [`TokenBatch`]es from windows of `window + 1` tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenBatcher;

impl<B: Backend> Batcher<B, Vec<usize>, TokenBatch<B>> for TokenBatcher {
    fn batch(&self, windows: Vec<Vec<usize>>, device: &B::Device) -> TokenBatch<B> {
        let width = windows.iter().map(|w| w.len()).min().unwrap_or(1).max(1) - 1;
        let mut inputs = Vec::with_capacity(windows.len() * width);
        let mut targets = Vec::with_capacity(windows.len() * width);
        for w in &windows {
            inputs.extend(w[..width].iter().map(|&t| t as i64));
            targets.extend(w[1..=width].iter().map(|&t| t as i64));
        }
        let n = windows.len();
        TokenBatch {
            inputs: Tensor::from_data(TensorData::new(inputs, [n, width]), device),
            targets: Tensor::from_data(TensorData::new(targets, [n * width]), device),
        }
    }
}

/// A question and its answer as character classes.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodedPair {
    pub question: Vec<usize>,
    pub answer: Vec<usize>,
}

/// `pair` in `vocab`'s classes, each side cut to its longest.
pub fn encode_pair(vocab: &Vocab, pair: &Pair) -> EncodedPair {
    EncodedPair {
        question: encode_question(vocab, &pair.question),
        answer: vocab
            .encode_lossy(&pair.answer)
            .into_iter()
            .take(MAX_ANSWER - 1)
            .collect(),
    }
}

/// A question as the encoder reads it: lower case, single spaces, unknown
/// characters as `<unk>`, at most [`MAX_QUESTION`] characters.
pub fn encode_question(vocab: &Vocab, question: &str) -> Vec<usize> {
    let normal = dlsuite_data::text::normalise_question(question);
    let mut ids = vocab.encode_lossy(&normal);
    ids.truncate(MAX_QUESTION);
    ids
}

/// Questions padded at the front, and answers for teacher forcing.
#[derive(Clone, Debug)]
pub struct PairBatch<B: Backend> {
    /// `[batch, longest question]`, padded at the front.
    pub questions: Tensor<B, 2, Int>,
    /// `[batch, longest question]`: true at padding.
    pub padding: Tensor<B, 2, Bool>,
    /// `[batch, longest answer + 1]`: BOS then the answer, padded at the end.
    pub answer_so_far: Tensor<B, 2, Int>,
    /// The characters to predict, answer then EOS, row after row, padding
    /// left out: `[n]`.
    pub targets: Tensor<B, 1, Int>,
    /// Where each target sits among the `batch · (longest answer + 1)`
    /// decoder steps: `[n]`.
    pub positions: Tensor<B, 1, Int>,
}

/// Questions `[n, steps]` padded at the front, and their padding mask.
pub fn question_tensors<B: Backend>(
    questions: &[Vec<usize>],
    device: &B::Device,
) -> (Tensor<B, 2, Int>, Tensor<B, 2, Bool>) {
    let n = questions.len();
    let steps = questions.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut ids = Vec::with_capacity(n * steps);
    let mut pad = Vec::with_capacity(n * steps);
    for q in questions {
        let gap = steps - q.len();
        ids.extend(std::iter::repeat_n(PAD as i64, gap));
        ids.extend(q.iter().map(|&t| t as i64));
        pad.extend(std::iter::repeat_n(true, gap));
        pad.extend(std::iter::repeat_n(false, q.len()));
    }
    (
        Tensor::from_data(TensorData::new(ids, [n, steps]), device),
        Tensor::from_data(TensorData::new(pad, [n, steps]), device),
    )
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PairBatcher;

impl<B: Backend> Batcher<B, EncodedPair, PairBatch<B>> for PairBatcher {
    fn batch(&self, pairs: Vec<EncodedPair>, device: &B::Device) -> PairBatch<B> {
        let questions: Vec<Vec<usize>> = pairs.iter().map(|p| p.question.clone()).collect();
        let (questions, padding) = question_tensors(&questions, device);
        let n = pairs.len();
        let steps = pairs.iter().map(|p| p.answer.len() + 1).max().unwrap_or(1);
        let mut so_far = Vec::with_capacity(n * steps);
        let (mut targets, mut positions) = (Vec::new(), Vec::new());
        for (row, p) in pairs.iter().enumerate() {
            so_far.push(BOS as i64);
            so_far.extend(p.answer.iter().map(|&t| t as i64));
            so_far.extend(std::iter::repeat_n(PAD as i64, steps - 1 - p.answer.len()));
            for (t, &target) in p.answer.iter().chain(std::iter::once(&EOS)).enumerate() {
                targets.push(target as i64);
                positions.push((row * steps + t) as i64);
            }
        }
        let m = targets.len();
        PairBatch {
            questions,
            padding,
            answer_so_far: Tensor::from_data(TensorData::new(so_far, [n, steps]), device),
            targets: Tensor::from_data(TensorData::new(targets, [m]), device),
            positions: Tensor::from_data(TensorData::new(positions, [m]), device),
        }
    }
}

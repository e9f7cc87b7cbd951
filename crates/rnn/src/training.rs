use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::train::{InferenceStep, TrainOutput, TrainStep};
use dlsuite_train::{classification, Figures};

use crate::chat::ChatNet;
use crate::data::{PairBatch, TokenBatch};
use crate::language::LanguageModel;

/// The next-token loss at every step of every window, and the figures
/// reported (the accuracy counts the tokens guessed right).
pub fn next_token_output<B: Backend>(
    model: &LanguageModel<B>,
    batch: TokenBatch<B>,
) -> (Tensor<B, 1>, Figures<B>) {
    let (logits, _) = model.forward(batch.inputs, None);
    let [n, steps, vocab] = logits.dims();
    classification(logits.reshape([n * steps, vocab]), batch.targets)
}

/// The loss on each answer character and its end mark, given the true
/// characters before it (teacher forcing); padding is left out of the loss
/// and the accuracy alike.
pub fn answer_output<B: Backend>(
    model: &ChatNet<B>,
    batch: PairBatch<B>,
) -> (Tensor<B, 1>, Figures<B>) {
    let logits = model.forward(batch.questions, batch.padding, batch.answer_so_far);
    let [n, steps, vocab] = logits.dims();
    let at_targets = logits
        .reshape([n * steps, vocab])
        .select(0, batch.positions);
    classification(at_targets, batch.targets)
}

impl<B: AutodiffBackend> TrainStep for LanguageModel<B> {
    type Input = TokenBatch<B>;
    type Output = Figures<B>;

    fn step(&self, batch: TokenBatch<B>) -> TrainOutput<Figures<B>> {
        let (loss, figures) = next_token_output(self, batch);
        TrainOutput::new(self, loss.backward(), figures)
    }
}

impl<B: Backend> InferenceStep for LanguageModel<B> {
    type Input = TokenBatch<B>;
    type Output = Figures<B>;

    fn step(&self, batch: TokenBatch<B>) -> Figures<B> {
        next_token_output(self, batch).1
    }
}

impl<B: AutodiffBackend> TrainStep for ChatNet<B> {
    type Input = PairBatch<B>;
    type Output = Figures<B>;

    fn step(&self, batch: PairBatch<B>) -> TrainOutput<Figures<B>> {
        let (loss, figures) = answer_output(self, batch);
        TrainOutput::new(self, loss.backward(), figures)
    }
}

impl<B: Backend> InferenceStep for ChatNet<B> {
    type Input = PairBatch<B>;
    type Output = Figures<B>;

    fn step(&self, batch: PairBatch<B>) -> Figures<B> {
        answer_output(self, batch).1
    }
}

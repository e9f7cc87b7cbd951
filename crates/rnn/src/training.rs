use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use dlsuite_train::classification_output;

use crate::chat::ChatNet;
use crate::data::{PairBatch, TokenBatch};
use crate::language::LanguageModel;

/// The next-token loss at every step of every window; the accuracy metric
/// counts the tokens guessed right.
pub fn next_token_output<B: Backend>(
    model: &LanguageModel<B>,
    batch: TokenBatch<B>,
) -> ClassificationOutput<B> {
    let (logits, _) = model.forward(batch.inputs, None);
    let [n, steps, vocab] = logits.dims();
    classification_output(logits.reshape([n * steps, vocab]), batch.targets)
}

/// The loss on each answer character and its end mark, given the true
/// characters before it (teacher forcing); padding is left out of the loss
/// and the accuracy alike.
pub fn answer_output<B: Backend>(
    model: &ChatNet<B>,
    batch: PairBatch<B>,
) -> ClassificationOutput<B> {
    let logits = model.forward(batch.questions, batch.padding, batch.answer_so_far);
    let [n, steps, vocab] = logits.dims();
    let at_targets = logits
        .reshape([n * steps, vocab])
        .select(0, batch.positions);
    classification_output(at_targets, batch.targets)
}

impl<B: AutodiffBackend> TrainStep for LanguageModel<B> {
    type Input = TokenBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: TokenBatch<B>) -> TrainOutput<ClassificationOutput<B>> {
        let output = next_token_output(self, batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl<B: Backend> InferenceStep for LanguageModel<B> {
    type Input = TokenBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: TokenBatch<B>) -> ClassificationOutput<B> {
        next_token_output(self, batch)
    }
}

impl<B: AutodiffBackend> TrainStep for ChatNet<B> {
    type Input = PairBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: PairBatch<B>) -> TrainOutput<ClassificationOutput<B>> {
        let output = answer_output(self, batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl<B: Backend> InferenceStep for ChatNet<B> {
    type Input = PairBatch<B>;
    type Output = ClassificationOutput<B>;

    fn step(&self, batch: PairBatch<B>) -> ClassificationOutput<B> {
        answer_output(self, batch)
    }
}

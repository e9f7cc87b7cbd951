use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig, Lstm, LstmConfig,
    LstmState,
};
use burn::prelude::*;
use burn::tensor::activation::softmax;

/// A sequence-to-sequence chatbot: an encoder LSTM reads the question, a
/// decoder LSTM starts from its last state and writes the answer one
/// character at a time, looking back at every position of the question
/// through attention (Luong's dot-product attention).
#[derive(Config, Debug, PartialEq)]
pub struct ChatNetConfig {
    /// Characters in the vocabulary, the special tokens included.
    pub vocab: usize,
    #[config(default = 64)]
    pub embedding: usize,
    #[config(default = 256)]
    pub hidden: usize,
    /// The share of the embedded characters and of the attended states
    /// zeroed at random while training (never when answering): a few
    /// hundred pairs are otherwise learnt by heart.
    #[config(default = 0.0)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct ChatNet<B: Backend> {
    /// Shared by question and answer: both are the same characters.
    pub embedding: Embedding<B>,
    pub encoder: Lstm<B>,
    pub decoder: Lstm<B>,
    /// `[decoder state ; attended question] → hidden`.
    pub combine: Linear<B>,
    pub output: Linear<B>,
    pub dropout: Dropout,
}

/// What the encoder made of a batch of questions.
#[derive(Clone, Debug)]
pub struct Encoded<B: Backend> {
    /// `[batch, question steps, hidden]`.
    pub states: Tensor<B, 3>,
    /// `[batch, question steps]`: true at padding, which attention skips.
    pub padding: Tensor<B, 2, Bool>,
    /// The state after the question's last character (cell line and hidden
    /// state, `[batch, hidden]` each): where the decoder starts.
    pub cell: Tensor<B, 2>,
    pub hidden: Tensor<B, 2>,
}

impl<B: Backend> Encoded<B> {
    /// The decoder's first state: the encoder's last.
    pub fn start(&self) -> LstmState<B, 2> {
        LstmState::new(self.cell.clone(), self.hidden.clone())
    }
}

impl ChatNetConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> ChatNet<B> {
        let (vocab, width, hidden) = (self.vocab.max(1), self.embedding.max(1), self.hidden.max(1));
        ChatNet {
            embedding: EmbeddingConfig::new(vocab, width).init(device),
            encoder: LstmConfig::new(width, hidden, true).init(device),
            decoder: LstmConfig::new(width, hidden, true).init(device),
            combine: LinearConfig::new(2 * hidden, hidden).init(device),
            output: LinearConfig::new(hidden, vocab).init(device),
            dropout: DropoutConfig::new(self.dropout.clamp(0.0, 0.9)).init(),
        }
    }
}

impl<B: Backend> ChatNet<B> {
    /// Questions `[batch, steps]`, padded at the front so that every one
    /// ends on the last step, with `padding` true there.
    pub fn encode(&self, questions: Tensor<B, 2, Int>, padding: Tensor<B, 2, Bool>) -> Encoded<B> {
        let read = self.dropout.forward(self.embedding.forward(questions));
        let (states, last) = self.encoder.forward(read, None);
        Encoded {
            states,
            padding,
            cell: last.cell,
            hidden: last.hidden,
        }
    }

    /// Teacher forcing: answer tokens so far `[batch, steps]` (each row
    /// starting with BOS), from the encoder's state → decoder `[batch,
    /// steps, hidden]` → attention over the question `[batch, steps,
    /// question steps]` → `[batch, steps, vocab]`: logits for each next
    /// character, and the decoder's state after the last step.
    pub fn decode(
        &self,
        encoded: &Encoded<B>,
        answer_so_far: Tensor<B, 2, Int>,
        state: LstmState<B, 2>,
    ) -> (Tensor<B, 3>, LstmState<B, 2>, Tensor<B, 3>) {
        let written = self.dropout.forward(self.embedding.forward(answer_so_far));
        let (states, state) = self.decoder.forward(written, Some(state));
        let [batch, steps, _] = states.dims();
        let question_steps = encoded.states.dims()[1];
        let scores = states
            .clone()
            .matmul(encoded.states.clone().swap_dims(1, 2));
        let padding = encoded
            .padding
            .clone()
            .reshape([batch, 1, question_steps])
            .expand([batch, steps, question_steps]);
        let weights = softmax(scores.mask_fill(padding, -1.0e9), 2);
        let attended = weights.clone().matmul(encoded.states.clone());
        let combined = self
            .combine
            .forward(Tensor::cat(vec![states, attended], 2))
            .tanh();
        (
            self.output.forward(self.dropout.forward(combined)),
            state,
            weights,
        )
    }

    /// Questions and answers so far → logits `[batch, answer steps, vocab]`.
    pub fn forward(
        &self,
        questions: Tensor<B, 2, Int>,
        padding: Tensor<B, 2, Bool>,
        answer_so_far: Tensor<B, 2, Int>,
    ) -> Tensor<B, 3> {
        let encoded = self.encode(questions, padding);
        let start = encoded.start();
        self.decode(&encoded, answer_so_far, start).0
    }

    pub fn vocab(&self) -> usize {
        self.output.weight.dims()[1]
    }

    pub fn hidden(&self) -> usize {
        self.output.weight.dims()[0]
    }
}

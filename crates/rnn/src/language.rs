use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig, Lstm, LstmConfig,
    LstmState, Rnn, RnnConfig, RnnState,
};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Which recurrent cell carries the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// The plain RNN of the course's first lab: `h' = tanh(W·x + U·h + b)`.
    Rnn,
    /// Long short-term memory: a cell line and input, forget and output
    /// gates, so that what it read long ago survives.
    Lstm,
}

/// A language model: it reads tokens (characters, or note numbers) one at
/// a time and gives, after each, scores for the token that comes next.
#[derive(Config, Debug, PartialEq)]
pub struct LanguageModelConfig {
    /// Tokens in the vocabulary: the classes of each prediction.
    pub vocab: usize,
    pub cell: Cell,
    /// Width of each token's learned vector.
    #[config(default = 32)]
    pub embedding: usize,
    /// Width of the hidden state.
    #[config(default = 128)]
    pub hidden: usize,
    /// The share of embedded tokens and of hidden states zeroed at random
    /// while training (never when generating): a few thousand characters
    /// of text are otherwise learnt by heart.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// The recurrent layer, either cell. Built once per run and never moved in
/// a loop: boxing the LSTM would only make the record harder to read.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Recurrent<B: Backend> {
    Rnn(Rnn<B>),
    Lstm(Lstm<B>),
}

/// What the recurrent layer carries from one call to the next: the hidden
/// state `[batch, hidden]`, and an LSTM's cell line beside it.
#[derive(Clone, Debug)]
pub struct Carry<B: Backend> {
    pub hidden: Tensor<B, 2>,
    pub cell: Option<Tensor<B, 2>>,
}

#[derive(Module, Debug)]
pub struct LanguageModel<B: Backend> {
    pub embedding: Embedding<B>,
    pub recurrent: Recurrent<B>,
    pub output: Linear<B>,
    pub dropout: Dropout,
}

impl LanguageModelConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> LanguageModel<B> {
        let (vocab, width, hidden) = (self.vocab.max(1), self.embedding.max(1), self.hidden.max(1));
        LanguageModel {
            embedding: EmbeddingConfig::new(vocab, width).init(device),
            recurrent: match self.cell {
                Cell::Rnn => Recurrent::Rnn(RnnConfig::new(width, hidden, true).init(device)),
                Cell::Lstm => Recurrent::Lstm(LstmConfig::new(width, hidden, true).init(device)),
            },
            output: LinearConfig::new(hidden, vocab).init(device),
            dropout: DropoutConfig::new(self.dropout.clamp(0.0, 0.9)).init(),
        }
    }
}

impl<B: Backend> Recurrent<B> {
    /// `[batch, steps, input] → [batch, steps, hidden]`, from `carry` (zeros
    /// when `None`), and the carry after the last step.
    pub fn forward(
        &self,
        input: Tensor<B, 3>,
        carry: Option<Carry<B>>,
    ) -> (Tensor<B, 3>, Carry<B>) {
        match self {
            Recurrent::Rnn(rnn) => {
                let (out, state) = rnn.forward(input, carry.map(|c| RnnState::new(c.hidden)));
                let carry = Carry {
                    hidden: state.hidden,
                    cell: None,
                };
                (out, carry)
            }
            Recurrent::Lstm(lstm) => {
                let state = carry.and_then(|c| Some(LstmState::new(c.cell?, c.hidden)));
                let (out, state) = lstm.forward(input, state);
                let carry = Carry {
                    hidden: state.hidden,
                    cell: Some(state.cell),
                };
                (out, carry)
            }
        }
    }
}

impl<B: Backend> LanguageModel<B> {
    /// `[batch, steps]` token classes → embedding `[batch, steps, embedding]`
    /// → recurrent `[batch, steps, hidden]` → `[batch, steps, vocab]`: at
    /// each step, logits for the next token. `carry` continues a sequence
    /// read before (generation feeds one token a call).
    pub fn forward(
        &self,
        tokens: Tensor<B, 2, Int>,
        carry: Option<Carry<B>>,
    ) -> (Tensor<B, 3>, Carry<B>) {
        let vectors = self.dropout.forward(self.embedding.forward(tokens));
        let (states, carry) = self.recurrent.forward(vectors, carry);
        (self.output.forward(self.dropout.forward(states)), carry)
    }

    pub fn vocab(&self) -> usize {
        self.output.weight.dims()[1]
    }

    pub fn hidden(&self) -> usize {
        self.output.weight.dims()[0]
    }

    pub fn cell(&self) -> Cell {
        match self.recurrent {
            Recurrent::Rnn(_) => Cell::Rnn,
            Recurrent::Lstm(_) => Cell::Lstm,
        }
    }
}

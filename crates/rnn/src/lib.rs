//! Recurrent networks (the course's week 7): nets that read their input one
//! step at a time and carry what they have seen in a hidden state. An LSTM
//! that reads an image row by row; a language model over characters (or
//! note numbers) that completes words and writes text; a
//! sequence-to-sequence chatbot with attention.

mod chat;
mod data;
mod inference;
mod language;
mod row_lstm;
mod training;

pub use chat::{ChatNet, ChatNetConfig, Encoded};
pub use data::{
    encode_pair, encode_question, question_tensors, EncodedPair, PairBatch, PairBatcher,
    TokenBatch, TokenBatcher, MAX_ANSWER, MAX_QUESTION,
};
pub use inference::{
    answer, continue_tokens, next_probabilities, next_token_accuracy, predict_each, Answer,
    Decoding,
};
pub use language::{Carry, Cell, LanguageModel, LanguageModelConfig, Recurrent};
pub use row_lstm::{RowLstm, RowLstmConfig};
pub use training::{answer_output, next_token_output};

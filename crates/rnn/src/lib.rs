//! Recurrent networks (the course's week 7): a net that reads its input one
//! step at a time and carries what it has seen in a hidden state.

mod model;

pub use model::{RowLstm, RowLstmConfig};

use burn::nn::{Linear, LinearConfig, Lstm, LstmConfig};
use burn::prelude::*;

/// An image read as a sequence: each of its 28 rows is one step of 28
/// pixels, and the LSTM's hidden state after the last row classifies it.
#[derive(Config, Debug, PartialEq)]
pub struct RowLstmConfig {
    /// Width of the hidden (and cell) state.
    #[config(default = 128)]
    pub hidden: usize,
    #[config(default = 10)]
    pub classes: usize,
}

#[derive(Module, Debug)]
pub struct RowLstm<B: Backend> {
    pub lstm: Lstm<B>,
    pub output: Linear<B>,
}

impl RowLstmConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> RowLstm<B> {
        let hidden = self.hidden.max(1);
        RowLstm {
            lstm: LstmConfig::new(28, hidden, true).init(device),
            output: LinearConfig::new(hidden, self.classes.max(1)).init(device),
        }
    }
}

impl<B: Backend> RowLstm<B> {
    /// `[batch, 1, 28, 28] → [batch, 28 steps, 28 pixels] → LSTM →
    /// [batch, 28, hidden] → the last step's [batch, hidden] → [batch,
    /// classes]`: logits.
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let [batch, _, rows, columns] = images.dims();
        let rows_as_steps = images.reshape([batch, rows, columns]);
        let (_, state) = self.lstm.forward(rows_as_steps, None);
        self.output.forward(state.hidden)
    }

    /// The width of the hidden state.
    pub fn hidden(&self) -> usize {
        self.output.weight.dims()[0]
    }
}

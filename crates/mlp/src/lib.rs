//! The deep multi-layer perceptron of the lectures, every knob exposed.

mod init;
mod model;

pub use init::{Activation, Init};
pub use model::{HiddenLayer, Mlp, MlpConfig};

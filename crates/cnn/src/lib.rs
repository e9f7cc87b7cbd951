//! Convolutional networks for MNIST-sized images.

pub mod im2col;
mod model;

pub use model::{Cnn, CnnConfig, ConvBlockConfig};

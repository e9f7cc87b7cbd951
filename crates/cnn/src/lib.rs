//! Convolutional networks for MNIST-sized images.

mod model;

pub use model::{Cnn, CnnConfig, ConvBlock, ConvBlockConfig, Padding};

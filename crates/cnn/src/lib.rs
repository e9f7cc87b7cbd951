//! Convolutional networks for MNIST-sized images.

pub mod geometry;
mod host_block;
pub mod im2col;
mod model;
pub mod pixel_rows;

pub use model::{Cnn, CnnConfig, ConvBlockConfig, ConvTraining};

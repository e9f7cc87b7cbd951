//! Autoencoders for MNIST-sized images (the course's first generative
//! model): an encoder squeezes each image into a short code, a decoder
//! draws the image back from it, and both learn by the reconstruction error.

mod inference;
mod model;
mod training;

pub use inference::{decode, encode_set, EncodedSet};
pub use model::{Autoencoder, AutoencoderConfig, ConvAutoencoder, DenseAutoencoder, Layout};
pub use training::{image_batcher, reconstruction_output};

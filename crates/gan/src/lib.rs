//! Generative adversarial nets on MNIST-sized images (the course's second
//! generative model): a generator draws images from noise, a discriminator
//! tells them from real ones, and each learns against the other. Told the
//! digit as well, both become a conditional GAN that draws the digit asked.
//!
//! Two nets with two optimizers do not fit burn-train's one-model step, so
//! [`GanTrainer`] is the loop's step, written out.

mod inference;
mod model;
mod training;

pub use inference::{generate, latent_noise};
pub use model::{
    ConvDiscriminator, ConvGenerator, DenseDiscriminator, DenseGenerator, Discriminator, GanConfig,
    Generator, Layout, CLASSES,
};
pub use training::{adam, gan_batcher, EpochStats, GanLosses, GanTrainer};

//! Faster ways to run the suite's nets on particular backends.
//!
//! The model crates say what a net is, in Burn's own layers; this crate says
//! how a backend can run the same net faster. Each backend the runner trains
//! on implements [`Tuned`], and the implementation picks its fast paths at
//! compile time: the CPU backends run convolution blocks, fully connected
//! layers (flex), dropout masks and Adam as host operations; the GPU
//! backends run the model crates' own `forward` and read training's figures
//! back every so many steps, and cuda keeps the images on the GPU. Every fast
//! path is held to the plain model's outputs and gradients (or the plain
//! loader's batches) by this crate's tests; the README says what each
//! replaces, why, and what it gains.

mod adam;
mod backends;
mod cnn;
mod conv_block;
mod dropout;
mod geometry;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod gpu_settings;
mod host;
mod linear;
mod mlp;
mod on_device;
mod optimizer;
mod pixel_rows;

pub use adam::HostAdam;
#[cfg(feature = "cuda")]
pub use backends::Cuda;
#[cfg(feature = "wgpu")]
pub use backends::Wgpu;
pub use backends::{Tuned, TunedAutodiff};
pub use cnn::cnn_on_host;
pub use dropout::dropout_on_host;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub use gpu_settings::{autotune_cache_dir, configure_gpu_runtime};
pub use host::{HostBackend, OnHost};
pub use linear::linear_on_host;
pub use mlp::mlp_on_host;
pub use on_device::loader_on_device;
pub use optimizer::{TunedOptimizer, TunedOptimizerRecord};

/// How a CPU backend computes fully connected layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linears {
    /// Burn's `Linear`.
    Burn,
    /// [`linear_on_host`].
    Host,
}

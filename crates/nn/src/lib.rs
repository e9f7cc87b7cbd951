//! Layers shared by the model crates, and the plumbing of the operations
//! they compute in host memory on the CPU backends.

mod dropout;
pub mod host;

pub use dropout::{Dropout, DropoutConfig};

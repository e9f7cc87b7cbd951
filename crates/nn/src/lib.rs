//! Layers shared by the model crates, and the plumbing of the operations
//! they compute in host memory on the CPU backends.

mod dropout;
pub mod host;
mod host_linear;

pub use dropout::{Dropout, DropoutConfig};
pub use host_linear::{forward_linear, linear_on_host};

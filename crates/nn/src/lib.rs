//! Layers shared by the model crates.

mod dropout;

pub use dropout::{Dropout, DropoutConfig};

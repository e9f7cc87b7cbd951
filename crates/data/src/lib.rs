//! Data for the suite: MNIST and Fashion-MNIST from their IDX files (local,
//! cached or downloaded), batchers for any Burn backend, and the seeded
//! synthetic sets of the early lessons, and the token sequences (text,
//! dialogue, melodies) of the recurrent ones.

pub mod augment;
pub mod batcher;
pub mod download;
pub mod error;
pub mod idx;
pub mod mnist;
pub mod picture;
pub mod stats;
pub mod synthetic;
pub mod text;

pub use batcher::{ImageBatch, ImageBatcher};
pub use error::{DataError, Result};
pub use mnist::{DigitItem, DigitSet, Digits, Kind, Locator, Normalization, Split};

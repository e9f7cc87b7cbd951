//! The runner: wires the dataset, the model crates, the training plumbing
//! and each backend's fast paths together behind the `dlsuite` command.

pub mod artifacts;
pub mod autoencoder;
pub mod backend;
pub mod check;
pub mod commands;
pub mod config;
pub mod ensemble;
pub mod evaluate;
pub mod experiment;
pub mod gan;
pub mod lesson;
pub mod memory;
pub mod net;
pub mod pictures;
pub mod portable;
pub mod report;
pub mod run_dir;
pub mod run_folder;
pub mod run_lock;
pub mod sequence;
pub mod training;

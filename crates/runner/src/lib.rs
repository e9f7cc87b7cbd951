//! The runner: wires the dataset, the model crates and the shared training
//! plumbing together behind the `dlsuite` command.

pub mod artifacts;
pub mod backend;
pub mod bench;
pub mod config;
pub mod ensemble;
pub mod experiment;
pub mod inference;
pub mod inspect;
pub mod lesson;
pub mod net;
pub mod pictures;
pub mod report;
pub mod reproduce;
pub mod run;

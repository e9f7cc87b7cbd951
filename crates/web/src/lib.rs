//! `dlsuite serve`'s web server: draw a digit and watch a trained model
//! guess it, browse the runs' curves and pictures and the report, or post
//! images to `/api/predict` from a script. It knows HTTP and pages only;
//! the runs and their models come through [`Catalog`].

pub mod api;
pub mod catalog;
pub mod pages;
pub mod server;

pub use api::{PredictReply, MAX_UPLOAD_BYTES};
pub use catalog::{Catalog, ClassifyError, RunCard};
pub use server::{router, serve};

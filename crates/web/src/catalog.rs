//! What the server asks of the suite: which runs there are, and a model
//! that classifies an image. Kept as a trait so that this crate knows HTTP
//! and pages, not Burn: the runner implements it over its run folders.

use dlsuite_data::idx::PIXELS;
use serde::Serialize;

/// The runs in an artifacts folder, and their models.
pub trait Catalog: Send + Sync + 'static {
    /// Every run folder, read afresh on each call: a run trained while the
    /// server is up shows up on the next page load. The first classifier is
    /// the one the page and the API use when none is named.
    fn runs(&self) -> Vec<RunCard>;

    /// One run by its folder's name.
    fn run(&self, name: &str) -> Option<RunCard> {
        self.runs().into_iter().find(|r| r.name == name)
    }

    /// `run`'s class probabilities for a 28×28 image (0 background, 255
    /// full ink, row by row). It may block on a model: the server calls it
    /// off its request threads.
    fn classify(&self, run: &str, pixels: &[u8; PIXELS]) -> Result<Vec<f32>, ClassifyError>;
}

/// One run as the runs page and `GET /api/runs` show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunCard {
    /// The run folder's name.
    pub name: String,
    /// What the experiment is, in a sentence.
    pub description: String,
    /// Label and value rows: experiment, accuracy, epochs, time, backend.
    pub facts: Vec<(String, String)>,
    /// The run folder's pictures (file names), in the order to show them.
    pub pictures: Vec<String>,
    /// The class names when the run's model classifies 28×28 images, so
    /// the drawing page offers it.
    pub classes: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// No run of that name classifies images.
    #[error("no run named {0:?} classifies images here")]
    UnknownRun(String),
    /// The run exists but its model could not be used.
    #[error("run {run:?}: {reason}")]
    Model { run: String, reason: String },
}

//! Logistic regression, the single-layer classifier of the lectures.

mod model;

pub use model::{LogisticRegression, LogisticRegressionConfig};

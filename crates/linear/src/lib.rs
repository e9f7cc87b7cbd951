//! Linear regression, the first model of the lectures.

mod model;
mod training;

pub use model::{normal_equation, LinearRegression, LinearRegressionConfig};
pub use training::{fit_gradient_descent, DescentStep};

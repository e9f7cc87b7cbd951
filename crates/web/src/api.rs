//! The JSON API: `GET /api/runs` and `POST /api/predict`. Every failure is
//! an HTTP status with `{"error": "..."}` naming what was wrong.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use dlsuite_data::idx::PIXELS;
use dlsuite_data::picture::decode_picture;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ClassifyError, RunCard};

/// Uploads above this are refused before they are decoded.
pub const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// Classes listed in a reply's `top`.
const TOP: usize = 3;

/// Fewer pixels at or above [`INK_LEVEL`] than this and the image is as
/// good as blank: its classes are a guess, and the reply says so.
const MIN_INKED_PIXELS: usize = 8;
const INK_LEVEL: u8 = 64;

/// An error reply: a status and a sentence.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, Json(body)).into_response()
    }
}

impl From<ClassifyError> for ApiError {
    fn from(err: ClassifyError) -> ApiError {
        let status = match err {
            ClassifyError::UnknownRun(_) => StatusCode::NOT_FOUND,
            ClassifyError::Model { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, err.to_string())
    }
}

pub async fn runs(State(catalog): State<Arc<dyn Catalog>>) -> Result<Json<Vec<RunCard>>, ApiError> {
    Ok(Json(blocking(move || catalog.runs()).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct PredictQuery {
    run: Option<String>,
}

/// A JSON upload: the image as grey values, row by row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PixelUpload {
    pixels: Vec<f64>,
    #[serde(default)]
    run: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClassScore {
    pub class: usize,
    pub name: String,
    pub probability: f32,
}

/// What `POST /api/predict` answers.
#[derive(Debug, Serialize)]
pub struct PredictReply {
    pub run: String,
    /// The most likely classes, most likely first.
    pub top: Vec<ClassScore>,
    /// Every class's probability, by class index.
    pub probabilities: Vec<f32>,
    /// The 28×28 image the model saw (0–255, row by row).
    pub seen: Vec<u8>,
    /// True when almost nothing is inked: the classes are a guess.
    pub blank: bool,
}

/// Classifies a PNG (or JPEG, GIF, BMP, TIFF, WebP) body, prepared as
/// MNIST's digits were, or a JSON body `{"pixels": [784 values 0–255]}`
/// taken as it is. The run is `?run=NAME` (or the JSON's `run`); without
/// one, the first run that classifies images.
pub async fn predict(
    State(catalog): State<Arc<dyn Catalog>>,
    query: Result<Query<PredictQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PredictReply>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad(format!("bad query string: {e}")))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the upload is above the {} MB limit for an image",
                    MAX_UPLOAD_BYTES >> 20
                ),
            )
        } else {
            ApiError::new(e.status(), format!("cannot read the upload: {e}"))
        }
    })?;
    if body.is_empty() {
        return Err(ApiError::bad(
            "the upload is empty: send an image (PNG, JPEG, ...) or JSON {\"pixels\": [784 grey values]}",
        ));
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let (pixels, json_run) = if is_json {
        let upload: PixelUpload = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad(format!(
                "bad JSON: {e}; expected {{\"pixels\": [784 grey values 0-255]}}"
            ))
        })?;
        (pixels_from_values(&upload.pixels)?, upload.run)
    } else {
        let pixels = decode_picture(&body).map_err(|reason| {
            ApiError::bad(format!("the upload is not a usable image: {reason}"))
        })?;
        (pixels, None)
    };
    let asked = query.run.or(json_run);
    blocking(move || classify(catalog.as_ref(), asked, pixels)).await?
}

/// Runs blocking work (a disk scan, a model) off the request threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request's work failed: {e}"),
        )
    })
}

fn classify(
    catalog: &dyn Catalog,
    asked: Option<String>,
    pixels: [u8; PIXELS],
) -> Result<Json<PredictReply>, ApiError> {
    let run = match asked {
        Some(name) => catalog
            .run(&name)
            .filter(|r| r.classes.is_some())
            .ok_or(ClassifyError::UnknownRun(name))?,
        None => catalog
            .runs()
            .into_iter()
            .find(|r| r.classes.is_some())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "no run here classifies images: train one first (dlsuite train mnist-cnn)",
                )
            })?,
    };
    let probabilities = catalog.classify(&run.name, &pixels)?;
    let names = run.classes.unwrap_or_default();
    let mut ranked: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = ranked
        .into_iter()
        .take(TOP)
        .map(|(class, probability)| ClassScore {
            class,
            name: names
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string()),
            probability,
        })
        .collect();
    let inked = pixels.iter().filter(|&&v| v >= INK_LEVEL).count();
    Ok(Json(PredictReply {
        run: run.name,
        top,
        probabilities,
        seen: pixels.to_vec(),
        blank: inked < MIN_INKED_PIXELS,
    }))
}

/// 784 grey values, each a number from 0 to 255, as the model's image.
fn pixels_from_values(values: &[f64]) -> Result<[u8; PIXELS], ApiError> {
    if values.len() != PIXELS {
        return Err(ApiError::bad(format!(
            "\"pixels\" holds {} values; a 28×28 image needs {PIXELS}",
            values.len()
        )));
    }
    let mut pixels = [0u8; PIXELS];
    for (i, (&v, out)) in values.iter().zip(pixels.iter_mut()).enumerate() {
        if !(0.0..=255.0).contains(&v) {
            return Err(ApiError::bad(format!(
                "\"pixels\"[{i}] is {v}; grey values go from 0 (background) to 255 (ink)"
            )));
        }
        *out = v.round() as u8;
    }
    Ok(pixels)
}

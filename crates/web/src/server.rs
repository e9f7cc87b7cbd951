//! The routes, and serving them on a listener until the process ends.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::ServeDir;

use crate::api::{self, ApiError, MAX_UPLOAD_BYTES};
use crate::catalog::Catalog;
use crate::pages;

/// What every handler can reach.
#[derive(Clone)]
pub struct App {
    pub catalog: Arc<dyn Catalog>,
    /// The artifacts folder: run folders and `REPORT.md`.
    pub artifacts: PathBuf,
}

impl FromRef<App> for Arc<dyn Catalog> {
    fn from_ref(app: &App) -> Arc<dyn Catalog> {
        app.catalog.clone()
    }
}

/// The site: `/` draw, `/runs`, `/report`, `/artifacts/...` the run
/// folders' files, `/api/runs`, `POST /api/predict`.
pub fn router(catalog: Arc<dyn Catalog>, artifacts: PathBuf) -> Router {
    let files = ServeDir::new(&artifacts);
    let app = App { catalog, artifacts };
    Router::new()
        .route("/", get(pages::draw))
        .route("/style.css", get(pages::style))
        .route("/runs", get(pages::runs))
        .route("/report", get(pages::report))
        .route("/api/runs", get(api::runs))
        .route(
            "/api/predict",
            post(api::predict).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .nest_service("/artifacts", files)
        .fallback(not_found)
        .with_state(app)
        // A bug in a handler answers 500 and the server goes on serving.
        .layer(CatchPanicLayer::new())
}

async fn not_found(uri: Uri) -> impl IntoResponse {
    ApiError::new(StatusCode::NOT_FOUND, format!("no page at {}", uri.path()))
}

/// Serves `router` on `listener` until the process ends; the caller binds
/// it (port 0 gives a free port, which tests use).
pub fn serve(listener: TcpListener, router: Router) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router).await
    })
}

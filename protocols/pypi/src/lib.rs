//! The Python package index under `/{seller}/pypi/`: the simple repository API (PEP 503 HTML
//! and PEP 691 JSON, by `Accept`), core metadata files (PEP 658), file downloads, and the legacy
//! upload API, for the unmodified pip, uv, poetry and twine. See shared/protocols/pypi.md for
//! what the clients need.

pub mod archive;
mod auth;
pub mod ecosystem;
mod error;
pub mod filename;
pub mod form;
pub mod metadata;
pub mod name;
mod read;
pub mod simple;
mod state;
pub mod stored;
mod upload;
pub mod version;

pub use state::{PypiConfig, PypiState};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// The router to nest at `/{seller}/pypi/`, with the slash: twine posts to the index's base URL
/// itself, and axum matches a nested `/` only at the exact prefix.
pub fn router(state: PypiState) -> Router {
    let limit = state.config.max_publish_bytes;
    Router::new()
        .route("/", post(upload::upload))
        .route("/upload/", post(upload::upload))
        .route("/legacy/", post(upload::upload))
        .route("/simple/", get(read::index))
        .route("/simple/{name}/", get(read::project))
        .route("/simple/{name}", get(read::project_without_slash))
        .route("/files/{file}", get(read::file))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

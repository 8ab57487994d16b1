//! The Cargo sparse registry protocol under `/{seller}/cargo/`: the index (`index/`), downloads
//! and the web API (publish, yank, owners, search) for the unmodified `cargo`.
//! See shared/protocols/cargo.md for the status codes Cargo needs.

mod api;
mod auth;
pub mod ecosystem;
mod error;
mod index;
pub mod name;
pub mod publish;
mod state;

pub use state::{CargoConfig, CargoState};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, put};

/// The router to nest at `/{seller}/cargo`.
pub fn router(state: CargoState) -> Router {
    let limit = state.config.max_publish_bytes;
    Router::new()
        .route("/index/config.json", get(index::config))
        .route("/index/{*path}", get(index::file))
        .route("/me", get(api::me))
        .route("/api/v1/crates", get(api::search))
        .route("/api/v1/crates/new", put(api::publish))
        .route(
            "/api/v1/crates/{name}/{version}/download",
            get(index::download),
        )
        .route("/api/v1/crates/{name}/{version}/yank", delete(api::yank))
        .route("/api/v1/crates/{name}/{version}/unyank", put(api::unyank))
        .route(
            "/api/v1/crates/{name}/owners",
            get(api::owners)
                .put(api::change_owners)
                .delete(api::change_owners),
        )
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

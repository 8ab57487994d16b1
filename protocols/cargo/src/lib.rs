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

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, put};
use tollgate_registry::Registry;
use tollgate_registry::document::DocumentCache;

/// Settings the Cargo endpoints need from the server.
#[derive(Debug, Clone)]
pub struct CargoConfig {
    /// The server's public base URL without a trailing slash.
    pub public_url: String,
    /// Largest accepted publish body in bytes.
    pub max_publish_bytes: usize,
}

#[derive(Clone)]
pub struct CargoState(Arc<Inner>);

pub struct Inner {
    registry: Registry,
    config: CargoConfig,
    /// Rendered index files per (crate, what the caller may see).
    index: DocumentCache,
}

impl std::ops::Deref for CargoState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl CargoState {
    pub fn new(registry: Registry, config: CargoConfig) -> Self {
        Self(Arc::new(Inner {
            index: DocumentCache::new(&registry, "cargo_index"),
            registry,
            config,
        }))
    }

    /// `{public_url}/{seller}/cargo`: the `api` base of `config.json`.
    fn api_url(&self, seller: &str) -> String {
        format!("{}/{seller}/cargo", self.config.public_url)
    }
}

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

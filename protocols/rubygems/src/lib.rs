//! The RubyGems source protocol under `/{seller}/gems/`: the compact index (`versions`,
//! `info/NAME`, `names`), the legacy index (`specs.4.8.gz` family and
//! `quick/Marshal.4.8/*.gemspec.rz`), `.gem` downloads, and `gem push` / `gem yank`, for the
//! unmodified `gem` and `bundle`. See shared/protocols/rubygems.md for what the clients need.

mod auth;
pub mod compact;
pub mod ecosystem;
mod error;
pub mod gemspec;
pub mod legacy;
mod listing;
pub mod marshal;
mod read;
mod state;
pub mod version;
mod write;
mod yaml;

pub use state::{RubygemsConfig, RubygemsState};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

/// The router to nest at `/{seller}/gems/`, with the slash: clients request the source URL
/// (`…/gems/`) itself, and axum matches a nested `/` only at the exact prefix.
pub fn router(state: RubygemsState) -> Router {
    let limit = state.config.max_publish_bytes;
    Router::new()
        .route("/", get(listing::root))
        .route("/versions", get(listing::versions))
        .route("/names", get(listing::names))
        .route("/info/{name}", get(listing::info))
        .route("/specs.4.8.gz", get(listing::specs))
        .route("/latest_specs.4.8.gz", get(listing::latest_specs))
        .route("/prerelease_specs.4.8.gz", get(listing::prerelease_specs))
        .route("/quick/Marshal.4.8/{file}", get(read::quick_gemspec))
        .route("/gems/{file}", get(read::download))
        .route("/api/v1/dependencies", get(read::dependencies))
        .route("/api/v1/gems", post(write::push))
        .route("/api/v1/gems/yank", delete(write::yank))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

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
pub mod version;
mod write;
mod yaml;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use tollgate_registry::Registry;
use tollgate_registry::cache::Cache;
use tollgate_registry::change::Change;
use tollgate_registry::document::DocumentCache;
use tollgate_registry::ids::SellerId;

/// Settings the RubyGems endpoints need from the server.
#[derive(Debug, Clone)]
pub struct RubygemsConfig {
    /// The server's public base URL without a trailing slash.
    pub public_url: String,
    /// Largest accepted `.gem` in bytes.
    pub max_publish_bytes: usize,
}

#[derive(Clone)]
pub struct RubygemsState(Arc<Inner>);

pub struct Inner {
    registry: Registry,
    config: RubygemsConfig,
    /// Rendered `/info/NAME` bodies per (gem, what the caller may see).
    info: DocumentCache,
    /// Rendered `/versions` bodies per (seller, hash of what the caller may see of each gem).
    versions: Arc<Cache<(SellerId, u64), Arc<listing::Listing>>>,
}

impl std::ops::Deref for RubygemsState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl RubygemsState {
    pub fn new(registry: Registry, config: RubygemsConfig) -> Self {
        let versions = Arc::new(Cache::new(
            registry.generation().clone(),
            10_000,
            registry.metrics().cache("rubygems_versions"),
        ));
        let v = Arc::downgrade(&versions);
        // Who sees which versions is part of the `/versions` key; only package changes (a new
        // gem, a release, a yank) make cached bodies stale.
        registry.on_change(Arc::new(move |change: &Change| {
            if matches!(change, Change::Package(_) | Change::All)
                && let Some(v) = v.upgrade()
            {
                v.clear();
            }
        }));
        Self(Arc::new(Inner {
            info: DocumentCache::new(&registry, "rubygems_info"),
            versions,
            registry,
            config,
        }))
    }

    /// `{public_url}/{seller}/gems/`: the source URL buyers put in their Gemfile.
    fn source_url(&self, seller: &str) -> String {
        format!("{}/{seller}/gems/", self.config.public_url)
    }
}

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

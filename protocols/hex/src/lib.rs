//! The Hex repository (`/{seller}/hex`: signed `names`, `versions`, `packages/NAME`, tarballs,
//! `public_key`) and the publish API (`/{seller}/hex/api`) for the unmodified `mix` and `rebar3`.
//! The repository's name, which clients check against every signed resource, is the seller's
//! slug. See shared/protocols/hex.md and shared/tools/hex/README.md for what the clients need.

mod api;
mod auth;
pub mod ecosystem;
mod error;
pub mod etf;
pub mod keys;
pub mod metadata;
mod paths;
pub mod proto;
mod repo;
pub mod resources;
pub mod signing;
pub mod tarball;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tollgate_registry::Registry;
use tollgate_registry::cache::Cache;
use tollgate_registry::change::Change;
use tollgate_registry::document::{Document, DocumentCache};
use tollgate_registry::ids::SellerId;
use tollgate_registry::secret::SecretBox;

/// Settings the Hex endpoints need from the server.
#[derive(Clone)]
pub struct HexConfig {
    /// The server's public base URL without a trailing slash.
    pub public_url: String,
    /// Opens the sellers' stored signing keys.
    pub secrets: Arc<SecretBox>,
}

#[derive(Clone)]
pub struct HexState(Arc<Inner>);

pub struct Inner {
    registry: Registry,
    config: HexConfig,
    keys: keys::Keys,
    /// Signed `packages/NAME` per (package, what the caller may see).
    packages: DocumentCache,
    /// Signed `names` (variant 0) and `versions` (1) per (seller, hash of the caller's view).
    listings: Arc<Cache<(SellerId, u64, u8), Document>>,
}

impl std::ops::Deref for HexState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl HexState {
    pub fn new(registry: Registry, config: HexConfig) -> Self {
        let listings = Arc::new(Cache::new(
            registry.generation().clone(),
            10_000,
            registry.metrics().cache("hex_listings"),
        ));
        let weak = Arc::downgrade(&listings);
        // Who sees what is part of the key; only package changes make a listing stale.
        registry.on_change(Arc::new(move |change: &Change| {
            if matches!(change, Change::Package(_) | Change::All)
                && let Some(l) = weak.upgrade()
            {
                l.clear();
            }
        }));
        Self(Arc::new(Inner {
            packages: DocumentCache::new(&registry, "hex_packages"),
            keys: keys::Keys::default(),
            listings,
            registry,
            config,
        }))
    }

    /// `{public_url}/{seller}/hex`: the repository URL buyers configure.
    pub fn repo_url(&self, seller: &str) -> String {
        format!("{}/{seller}/hex", self.config.public_url)
    }
}

/// The router to nest at `/{seller}/hex`.
pub fn router(state: HexState) -> Router {
    Router::new()
        .route("/public_key", get(repo::public_key))
        .route("/names", get(repo::names))
        .route("/versions", get(repo::versions))
        .route("/packages/{name}", get(repo::package))
        .route("/tarballs/{file}", get(repo::tarball))
        .route("/api/users/me", get(api::me))
        .route("/api/auth", get(api::auth))
        .route("/api/publish", post(api::publish))
        .route("/api/packages/{name}", get(api::package))
        .route("/api/packages/{name}/owners", get(api::owners))
        .route("/api/packages/{name}/releases", post(api::publish_named))
        .route(
            "/api/packages/{name}/releases/{version}",
            get(api::release).delete(api::revert),
        )
        .route(
            "/api/packages/{name}/releases/{version}/retire",
            post(api::retire).delete(api::unretire),
        )
        .route(
            "/api/packages/{name}/releases/{version}/docs",
            post(api::docs),
        )
        .with_state(state)
}

//! The Cargo endpoints' shared state: the server's settings, the core, and this protocol's
//! caches.

use std::sync::Arc;
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
    pub(crate) registry: Registry,
    pub(crate) config: CargoConfig,
    /// Rendered index files per (crate, what the caller may see).
    pub(crate) index: DocumentCache,
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
    pub(crate) fn api_url(&self, seller: &str) -> String {
        format!("{}/{seller}/cargo", self.config.public_url)
    }
}

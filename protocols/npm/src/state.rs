//! The Npm endpoints' shared state: the server's settings, the core, and this protocol's
//! caches.

use std::sync::Arc;
use tollgate_registry::Registry;
use tollgate_registry::document::DocumentCache;

/// Settings the npm endpoints need from the server.
#[derive(Debug, Clone)]
pub struct NpmConfig {
    /// The server's public base URL, without a trailing slash; tarball URLs start with it.
    pub public_url: String,
    /// Largest accepted publish body in bytes (the tarball travels base64-encoded inside).
    pub max_publish_bytes: usize,
}

#[derive(Clone)]
pub struct NpmState(Arc<Inner>);

pub struct Inner {
    pub(crate) registry: Registry,
    pub(crate) config: NpmConfig,
    /// Rendered packuments per (package, what the caller may see, abbreviated or full).
    pub(crate) packuments: DocumentCache,
}

impl std::ops::Deref for NpmState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl NpmState {
    pub fn new(registry: Registry, config: NpmConfig) -> Self {
        Self(Arc::new(Inner {
            packuments: DocumentCache::new(&registry, "npm_packuments"),
            registry,
            config,
        }))
    }

    /// `{public_url}/{seller}/npm`, the registry URL buyers configure (without the final `/`).
    pub(crate) fn registry_url(&self, seller: &str) -> String {
        format!("{}/{seller}/npm", self.config.public_url)
    }

    /// The `.npmrc` key prefix for this registry: `//host:port/seller/npm/`.
    pub(crate) fn nerf_dart(&self, seller: &str) -> String {
        let url = self.registry_url(seller);
        let without_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        format!("//{without_scheme}/")
    }
}

//! The Hex endpoints' shared state: the server's settings, the core, and this protocol's
//! caches.

use std::sync::Arc;
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
    pub(crate) registry: Registry,
    pub(crate) config: HexConfig,
    pub(crate) keys: crate::keys::Keys,
    /// Signed `packages/NAME` per (package, what the caller may see).
    pub(crate) packages: DocumentCache,
    /// Signed `names` (variant 0) and `versions` (1) per (seller, hash of the caller's view).
    pub(crate) listings: Arc<Cache<(SellerId, u64, u8), Document>>,
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
            keys: crate::keys::Keys::default(),
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

//! The Rubygems endpoints' shared state: the server's settings, the core, and this protocol's
//! caches.

use std::sync::Arc;
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
    pub(crate) registry: Registry,
    pub(crate) config: RubygemsConfig,
    /// Rendered `/info/NAME` bodies per (gem, what the caller may see).
    pub(crate) info: DocumentCache,
    /// Rendered `/versions` bodies per (seller, hash of what the caller may see of each gem).
    pub(crate) versions: Arc<Cache<(SellerId, u64), Arc<crate::compact::Listing>>>,
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
    pub(crate) fn source_url(&self, seller: &str) -> String {
        format!("{}/{seller}/gems/", self.config.public_url)
    }
}

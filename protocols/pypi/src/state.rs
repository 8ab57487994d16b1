//! The PyPI endpoints' shared state: the server's settings, the core, and the rendered pages.

use std::sync::Arc;

use tollgate_registry::Registry;
use tollgate_registry::document::DocumentCache;

/// Settings the PyPI endpoints need from the server.
#[derive(Debug, Clone)]
pub struct PypiConfig {
    /// The server's public base URL without a trailing slash.
    pub public_url: String,
    /// Largest accepted upload request (the file and the form) in bytes.
    pub max_publish_bytes: usize,
}

#[derive(Clone)]
pub struct PypiState(Arc<Inner>);

pub struct Inner {
    pub(crate) registry: Registry,
    pub(crate) config: PypiConfig,
    /// Rendered `/simple/NAME/` pages per (project, what the caller may see, HTML or JSON).
    pub(crate) pages: DocumentCache,
}

impl std::ops::Deref for PypiState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl PypiState {
    pub fn new(registry: Registry, config: PypiConfig) -> Self {
        Self(Arc::new(Inner {
            pages: DocumentCache::new(&registry, "pypi_simple"),
            registry,
            config,
        }))
    }

    /// `{public_url}/{seller}/pypi`: the index's base, without a trailing slash.
    pub(crate) fn base_url(&self, seller: &str) -> String {
        format!("{}/{seller}/pypi", self.config.public_url)
    }
}

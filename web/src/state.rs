//! The web pages' shared state: the registry, billing (Stripe, mail, secrets) and the live hub.

use std::sync::Arc;

use tollgate_billing::service::Billing;
use tollgate_registry::Registry;
use tollgate_registry::ecosystem::Ecosystems;

use crate::live::LiveHub;

/// Settings of the pages that come from the server's configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public base URL, without a trailing `/` (links in mail, setup snippets).
    pub public_url: String,
    /// The ecosystems served: repository URLs, set-up and publish snippets.
    pub ecosystems: Ecosystems,
}

impl WebConfig {
    /// Cookies are `Secure` when the public URL is https (behind a TLS proxy).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct Web(Arc<Inner>);

pub struct Inner {
    pub registry: Registry,
    pub billing: Billing,
    pub config: WebConfig,
    pub live: LiveHub,
}

impl std::ops::Deref for Web {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Web {
    /// The state, with its live hub following the registry's changes and download events.
    pub fn new(registry: Registry, billing: Billing, config: WebConfig) -> Self {
        let live = LiveHub::start(registry.clone());
        Self(Arc::new(Inner {
            registry,
            billing,
            config,
            live,
        }))
    }
}

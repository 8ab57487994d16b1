//! Rendered listings (npm packuments, Cargo index files, …) cached per (package, what the
//! caller may see, variant). Orgs with the same view share one copy of the bytes; a change to the
//! package drops its documents, a change of who may see what does not (visibility is in the key).

use std::sync::Arc;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::Registry;
use crate::access::Visibility;
use crate::cache::Cache;
use crate::change::Change;
use crate::ids::PackageId;

/// A rendered document, its ETag and how many releases it lists.
#[derive(Debug, Clone)]
pub struct Document {
    pub body: Bytes,
    pub etag: String,
    /// Zero means the caller may see no release of the package.
    pub entries: usize,
}

impl Document {
    /// A document with a strong ETag derived from its bytes.
    pub fn new(body: impl Into<Bytes>, entries: usize) -> Self {
        let body = body.into();
        let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
        Self {
            body,
            etag,
            entries,
        }
    }

    /// Does an `If-None-Match` header value name this document?
    pub fn matches(&self, if_none_match: Option<&str>) -> bool {
        if_none_match.is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == self.etag || t.trim() == "*")
        })
    }
}

/// Key: (package, visibility, variant). The variant tells documents of one package apart
/// (npm: abbreviated or full).
pub type DocumentKey = (PackageId, Visibility, u8);

/// A protocol's cache of rendered documents, invalidated with the core's caches.
#[derive(Clone)]
pub struct DocumentCache(Arc<Cache<DocumentKey, Document>>);

impl DocumentCache {
    /// A cache whose hit/miss counters are labelled `name`.
    pub fn new(registry: &Registry, name: &str) -> Self {
        let cache = Arc::new(Cache::new(
            registry.generation().clone(),
            100_000,
            registry.metrics().cache(name),
        ));
        let weak = Arc::downgrade(&cache);
        registry.on_change(Arc::new(move |change: &Change| {
            let Some(cache) = weak.upgrade() else { return };
            match change {
                Change::Package(id) => cache.invalidate(|(pkg, _, _), _| pkg == id),
                Change::All => cache.clear(),
                Change::Org(_) | Change::Tokens => {}
            }
        }));
        Self(cache)
    }

    /// The cached document, or the one `render` produces (stored unless a change raced it).
    pub async fn get_or_render<E, F, Fut>(&self, key: DocumentKey, render: F) -> Result<Document, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Document, E>>,
    {
        self.0.get_or_try_insert(key, render).await
    }
}

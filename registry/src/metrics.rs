//! The core's metrics (downloads, cache effectiveness), registered into the server's
//! Prometheus registry by the binary.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry as Prometheus;

type Labels = Vec<(String, String)>;

/// Counters shared by every clone of the registry (each family is reference-counted).
#[derive(Debug, Clone, Default)]
pub struct CoreMetrics {
    cache_hits: Family<Labels, Counter>,
    cache_misses: Family<Labels, Counter>,
    downloads: Family<Labels, Counter>,
    download_bytes: Family<Labels, Counter>,
}

/// The hit and miss counters of one cache.
#[derive(Debug, Clone, Default)]
pub struct CacheCounters {
    pub hits: Counter,
    pub misses: Counter,
}

impl CoreMetrics {
    /// Counters for the cache called `name` (a label value).
    pub fn cache(&self, name: &str) -> CacheCounters {
        let labels = vec![("cache".to_owned(), name.to_owned())];
        CacheCounters {
            hits: self.cache_hits.get_or_create(&labels).clone(),
            misses: self.cache_misses.get_or_create(&labels).clone(),
        }
    }

    pub fn download(&self, ecosystem: &str, bytes: u64) {
        let labels = vec![("ecosystem".to_owned(), ecosystem.to_owned())];
        self.downloads.get_or_create(&labels).inc();
        self.download_bytes.get_or_create(&labels).inc_by(bytes);
    }

    pub fn register(&self, prometheus: &mut Prometheus) {
        prometheus.register(
            "tollgate_cache_hits",
            "Cache lookups answered from memory",
            self.cache_hits.clone(),
        );
        prometheus.register(
            "tollgate_cache_misses",
            "Cache lookups that went to the database",
            self.cache_misses.clone(),
        );
        prometheus.register(
            "tollgate_downloads",
            "Package downloads started",
            self.downloads.clone(),
        );
        prometheus.register(
            "tollgate_download_bytes",
            "Bytes of package downloads started",
            self.download_bytes.clone(),
        );
    }
}

//! Caches that drop exactly what a [`Change`](crate::change::Change) affects.
//!
//! Every applied change bumps the shared [`Generation`] before invalidating. A value is only
//! inserted if the generation did not move while it was computed, so a reader racing a revoke
//! can never put the old answer back.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::metrics::CacheCounters;

/// Counts applied changes; shared by every cache of one server.
#[derive(Debug, Clone, Default)]
pub struct Generation(Arc<AtomicU64>);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A bounded map: emptied when it reaches `cap` entries.
#[derive(Debug)]
pub struct Cache<K, V> {
    generation: Generation,
    cap: usize,
    map: RwLock<HashMap<K, V>>,
    counters: CacheCounters,
}

impl<K: Eq + Hash + Send + 'static, V: Clone + Send + 'static> Cache<K, V> {
    pub fn new(generation: Generation, cap: usize, counters: CacheCounters) -> Self {
        Self {
            generation,
            cap,
            map: RwLock::new(HashMap::new()),
            counters,
        }
    }

    /// The generation to pass to [`Self::insert`]: read it *before* computing the value.
    pub fn generation(&self) -> u64 {
        self.generation.current()
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let found = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned();
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.inc();
        found
    }

    pub fn insert(&self, key: K, value: V, computed_at: u64) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.current() != computed_at {
            return;
        }
        if map.len() >= self.cap {
            dispose(std::mem::take(&mut *map));
        }
        map.insert(key, value);
    }

    /// Drops the entries for which `stale` is true.
    pub fn invalidate(&self, stale: impl Fn(&K, &V) -> bool) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, v| !stale(k, v));
    }

    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.map.write().unwrap_or_else(|e| e.into_inner()));
        dispose(old);
    }

    /// Returns the cached value or computes, stores and returns it.
    pub async fn get_or_try_insert<E, F, Fut>(&self, key: K, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let at = self.generation();
        let value = compute().await?;
        self.insert(key, value.clone(), at);
        Ok(value)
    }
}

/// Frees a large map off the request path (freeing many small allocations takes milliseconds).
fn dispose<K: Send + 'static, V: Send + 'static>(map: HashMap<K, V>) {
    if map.len() > 1024 {
        std::thread::spawn(move || drop(map));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_racing_a_change_is_dropped() {
        let generation = Generation::default();
        let cache = Cache::new(generation.clone(), 10, CacheCounters::default());
        let before = cache.generation();
        cache.insert("k", 1, before);
        assert_eq!(cache.get(&"k"), Some(1));
        generation.bump();
        cache.invalidate(|k, _| *k == "k");
        assert_eq!(cache.get(&"k"), None);
        // Computed before the change, stored after it: refused.
        cache.insert("k", 2, before);
        assert_eq!(cache.get(&"k"), None);
        cache.insert("k", 3, cache.generation());
        assert_eq!(cache.get(&"k"), Some(3));
    }

    #[test]
    fn invalidation_is_scoped_and_size_is_bounded() {
        let cache = Cache::new(Generation::default(), 3, CacheCounters::default());
        let at = cache.generation();
        for i in 0..3 {
            cache.insert(i, i * 10, at);
        }
        cache.invalidate(|k, _| *k == 1);
        assert_eq!(
            (cache.get(&0), cache.get(&1), cache.get(&2)),
            (Some(0), None, Some(20))
        );
        cache.insert(3, 30, at);
        cache.insert(4, 40, at);
        assert_eq!(cache.get(&0), None, "emptied at capacity");
        assert_eq!(cache.get(&4), Some(40));
    }
}

//! Caches that are dropped whenever anything changes what a caller may see.
//!
//! Every write that changes visibility bumps the database's change epoch inside its
//! transaction; each server polls that number (and bumps its local [`Epoch`] at once for its own
//! writes). A cache entry computed while the epoch was `e` is only returned while it is still
//! `e`, and is not stored at all if the epoch moved during the computation, so a reader racing a
//! revoke can never re-insert the old answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// The local change counter all caches of one server share.
#[derive(Debug, Clone, Default)]
pub struct Epoch(Arc<AtomicU64>);

impl Epoch {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Invalidates every cache built on this epoch.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// A map whose entries are valid for one epoch. Bounded: it is emptied when it reaches `cap`.
#[derive(Debug)]
pub struct EpochCache<K, V> {
    epoch: Epoch,
    cap: usize,
    inner: RwLock<(u64, HashMap<K, V>)>,
}

impl<K: Eq + Hash, V: Clone> EpochCache<K, V> {
    pub fn new(epoch: Epoch, cap: usize) -> Self {
        Self {
            inner: RwLock::new((epoch.current(), HashMap::new())),
            epoch,
            cap,
        }
    }

    /// The epoch to pass to [`Self::insert`]: read it *before* computing the value.
    pub fn epoch(&self) -> u64 {
        self.epoch.current()
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let now = self.epoch.current();
        let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
        if guard.0 != now {
            return None;
        }
        guard.1.get(key).cloned()
    }

    pub fn insert(&self, key: K, value: V, computed_at: u64) {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if self.epoch.current() != computed_at {
            return;
        }
        if guard.0 != computed_at || guard.1.len() >= self.cap {
            guard.0 = computed_at;
            guard.1.clear();
        }
        guard.1.insert(key, value);
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
        let at = self.epoch();
        let value = compute().await?;
        self.insert(key, value.clone(), at);
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_drops_entries_and_stale_inserts() {
        let epoch = Epoch::default();
        let cache = EpochCache::new(epoch.clone(), 10);
        let at = cache.epoch();
        cache.insert("k", 1, at);
        assert_eq!(cache.get(&"k"), Some(1));
        epoch.bump();
        assert_eq!(cache.get(&"k"), None);
        // A value computed before the bump is not stored after it.
        cache.insert("k", 2, at);
        assert_eq!(cache.get(&"k"), None);
        cache.insert("k", 3, cache.epoch());
        assert_eq!(cache.get(&"k"), Some(3));
    }

    #[test]
    fn is_bounded() {
        let cache = EpochCache::new(Epoch::default(), 2);
        let at = cache.epoch();
        for i in 0..5 {
            cache.insert(i, i, at);
        }
        assert!(cache.get(&4).is_some());
        assert!(cache.get(&0).is_none());
    }
}

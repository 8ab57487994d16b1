//! Applying the change log to the caches: a server's own writes at once, everyone else's (the
//! CLI, other replicas) as soon as PostgreSQL's NOTIFY announces them, and by polling every
//! [`CHANGE_POLL`] (the only way on SQLite, a safety net on PostgreSQL).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Registry;
use crate::change::{CHANGE_POLL, Change, Listener};
use crate::db::{Backend, CHANGES_CHANNEL};
use crate::time::Timestamp;

/// How long to wait before reconnecting a lost PostgreSQL listener.
const RELISTEN: Duration = Duration::from_secs(1);

/// More changes than this in one poll: drop everything instead of applying them one by one.
const BATCH: i64 = 1000;

/// Change-log rows older than this are deleted (servers read only the newest ones).
const KEEP_CHANGES: Duration = Duration::from_secs(24 * 3600);

impl Registry {
    /// Registers a cache of a protocol crate to be invalidated with the core's.
    pub fn on_change(&self, listener: Listener) {
        self.0
            .listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
    }

    /// Reads the changes not applied yet and applies them. Called after every local write and
    /// by the watcher; failures are logged (the next poll retries).
    pub async fn catch_up(&self) {
        let _one_at_a_time = self.0.catching_up.lock().await;
        let after = self.0.applied.load(Ordering::Acquire);
        match self.0.db.changes_since(after, BATCH).await {
            Ok(rows) if rows.len() as i64 >= BATCH => {
                self.apply(Change::All);
                if let Some((seq, _)) = rows.last() {
                    self.0.applied.store(*seq, Ordering::Release);
                }
            }
            Ok(rows) => {
                for (seq, change) in rows {
                    self.apply(change);
                    self.0.applied.store(seq, Ordering::Release);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the change log"),
        }
    }

    /// Follows the change log until the process ends (and prunes it now and then).
    pub fn spawn_change_watcher(&self) -> tokio::task::JoinHandle<()> {
        if self.0.db.backend() == Backend::Postgres {
            self.spawn_listener();
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHANGE_POLL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let prune_every = (3600 * 1000 / CHANGE_POLL.as_millis()).max(1);
            for n in 0u128.. {
                tick.tick().await;
                this.catch_up().await;
                if n % prune_every == 0 {
                    let before = Timestamp(Timestamp::now().0 - KEEP_CHANGES.as_millis() as i64);
                    if let Err(e) = this.0.db.prune_changes(before).await {
                        tracing::warn!(error = %e, "could not prune the change log");
                    }
                }
            }
        })
    }

    /// Catches up whenever PostgreSQL announces a change; reconnects when the connection drops.
    fn spawn_listener(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect(this.0.db.url()).await {
                    Ok(mut listener) => match listener.listen(CHANGES_CHANNEL).await {
                        Ok(()) => {
                            // Changes made while (re)connecting are picked up here.
                            this.catch_up().await;
                            while let Ok(_notification) = listener.recv().await {
                                this.catch_up().await;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "could not LISTEN for changes"),
                    },
                    Err(e) => tracing::warn!(error = %e, "change listener cannot connect"),
                }
                tokio::time::sleep(RELISTEN).await;
            }
        });
    }

    /// Drops what `change` affects from every cache.
    fn apply(&self, change: Change) {
        let inner = &self.0;
        inner.generation.bump();
        match change {
            Change::Package(id) => {
                inner.packages.invalidate(|_, p| p.id == id);
                // The change may be a package's first release: its name joins the lists.
                inner.names.clear();
            }
            Change::Org(org) => inner.grants.invalidate(|(o, _), _| *o == org),
            Change::Tokens => inner.tokens.clear(),
            Change::All => {
                inner.sellers.clear();
                inner.tokens.clear();
                inner.packages.clear();
                inner.grants.clear();
                inner.names.clear();
            }
        }
        let listeners = inner.listeners.read().unwrap_or_else(|e| e.into_inner());
        for listener in listeners.iter() {
            listener(&change);
        }
    }
}

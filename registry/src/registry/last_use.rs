//! Tokens' last uses (see [`crate::last_use`]): noted on every authenticated request, written by
//! a background task in batches and once more at shutdown, read by the CLI and the pages.

use std::collections::HashMap;
use std::time::Duration;

use http::{HeaderMap, header};

use super::{Caller, Registry};
use crate::Result;
use crate::ids::{SellerId, TokenId};
use crate::last_use::{self, LastUse};

impl Registry {
    /// Notes that `caller` was just authenticated for a request with `headers`: no write, no
    /// allocation once the token is in the map. Called once, where every protocol's caller is
    /// authenticated ([`Registry::caller`]).
    pub(crate) fn note_use(&self, caller: &Caller, headers: &HeaderMap) {
        self.0.last_use.note(
            &caller.0.id.0,
            headers.get(header::USER_AGENT).map(|v| v.as_bytes()),
            last_use::peer(),
        );
    }

    /// Starts noting uses and writing them every `every`; a zero `every` leaves recording off.
    /// The server calls it once; [`Registry::write_last_uses`] at shutdown writes the rest.
    pub fn spawn_last_use_writer(&self, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        if every.is_zero() {
            return None;
        }
        self.0.last_use.enable(true);
        let this = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                this.write_last_uses().await;
            }
        }))
    }

    /// Writes the uses noted since the last write, in one transaction (per 500 tokens). On a
    /// failure they are kept for the next try and the failure is logged.
    pub async fn write_last_uses(&self) {
        let uses = self.0.last_use.take();
        if uses.is_empty() {
            return;
        }
        if let Err(e) = self.0.db.record_last_uses(&uses).await {
            tracing::warn!(error = %e, tokens = uses.len(), "could not write tokens' last uses");
            self.0.last_use.put_back(uses);
        }
    }

    /// Every token's last use as written (of `seller`'s, when given): what `tollgate token
    /// list` shows, from any process.
    pub async fn last_uses(&self, seller: Option<SellerId>) -> Result<HashMap<TokenId, LastUse>> {
        self.0.db.last_uses(seller).await
    }

    /// The use of token `id` this server noted and has not written yet (the pages show the
    /// newer of it and the written one).
    pub fn pending_last_use(&self, id: &TokenId) -> Option<LastUse> {
        self.0.last_use.pending(&id.0)
    }
}

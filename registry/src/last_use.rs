//! When each token was last used, from which address and which client, without a database write
//! per request: every authenticated request notes (token id → time, peer address, User-Agent) in
//! an in-memory map, and a background task writes what changed in one transaction every few
//! seconds (and once more at shutdown), see `registry::last_use`.
//!
//! The note is the hot path's only cost: one of [`SHARDS`] uncontended mutexes chosen by the
//! token id, a hash lookup by `&str` (no allocation once a token is in the map), a clock read
//! and a copy of at most [`AGENT_MAX`] bytes of the User-Agent into a fixed buffer. Formatting
//! (the address, the agent as text) happens at write time, off the request.
//!
//! The peer address is not something a protocol handler passes around: the listener runs each
//! connection inside [`with_peer`], and [`peer`] reads it back wherever the caller is
//! authenticated (`None` outside a served connection: router tests, the CLI).

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use crate::time::Timestamp;

/// How much of a User-Agent is kept (bytes; the rest is cut).
pub const AGENT_MAX: usize = 128;

/// Mutexes the map is split over: requests on different tokens rarely meet on one.
const SHARDS: usize = 32;

tokio::task_local! {
    static PEER: IpAddr;
}

/// Runs `connection` (one client connection's whole life) with its peer address visible to
/// [`peer`].
pub async fn with_peer<F: Future>(peer: IpAddr, connection: F) -> F::Output {
    PEER.scope(peer, connection).await
}

/// The address of the client whose connection is being served, if any.
pub fn peer() -> Option<IpAddr> {
    PEER.try_with(|p| *p).ok()
}

/// A token's last use as the pages and the CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastUse {
    pub at: Timestamp,
    /// The client's address (the TCP peer: a proxy in front of Tollgate shows as itself).
    pub ip: Option<String>,
    /// The client's User-Agent, at most [`AGENT_MAX`] bytes of it.
    pub agent: Option<String>,
}

impl LastUse {
    /// The newer of two.
    pub fn newest(a: Option<LastUse>, b: Option<LastUse>) -> Option<LastUse> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if b.at > a.at { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// "2026-10-01 12:00 UTC from 192.0.2.7 (npm/11.19.1 …)", for the CLI and the pages.
    pub fn describe(&self) -> String {
        let mut s = self
            .at
            .to_datetime()
            .format("%Y-%m-%d %H:%M UTC")
            .to_string();
        if let Some(ip) = &self.ip {
            s.push_str(" from ");
            s.push_str(ip);
        }
        if let Some(agent) = &self.agent {
            s.push_str(" (");
            s.push_str(agent);
            s.push(')');
        }
        s
    }
}

/// One token's use as noted on the hot path: plain bytes, no allocation.
#[derive(Clone, Copy)]
struct Noted {
    at: i64,
    ip: Option<IpAddr>,
    agent_len: u8,
    agent: [u8; AGENT_MAX],
    /// Noted since the last write.
    dirty: bool,
}

impl Noted {
    fn set(&mut self, at: i64, agent: Option<&[u8]>, ip: Option<IpAddr>) {
        let agent = agent.unwrap_or_default();
        let n = agent.len().min(AGENT_MAX);
        self.agent[..n].copy_from_slice(&agent[..n]);
        self.agent_len = n as u8;
        self.at = self.at.max(at);
        self.ip = ip;
        self.dirty = true;
    }

    fn to_last_use(self) -> LastUse {
        let agent = &self.agent[..usize::from(self.agent_len)];
        // A cut inside a multi-byte character drops that character, not the whole agent.
        let text = match std::str::from_utf8(agent) {
            Ok(text) => text.to_owned(),
            Err(e) if e.error_len().is_none() => {
                String::from_utf8_lossy(&agent[..e.valid_up_to()]).into_owned()
            }
            Err(_) => String::from_utf8_lossy(agent).into_owned(),
        };
        LastUse {
            at: Timestamp(self.at),
            ip: self.ip.map(|ip| ip.to_string()),
            agent: (!text.is_empty()).then_some(text),
        }
    }
}

/// One shard: token id → its last use not yet written.
type Shard = Mutex<HashMap<Box<str>, Noted>>;

/// The in-memory map of last uses not yet written, sharded by token id.
pub struct LastUses {
    /// Off until a server starts writing (the CLI and in-process tests note nothing).
    enabled: AtomicBool,
    hasher: RandomState,
    shards: Box<[Shard]>,
}

impl Default for LastUses {
    fn default() -> Self {
        Self {
            enabled: AtomicBool::new(false),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl LastUses {
    /// Starts (or stops) noting uses.
    pub fn enable(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    fn shard(&self, token: &str) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Noted>> {
        let i = self.hasher.hash_one(token) as usize % self.shards.len();
        self.shards[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that `token` was used now by `agent` from `ip`: the hot path's one call.
    pub fn note(&self, token: &str, agent: Option<&[u8]>, ip: Option<IpAddr>) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        let at = Timestamp::now().0;
        let mut shard = self.shard(token);
        match shard.get_mut(token) {
            Some(noted) => noted.set(at, agent, ip),
            None => {
                let mut noted = Noted {
                    at,
                    ip: None,
                    agent_len: 0,
                    agent: [0; AGENT_MAX],
                    dirty: false,
                };
                noted.set(at, agent, ip);
                shard.insert(token.into(), noted);
            }
        }
    }

    /// The uses noted since the last call, to write; tokens not used since then are forgotten
    /// (the map holds only recently used tokens).
    pub fn take(&self) -> Vec<(String, LastUse)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            shard.retain(|token, noted| {
                if !noted.dirty {
                    return false;
                }
                noted.dirty = false;
                out.push((token.to_string(), noted.to_last_use()));
                true
            });
        }
        out
    }

    /// Puts back uses whose write failed, unless the token was used again since.
    pub fn put_back(&self, failed: Vec<(String, LastUse)>) {
        for (token, used) in failed {
            let mut shard = self.shard(&token);
            let noted = shard.entry(token.into()).or_insert(Noted {
                at: i64::MIN,
                ip: None,
                agent_len: 0,
                agent: [0; AGENT_MAX],
                dirty: false,
            });
            if noted.at < used.at.0 {
                let ip = used.ip.as_deref().and_then(|ip| ip.parse().ok());
                noted.set(used.at.0, used.agent.as_deref().map(str::as_bytes), ip);
            }
            noted.dirty = true;
        }
    }

    /// The use of `token` noted here and not written yet, if any.
    pub fn pending(&self, token: &str) -> Option<LastUse> {
        self.shard(token)
            .get(token)
            .filter(|n| n.dirty)
            .map(|n| n.to_last_use())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> LastUses {
        let uses = LastUses::default();
        uses.enable(true);
        uses
    }

    #[test]
    fn nothing_is_noted_until_enabled() {
        let uses = LastUses::default();
        uses.note("t1", Some(b"npm/11"), None);
        assert!(uses.take().is_empty());
    }

    #[test]
    fn the_last_use_is_taken_once_and_idle_tokens_are_forgotten() {
        let uses = on();
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        uses.note("t1", Some(b"curl/8"), None);
        uses.note("t1", Some(b"npm/11.19.1 node/v20"), Some(ip));
        uses.note("t2", None, None);
        let mut taken = uses.take();
        taken.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(taken.len(), 2, "{taken:?}");
        let (token, t1) = &taken[0];
        assert_eq!(token, "t1");
        assert_eq!(t1.ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(t1.agent.as_deref(), Some("npm/11.19.1 node/v20"));
        assert!(t1.at.0 > 0);
        assert_eq!(
            (taken[1].1.ip.clone(), taken[1].1.agent.clone()),
            (None, None)
        );
        assert_eq!(uses.pending("t1"), None, "written: nothing pending");
        assert!(uses.take().is_empty(), "nothing new");
        let kept: usize = uses
            .shards
            .iter()
            .map(|s| s.lock().expect("shard").len())
            .sum();
        assert_eq!(kept, 0, "tokens idle for a whole period are forgotten");
        uses.note("t1", Some(b"yarn/1.22.22"), None);
        assert_eq!(
            uses.pending("t1").and_then(|u| u.agent).as_deref(),
            Some("yarn/1.22.22")
        );
    }

    #[test]
    fn agents_are_cut_to_the_limit_on_a_character_boundary() {
        let uses = on();
        let long = "é".repeat(AGENT_MAX);
        uses.note("t", Some(long.as_bytes()), None);
        let agent = uses.pending("t").and_then(|u| u.agent).expect("agent");
        assert_eq!(agent, "é".repeat(AGENT_MAX / 2));
        uses.note("t", Some(b"\xff\xfebad"), None);
        let agent = uses.pending("t").and_then(|u| u.agent).expect("agent");
        assert_eq!(agent, "\u{fffd}\u{fffd}bad");
    }

    #[test]
    fn a_failed_write_is_retried_unless_a_newer_use_came() {
        let uses = on();
        uses.note("t", Some(b"old"), None);
        let failed = uses.take();
        uses.put_back(failed.clone());
        assert_eq!(uses.take(), failed, "put back as it was");
        uses.note("t", Some(b"new"), None);
        uses.put_back(failed);
        let again = uses.take();
        assert_eq!(again.len(), 1);
        assert_eq!(
            again[0].1.agent.as_deref(),
            Some("new"),
            "the newer use wins"
        );
    }

    #[tokio::test]
    async fn the_peer_is_known_inside_its_connection_only() {
        let ip: IpAddr = "192.0.2.9".parse().expect("ip");
        assert_eq!(peer(), None);
        assert_eq!(with_peer(ip, async { peer() }).await, Some(ip));
    }

    #[test]
    fn descriptions_name_time_place_and_client() {
        let used = LastUse {
            at: Timestamp(0),
            ip: Some("192.0.2.7".into()),
            agent: Some("npm/11".into()),
        };
        assert_eq!(
            used.describe(),
            "1970-01-01 00:00 UTC from 192.0.2.7 (npm/11)"
        );
        let newer = LastUse {
            at: Timestamp(5),
            ip: None,
            agent: None,
        };
        assert_eq!(
            LastUse::newest(Some(used.clone()), Some(newer.clone())),
            Some(newer.clone())
        );
        assert_eq!(LastUse::newest(Some(used.clone()), None), Some(used));
    }
}

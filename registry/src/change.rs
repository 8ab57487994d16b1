//! What a write changed. Every transaction that changes what a caller may see appends one
//! [`Change`] to the database's change log; each server applies the log to its caches (its own
//! writes at once, others' by polling), dropping only what the change affects.

use std::fmt;
use std::str::FromStr;

use crate::ids::{OrgId, PackageId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A release, tag or yank of one package.
    Package(PackageId),
    /// An entitlement of one org.
    Org(OrgId),
    /// Tokens or seats (revocations): every cached token is dropped.
    Tokens,
    /// Anything else (products and their packages): drop every cache.
    All,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Package(id) => write!(f, "package:{id}"),
            Self::Org(id) => write!(f, "org:{id}"),
            Self::Tokens => f.write_str("tokens"),
            Self::All => f.write_str("all"),
        }
    }
}

impl FromStr for Change {
    type Err = ();
    /// Unknown scopes (from a newer server) read as `All`: safe, only slower.
    fn from_str(s: &str) -> Result<Self, ()> {
        let id = |v: &str| v.parse::<i64>().map_err(|_| ());
        Ok(match s.split_once(':') {
            Some(("package", v)) => Self::Package(PackageId(id(v)?)),
            Some(("org", v)) => Self::Org(OrgId(id(v)?)),
            _ if s == "tokens" => Self::Tokens,
            _ => Self::All,
        })
    }
}

/// How often a server reads the change log: the bound on how long a change made by the CLI or
/// another replica can go unseen (on PostgreSQL, NOTIFY usually delivers it within milliseconds).
pub const CHANGE_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Called with every change applied, for caches that live outside the core (rendered indexes).
pub type Listener = std::sync::Arc<dyn Fn(&Change) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for c in [
            Change::Package(PackageId(7)),
            Change::Org(OrgId(3)),
            Change::Tokens,
            Change::All,
        ] {
            assert_eq!(c.to_string().parse::<Change>(), Ok(c));
        }
        assert_eq!("from-the-future".parse::<Change>(), Ok(Change::All));
    }
}

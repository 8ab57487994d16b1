//! Why the key could not be loaded or a stored secret could not be opened.

use std::io;
use std::path::PathBuf;

use super::source::{KEY_ENV, KeySource};

/// Why the key could not be loaded, or a stored secret could not be opened.
///
/// Its own enum rather than a variant of [`crate::Error`]: these are the operator's
/// configuration errors (shown at start-up, or logged as internal errors at request time), never
/// something to tell a client.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `TOLLGATE_SECRET_KEY` is set but is not a 32-byte key.
    #[error(
        "{KEY_ENV} {0}; it must be 32 bytes written as 64 hex digits or as base64 \
         (make one with `openssl rand -base64 32`)"
    )]
    EnvKey(String),
    /// The key file exists but does not hold a key.
    #[error("the key file {} {why}; it must hold 32 bytes as base64 or 64 hex digits", path.display())]
    KeyFile { path: PathBuf, why: String },
    /// The key file could not be read or created.
    #[error("cannot {action} the key file {}: {source}", path.display())]
    KeyFileIo {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A stored value is not sealed text at all (truncated, or never sealed).
    #[error("a stored secret is malformed: {0}")]
    Malformed(&'static str),
    /// A stored value sealed by a newer Tollgate.
    #[error("a stored secret has format {0:?}, which this version of Tollgate cannot read")]
    UnsupportedVersion(String),
    /// A value in the unbound `v1` format that start-up could not rebind (see [`bind_legacy`](super::bind_legacy)).
    #[error(
        "a stored secret is in the unbound v1 format: it is rebound to its row at start-up, \
         and this one could not be (sealed with another key, or planted from elsewhere)"
    )]
    Unbound,
    /// The key differs from the one the value was sealed with, or the value was sealed for
    /// another row or purpose, or altered: an AEAD cannot tell these apart.
    #[error("cannot decrypt a stored secret: {} differs from the one it was sealed with{}, \
        or the value belongs to another row", .0.describe(), .0.hint())]
    WrongKey(KeySource),
}

//! The core's one error type. Protocols map it onto their client's status codes and envelopes.

/// What went wrong in the core, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named thing does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// The write would overwrite or duplicate something that exists.
    #[error("{0}")]
    Conflict(String),
    /// The input is malformed or breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request body is (or announces itself) larger than the limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),
    /// The package store (S3) failed or cannot be reached; the message names the bucket/endpoint.
    #[error("{0}")]
    Store(String),
    /// A server-side failure (a stored key that does not open, …): logged, never shown.
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The database (or store) cannot be reached right now: clients should retry (503), and
    /// the server recovers by itself when it is back.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(e) => matches!(
                e,
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::WorkerCrashed
            ),
            // A store failure at run time (S3 unreachable, throttled): worth retrying.
            Self::Store(_) => true,
            _ => false,
        }
    }

    /// Maps a unique-constraint violation to [`Error::Conflict`] in one place, so every backend
    /// reports "already exists" the same way.
    pub(crate) fn from_db(err: sqlx::Error, conflict: impl FnOnce() -> String) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict(conflict()),
            _ => Self::Database(err),
        }
    }
}

/// How a protocol should answer an error: what the client may be told. Internal details are
/// logged here (with the request's span) and never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    NotFound(String),
    Conflict(String),
    Forbidden(String),
    Invalid(String),
    /// The body is larger than the server accepts (413).
    TooLarge(String),
    /// The database or store is down: retry later (503).
    Unavailable,
    /// A bug or an unexpected failure (500).
    Internal,
}

/// What clients are told when the backends are down.
pub const UNAVAILABLE: &str =
    "the registry's database is unavailable right now; try again in a moment";
/// What clients are told about an unexpected failure.
pub const INTERNAL: &str = "internal server error; it has been logged";

impl Error {
    /// Sorts the error for a protocol's answer, logging what must not reach the client.
    pub fn answer(self) -> Answer {
        match self {
            Self::NotFound(what) => Answer::NotFound(format!("{what} not found")),
            Self::Conflict(m) => Answer::Conflict(m),
            Self::Forbidden(m) => Answer::Forbidden(m),
            Self::Invalid(m) => Answer::Invalid(m),
            Self::TooLarge(m) => Answer::TooLarge(m),
            other if other.is_unavailable() => {
                tracing::error!(error = %other, "backend unavailable");
                Answer::Unavailable
            }
            other => {
                tracing::error!(error = %other, "request failed");
                Answer::Internal
            }
        }
    }
}

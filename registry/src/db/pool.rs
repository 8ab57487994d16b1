//! The port's connection: [`Db`] (the pool and its backend), its transactions, and the change
//! log every write appends to.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, Connection, Executor, Transaction};
use std::str::FromStr;

use crate::change::Change;
use crate::time::Timestamp;
use crate::{Error, Result};

/// The database products Tollgate runs on, chosen by URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` or `postgresql://` means PostgreSQL; anything else (a path, `sqlite:`) SQLite.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

/// The advisory lock key that orders change-log writers on PostgreSQL ("tollgate" in ASCII).
const CHANGE_LOG_LOCK: i64 = 0x746f_6c6c_6761_7465;

/// The PostgreSQL channel every change is announced on (the payload is its sequence number).
pub const CHANGES_CHANNEL: &str = "tollgate_changes";

mod port {
    use super::Backend;

    /// The port itself. It lives in a private module and is re-exported only to the crate: other
    /// crates call the operations of [`crate::Registry`] and read pages through
    /// [`crate::views::Views`], never the tables.
    #[derive(Debug, Clone)]
    pub struct Db {
        pub(crate) pool: sqlx::AnyPool,
        pub(crate) backend: Backend,
        pub(crate) url: String,
    }
}
pub(crate) use port::Db;

pub(super) type Tx = Transaction<'static, Any>;

impl Db {
    /// Opens the database at `url` (creating a SQLite file if needed) and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url);
        let url = match backend {
            Backend::Postgres => url.to_owned(),
            Backend::Sqlite if url.starts_with("sqlite:") => url.to_owned(),
            Backend::Sqlite => format!("sqlite://{url}?mode=rwc"),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        // One direct connection first: its error says why (refused, bad password, no such
        // database), where the pool would only say that it timed out.
        sqlx::AnyConnection::connect_with(&options)
            .await?
            .close()
            .await?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; writers wait for each other.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let db = Self { pool, backend, url };
        db.migrate().await?;
        Ok(db)
    }

    pub(crate) async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("../migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL this database was opened with (for a PostgreSQL change listener).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Is the database answering? (`/readyz`)
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
    /// two writers queue on the busy timeout instead of failing on a lock upgrade.
    pub(super) async fn write(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The last change's sequence number (0 when there is none).
    pub async fn last_change(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM change_log")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Changes after `seq`, oldest first, at most `limit`.
    pub async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<(i64, Change)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, scope FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seq, scope)| (seq, scope.parse().unwrap_or(Change::All)))
            .collect())
    }

    /// Deletes change-log rows older than `before` (servers only read recent ones).
    pub async fn prune_changes(&self, before: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM change_log WHERE at < $1")
            .bind(before.0)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// Records, inside the writing transaction, what it changed (see `change`). On PostgreSQL the
/// change is also announced with NOTIFY, delivered to every replica when the transaction commits.
///
/// Readers follow the log by sequence number, so sequence order must be commit order: on
/// PostgreSQL a transaction-scoped advisory lock, held from here to COMMIT, makes writers take
/// their numbers one after the other (otherwise a reader could see N+1 commit before N and skip
/// N forever). SQLite writers are serialised already.
pub(super) async fn log_change(tx: &mut Tx, backend: Backend, change: Change) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CHANGE_LOG_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    let seq: i64 =
        sqlx::query_scalar("INSERT INTO change_log (scope, at) VALUES ($1, $2) RETURNING seq")
            .bind(change.to_string())
            .bind(Timestamp::now().0)
            .fetch_one(&mut **tx)
            .await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES_CHANNEL)
            .bind(seq.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub(super) fn not_found(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let what = what.into();
    move |e| match e {
        sqlx::Error::RowNotFound => Error::NotFound(what),
        other => Error::Database(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://tg:s3cret@db:5432/tg"),
            "postgres://tg:***@db:5432/tg"
        );
        assert_eq!(redact_url("postgres://tg@db/tg"), "postgres://tg@db/tg");
        assert_eq!(redact_url("./data/tollgate.db"), "./data/tollgate.db");
    }

    #[test]
    fn backend_follows_the_url() {
        assert_eq!(Backend::of("postgres://x/y"), Backend::Postgres);
        assert_eq!(Backend::of("postgresql://x/y"), Backend::Postgres);
        assert_eq!(Backend::of("sqlite:data.db"), Backend::Sqlite);
        assert_eq!(Backend::of("./data/tollgate.db"), Backend::Sqlite);
    }
}

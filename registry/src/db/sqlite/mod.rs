//! SQLite backend (the embedded default): one file, WAL mode, write transactions taken with
//! `BEGIN IMMEDIATE` so concurrent writers (server and CLI) queue instead of failing.

mod accounts;
mod releases;
mod tokens;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

use crate::change::Change;
use crate::time::Timestamp;
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct SqliteDb {
    pool: SqlitePool,
}

type Tx = Transaction<'static, Sqlite>;

impl SqliteDb {
    pub async fn connect(url: &str) -> Result<Self> {
        let url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    async fn write(&self) -> Result<Tx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
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
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, scope FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?")
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
        Ok(sqlx::query("DELETE FROM change_log WHERE at < ?")
            .bind(before.0)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// Records, inside the writing transaction, what it changed (see `change`).
async fn log_change(tx: &mut Tx, change: Change) -> Result<()> {
    sqlx::query("INSERT INTO change_log (scope, at) VALUES (?, ?)")
        .bind(change.to_string())
        .bind(Timestamp::now().0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn not_found(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let what = what.into();
    move |e| match e {
        sqlx::Error::RowNotFound => Error::NotFound(what),
        other => Error::Database(other),
    }
}

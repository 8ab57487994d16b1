//! SQLite backend (the embedded default): one file, WAL mode, write transactions taken with
//! `BEGIN IMMEDIATE` so concurrent writers (server and CLI) queue instead of failing.

mod accounts;
mod releases;
mod tokens;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

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

    pub async fn change_epoch(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM change_epoch WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

/// Marks the transaction as changing what callers may see (see `cache`).
async fn bump_epoch(tx: &mut Tx) -> Result<()> {
    sqlx::query("UPDATE change_epoch SET value = value + 1 WHERE id = 1")
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

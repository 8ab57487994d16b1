//! The web pages' session records (tower-sessions' store, in the database so that replicas
//! share them). Nothing else reads them: they are not part of the core's port.

use crate::Result;
use crate::db::Db;
use crate::time::Timestamp;

/// Session records, from [`crate::Registry::sessions`].
#[derive(Debug, Clone)]
pub struct Sessions(pub(crate) Db);

impl Sessions {
    /// The session record stored under `id`, unless it expired.
    pub async fn session_load(&self, id: &str, now: Timestamp) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT data FROM web_sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now.0)
                .fetch_optional(&self.0.pool)
                .await?,
        )
    }

    /// Stores a new session; `false` when the id is taken (the caller picks another).
    pub async fn session_create(
        &self,
        id: &str,
        data: &str,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO web_sessions (id, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at.0)
        .execute(&self.0.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Creates or replaces the session stored under `id`.
    pub async fn session_save(&self, id: &str, data: &str, expires_at: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO web_sessions (id, data, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at.0)
        .execute(&self.0.pool)
        .await?;
        Ok(())
    }

    pub async fn session_delete(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.0.pool)
            .await?;
        Ok(())
    }

    /// How many sessions are stored and not expired (operators, and the tests that show an
    /// anonymous visitor stores none).
    pub async fn live_sessions(&self, now: Timestamp) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions WHERE expires_at > $1")
                .bind(now.0)
                .fetch_one(&self.0.pool)
                .await?,
        )
    }

    /// Deletes expired sessions, used links and old sign-in requests older than `before`.
    pub async fn prune_web(&self, now: Timestamp, before: Timestamp) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(now.0)
            .execute(&self.0.pool)
            .await?;
        sqlx::query("DELETE FROM web_sign_in_requests WHERE at < $1")
            .bind(before.0)
            .execute(&self.0.pool)
            .await?;
        Ok(())
    }
}

//! Sessions stored in Tollgate's own database (SQLite or PostgreSQL, whichever the server runs
//! on), so that every replica sees a sign-in and a sign-out at once.

use async_trait::async_trait;
use tollgate_registry::db::Db;
use tollgate_registry::time::Timestamp;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// A [`SessionStore`] over the registry's database (`web_sessions`).
#[derive(Clone, Debug)]
pub struct DbStore {
    db: Db,
}

impl DbStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<(String, Timestamp)> {
    let data =
        serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires = Timestamp((record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64);
    Ok((data, expires))
}

#[async_trait]
impl SessionStore for DbStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let (data, expires) = encode(record)?;
            if self
                .db
                .session_create(&record.id.to_string(), &data, expires)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            // An id collision (2^-128): take another.
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (data, expires) = encode(record)?;
        self.db
            .session_save(&record.id.to_string(), &data, expires)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(data) = self
            .db
            .session_load(&id.to_string(), Timestamp::now())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        serde_json::from_str(&data)
            .map(Some)
            .map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db
            .session_delete(&id.to_string())
            .await
            .map_err(backend)
    }
}

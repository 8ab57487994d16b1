//! Sessions stored in Tollgate's own database (SQLite or PostgreSQL, whichever the server runs
//! on), so that every replica sees a sign-in and a sign-out at once.

use std::time::Duration;

use async_trait::async_trait;
use tollgate_registry::time::Timestamp;
use tollgate_registry::views::Sessions;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::auth::WHO;

/// A [`SessionStore`] over the registry's database (`web_sessions`).
#[derive(Clone, Debug)]
pub struct DbStore {
    db: Sessions,
}

impl DbStore {
    pub fn new(db: Sessions) -> Self {
        Self { db }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// A session that is not signed in is kept at most this long. Nothing stores one (anonymous
/// pages keep their form token in a cookie, see [`crate::csrf`]); should a page ever do so,
/// such rows still cannot pile up for the week a signed-in session lasts.
pub const UNSIGNED_TTL: Duration = Duration::from_secs(15 * 60);

fn encode(record: &Record, now: Timestamp) -> session_store::Result<(String, Timestamp)> {
    let data =
        serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let mut expires = Timestamp((record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64);
    if !record.data.contains_key(WHO) {
        expires = expires.min(Timestamp(now.0 + UNSIGNED_TTL.as_millis() as i64));
    }
    Ok((data, expires))
}

#[async_trait]
impl SessionStore for DbStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let (data, expires) = encode(record, Timestamp::now())?;
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
        let (data, expires) = encode(record, Timestamp::now())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(signed_in: bool) -> Record {
        let mut data = std::collections::HashMap::new();
        if signed_in {
            data.insert(
                WHO.to_owned(),
                serde_json::json!({"kind": "seller", "seller": 1}),
            );
        }
        Record {
            id: Id::default(),
            data,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(10_000_000).expect("a date"),
        }
    }

    #[test]
    fn only_a_signed_in_session_lasts_its_full_expiry() {
        let now = Timestamp(1_000_000);
        let (_, signed_in) = encode(&record(true), now).expect("encode");
        assert_eq!(signed_in, Timestamp(10_000_000_000));
        let (_, anonymous) = encode(&record(false), now).expect("encode");
        assert_eq!(
            anonymous,
            Timestamp(now.0 + UNSIGNED_TTL.as_millis() as i64)
        );
    }
}

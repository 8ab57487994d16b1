//! Per-seller key pairs (the Hex registry signing key, the license signing key). The database
//! holds the private half as given (sealed by the caller when a secret key is configured).

use super::Db;
use crate::Result;
use crate::ids::SellerId;
use crate::time::Timestamp;

/// A stored key pair: `secret` as stored, `public` as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub secret: String,
    pub public: String,
}

impl Db {
    pub async fn seller_key(&self, seller: SellerId, purpose: &str) -> Result<Option<StoredKey>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT secret, public FROM seller_keys WHERE seller_id = $1 AND purpose = $2",
        )
        .bind(seller.0)
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(secret, public)| StoredKey { secret, public }))
    }

    /// Stores `key` unless the seller has one for `purpose` already; returns the one that is
    /// stored afterwards, so two servers creating a key at once agree on a single key.
    pub async fn insert_seller_key(
        &self,
        seller: SellerId,
        purpose: &str,
        key: &StoredKey,
    ) -> Result<StoredKey> {
        sqlx::query(
            "INSERT INTO seller_keys (seller_id, purpose, secret, public, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seller_id, purpose) DO NOTHING",
        )
        .bind(seller.0)
        .bind(purpose)
        .bind(&key.secret)
        .bind(&key.public)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await?;
        self.seller_key(seller, purpose)
            .await?
            .ok_or_else(|| crate::Error::NotFound(format!("the {purpose} key of seller {seller}")))
    }
}

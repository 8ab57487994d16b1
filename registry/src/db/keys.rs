//! Per-seller key pairs (the Hex registry signing key, the license signing key). The database
//! holds the private half as given (sealed by the caller, bound to its row: see
//! [`crate::secret`]), and the places of every sealed value, for rebinding old ones.

use super::pool::Db;
use crate::Result;
use crate::ids::SellerId;
use crate::secret::Binding;
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

/// Where a sealed value is stored: which column of which seller's row. It names the
/// [`Binding`] the value is sealed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedPlace {
    /// `seller_stripe.secret_key`.
    StripeSecretKey,
    /// `seller_stripe.webhook_secret`.
    StripeWebhookSecret,
    /// `seller_keys.secret` of the key pair for this purpose.
    SellerKey(String),
}

/// One stored sealed value and its place, as [`Db::legacy_sealed`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCell {
    pub place: SealedPlace,
    pub seller: SellerId,
    pub value: String,
}

impl SealedCell {
    /// What the value must be sealed for, where it is.
    pub fn binding(&self) -> Binding {
        match &self.place {
            SealedPlace::StripeSecretKey => Binding::stripe_secret_key(self.seller),
            SealedPlace::StripeWebhookSecret => Binding::stripe_webhook_secret(self.seller),
            SealedPlace::SellerKey(purpose) => Binding::seller_key(purpose, self.seller),
        }
    }
}

impl Db {
    /// Every sealed value still in the unbound `v1` format (see [`crate::secret::bind_legacy`]).
    pub async fn legacy_sealed(&self) -> Result<Vec<SealedCell>> {
        let mut cells = Vec::new();
        let stripe: Vec<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT seller_id, secret_key, webhook_secret FROM seller_stripe
             WHERE secret_key LIKE 'v1:%' OR webhook_secret LIKE 'v1:%' ORDER BY seller_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for (seller, secret_key, webhook_secret) in stripe {
            for (place, value) in [
                (SealedPlace::StripeSecretKey, secret_key),
                (SealedPlace::StripeWebhookSecret, webhook_secret),
            ] {
                if let Some(value) = value.filter(|v| v.starts_with("v1:")) {
                    cells.push(SealedCell {
                        place,
                        seller: SellerId(seller),
                        value,
                    });
                }
            }
        }
        let keys: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT seller_id, purpose, secret FROM seller_keys WHERE secret LIKE 'v1:%'
             ORDER BY seller_id, purpose",
        )
        .fetch_all(&self.pool)
        .await?;
        cells.extend(keys.into_iter().map(|(seller, purpose, value)| SealedCell {
            place: SealedPlace::SellerKey(purpose),
            seller: SellerId(seller),
            value,
        }));
        Ok(cells)
    }

    /// Replaces `cell`'s value with `sealed` if it still holds the value read; `false` if it
    /// changed meanwhile (another server rebound it, or it was replaced).
    pub async fn reseal(&self, cell: &SealedCell, sealed: &str) -> Result<bool> {
        let (sql, purpose) = match &cell.place {
            SealedPlace::StripeSecretKey => (
                "UPDATE seller_stripe SET secret_key = $1 WHERE seller_id = $2 AND secret_key = $3",
                None,
            ),
            SealedPlace::StripeWebhookSecret => (
                "UPDATE seller_stripe SET webhook_secret = $1
                 WHERE seller_id = $2 AND webhook_secret = $3",
                None,
            ),
            SealedPlace::SellerKey(purpose) => (
                "UPDATE seller_keys SET secret = $1
                 WHERE seller_id = $2 AND secret = $3 AND purpose = $4",
                Some(purpose),
            ),
        };
        let mut query = sqlx::query(sql)
            .bind(sealed)
            .bind(cell.seller.0)
            .bind(&cell.value);
        if let Some(purpose) = purpose {
            query = query.bind(purpose);
        }
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }
}

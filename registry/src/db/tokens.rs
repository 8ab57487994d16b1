//! Tokens: stored by public id with the hash of their secret.

use sqlx::FromRow;

use super::pool::{Db, log_change, not_found};
use crate::change::Change;
use crate::domain::{NewToken, TokenRecord};
use crate::ids::{OrgId, SeatId, SellerId, TokenId};
use crate::time::Timestamp;
use crate::{Error, Result};

#[derive(FromRow)]
struct TokenRow {
    id: String,
    secret_hash: String,
    kind: String,
    seller_id: i64,
    seller_slug: String,
    org_id: Option<i64>,
    org_slug: Option<String>,
    seat_id: Option<i64>,
    seat_email: Option<String>,
    seat_active: Option<i64>,
    packages: String,
    label: Option<String>,
    scope: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = Error;
    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(TokenRecord {
            id: TokenId(r.id),
            secret_hash: r.secret_hash,
            kind: r.kind.parse().map_err(Error::Invalid)?,
            seller_id: SellerId(r.seller_id),
            seller_slug: r.seller_slug,
            org_id: r.org_id.map(OrgId),
            org_slug: r.org_slug,
            seat_id: r.seat_id.map(SeatId),
            seat_email: r.seat_email,
            seat_active: r.seat_active.is_none_or(|a| a != 0),
            packages: serde_json::from_str(&r.packages)
                .map_err(|e| Error::Invalid(format!("token package scope: {e}")))?,
            label: r.label,
            scope: r.scope.parse().map_err(Error::Invalid)?,
            created_at: Timestamp(r.created_at),
            revoked_at: r.revoked_at.map(Timestamp),
        })
    }
}

const SELECT_TOKEN: &str = "SELECT t.id, t.secret_hash, t.kind, t.seller_id, s.slug AS seller_slug,
        t.org_id, o.slug AS org_slug, t.seat_id, st.email AS seat_email, st.active AS seat_active,
        t.packages, t.label, t.scope, t.created_at, t.revoked_at
    FROM tokens t
    JOIN sellers s ON s.id = t.seller_id
    LEFT JOIN orgs o ON o.id = t.org_id
    LEFT JOIN seats st ON st.id = t.seat_id";

impl Db {
    pub async fn create_token(&self, token: &NewToken) -> Result<()> {
        let mut tx = self.write().await?;
        insert_token(&mut tx, token).await?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<TokenRecord> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(at.0)
            .bind(&id.0)
            .execute(&mut *tx)
            .await?;
        let row: TokenRow = sqlx::query_as(&format!("{SELECT_TOKEN} WHERE t.id = $1"))
            .bind(&id.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(not_found(format!("token `{id}`")))?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        row.try_into()
    }

    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>> {
        let row: Option<TokenRow> = sqlx::query_as(&format!("{SELECT_TOKEN} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn tokens(&self, seller: Option<SellerId>) -> Result<Vec<TokenRecord>> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "{SELECT_TOKEN} WHERE $1 IS NULL OR t.seller_id = $1 ORDER BY t.created_at, t.id"
        ))
        .bind(seller.map(|s| s.0))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

/// Inserts a token row inside the caller's transaction (the caller logs the change).
pub(super) async fn insert_token(tx: &mut super::pool::Tx, token: &NewToken) -> Result<()> {
    let packages =
        serde_json::to_string(&token.packages).map_err(|e| Error::Invalid(e.to_string()))?;
    sqlx::query(
        "INSERT INTO tokens (id, secret_hash, kind, seller_id, org_id, seat_id, packages, label,
             scope, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&token.id.0)
    .bind(&token.secret_hash)
    .bind(token.kind.as_str())
    .bind(token.seller_id.0)
    .bind(token.org_id.map(|o| o.0))
    .bind(token.seat_id.map(|s| s.0))
    .bind(packages)
    .bind(token.label.as_deref())
    .bind(token.scope.as_str())
    .bind(Timestamp::now().0)
    .execute(&mut **tx)
    .await
    .map_err(|e| Error::from_db(e, || format!("token `{}` already exists", token.id)))?;
    Ok(())
}

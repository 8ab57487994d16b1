//! Licensing through Stripe: each seller's Stripe connection and plans, the org's seat cap and
//! customer. The subscriptions and webhook events are in `subscriptions`.

use sqlx::FromRow;

use super::pool::{Db, not_found};
use crate::domain::{Plan, SeatMode, VersionRule};
use crate::ids::{OrgId, PlanId, ProductId, SellerId};
use crate::time::Timestamp;
use crate::{Error, Result};

/// A seller's Stripe connection as stored: the secrets sealed by the caller
/// ([`crate::secret::Binding::stripe_secret_key`], [`crate::secret::Binding::stripe_webhook_secret`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeConnection {
    /// The seller's own secret key (sealed); `None` with Connect.
    pub secret_key: Option<String>,
    /// Connect: the seller's connected account (`acct_…`).
    pub account_id: Option<String>,
    /// The signing secret (sealed) of the seller's own endpoint `/{seller}/stripe/webhook`.
    /// `None` for a seller connected through Connect OAuth: its events arrive at the platform's
    /// Connect endpoint, signed with the platform's secret, and it has no endpoint of its own.
    pub webhook_secret: Option<String>,
}

/// A Stripe Connect OAuth `state` as issued (by its hash), for [`Db::connect_state`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectState {
    /// The seller whose signed-in session asked for it.
    pub seller: SellerId,
    pub seller_slug: String,
    pub expires_at: Timestamp,
    /// When it came back from Stripe and was accepted; a state is used once.
    pub used_at: Option<Timestamp>,
}

#[derive(FromRow)]
struct PlanRow {
    id: i64,
    seller_id: i64,
    slug: String,
    product_id: i64,
    product_slug: String,
    product_name: String,
    stripe_price: String,
    seats: String,
    rule: String,
    grace_days: i64,
}

impl TryFrom<PlanRow> for Plan {
    type Error = Error;
    fn try_from(r: PlanRow) -> Result<Self> {
        Ok(Plan {
            id: PlanId(r.id),
            seller_id: SellerId(r.seller_id),
            slug: r.slug,
            product_id: ProductId(r.product_id),
            product_slug: r.product_slug,
            product_name: r.product_name,
            stripe_price: r.stripe_price,
            seats: r.seats.parse().map_err(Error::Invalid)?,
            rule: r.rule.parse().map_err(Error::Invalid)?,
            grace_days: r.grace_days.clamp(0, 365) as u32,
        })
    }
}

const PLAN_SELECT: &str =
    "SELECT pl.id, pl.seller_id, pl.slug, pl.product_id, p.slug AS product_slug,
        p.name AS product_name, pl.stripe_price, pl.seats, pl.rule, pl.grace_days
     FROM plans pl JOIN products p ON p.id = pl.product_id";

impl Db {
    pub async fn set_stripe_connection(
        &self,
        seller: SellerId,
        connection: &StripeConnection,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO seller_stripe (seller_id, secret_key, account_id, webhook_secret, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (seller_id) DO UPDATE SET secret_key = excluded.secret_key,
               account_id = excluded.account_id, webhook_secret = excluded.webhook_secret,
               updated_at = excluded.updated_at",
        )
        .bind(seller.0)
        .bind(&connection.secret_key)
        .bind(&connection.account_id)
        .bind(&connection.webhook_secret)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn stripe_connection(&self, seller: SellerId) -> Result<Option<StripeConnection>> {
        let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT secret_key, account_id, webhook_secret FROM seller_stripe WHERE seller_id = $1",
        )
        .bind(seller.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(secret_key, account_id, webhook_secret)| StripeConnection {
                secret_key,
                account_id,
                webhook_secret,
            },
        ))
    }

    /// Drops the seller's webhook signing secret if it is still `sealed` (compare-and-swap):
    /// the repair of a value no endpoint can use.
    pub async fn clear_webhook_secret(&self, seller: SellerId, sealed: &str) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE seller_stripe SET webhook_secret = NULL, updated_at = $3
             WHERE seller_id = $1 AND webhook_secret = $2",
        )
        .bind(seller.0)
        .bind(sealed)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Records a Connect OAuth state issued to `seller`'s signed-in session (by the hash of the
    /// state, never the state itself), valid until `expires_at`. States expired a day ago are
    /// deleted on the way, so the table holds about a day of presses.
    pub async fn issue_connect_state(
        &self,
        seller: SellerId,
        state_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        let now = Timestamp::now().0;
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM stripe_connect_states WHERE expires_at < $1")
            .bind(now - 24 * 3600 * 1000)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO stripe_connect_states (state_hash, seller_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(state_hash)
        .bind(seller.0)
        .bind(now)
        .bind(expires_at.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| Error::from_db(e, || "this Connect state exists already".to_owned()))?;
        tx.commit().await?;
        Ok(())
    }

    /// The Connect state with this hash, if one was issued (and not yet pruned).
    pub async fn connect_state(&self, state_hash: &str) -> Result<Option<ConnectState>> {
        let row: Option<(i64, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT c.seller_id, s.slug, c.expires_at, c.used_at
             FROM stripe_connect_states c JOIN sellers s ON s.id = c.seller_id
             WHERE c.state_hash = $1",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(seller, seller_slug, expires_at, used_at)| ConnectState {
                seller: SellerId(seller),
                seller_slug,
                expires_at: Timestamp(expires_at),
                used_at: used_at.map(Timestamp),
            }),
        )
    }

    /// Uses `seller`'s Connect state: one UPDATE that succeeds for exactly one caller, and only
    /// while the state is unused and unexpired. `false`: someone used it first, it expired, or it
    /// is not this seller's.
    pub async fn use_connect_state(
        &self,
        seller: SellerId,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE stripe_connect_states SET used_at = $3
             WHERE state_hash = $1 AND seller_id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(state_hash)
        .bind(seller.0)
        .bind(now.0)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn create_plan(
        &self,
        seller: SellerId,
        slug: &str,
        product: ProductId,
        stripe_price: &str,
        seats: SeatMode,
        rule: VersionRule,
        grace_days: u32,
    ) -> Result<Plan> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO plans (seller_id, slug, product_id, stripe_price, seats, rule, grace_days, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8
             WHERE EXISTS (SELECT 1 FROM products WHERE id = $3 AND seller_id = $1)
             RETURNING id",
        )
        .bind(seller.0)
        .bind(slug)
        .bind(product.0)
        .bind(stripe_price)
        .bind(seats.as_str())
        .bind(rule.as_str())
        .bind(i64::from(grace_days))
        .bind(Timestamp::now().0)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| Error::from_db(e, || format!("plan `{slug}` already exists")))?
        .ok_or_else(|| Error::Invalid("the product belongs to another seller".into()))?;
        self.plan_by_id(seller, id).await
    }

    pub async fn plan(&self, seller: SellerId, slug: &str) -> Result<Plan> {
        let row: PlanRow = sqlx::query_as(&format!(
            "{PLAN_SELECT} WHERE pl.seller_id = $1 AND pl.slug = $2"
        ))
        .bind(seller.0)
        .bind(slug)
        .fetch_one(&self.pool)
        .await
        .map_err(not_found(format!("plan `{slug}`")))?;
        row.try_into()
    }

    async fn plan_by_id(&self, seller: SellerId, id: i64) -> Result<Plan> {
        let row: PlanRow = sqlx::query_as(&format!(
            "{PLAN_SELECT} WHERE pl.seller_id = $1 AND pl.id = $2"
        ))
        .bind(seller.0)
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(not_found(format!("plan {id}")))?;
        row.try_into()
    }

    /// The plan sold as Stripe price (or legacy plan) `price`, if any.
    pub async fn plan_by_price(&self, seller: SellerId, price: &str) -> Result<Option<Plan>> {
        let row: Option<PlanRow> = sqlx::query_as(&format!(
            "{PLAN_SELECT} WHERE pl.seller_id = $1 AND pl.stripe_price = $2 ORDER BY pl.id LIMIT 1"
        ))
        .bind(seller.0)
        .bind(price)
        .fetch_optional(&self.pool)
        .await?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn plans(&self, seller: SellerId) -> Result<Vec<Plan>> {
        let rows: Vec<PlanRow> = sqlx::query_as(&format!(
            "{PLAN_SELECT} WHERE pl.seller_id = $1 ORDER BY pl.slug"
        ))
        .bind(seller.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

impl Db {
    /// How many seats the org may hold (`None`: no cap).
    pub async fn seat_cap(&self, org: OrgId) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT seat_cap FROM orgs WHERE id = $1")
                .bind(org.0)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }
}

impl Db {
    /// The Stripe customer the org pays as, if any.
    pub async fn org_customer(&self, org: OrgId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT stripe_customer FROM orgs WHERE id = $1")
                .bind(org.0)
                .fetch_optional(&self.pool)
                .await?
                .flatten(),
        )
    }
}

impl Db {
    /// The slug of the seller connected as Stripe account `account`, if any.
    pub async fn seller_by_stripe_account(&self, account: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT s.slug FROM seller_stripe st JOIN sellers s ON s.id = st.seller_id
             WHERE st.account_id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?)
    }
}

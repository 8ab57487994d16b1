//! The subscriptions that drive entitlements and seat caps, the completed checkouts that make
//! orgs, and the Stripe webhook events applied (each once).

use sqlx::FromRow;

use super::pool::{Db, Tx, log_change, not_found};
use super::seats::claim_seat;
use super::tokens::insert_token;
use crate::change::Change;
use crate::domain::{NewToken, Org, Seat, SeatMode};
use crate::ids::{EntitlementId, OrgId, PlanId, SellerId};
use crate::time::Timestamp;
use crate::{Error, Result};

/// The state of one subscription as last read from Stripe, and what it grants.
#[derive(Debug, Clone)]
pub struct SubscriptionState {
    pub stripe_id: String,
    pub customer_id: String,
    pub plan: PlanId,
    pub status: String,
    pub quantity: i64,
    pub first_failed_at: Option<Timestamp>,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    /// Shown by clients while the entitlement is live (grace period).
    pub warning: Option<String>,
    /// The price per seat, in minor units (cents) per ONE `price_interval` (an interval count
    /// such as "every 3 months" is already divided out), for MRR. `None` if Stripe didn't say
    /// (tiered prices, an unexpanded price).
    pub unit_amount: Option<i64>,
    /// The price's currency, lower-case ISO 4217 (`usd`).
    pub currency: Option<String>,
    /// `day`, `week`, `month` or `year`; `None` if unknown.
    pub price_interval: Option<String>,
}

/// A subscription row: the state above plus the org it belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct SubscriptionRecord {
    pub stripe_id: String,
    pub customer_id: String,
    pub org_id: i64,
    pub plan_id: i64,
    pub entitlement_id: i64,
    pub status: String,
    pub quantity: i64,
    pub first_failed_at: Option<i64>,
    /// The price as last reported (see [`SubscriptionState`]).
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
    pub price_interval: Option<String>,
}

/// What a checkout created: the org (new or matched by customer), its admin seat, and whether
/// the org is new.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub org: Org,
    pub admin: Seat,
    pub new_org: bool,
}

const SUBSCRIPTION_COLUMNS: &str =
    "stripe_id, customer_id, org_id, plan_id, entitlement_id, status,
     quantity, first_failed_at, unit_amount, currency, price_interval";

impl Db {
    pub async fn subscription(
        &self,
        seller: SellerId,
        stripe_id: &str,
    ) -> Result<Option<SubscriptionRecord>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE seller_id = $1 AND stripe_id = $2"
        ))
        .bind(seller.0)
        .bind(stripe_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The org that pays as Stripe customer `customer`, if any.
    pub async fn org_by_customer(&self, seller: SellerId, customer: &str) -> Result<Option<Org>> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, slug, name FROM orgs WHERE seller_id = $1 AND stripe_customer = $2",
        )
        .bind(seller.0)
        .bind(customer)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, slug, name)| Org {
            id: OrgId(id),
            seller_id: seller,
            slug,
            name,
        }))
    }

    /// Has this webhook event been applied already? (Read-only: applying records it.)
    pub async fn event_seen(&self, seller: SellerId, event_id: &str) -> Result<bool> {
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM stripe_events WHERE seller_id = $1 AND event_id = $2",
        )
        .bind(seller.0)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(seen.is_some())
    }

    /// Records an event that changes nothing else. `false` if it was recorded before.
    pub async fn record_event(&self, seller: SellerId, event: (&str, &str)) -> Result<bool> {
        let mut tx = self.write().await?;
        let new = insert_event(&mut tx, seller, event).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Applies a subscription's state for `org` in one transaction: the event is recorded (a
    /// replay changes nothing and returns `false`), the subscription and its entitlement are
    /// created or updated, and the org's seat cap follows its live subscriptions.
    pub async fn apply_subscription(
        &self,
        seller: SellerId,
        event: Option<(&str, &str)>,
        org: OrgId,
        state: &SubscriptionState,
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        if let Some(event) = event
            && !insert_event(&mut tx, seller, event).await?
        {
            return Ok(false);
        }
        upsert_subscription(&mut tx, seller, org, state).await?;
        update_seat_cap(&mut tx, org).await?;
        log_change(&mut tx, self.backend, Change::Org(org)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A completed checkout, in one transaction: the org paying as `state.customer_id` (or a
    /// new one with `new_org`'s slug and name), its admin seat for `admin_email`, an org token
    /// (for a new org only), and the subscription with its entitlement. `None` if the event was
    /// applied before.
    pub async fn complete_checkout(
        &self,
        seller: SellerId,
        event: (&str, &str),
        new_org: (&str, &str),
        admin_email: &str,
        token: &NewToken,
        state: &SubscriptionState,
    ) -> Result<Option<Checkout>> {
        let mut tx = self.write().await?;
        if self.backend == super::Backend::Postgres {
            // One checkout per seller at a time, so that two events about one new customer
            // (Stripe sends them in parallel) find one org. SQLite's write lock does this.
            sqlx::query("SELECT id FROM sellers WHERE id = $1 FOR UPDATE")
                .bind(seller.0)
                .execute(&mut *tx)
                .await?;
        }
        if !insert_event(&mut tx, seller, event).await? {
            return Ok(None);
        }
        let existing: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, slug, name FROM orgs WHERE seller_id = $1 AND stripe_customer = $2",
        )
        .bind(seller.0)
        .bind(&state.customer_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (org, is_new) = match existing {
            Some((id, slug, name)) => (
                Org {
                    id: OrgId(id),
                    seller_id: seller,
                    slug,
                    name,
                },
                false,
            ),
            None => (
                create_org_with_free_slug(&mut tx, seller, new_org, &state.customer_id).await?,
                true,
            ),
        };
        upsert_subscription(&mut tx, seller, org.id, state).await?;
        update_seat_cap(&mut tx, org.id).await?;
        let admin = claim_seat(&mut tx, self.backend, org.id, admin_email, "admin").await?;
        if is_new {
            // An org found by customer got its token when it was provisioned.
            let token = NewToken {
                org_id: Some(org.id),
                ..token.clone()
            };
            insert_token(&mut tx, &token).await?;
            log_change(&mut tx, self.backend, Change::Tokens).await?;
        }
        log_change(&mut tx, self.backend, Change::Org(org.id)).await?;
        tx.commit().await?;
        Ok(Some(Checkout {
            org,
            admin,
            new_org: is_new,
        }))
    }
}

async fn insert_event(tx: &mut Tx, seller: SellerId, (id, kind): (&str, &str)) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO stripe_events (seller_id, event_id, kind, received_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (seller_id, event_id) DO NOTHING",
    )
    .bind(seller.0)
    .bind(id)
    .bind(kind)
    .bind(Timestamp::now().0)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// `slug`, or `slug-2`, `slug-3`, … whichever is free among the seller's orgs.
async fn create_org_with_free_slug(
    tx: &mut Tx,
    seller: SellerId,
    (slug, name): (&str, &str),
    customer: &str,
) -> Result<Org> {
    for n in 1..1000 {
        let candidate = if n == 1 {
            slug.to_owned()
        } else {
            format!("{slug}-{n}")
        };
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO orgs (seller_id, slug, name, created_at, stripe_customer)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seller_id, slug) DO NOTHING RETURNING id",
        )
        .bind(seller.0)
        .bind(&candidate)
        .bind(name)
        .bind(Timestamp::now().0)
        .bind(customer)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(id) = id {
            return Ok(Org {
                id: OrgId(id),
                seller_id: seller,
                slug: candidate,
                name: name.to_owned(),
            });
        }
    }
    Err(Error::Conflict(format!("no free org slug like `{slug}`")))
}

async fn upsert_subscription(
    tx: &mut Tx,
    seller: SellerId,
    org: OrgId,
    state: &SubscriptionState,
) -> Result<()> {
    let plan: (i64, String) =
        sqlx::query_as("SELECT product_id, rule FROM plans WHERE id = $1 AND seller_id = $2")
            .bind(state.plan.0)
            .bind(seller.0)
            .fetch_one(&mut **tx)
            .await
            .map_err(not_found(format!("plan {}", state.plan.0)))?;
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT entitlement_id FROM subscriptions WHERE seller_id = $1 AND stripe_id = $2",
    )
    .bind(seller.0)
    .bind(&state.stripe_id)
    .fetch_optional(&mut **tx)
    .await?;
    let now = Timestamp::now().0;
    let entitlement = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE entitlements SET starts_at = $1, ends_at = $2, warning = $3 WHERE id = $4",
            )
            .bind(state.starts_at.0)
            .bind(state.ends_at.map(|t| t.0))
            .bind(&state.warning)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            EntitlementId(id)
        }
        None => EntitlementId(
            sqlx::query_scalar(
                "INSERT INTO entitlements (org_id, product_id, starts_at, ends_at, rule, source, created_at, warning)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(org.0)
            .bind(plan.0)
            .bind(state.starts_at.0)
            .bind(state.ends_at.map(|t| t.0))
            .bind(&plan.1)
            .bind(format!("stripe:{}", state.stripe_id))
            .bind(now)
            .bind(&state.warning)
            .fetch_one(&mut **tx)
            .await?,
        ),
    };
    sqlx::query(
        "INSERT INTO subscriptions (seller_id, stripe_id, customer_id, org_id, plan_id, entitlement_id,
                                    status, quantity, first_failed_at, updated_at,
                                    unit_amount, currency, price_interval)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (seller_id, stripe_id) DO UPDATE SET status = excluded.status,
           quantity = excluded.quantity, first_failed_at = excluded.first_failed_at,
           plan_id = excluded.plan_id, updated_at = excluded.updated_at,
           unit_amount = excluded.unit_amount, currency = excluded.currency,
           price_interval = excluded.price_interval",
    )
    .bind(seller.0)
    .bind(&state.stripe_id)
    .bind(&state.customer_id)
    .bind(org.0)
    .bind(state.plan.0)
    .bind(entitlement.0)
    .bind(&state.status)
    .bind(state.quantity)
    .bind(state.first_failed_at.map(|t| t.0))
    .bind(now)
    .bind(state.unit_amount)
    .bind(&state.currency)
    .bind(&state.price_interval)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The org's seat cap from its subscriptions whose entitlement is live now: the sum of their
/// quantities, or no cap if one of them is an unlimited plan. An org without subscriptions
/// (hand-made grants) keeps no cap.
async fn update_seat_cap(tx: &mut Tx, org: OrgId) -> Result<()> {
    let now = Timestamp::now().0;
    let live: Vec<(String, i64)> = sqlx::query_as(
        "SELECT pl.seats, s.quantity FROM subscriptions s
         JOIN plans pl ON pl.id = s.plan_id
         JOIN entitlements e ON e.id = s.entitlement_id
         WHERE s.org_id = $1 AND e.starts_at <= $2 AND (e.ends_at IS NULL OR e.ends_at > $2)",
    )
    .bind(org.0)
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    let cap = if live
        .iter()
        .any(|(mode, _)| mode == SeatMode::Unlimited.as_str())
    {
        None
    } else {
        Some(live.iter().map(|(_, q)| *q).sum::<i64>())
    };
    sqlx::query("UPDATE orgs SET seat_cap = $1 WHERE id = $2")
        .bind(cap)
        .bind(org.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

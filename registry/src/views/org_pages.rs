//! What an org's own pages read: its tokens (never their hashes), the packages it is entitled
//! to (for the client set-up), and its subscriptions (the billing page). Each is one query.

use sqlx::FromRow;

use super::handle::Views;
use crate::domain::{PackageRef, TokenKind, TokenScope};
use crate::ids::{OrgId, SeatId, TokenId};
use crate::last_use::LastUse;
use crate::time::Timestamp;
use crate::{Error, Result};

/// A token of an org as its pages list it: no secret, no hash.
#[derive(Debug, Clone)]
pub struct OrgToken {
    pub id: TokenId,
    pub kind: TokenKind,
    /// The seat a personal token belongs to (`None` for an org token).
    pub seat_id: Option<SeatId>,
    pub seat_email: Option<String>,
    /// A bot token's label (`None` for other tokens).
    pub label: Option<String>,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// Its last use as written (a server may hold a newer one: `Registry::pending_last_use`).
    pub last_use: Option<LastUse>,
}

/// One of the org's subscriptions with the plan it is on, for the billing page.
#[derive(Debug, Clone, FromRow)]
pub struct OrgSubscription {
    pub stripe_id: String,
    pub plan_slug: String,
    pub product_name: String,
    /// Stripe's status (`active`, `trialing`, `past_due`, `unpaid`, `canceled`, …).
    pub status: String,
    pub quantity: i64,
    pub first_failed_at: Option<i64>,
    pub unit_amount: Option<i64>,
    pub currency: Option<String>,
    pub price_interval: Option<String>,
    pub updated_at: i64,
    /// When the entitlement the subscription drives ends (`None`: open-ended).
    pub ends_at: Option<i64>,
}

#[derive(FromRow)]
struct TokenRow {
    id: String,
    kind: String,
    seat_id: Option<i64>,
    seat_email: Option<String>,
    label: Option<String>,
    scope: String,
    created_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
    last_used_ip: Option<String>,
    last_used_agent: Option<String>,
}

impl Views {
    /// The org's tokens (org and seat tokens), oldest first.
    pub async fn org_tokens(&self, org: OrgId) -> Result<Vec<OrgToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(
            "SELECT t.id, t.kind, t.seat_id, s.email AS seat_email, t.label, t.scope, t.created_at,
                    t.revoked_at, t.last_used_at, t.last_used_ip, t.last_used_agent
             FROM tokens t LEFT JOIN seats s ON s.id = t.seat_id
             WHERE t.org_id = $1 ORDER BY t.created_at, t.id",
        )
        .bind(org.0)
        .fetch_all(&self.0.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(OrgToken {
                    id: TokenId(r.id),
                    kind: r.kind.parse().map_err(Error::Invalid)?,
                    seat_id: r.seat_id.map(SeatId),
                    seat_email: r.seat_email,
                    label: r.label,
                    scope: r.scope.parse().map_err(Error::Invalid)?,
                    created_at: Timestamp(r.created_at),
                    revoked_at: r.revoked_at.map(Timestamp),
                    last_use: r.last_used_at.map(|at| LastUse {
                        at: Timestamp(at),
                        ip: r.last_used_ip,
                        agent: r.last_used_agent,
                    }),
                })
            })
            .collect()
    }

    /// The packages of every product the org has (or had) an entitlement to.
    pub async fn org_packages(&self, org: OrgId) -> Result<Vec<PackageRef>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT p.ecosystem, p.name
             FROM entitlements e
             JOIN product_packages pp ON pp.product_id = e.product_id
             JOIN packages p ON p.id = pp.package_id
             WHERE e.org_id = $1 ORDER BY p.ecosystem, p.name",
        )
        .bind(org.0)
        .fetch_all(&self.0.pool)
        .await?;
        rows.into_iter()
            .map(|(eco, name)| {
                Ok(PackageRef {
                    ecosystem: eco.parse().map_err(Error::Invalid)?,
                    name,
                })
            })
            .collect()
    }

    /// The org's subscriptions, the most recently updated first.
    pub async fn org_subscriptions(&self, org: OrgId) -> Result<Vec<OrgSubscription>> {
        Ok(sqlx::query_as(
            "SELECT s.stripe_id, pl.slug AS plan_slug, p.name AS product_name, s.status,
                    s.quantity, s.first_failed_at, s.unit_amount, s.currency, s.price_interval,
                    s.updated_at, e.ends_at
             FROM subscriptions s
             JOIN plans pl ON pl.id = s.plan_id
             JOIN products p ON p.id = pl.product_id
             LEFT JOIN entitlements e ON e.id = s.entitlement_id
             WHERE s.org_id = $1 ORDER BY s.updated_at DESC, s.id DESC",
        )
        .bind(org.0)
        .fetch_all(&self.0.pool)
        .await?)
    }
}

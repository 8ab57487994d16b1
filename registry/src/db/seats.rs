//! Seats: claims within the org's paid quantity (one atomic step), revokes that end the seat's
//! tokens, and the look-ups the pages and the sign-in need. Addresses are compared without
//! ASCII letter case ([`normalized_email`]).

use sqlx::FromRow;

use super::pool::{Db, Tx, log_change, not_found};
use crate::change::Change;
use crate::domain::{Org, Seat};
use crate::ids::{OrgId, SeatId, SellerId};
use crate::time::Timestamp;
use crate::{Error, Result};

/// Flags are 0/1 integers on both databases (see `db`).
#[derive(FromRow)]
struct SeatRow {
    id: i64,
    org_id: i64,
    email: String,
    role: String,
    active: i64,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<SeatRow> for Seat {
    fn from(r: SeatRow) -> Self {
        Seat {
            id: SeatId(r.id),
            org_id: OrgId(r.org_id),
            email: r.email,
            role: r.role,
            active: r.active != 0,
            created_at: Timestamp(r.created_at),
            revoked_at: r.revoked_at.map(Timestamp),
        }
    }
}

const SEAT_COLUMNS: &str = "id, org_id, email, role, active, created_at, revoked_at";

impl Db {
    /// Gives `email` a seat (or re-activates its revoked one), within the org's seat cap: one
    /// atomic step, so concurrent claims never exceed the cap. An active seat takes `role`.
    pub async fn add_seat(&self, org: OrgId, email: &str, role: &str) -> Result<Seat> {
        let mut tx = self.write().await?;
        let seat = claim_seat(&mut tx, self.backend, org, email, role).await?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        Ok(seat)
    }

    /// Revokes `email`'s seat (any letter case) and its tokens. Invites to the address that are
    /// still pending are withdrawn with it: an older invite must not bring the seat back.
    pub async fn revoke_seat(&self, org: OrgId, email: &str, at: Timestamp) -> Result<Seat> {
        let email = normalized_email(email);
        let email = email.as_str();
        let mut tx = self.write().await?;
        let row: SeatRow = sqlx::query_as(&format!(
            "UPDATE seats SET active = 0, revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND email = $3
             RETURNING {SEAT_COLUMNS}"
        ))
        .bind(at.0)
        .bind(org.0)
        .bind(email)
        .fetch_one(&mut *tx)
        .await
        .map_err(not_found(format!("seat `{email}`")))?;
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE seat_id = $2 AND revoked_at IS NULL")
            .bind(at.0)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM web_links
             WHERE org_id = $1 AND email = $2 AND purpose = 'invite' AND used_at IS NULL",
        )
        .bind(org.0)
        .bind(email)
        .execute(&mut *tx)
        .await?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    pub async fn seats(&self, org: OrgId) -> Result<Vec<Seat>> {
        let rows: Vec<SeatRow> = sqlx::query_as(&format!(
            "SELECT {SEAT_COLUMNS} FROM seats WHERE org_id = $1 ORDER BY email"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

/// An address as seats, invites and sign-in links store and compare it: trimmed, ASCII letters
/// lower-cased, so that `Bob@x.test` and `bob@x.test` are one person with one seat. ASCII only,
/// as SQLite's `lower()` is (migration `0006_seat_emails` folded the stored ones the same way
/// on both databases).
pub(super) fn normalized_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// What a claim does to a seat that is active already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ActiveSeat {
    /// Gives it the claimed role: the operator's `seat add`, a purchase making its buyer admin.
    TakesRole,
    /// Leaves it as it is: an invite accepted after the address got its seat another way (an
    /// old invite for a member must not demote someone made admin since).
    Kept,
}

/// Claims a seat inside the caller's transaction (see [`claim`]); a seat that is active already
/// takes `role`.
pub(super) async fn claim_seat(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
) -> Result<Seat> {
    claim(tx, backend, org, email, role, ActiveSeat::TakesRole).await
}

/// Claims a seat for an accepted invite inside the caller's transaction (see [`claim`]); a
/// seat that is active already is returned as it is, its role untouched.
pub(super) async fn claim_invited_seat(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
) -> Result<Seat> {
    claim(tx, backend, org, email, role, ActiveSeat::Kept).await
}

/// Claims a seat for `email` (normalized, [`normalized_email`]). The org row is locked first
/// (PostgreSQL: `FOR UPDATE`; SQLite writers are serialised already), then the active seats are
/// counted against `orgs.seat_cap`. A seat that is active already is not counted again.
async fn claim(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
    active_seat: ActiveSeat,
) -> Result<Seat> {
    let email = normalized_email(email);
    let email = email.as_str();
    let lock = match backend {
        super::Backend::Postgres => "SELECT seat_cap FROM orgs WHERE id = $1 FOR UPDATE",
        super::Backend::Sqlite => "SELECT seat_cap FROM orgs WHERE id = $1",
    };
    let cap: Option<i64> = sqlx::query_scalar(lock)
        .bind(org.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("org {org}")))?;
    let existing: Option<SeatRow> = sqlx::query_as(&format!(
        "SELECT {SEAT_COLUMNS} FROM seats WHERE org_id = $1 AND email = $2"
    ))
    .bind(org.0)
    .bind(email)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(seat) = existing.as_ref().filter(|s| s.active != 0) {
        if active_seat == ActiveSeat::Kept {
            return existing
                .map(Into::into)
                .ok_or_else(|| Error::NotFound(email.into()));
        }
        if seat.role != role {
            sqlx::query("UPDATE seats SET role = $1 WHERE id = $2")
                .bind(role)
                .bind(seat.id)
                .execute(&mut **tx)
                .await?;
        }
        let mut seat: Seat = existing
            .map(Into::into)
            .ok_or_else(|| Error::NotFound(email.into()))?;
        seat.role = role.to_owned();
        return Ok(seat);
    }
    if let Some(cap) = cap {
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM seats WHERE org_id = $1 AND active = 1")
                .bind(org.0)
                .fetch_one(&mut **tx)
                .await?;
        if active >= cap {
            return Err(Error::Conflict(format!(
                "all {cap} paid seat(s) of this org are in use ({active} active); revoke a seat or buy more before adding {email}"
            )));
        }
    }
    let row: SeatRow = sqlx::query_as(&format!(
        "INSERT INTO seats (org_id, email, role, active, created_at) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (org_id, email) DO UPDATE SET active = 1, revoked_at = NULL, role = excluded.role
         RETURNING {SEAT_COLUMNS}"
    ))
    .bind(org.0)
    .bind(email)
    .bind(role)
    .bind(Timestamp::now().0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.into())
}

impl Db {
    /// One seat by id (a signed-in member's, checked on every request).
    pub async fn seat(&self, seat: SeatId) -> Result<Option<Seat>> {
        let row: Option<SeatRow> =
            sqlx::query_as(&format!("SELECT {SEAT_COLUMNS} FROM seats WHERE id = $1"))
                .bind(seat.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    /// Active seats of the seller's orgs held by `email` (any letter case), with their org.
    pub async fn seats_by_email(&self, seller: SellerId, email: &str) -> Result<Vec<(Org, Seat)>> {
        let email = normalized_email(email);
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            seat: SeatRow,
            org_slug: String,
            org_name: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.id, s.org_id, s.email, s.role, s.active, s.created_at, s.revoked_at,
                o.slug AS org_slug, o.name AS org_name
         FROM seats s JOIN orgs o ON o.id = s.org_id
         WHERE o.seller_id = $1 AND s.email = $2 AND s.active = 1
         ORDER BY o.slug",
        )
        .bind(seller.0)
        .bind(&email)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let seat: Seat = r.seat.into();
                let org = Org {
                    id: seat.org_id,
                    seller_id: seller,
                    slug: r.org_slug,
                    name: r.org_name,
                };
                (org, seat)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;

//! One-time links (sign-in, seat invites; an invite claims a seat when used) and the sign-in
//! rate limit. Link secrets are stored as sha256 only; the caller checks the presented secret
//! with [`crate::token::Presented::matches`] (constant time) before using a link.

use sqlx::FromRow;

use super::pool::{Db, log_change};
use super::seats::{claim_invited_seat, normalized_email};
use crate::change::Change;
use crate::domain::Seat;
use crate::ids::{OrgId, SellerId};
use crate::time::Timestamp;
use crate::{Error, Result};

/// What a one-time link does when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Signs the seller in to the dashboard.
    Seller,
    /// Signs a seat holder in to their org's pages.
    Member,
    /// Gives the address a seat in the org (within the paid quantity), then signs it in.
    Invite,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seller => "seller",
            Self::Member => "member",
            Self::Invite => "invite",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "seller" => Ok(Self::Seller),
            "member" => Ok(Self::Member),
            "invite" => Ok(Self::Invite),
            other => Err(Error::Invalid(format!("unknown link purpose `{other}`"))),
        }
    }
}

/// A link to store: the caller generated the secret (shown once, in a mail or on the terminal).
#[derive(Debug, Clone)]
pub struct NewLink {
    pub id: String,
    pub secret_hash: String,
    pub purpose: LinkPurpose,
    pub seller: SellerId,
    pub org: Option<OrgId>,
    pub email: String,
    /// The seat's role, for invites.
    pub role: Option<String>,
    pub expires_at: Timestamp,
}

/// A stored link, as [`Db::link`] reads it.
#[derive(Debug, Clone)]
pub struct Link {
    pub id: String,
    pub secret_hash: String,
    pub purpose: LinkPurpose,
    pub seller: SellerId,
    pub org: Option<OrgId>,
    pub email: String,
    pub role: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// A link after its one use: who it signs in, and the seat an invite gave.
#[derive(Debug, Clone)]
pub struct UsedLink {
    pub link: Link,
    pub seat: Option<Seat>,
}

#[derive(FromRow)]
struct LinkRow {
    id: String,
    secret_hash: String,
    purpose: String,
    seller_id: i64,
    org_id: Option<i64>,
    email: String,
    role: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<LinkRow> for Link {
    type Error = Error;
    fn try_from(r: LinkRow) -> Result<Self> {
        Ok(Link {
            id: r.id,
            secret_hash: r.secret_hash,
            purpose: LinkPurpose::parse(&r.purpose)?,
            seller: SellerId(r.seller_id),
            org: r.org_id.map(OrgId),
            email: r.email,
            role: r.role,
            created_at: Timestamp(r.created_at),
            expires_at: Timestamp(r.expires_at),
            used_at: r.used_at.map(Timestamp),
        })
    }
}

const LINK_COLUMNS: &str =
    "id, secret_hash, purpose, seller_id, org_id, email, role, created_at, expires_at, used_at";

impl Db {
    pub async fn create_link(&self, link: &NewLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO web_links (id, secret_hash, purpose, seller_id, org_id, email, role, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&link.id)
        .bind(&link.secret_hash)
        .bind(link.purpose.as_str())
        .bind(link.seller.0)
        .bind(link.org.map(|o| o.0))
        .bind(normalized_email(&link.email))
        .bind(&link.role)
        .bind(Timestamp::now().0)
        .bind(link.expires_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The link with public id `id`, used or not.
    pub async fn link(&self, id: &str) -> Result<Option<Link>> {
        let row: Option<LinkRow> = sqlx::query_as(&format!(
            "SELECT {LINK_COLUMNS} FROM web_links WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Link::try_from).transpose()
    }

    /// Marks the link used, once: a second use, or a use after `expires_at`, is refused. An
    /// invite claims its seat in the same transaction (within the org's paid seats), so an
    /// invite that cannot get a seat stays unused. A seat that is active already is kept as it
    /// is: an old invite accepted later never changes its role.
    pub async fn use_link(&self, id: &str, at: Timestamp) -> Result<UsedLink> {
        let mut tx = self.write().await?;
        let row: LinkRow = sqlx::query_as(&format!(
            "UPDATE web_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING {LINK_COLUMNS}"
        ))
        .bind(at.0)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            Error::Conflict("this link was used already or has expired; ask for a new one".into())
        })?;
        let link = Link::try_from(row)?;
        let seat = match (link.purpose, link.org) {
            (LinkPurpose::Invite, Some(org)) => {
                let role = link.role.as_deref().unwrap_or("member");
                let seat =
                    claim_invited_seat(&mut tx, self.backend, org, &link.email, role).await?;
                log_change(&mut tx, self.backend, Change::Tokens).await?;
                Some(seat)
            }
            _ => None,
        };
        tx.commit().await?;
        Ok(UsedLink { link, seat })
    }

    /// Invites of `org` not used and not expired yet, newest first.
    pub async fn pending_invites(&self, org: OrgId, now: Timestamp) -> Result<Vec<Link>> {
        let rows: Vec<LinkRow> = sqlx::query_as(&format!(
            "SELECT {LINK_COLUMNS} FROM web_links
             WHERE org_id = $1 AND purpose = 'invite' AND used_at IS NULL AND expires_at > $2
             ORDER BY created_at DESC"
        ))
        .bind(org.0)
        .bind(now.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Link::try_from).collect()
    }

    /// Withdraws an unused invite of `org`.
    pub async fn cancel_invite(&self, org: OrgId, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM web_links WHERE id = $1 AND org_id = $2 AND purpose = 'invite' AND used_at IS NULL",
        )
        .bind(id)
        .bind(org.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a sign-in request for `email` and returns how many were made since `since`
    /// (this one included), for a rate limit that holds across replicas.
    pub async fn note_sign_in_request(
        &self,
        email: &str,
        at: Timestamp,
        since: Timestamp,
    ) -> Result<i64> {
        sqlx::query("INSERT INTO web_sign_in_requests (email, at) VALUES ($1, $2)")
            .bind(email)
            .bind(at.0)
            .execute(&self.pool)
            .await?;
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM web_sign_in_requests WHERE email = $1 AND at >= $2",
        )
        .bind(email)
        .bind(since.0)
        .fetch_one(&self.pool)
        .await?)
    }
}

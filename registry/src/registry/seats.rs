//! Seats: who in an org may hold tokens. A revoke ends the seat's tokens and this server's
//! cached copies of them before it returns, so the very next request with one is refused
//! (other servers follow the change log).

use super::Registry;
use crate::Result;
use crate::domain::{Org, Seat};
use crate::ids::{OrgId, SeatId, SellerId};
use crate::time::Timestamp;

impl Registry {
    /// Gives `email` a seat (or re-activates its revoked one) within the org's seat cap; an
    /// active seat takes `role`.
    pub async fn add_seat(&self, org: OrgId, email: &str, role: &str) -> Result<Seat> {
        let seat = self.db().add_seat(org, email, role).await?;
        self.catch_up().await;
        Ok(seat)
    }

    /// Revokes `email`'s seat in `org` and every token of it, as of `at`; pending invites to the
    /// address are withdrawn. The token cache is dropped before this returns.
    pub async fn revoke_seat(&self, org: OrgId, email: &str, at: Timestamp) -> Result<Seat> {
        let seat = self.db().revoke_seat(org, email, at).await?;
        self.catch_up().await;
        Ok(seat)
    }

    /// The org's seats, active and revoked, by address.
    pub async fn seats(&self, org: OrgId) -> Result<Vec<Seat>> {
        self.db().seats(org).await
    }

    /// One seat by id (a signed-in member's, checked on every request).
    pub async fn seat(&self, seat: SeatId) -> Result<Option<Seat>> {
        self.db().seat(seat).await
    }

    /// Active seats of the seller's orgs held by `email` (any letter case), with their org.
    pub async fn seats_by_email(&self, seller: SellerId, email: &str) -> Result<Vec<(Org, Seat)>> {
        self.db().seats_by_email(seller, email).await
    }
}

//! Revoking a seat and telling the person: one operation that the command line
//! (`tollgate seat revoke`) and the org page's revoke button both call.

use tollgate_registry::domain::{Org, Seat, Seller};
use tollgate_registry::time::Timestamp;
use tollgate_registry::{Registry, Result};

use crate::mail::{MailError, Mailer, SeatRevoked, seat_revoked};

/// What [`revoke_seat`] did.
#[derive(Debug)]
pub struct Revoked {
    /// The seat as it is now (inactive, with its revoke time).
    pub seat: Seat,
    /// Whether the mail telling the person went out; the error says why not. The seat is
    /// revoked either way.
    pub mailed: std::result::Result<(), String>,
}

/// Revokes `email`'s seat in `org` with all its tokens (refused from the very next request on
/// this server, on the others within a poll), then mails the person through `mailer` (a mailer
/// that could not be configured is passed as its error, and reported as the mail's failure).
pub async fn revoke_seat(
    registry: &Registry,
    mailer: std::result::Result<&Mailer, &MailError>,
    seller: &Seller,
    org: &Org,
    email: &str,
) -> Result<Revoked> {
    let seat = registry
        .revoke_seat(org.id, email, Timestamp::now())
        .await?;
    let message = seat_revoked(&SeatRevoked {
        to: seat.email.clone(),
        org: org.name.clone(),
        seller_name: seller.name.clone(),
    });
    let mailed = match mailer {
        Ok(mailer) => mailer.send(&message).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    Ok(Revoked { seat, mailed })
}

//! Revoking a seat (admins): a confirmation page, then the POST that revokes it with all its
//! tokens (a change is logged, so every replica drops its caches within a second) and mails
//! the person.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_registry::domain::Seat;
use tollgate_registry::ids::SeatId;

use crate::auth::MemberUser;
use crate::error::{WebError, WebResult};
use crate::pages::org::parts::{Confirm, page_url, set_notice};
use crate::state::Web;
use crate::templates::Chrome;

/// The org's active seat `id` that `user` may revoke; another org's seat is not found.
async fn revocable(web: &Web, user: &MemberUser, id: i64) -> WebResult<Seat> {
    user.require_admin()?;
    let db = &web.registry;
    let seat = db
        .seat(SeatId(id))
        .await?
        .filter(|s| s.org_id == user.org.id)
        .ok_or_else(|| WebError::NotFound("this seat was not found in your org".into()))?;
    if !seat.active {
        return Err(WebError::Conflict(format!(
            "the seat of {} is revoked already",
            seat.email
        )));
    }
    if seat.role == "admin" {
        let admins = db
            .seats(user.org.id)
            .await?
            .iter()
            .filter(|s| s.active && s.role == "admin")
            .count();
        if admins <= 1 {
            return Err(WebError::Conflict(format!(
                "{} holds the last admin seat of {}: revoking it would leave no one to manage the org. \
                 Ask {} to make another member an admin first.",
                seat.email, user.org.name, user.seller.name
            )));
        }
    }
    Ok(seat)
}

/// `GET …/seats/{seat}/revoke`: "Revoke the seat of x@y?"
pub async fn confirm(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, i64)>,
) -> WebResult<Response> {
    let seat = revocable(&web, &user, id).await?;
    let own = seat.id == user.seat.id;
    Ok(Confirm {
        chrome: Chrome::org(&user, "Revoke a seat", "members"),
        question: format!("Revoke the seat of {}?", seat.email),
        detail: if own {
            "This is your own seat: your tokens stop working within a second, on every server, \
             and you are signed out."
                .into()
        } else {
            "Their tokens stop working within a second, on every server. They get an e-mail \
             saying so; the seat is free for someone else."
                .into()
        },
        action: format!("{}/seats/{}/revoke", page_url(&user), seat.id.0),
        button: "Revoke the seat".into(),
        back: page_url(&user),
    }
    .render())
}

/// `POST …/seats/{seat}/revoke`: revokes the seat and its tokens, mails the person.
pub async fn revoke(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, i64)>,
) -> WebResult<Response> {
    let seat = revocable(&web, &user, id).await?;
    let revoked = tollgate_billing::seats::revoke_seat(
        &web.registry,
        Ok(&web.billing.mailer),
        &user.seller,
        &user.org,
        &seat.email,
    )
    .await?;
    let mailed = match revoked.mailed {
        Ok(()) => "; they were told by e-mail".to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, org = %user.org.slug, "the seat is revoked, but the mail failed");
            "; the e-mail telling them could not be sent".to_owned()
        }
    };
    set_notice(
        &user.session,
        format!(
            "Revoked the seat of {}: its tokens no longer work{mailed}.",
            seat.email
        ),
    )
    .await?;
    Ok(Redirect::to(&page_url(&user)).into_response())
}

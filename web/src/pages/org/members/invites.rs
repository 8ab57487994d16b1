//! Invites by e-mail (admins). An invite is a one-time link; the seat is taken only when it is
//! accepted, and [`use_link`](tollgate_registry::Registry::use_link) checks the paid quantity
//! again then. Here an invite is refused when the seats in use plus the invites pending would
//! already fill the paid quantity, so no one is invited to a seat that cannot exist.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tollgate_billing::mail::{Invite, seat_invite};
use tollgate_registry::db::LinkPurpose;
use tollgate_registry::time::Timestamp;

use crate::auth::MemberUser;
use crate::email;
use crate::error::{WebError, WebResult};
use crate::links;
use crate::pages::org::parts::{page_url, set_notice};
use crate::state::Web;

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
}

/// The address as stored (trimmed, lower-case), if mail can be sent to it and its domain has a
/// dot (`ann@globex` is a typo here, though mail could be sent to it).
fn address(raw: &str) -> WebResult<String> {
    let email = email::address(raw)?;
    if email
        .split_once('@')
        .is_some_and(|(_, host)| host.contains('.'))
    {
        Ok(email)
    } else {
        Err(WebError::BadRequest(format!(
            "`{}` is not an e-mail address",
            raw.trim()
        )))
    }
}

/// `POST /{seller}/org/{org}/invite`: mails a one-time link that gives the address a seat.
pub async fn invite(
    State(web): State<Web>,
    user: MemberUser,
    Form(f): Form<InviteForm>,
) -> WebResult<Response> {
    user.require_admin()?;
    let email = address(&f.email)?;
    let db = &web.registry;
    let now = Timestamp::now();
    let org = &user.org;
    if db
        .seats(org.id)
        .await?
        .iter()
        .any(|s| s.active && s.email.eq_ignore_ascii_case(&email))
    {
        return Err(WebError::Conflict(format!(
            "{email} holds a seat in {} already",
            org.name
        )));
    }
    let pending = db.pending_invites(org.id, now).await?;
    if pending.iter().any(|l| l.email.eq_ignore_ascii_case(&email)) {
        return Err(WebError::Conflict(format!(
            "{email} is invited already; cancel that invite to send a new one"
        )));
    }
    let used = web.registry.views().org_seats_used(org.id).await?;
    if let Some(why) = invite_refusal(used, pending.len(), db.seat_cap(org.id).await?) {
        return Err(WebError::Conflict(why));
    }
    let link = links::issue(
        db,
        &web.config.public_url,
        LinkPurpose::Invite,
        &user.seller,
        Some(org),
        &email,
        links::INVITE,
    )
    .await?;
    let message = seat_invite(&Invite {
        to: email.clone(),
        org: org.name.clone(),
        seller_name: user.seller.name.clone(),
        accept_link: link,
    });
    if let Err(e) = web.billing.mailer.send(&message).await {
        tracing::error!(error = %e, org = %org.slug, "could not send a seat invite");
        // An invite no one received would hold a seat's place: withdraw it.
        if let Some(id) = db
            .pending_invites(org.id, now)
            .await?
            .into_iter()
            .find(|l| l.email == email)
            .map(|l| l.id)
        {
            db.cancel_invite(org.id, &id).await?;
        }
        return Err(WebError::Internal(anyhow::anyhow!(
            "the invitation mail to {email} could not be sent"
        )));
    }
    let days = links::INVITE.as_secs() / 86_400;
    set_notice(
        &user.session,
        format!(
            "Invited {email}: the link in the mail works for {days} days; the seat is taken when they accept."
        ),
    )
    .await?;
    Ok(Redirect::to(&page_url(&user)).into_response())
}

/// `POST /{seller}/org/{org}/invites/{invite}/cancel`: withdraws a pending invite.
pub async fn cancel(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    user.require_admin()?;
    let db = &web.registry;
    let email = db
        .pending_invites(user.org.id, Timestamp::now())
        .await?
        .into_iter()
        .find(|l| l.id == id)
        .map(|l| l.email)
        .ok_or_else(|| {
            WebError::NotFound("this invite was accepted, cancelled or has expired".into())
        })?;
    if !db.cancel_invite(user.org.id, &id).await? {
        return Err(WebError::NotFound(
            "this invite was accepted or cancelled meanwhile".into(),
        ));
    }
    set_notice(
        &user.session,
        format!("Cancelled the invite to {email}; its link no longer works."),
    )
    .await?;
    Ok(Redirect::to(&page_url(&user)).into_response())
}

/// Why an invite would go over the paid seats, if it would.
pub(super) fn invite_refusal(used: i64, pending: usize, cap: Option<i64>) -> Option<String> {
    let cap = cap?;
    (used + pending as i64 >= cap).then(|| {
        format!(
            "all {cap} paid seat{} in use or invited; revoke one or buy more seats",
            if cap == 1 { " is" } else { "s are" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            address("  Ann@Globex.Test ").ok().as_deref(),
            Some("ann@globex.test")
        );
        assert!(address("ann").is_err());
        assert!(address("@globex.test").is_err());
        assert!(address("ann@globex").is_err());
        assert!(address("a nn@globex.test").is_err());
        // What lettre cannot send to (this answered 500 when the mail was sent).
        assert!(address("ann<x>@globex.test").is_err());
        assert!(address("ann@globex..test").is_err());
    }

    #[test]
    fn invites_stop_at_the_paid_seats() {
        assert_eq!(invite_refusal(3, 1, Some(5)), None);
        assert_eq!(
            invite_refusal(4, 1, Some(5)).as_deref(),
            Some("all 5 paid seats are in use or invited; revoke one or buy more seats")
        );
        assert_eq!(
            invite_refusal(1, 0, Some(1)).as_deref(),
            Some("all 1 paid seat is in use or invited; revoke one or buy more seats")
        );
        assert_eq!(invite_refusal(100, 100, None), None);
    }
}

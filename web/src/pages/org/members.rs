//! The org's seats page, `/{seller}/org/{org}`: seats used against seats paid, who holds them,
//! invites by e-mail, revoking a seat (admins), and the signed-in member's own tokens.
//!
//! Everyone with a seat sees the list; only admins see the actions. The page's lists sit in
//! `data-live` regions, so a seat taken or revoked elsewhere shows up without a reload.

mod invites;
mod own_tokens;
mod seats;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tollgate_registry::time::Timestamp;

use super::parts::take_notice;
use super::tokens::TokenLine;
use crate::auth::MemberUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, format_time, html};
use invites::invite_refusal;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/org/{org}", get(page))
        .route(
            "/{seller}/org/{org}/seats/{seat}/revoke",
            get(seats::confirm).post(seats::revoke),
        )
        .route("/{seller}/org/{org}/invite", post(invites::invite))
        .route(
            "/{seller}/org/{org}/invites/{invite}/cancel",
            post(invites::cancel),
        )
        .route("/{seller}/org/{org}/my-tokens", post(own_tokens::create))
        .route(
            "/{seller}/org/{org}/my-tokens/{token}/revoke",
            get(own_tokens::confirm).post(own_tokens::revoke),
        )
}

/// "3 used / 5 paid", or "3 used / unlimited" when the plan does not cap seats.
pub(super) fn seat_count(used: i64, cap: Option<i64>) -> String {
    match cap {
        Some(cap) => format!("{used} used / {cap} paid"),
        None => format!("{used} used / unlimited"),
    }
}

#[derive(Template)]
#[template(path = "org/members.html")]
struct MembersPage {
    chrome: Chrome,
    notice: Option<String>,
    admin: bool,
    seat_count: String,
    /// Why no invite can be sent now (all paid seats used or invited); `None`: invites work.
    invite_full: Option<String>,
    seats: Vec<SeatLine>,
    invites: Vec<InviteLine>,
    my_email: String,
    my_tokens: Vec<TokenLine>,
}

struct SeatLine {
    id: i64,
    email: String,
    role: String,
    since: String,
    active: bool,
    revoked: String,
    me: bool,
}

struct InviteLine {
    id: String,
    email: String,
    sent: String,
    expires: String,
}

/// `GET /{seller}/org/{org}`: the seat count (everyone), who holds seats, invites and actions
/// (admins; a plain member sees only their own seat), own tokens.
async fn page(State(web): State<Web>, user: MemberUser) -> WebResult<Response> {
    let db = &web.registry;
    let now = Timestamp::now();
    let org = user.org.id;
    let used = web.registry.views().org_seats_used(org).await?;
    let cap = db.seat_cap(org).await?;
    let admin = user.is_admin();
    let pending = if admin {
        db.pending_invites(org, now).await?
    } else {
        Vec::new()
    };
    let my_tokens = web
        .registry
        .views()
        .org_tokens(org)
        .await?
        .into_iter()
        .filter(|t| t.seat_id == Some(user.seat.id))
        .map(|t| TokenLine::of(&web, t))
        .collect();
    // A plain member sees their own seat only (colleagues' addresses are the admins' business).
    let seats = db
        .seats(org)
        .await?
        .into_iter()
        .filter(|s| admin || s.id == user.seat.id)
        .map(|s| SeatLine {
            id: s.id.0,
            me: s.id == user.seat.id,
            since: format_time(s.created_at),
            revoked: s.revoked_at.map(format_time).unwrap_or_default(),
            email: s.email,
            role: s.role,
            active: s.active,
        })
        .collect();
    let page = MembersPage {
        chrome: Chrome::org(&user, "Seats", "members"),
        notice: take_notice(&user.session).await?,
        admin,
        seat_count: seat_count(used, cap),
        invite_full: invite_refusal(used, pending.len(), cap),
        seats,
        invites: pending
            .into_iter()
            .map(|l| InviteLine {
                id: l.id,
                email: l.email,
                sent: format_time(l.created_at),
                expires: format_time(l.expires_at),
            })
            .collect(),
        my_email: user.seat.email.clone(),
        my_tokens,
    };
    Ok(html(&page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_count_says_unlimited_without_a_cap() {
        assert_eq!(seat_count(3, Some(5)), "3 used / 5 paid");
        assert_eq!(seat_count(3, None), "3 used / unlimited");
    }
}

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
use tower_sessions::Session;

use crate::auth::MemberUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, format_time, html};

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

/// The session key of a one-time message shown on the next page (after a redirect).
const NOTICE: &str = "notice";

/// Keeps `message` for the next page this session renders (the POST-redirect-GET pattern).
pub(super) async fn set_notice(session: &Session, message: String) -> WebResult<()> {
    session.insert(NOTICE, message).await?;
    Ok(())
}

/// The message left by [`set_notice`], once.
pub(super) async fn take_notice(session: &Session) -> WebResult<Option<String>> {
    Ok(session.remove::<String>(NOTICE).await?)
}

/// The URL of the org's seats page.
pub(super) fn page_url(user: &MemberUser) -> String {
    format!("/{}/org/{}", user.seller.slug, user.org.slug)
}

/// "3 used / 5 paid", or "3 used / unlimited" when the plan does not cap seats.
pub(super) fn seat_count(used: i64, cap: Option<i64>) -> String {
    match cap {
        Some(cap) => format!("{used} used / {cap} paid"),
        None => format!("{used} used / unlimited"),
    }
}

/// A confirmation page for a destructive action: the question, and the POST form that does it.
#[derive(Template)]
#[template(path = "org/confirm.html")]
pub(super) struct Confirm {
    pub chrome: Chrome,
    pub question: String,
    /// What happens next, in a sentence.
    pub detail: String,
    /// Where the form posts.
    pub action: String,
    pub button: String,
    /// Where "Cancel" goes.
    pub back: String,
}

impl Confirm {
    /// The page, without live updates (nothing on it changes).
    pub fn render(mut self) -> Response {
        self.chrome.live_url = None;
        html(&self).into_response()
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

pub(super) struct TokenLine {
    pub id: String,
    pub created: String,
    pub revoked: Option<String>,
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
        .map(|t| TokenLine {
            id: t.id.0,
            created: format_time(t.created_at),
            revoked: t.revoked_at.map(format_time),
        })
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

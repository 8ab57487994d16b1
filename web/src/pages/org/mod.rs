//! An org's pages for the holders of its seats, `/{seller}/org/{org}/…`: every handler takes a
//! [`MemberUser`](crate::auth::MemberUser) (an active seat of that org); admin-only actions call
//! [`MemberUser::require_admin`](crate::auth::MemberUser::require_admin).

mod billing;
mod downloads;
mod members;
mod parts;
mod setup;
mod tokens;

use axum::Router;
use axum::routing::get;

use crate::auth::MemberUser;
use crate::live::LiveEvent;
use crate::state::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/org/{org}/live", get(live))
        .merge(members::routes())
        .merge(tokens::routes())
        .merge(downloads::routes())
        .merge(setup::routes())
        .merge(billing::routes())
}

/// The org pages' event stream: this org's seats, tokens, entitlement and downloads.
async fn live(
    axum::extract::State(web): axum::extract::State<Web>,
    user: MemberUser,
) -> impl axum::response::IntoResponse {
    let (seller, org) = (user.seller.id, user.org.id);
    web.live.stream(move |e: &LiveEvent| {
        e.seller.is_none_or(|s| s == seller) && e.org.is_none_or(|o| o == org)
    })
}

//! The seller's dashboard, `/{seller}/dashboard/…`: every handler takes a
//! [`SellerUser`](crate::auth::SellerUser), so only the seller named in the path gets in.

mod customers;
mod downloads;
mod overview;
mod packages;
mod plans;
mod settings;
mod tokens;

use axum::Router;
use axum::routing::get;

use crate::auth::SellerUser;
use crate::live::LiveEvent;
use crate::state::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/dashboard", get(overview::page))
        .route("/{seller}/dashboard/live", get(live))
        .merge(packages::routes())
        .merge(customers::routes())
        .merge(downloads::routes())
        .merge(plans::routes())
        .merge(tokens::routes())
        .merge(settings::routes())
}

/// The dashboard's event stream: everything about this seller.
async fn live(
    axum::extract::State(web): axum::extract::State<Web>,
    user: SellerUser,
) -> impl axum::response::IntoResponse {
    let me = user.seller.id;
    web.live
        .stream(move |e: &LiveEvent| e.seller.is_none_or(|s| s == me))
}

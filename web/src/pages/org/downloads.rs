//! An org's own download audit, `/{seller}/org/{org}/downloads` (and `downloads.csv`), for its
//! admins: the seller's audit with the org fixed to theirs.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tollgate_registry::views::AuditFilter;

use crate::auth::MemberUser;
use crate::error::WebResult;
use crate::pages::audit::{self, AuditQuery, AuditView};
use crate::state::Web;
use crate::templates::{Chrome, html};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/org/{org}/downloads", get(page))
        .route("/{seller}/org/{org}/downloads.csv", get(csv))
}

#[derive(Template)]
#[template(path = "org/downloads.html")]
struct Downloads {
    chrome: Chrome,
    audit: AuditView,
}

/// The form's filter, always narrowed to the member's org (an `org` in the query is ignored).
fn filter(user: &MemberUser, query: &AuditQuery) -> WebResult<AuditFilter> {
    let mut filter = query.filter()?;
    filter.org = Some(user.org.id);
    Ok(filter)
}

async fn page(
    State(web): State<Web>,
    user: MemberUser,
    Query(query): Query<AuditQuery>,
) -> WebResult<Response> {
    user.require_admin()?;
    let filter = filter(&user, &query)?;
    let base = format!("/{}/org/{}/downloads", user.seller.slug, user.org.slug);
    let audit = audit::view(
        &web.registry.views(),
        user.seller.id,
        filter,
        &query,
        base,
        false,
        Vec::new(),
    )
    .await?;
    let page = Downloads {
        chrome: Chrome::org(&user, "Downloads", "downloads"),
        audit,
    };
    Ok(html(&page).into_response())
}

async fn csv(
    State(web): State<Web>,
    user: MemberUser,
    Query(query): Query<AuditQuery>,
) -> WebResult<Response> {
    user.require_admin()?;
    let filter = filter(&user, &query)?;
    let name = format!("downloads-{}-{}.csv", user.seller.slug, user.org.slug);
    Ok(audit::csv(
        web.registry.views(),
        user.seller.id,
        filter,
        &name,
    ))
}

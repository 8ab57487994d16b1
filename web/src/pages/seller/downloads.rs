//! The download audit of all the seller's packages, `/{seller}/dashboard/downloads`, filtered by
//! org, package, version and dates, 100 per page, and `downloads.csv` with every matching event.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tollgate_registry::views::AuditFilter;

use crate::auth::SellerUser;
use crate::error::{WebError, WebResult};
use crate::pages::audit::{self, AuditQuery, AuditView};
use crate::state::Web;
use crate::templates::{Chrome, html};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/dashboard/downloads", get(page))
        .route("/{seller}/dashboard/downloads.csv", get(csv))
}

#[derive(Template)]
#[template(path = "seller/downloads.html")]
struct Downloads {
    chrome: Chrome,
    audit: AuditView,
}

/// The form's filter with its org slug resolved among the seller's orgs: an unknown slug is an
/// error, not an empty list that would look like "no downloads".
async fn filter(web: &Web, user: &SellerUser, query: &AuditQuery) -> WebResult<AuditFilter> {
    let mut filter = query.filter()?;
    if let Some(slug) = query.org_slug() {
        let org = web
            .registry
            .org(user.seller.id, &slug)
            .await
            .map_err(|e| match e {
                tollgate_registry::Error::NotFound(_) => WebError::BadRequest(format!(
                    "there is no org `{slug}` among your customers; pick one from the list or clear the org field"
                )),
                other => other.into(),
            })?;
        filter.org = Some(org.id);
    }
    Ok(filter)
}

async fn page(
    State(web): State<Web>,
    user: SellerUser,
    Query(query): Query<AuditQuery>,
) -> WebResult<Response> {
    let filter = filter(&web, &user, &query).await?;
    let db = &web.registry;
    let orgs = db
        .orgs(user.seller.id)
        .await?
        .into_iter()
        .map(|o| o.slug)
        .collect();
    let base = format!("/{}/dashboard/downloads", user.seller.slug);
    let audit = audit::view(
        &web.registry.views(),
        user.seller.id,
        filter,
        &query,
        base,
        true,
        orgs,
    )
    .await?;
    let page = Downloads {
        chrome: Chrome::seller(&user, "Downloads", "downloads"),
        audit,
    };
    Ok(html(&page).into_response())
}

async fn csv(
    State(web): State<Web>,
    user: SellerUser,
    Query(query): Query<AuditQuery>,
) -> WebResult<Response> {
    let filter = filter(&web, &user, &query).await?;
    let name = format!("downloads-{}.csv", user.seller.slug);
    Ok(audit::csv(
        web.registry.views(),
        user.seller.id,
        filter,
        &name,
    ))
}

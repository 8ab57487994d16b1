//! `/{seller}/org/{org}/billing` (admins): the org's subscriptions as last reported by Stripe,
//! seats used against paid, and a button to the Stripe customer portal (invoices, payment
//! method, seat quantity, cancellation), which Stripe hosts.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tollgate_billing::service::BillingError;
use tollgate_registry::time::Timestamp;
use tollgate_registry::views::OrgSubscription;

use super::members::seat_count;
use crate::auth::MemberUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, format_opt, format_time, html, money};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/org/{org}/billing", get(page))
        .route("/{seller}/org/{org}/billing/portal", post(portal))
}

#[derive(Template)]
#[template(path = "org/billing.html")]
struct BillingPage {
    chrome: Chrome,
    error: Option<String>,
    seat_count: String,
    /// The org pays through Stripe (has a customer), so the portal can open.
    has_customer: bool,
    subscriptions: Vec<SubscriptionLine>,
}

struct SubscriptionLine {
    product: String,
    plan: String,
    status: String,
    /// The status reads as trouble (payment failing, ended).
    bad: bool,
    seats: String,
    price: String,
    failing_since: String,
    access_ends: String,
    updated: String,
}

/// "USD 49.00 per seat / month", or "—" when Stripe did not say.
fn price(s: &OrgSubscription) -> String {
    match (s.unit_amount, s.currency.as_deref()) {
        (Some(amount), Some(currency)) => {
            let per = s.price_interval.as_deref().unwrap_or("period");
            format!("{} per seat / {per}", money(amount, currency))
        }
        _ => "—".to_owned(),
    }
}

fn line(s: OrgSubscription) -> SubscriptionLine {
    let bad = !matches!(s.status.as_str(), "active" | "trialing");
    SubscriptionLine {
        price: price(&s),
        product: s.product_name,
        plan: s.plan_slug,
        status: s.status.replace('_', " "),
        bad,
        seats: s.quantity.to_string(),
        failing_since: format_opt(s.first_failed_at.map(Timestamp)),
        access_ends: s
            .ends_at
            .map_or_else(|| "open-ended".to_owned(), |t| format_time(Timestamp(t))),
        updated: format_time(Timestamp(s.updated_at)),
    }
}

async fn render(
    web: &Web,
    user: &MemberUser,
    status: StatusCode,
    error: Option<String>,
) -> WebResult<Response> {
    user.require_admin()?;
    let db = &web.registry;
    let org = user.org.id;
    let page = BillingPage {
        chrome: Chrome::org(user, "Billing", "billing"),
        error,
        seat_count: seat_count(
            web.registry.views().org_seats_used(org).await?,
            db.seat_cap(org).await?,
        ),
        has_customer: db.org_customer(org).await?.is_some(),
        subscriptions: web
            .registry
            .views()
            .org_subscriptions(org)
            .await?
            .into_iter()
            .map(line)
            .collect(),
    };
    Ok((status, html(&page)).into_response())
}

/// `GET /{seller}/org/{org}/billing`.
async fn page(State(web): State<Web>, user: MemberUser) -> WebResult<Response> {
    render(&web, &user, StatusCode::OK, None).await
}

/// `POST /{seller}/org/{org}/billing/portal`: a Stripe portal session, then a redirect to it.
async fn portal(State(web): State<Web>, user: MemberUser) -> WebResult<Response> {
    user.require_admin()?;
    if web.registry.org_customer(user.org.id).await?.is_none() {
        let why = format!(
            "{} does not pay through Stripe, so there is no billing portal; ask {} about billing.",
            user.org.name, user.seller.name
        );
        return render(&web, &user, StatusCode::CONFLICT, Some(why)).await;
    }
    match web.billing.portal(&user.seller, &user.org).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(e) => {
            tracing::warn!(error = %e, org = %user.org.slug, "could not open the billing portal");
            let (status, why) = match e {
                BillingError::Unavailable(_) => (
                    StatusCode::BAD_GATEWAY,
                    "Stripe could not be reached to open the billing portal; try again in a minute."
                        .to_owned(),
                ),
                BillingError::BadRequest(_) | BillingError::NotFound(_) => (
                    StatusCode::CONFLICT,
                    format!(
                        "The billing portal is not available: {} has not finished setting up Stripe. Ask them about billing.",
                        user.seller.name
                    ),
                ),
            };
            render(&web, &user, status, Some(why)).await
        }
    }
}

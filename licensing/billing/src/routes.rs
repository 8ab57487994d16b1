//! The billing endpoints under `/{seller}`: the Stripe webhook, the buy link (a redirect to
//! Stripe Checkout) and its return page, and the license public key.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::service::{Billing, BillingError};

/// The router to merge at the root (its paths start with `/{seller}/`).
pub fn router(billing: Billing) -> Router {
    Router::new()
        .route("/{seller}/stripe/webhook", post(webhook))
        .route("/stripe/connect/webhook", post(connect_webhook))
        .route("/stripe/connect/oauth", get(connect_oauth))
        .route("/{seller}/buy/{plan}", get(buy))
        .route("/{seller}/buy/{plan}/done", get(done))
        .route("/{seller}/license/public_key", get(public_key))
        .with_state(billing)
}

impl IntoResponse for BillingError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, format!("{self}\n")).into_response()
    }
}

#[derive(Deserialize)]
pub struct SellerPath {
    seller: String,
}

#[derive(Deserialize)]
pub struct PlanPath {
    seller: String,
    plan: String,
}

#[derive(Deserialize)]
pub struct BuyQuery {
    quantity: Option<u32>,
}

/// Stripe's webhook: 200 once applied (or already applied), 400 for what retrying cannot fix
/// (bad signature, stale, another account), 5xx so that Stripe retries.
async fn webhook(
    State(billing): State<Billing>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, BillingError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let done = billing
        .webhook(&p.seller, &body, signature)
        .await
        .map_err(|e| {
            tracing::warn!(seller = %p.seller, error = %e, "stripe webhook refused");
            e
        })?;
    tracing::info!(seller = %p.seller, %done, "stripe webhook applied");
    Ok((StatusCode::OK, format!("{done}\n")).into_response())
}

/// The platform's Connect endpoint: events of every connected seller.
async fn connect_webhook(
    State(billing): State<Billing>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, BillingError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let done = billing
        .connect_webhook(&body, signature)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "stripe connect webhook refused");
            e
        })?;
    tracing::info!(%done, "stripe connect webhook applied");
    Ok((StatusCode::OK, format!("{done}\n")).into_response())
}

#[derive(Deserialize)]
pub struct OAuthQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Where Stripe sends the seller back after Connect onboarding.
async fn connect_oauth(
    State(billing): State<Billing>,
    Query(q): Query<OAuthQuery>,
) -> Result<Response, BillingError> {
    if let Some(error) = q.error {
        return Err(BillingError::BadRequest(format!(
            "Stripe did not connect the account: {}",
            q.error_description.unwrap_or(error)
        )));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(BillingError::BadRequest(
            "the link lacks its code or state; start again from `tollgate seller stripe-connect-link`".into(),
        ));
    };
    let (seller, account) = billing.connect_oauth(&code, &state).await?;
    Ok(page(
        "Stripe connected",
        &format!(
            "Seller <b>{}</b> now bills through Stripe account <b>{}</b>. You can close this page.",
            escape(&seller),
            escape(&account)
        ),
    ))
}

fn page(title: &str, html: &str) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        format!(
            "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
             <title>{title}</title><h1>{title}</h1><p>{html}</p>"
        ),
    )
        .into_response()
}

/// `GET /{seller}/buy/{plan}?quantity=N`: to Stripe Checkout.
async fn buy(
    State(billing): State<Billing>,
    Path(p): Path<PlanPath>,
    Query(q): Query<BuyQuery>,
) -> Result<Response, BillingError> {
    let url = billing
        .checkout(&p.seller, &p.plan, q.quantity.unwrap_or(1))
        .await?;
    let location = HeaderValue::from_str(&url)
        .map_err(|_| BillingError::Unavailable("Stripe answered an unusable URL".into()))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// Where Checkout returns: the order is confirmed by webhook and mail.
async fn done(Path(p): Path<PlanPath>) -> Response {
    let page = format!(
        "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>Thank you</title><h1>Thank you</h1>\
         <p>Your purchase of <b>{}</b> is confirmed by Stripe. An e-mail with your access token and \
         set-up instructions for each package manager is on its way.</p>",
        escape(&p.plan)
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        page,
    )
        .into_response()
}

/// `GET /{seller}/license/public_key`: `ed25519:…`, for the seller's own code to verify keys.
async fn public_key(
    State(billing): State<Billing>,
    Path(p): Path<SellerPath>,
) -> Result<Response, BillingError> {
    let seller = billing.registry.seller(&p.seller).await?;
    let key = crate::license::public_key(&billing.registry, &billing.secrets, &seller).await?;
    Ok(format!("{}\n", key.to_text()).into_response())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

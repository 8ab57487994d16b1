//! The billing endpoints under `/{seller}`: the Stripe webhook, the buy link (a redirect to
//! Stripe Checkout) and its return page, and the license public key; and the platform's
//! Connect webhook. (Connect onboarding's return from Stripe needs the seller's session, so it
//! is served with the pages: `tollgate_web`'s settings page.)
//!
//! A webhook body is untrusted until its signature is checked: the `Stripe-Signature` header
//! must be present and well-formed and `Content-Length` within [`MAX_EVENT_BYTES`] before a byte
//! of the body is read, the body is read under that limit, and the signature is verified before
//! the body is parsed as JSON (whose nesting serde_json bounds at 128 levels).

use axum::Router;
use axum::body::{Body, Bytes};
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

/// The largest webhook body read. An event is a snapshot of one object whose embedded lists
/// Stripe truncates to a first page (`has_more`), so real deliveries are kilobytes, tens at
/// most; 1 MiB leaves ample room (a refused event is retried by Stripe, then lost, so the bound
/// errs high) while a sender without the secret can make us hold at most this much per request.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The `Stripe-Signature` header, checked for shape, and the body read under
/// [`MAX_EVENT_BYTES`], in that order: nothing is read for a request that cannot be Stripe's.
async fn signed_body(headers: &HeaderMap, body: Body) -> Result<(String, Bytes), Response> {
    let refuse = |status: StatusCode, why: String| (status, format!("{why}\n")).into_response();
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    crate::webhook::Signature::parse(signature.as_deref())
        .map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?;
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a Stripe event is at most {MAX_EVENT_BYTES} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_EVENT_BYTES as u64) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, MAX_EVENT_BYTES)
        .await
        .map_err(|_| too_large())?;
    Ok((signature.unwrap_or_default(), body))
}

/// Stripe's webhook: 200 once applied (or already applied), 400 for what retrying cannot fix
/// (bad signature, stale, another account), 413 for a body no event has, 5xx so that Stripe
/// retries.
async fn webhook(
    State(billing): State<Billing>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (signature, body) = match signed_body(&headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    match billing.webhook(&p.seller, &body, Some(&signature)).await {
        Ok(done) => {
            tracing::info!(seller = %p.seller, %done, "stripe webhook applied");
            (StatusCode::OK, format!("{done}\n")).into_response()
        }
        Err(e) => {
            tracing::warn!(seller = %p.seller, error = %e, "stripe webhook refused");
            e.into_response()
        }
    }
}

/// The platform's Connect endpoint: events of every connected seller.
async fn connect_webhook(
    State(billing): State<Billing>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (signature, body) = match signed_body(&headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    match billing.connect_webhook(&body, Some(&signature)).await {
        Ok(done) => {
            tracing::info!(%done, "stripe connect webhook applied");
            (StatusCode::OK, format!("{done}\n")).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "stripe connect webhook refused");
            e.into_response()
        }
    }
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

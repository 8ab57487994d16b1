//! The seller dashboard and the org admin pages: server-rendered HTML (askama) that works
//! without JavaScript, sessions in Tollgate's own database (stored only at sign-in: anonymous
//! pages keep nothing on the server), one-time sign-in links, a CSRF token on every form, and
//! live updates over server-sent events (see [`live`]).
//!
//! Routes, all under the seller's slug:
//! - `/{seller}/login`, `/{seller}/login/{secret}`, `/{seller}/invite/{secret}`, `/{seller}/logout`
//! - `/{seller}/dashboard/…`: the seller's pages ([`pages::seller`])
//! - `/{seller}/org/{org}/…`: an org's pages for its members ([`pages::org`])

pub mod auth;
pub mod csrf;
pub mod email;
pub mod error;
pub mod links;
pub mod live;
pub mod login;
pub mod pages;
pub mod session_store;
pub mod state;
pub mod templates;

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tollgate_registry::time::Timestamp;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

pub use state::{Web, WebConfig};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tollgate_session";

/// A session ends after this long without a request.
const SESSION_IDLE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The pages' routes (merged into the server's router beside the protocols).
pub fn router(web: Web) -> Router {
    spawn_pruning(&web);
    let sessions = SessionManagerLayer::new(session_store::DbStore::new(web.registry.sessions()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(web.config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            SESSION_IDLE.as_secs() as i64,
        )));
    Router::new()
        .route("/{seller}/login", get(login::form).post(login::request))
        .route("/{seller}/login/{secret}", get(login::follow))
        .route("/{seller}/invite/{secret}", get(login::accept_invite))
        .route("/{seller}/logout", post(login::logout))
        .merge(pages::seller::routes())
        .merge(pages::org::routes())
        .layer(middleware::from_fn_with_state(web.clone(), csrf::check))
        .layer(sessions)
        .layer(middleware::from_fn(private_headers))
        .with_state(web)
        .route("/_tollgate/app.css", get(stylesheet))
        .route("/_tollgate/live.js", get(script))
}

/// Pages hold customers' data and one-time secrets: never cached, never framed, no referrer.
async fn private_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/app.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/live.js"),
    )
}

/// Deletes expired sessions and old sign-in requests now and then.
fn spawn_pruning(web: &Web) {
    let db = web.registry.sessions();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = Timestamp::now();
            let before = Timestamp(now.0 - login::LIMIT_WINDOW.as_millis() as i64);
            if let Err(e) = db.prune_web(now, before).await {
                tracing::warn!(error = %e, "could not prune expired sessions");
            }
        }
    });
}

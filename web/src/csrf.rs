//! CSRF protection for every form: each session has a random token, every form carries it in a
//! hidden `csrf` field, and [`check`] refuses any POST whose field does not match (compared in
//! constant time). One middleware, so a new form cannot forget it. `SameSite=Lax` cookies are
//! the second line.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::error::WebError;

const KEY: &str = "csrf";

/// Form bodies are small; anything bigger is not one of ours.
const MAX_FORM: usize = 256 * 1024;

fn fresh() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The session's token, made on first use.
pub async fn token(session: &Session) -> Result<String, WebError> {
    if let Some(t) = session.get::<String>(KEY).await? {
        return Ok(t);
    }
    renew(session).await
}

/// A new token (at sign-in).
pub async fn renew(session: &Session) -> Result<String, WebError> {
    let t = fresh();
    session.insert(KEY, &t).await?;
    Ok(t)
}

/// Middleware: a POST passes only with the session's token in its form's `csrf` field.
pub async fn check(req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    match verify(req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn verify(req: Request) -> Result<Request, WebError> {
    let refused = || {
        WebError::Forbidden(
            "this form has expired or did not come from this site; reload the page and try again"
                .into(),
        )
    };
    let session = req
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(refused)?;
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM)
        .await
        .map_err(|_| WebError::BadRequest("the form is too large".into()))?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == KEY)
        .map(|(_, v)| v.into_owned())
        .ok_or_else(refused)?;
    let expected = session.get::<String>(KEY).await?.ok_or_else(refused)?;
    if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

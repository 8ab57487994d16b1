//! CSRF protection for every form, in one middleware ([`check`]), so a new form cannot forget it.
//!
//! Two kinds of visitor, two kinds of token in the form's hidden `csrf` field:
//! - **Signed in**: the session's random token (made at sign-in, [`renew`]). A POST passes only
//!   with it, compared in constant time.
//! - **Not signed in** (the sign-in form): no session exists, and none is made, since storing
//!   one per anonymous page view would let anyone fill the sessions table. The token is sent
//!   twice instead, in the field and in a cookie of its own ([`COOKIE`], the double-submit
//!   pattern), and it is sealed with the installation's secret key with an expiry, so every
//!   replica can check it and a cookie planted with a made-up value is refused too.
//!
//! A session that is signed in is only ever checked against its own token: an anonymous pair
//! (from a cookie planted by a sibling site) never passes for it. `SameSite=Lax` cookies are the
//! second line: a cross-site form POST carries neither cookie.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{COOKIE as COOKIE_HEADER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use rand::RngCore;
use subtle::ConstantTimeEq;
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::time::Timestamp;
use tower_sessions::Session;

use crate::error::WebError;
use crate::state::Web;

const KEY: &str = "csrf";

/// The cookie holding a visitor's anonymous token (the other half of the double submit).
pub const COOKIE: &str = "tollgate_csrf";

/// How long an anonymous token works: the sign-in page may stay open this long.
const ANONYMOUS_TTL: Duration = Duration::from_secs(12 * 3600);

/// What a sealed anonymous token says, before its expiry (ms): it is nothing else sealed with
/// the same key (a Stripe Connect `state`, a stored secret).
const ANONYMOUS_PURPOSE: &str = "tollgate-csrf-anonymous";

/// Form bodies are small; anything bigger is not one of ours.
const MAX_FORM: usize = 256 * 1024;
/// The longest a form's body may take to arrive.
const FORM_DEADLINE: Duration = Duration::from_secs(30);

fn fresh() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The signed-in session's token, made on first use.
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

/// The token for a form on a page anyone may open (sign-in), and the cookie to set with it.
/// As a response part it sets that cookie, when a new token was made.
pub struct FormToken {
    pub value: String,
    set_cookie: Option<HeaderValue>,
}

impl FormToken {
    /// A signed-in session's own token; else the visitor's anonymous token: the one in their
    /// cookie while it holds, or a new one (set in the cookie by the response). Nothing is
    /// stored on the server either way.
    pub async fn for_visitor(
        web: &Web,
        session: &Session,
        headers: &HeaderMap,
    ) -> Result<Self, WebError> {
        if let Some(value) = session.get::<String>(KEY).await? {
            return Ok(Self {
                value,
                set_cookie: None,
            });
        }
        let now = Timestamp::now().0;
        if let Some(value) = anonymous_cookie(headers)
            .filter(|c| anonymous_is_valid(&web.billing.secrets, c, now))
            .map(str::to_owned)
        {
            return Ok(Self {
                value,
                set_cookie: None,
            });
        }
        let value = seal_anonymous(&web.billing.secrets, now);
        let mut cookie = format!(
            "{COOKIE}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
            ANONYMOUS_TTL.as_secs()
        );
        if web.config.secure_cookies() {
            cookie.push_str("; Secure");
        }
        let set_cookie = HeaderValue::from_str(&cookie)
            .map_err(|e| WebError::Internal(anyhow::anyhow!("the form cookie: {e}")))?;
        Ok(Self {
            value,
            set_cookie: Some(set_cookie),
        })
    }
}

impl IntoResponseParts for FormToken {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(cookie) = self.set_cookie {
            res.headers_mut().append(SET_COOKIE, cookie);
        }
        Ok(res)
    }
}

/// An anonymous token: sealed, so only this installation makes one that opens.
fn seal_anonymous(secrets: &SecretBox, now_ms: i64) -> String {
    let expires = now_ms + ANONYMOUS_TTL.as_millis() as i64;
    secrets.seal(
        &Binding::token(ANONYMOUS_PURPOSE),
        format!("{ANONYMOUS_PURPOSE} {expires}").as_bytes(),
    )
}

/// Whether `token` is an anonymous token this installation made that has not expired.
fn anonymous_is_valid(secrets: &SecretBox, token: &str, now_ms: i64) -> bool {
    let Ok(plain) = secrets.open(&Binding::token(ANONYMOUS_PURPOSE), token) else {
        return false;
    };
    let Ok(plain) = String::from_utf8(plain) else {
        return false;
    };
    plain
        .strip_prefix(ANONYMOUS_PURPOSE)
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|expires| expires.parse::<i64>().ok())
        .is_some_and(|expires| now_ms < expires)
}

/// The value of the [`COOKIE`] cookie in the request, if it sent one.
fn anonymous_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Middleware: a POST passes only with the right token in its form's `csrf` field: the
/// session's, or (no session signed in) the anonymous one that its cookie holds as well.
pub async fn check(State(web): State<Web>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    match verify(&web, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn verify(web: &Web, req: Request) -> Result<Request, WebError> {
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
    // A form is small: one that trickles in (a byte now and then keeps the connection's idle
    // timer happy) is given up on after FORM_DEADLINE.
    let bytes = tokio::time::timeout(FORM_DEADLINE, to_bytes(body, MAX_FORM))
        .await
        .map_err(|_| {
            WebError::BadRequest("the form took too long to arrive; send it again".into())
        })?
        .map_err(|_| WebError::BadRequest("the form is too large".into()))?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == KEY)
        .map(|(_, v)| v.into_owned())
        .ok_or_else(refused)?;
    let passes = match session.get::<String>(KEY).await? {
        Some(expected) => same(&sent, &expected),
        None => anonymous_cookie(&parts.headers).is_some_and(|cookie| {
            same(&sent, cookie)
                && anonymous_is_valid(&web.billing.secrets, cookie, Timestamp::now().0)
        }),
    };
    if !passes {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SecretBox {
        SecretBox::new(&[3u8; 32])
    }

    #[test]
    fn an_anonymous_token_holds_until_it_expires() {
        let s = secrets();
        let now = 1_000_000;
        let t = seal_anonymous(&s, now);
        assert!(anonymous_is_valid(&s, &t, now));
        // Twelve hours, to the millisecond: the sign-in page may stay open that long.
        let end = now + 12 * 3_600_000;
        assert!(anonymous_is_valid(&s, &t, end - 1));
        assert!(!anonymous_is_valid(&s, &t, end), "expired");
        assert!(!anonymous_is_valid(&s, &t, end + 1), "expired");
        assert_ne!(t, seal_anonymous(&s, now), "each token is new");
    }

    #[test]
    fn only_this_installation_makes_anonymous_tokens() {
        let s = secrets();
        let now = 1_000_000;
        let other = SecretBox::new(&[4u8; 32]);
        assert!(!anonymous_is_valid(&s, &seal_anonymous(&other, now), now));
        // Something else sealed with the same key is not a token.
        let elsewhere = s.seal(
            &Binding::stripe_secret_key(tollgate_registry::ids::SellerId(1)),
            format!("{ANONYMOUS_PURPOSE} {}", now + 1000).as_bytes(),
        );
        assert!(!anonymous_is_valid(&s, &elsewhere, now));
        let no_expiry = s.seal(
            &Binding::token(ANONYMOUS_PURPOSE),
            ANONYMOUS_PURPOSE.as_bytes(),
        );
        assert!(!anonymous_is_valid(&s, &no_expiry, now));
        for junk in ["", "0000", "v1:", "v1:AAAA", &"0".repeat(64)] {
            assert!(!anonymous_is_valid(&s, junk, now), "{junk:?}");
        }
    }

    #[test]
    fn the_anonymous_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        assert_eq!(anonymous_cookie(&h), None);
        h.append(
            COOKIE_HEADER,
            HeaderValue::from_static("a=1; tollgate_csrf=v1:abc=; b=2"),
        );
        assert_eq!(anonymous_cookie(&h), Some("v1:abc="));
        let mut h = HeaderMap::new();
        h.append(COOKIE_HEADER, HeaderValue::from_static("x_tollgate_csrf=1"));
        h.append(COOKIE_HEADER, HeaderValue::from_static("tollgate_csrf=2"));
        assert_eq!(anonymous_cookie(&h), Some("2"));
    }
}

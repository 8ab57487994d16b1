//! Reads the token `gem` and `bundle` send: HTTP Basic from the source URL's userinfo or
//! `bundle config` (the token as user or password), or a raw `Authorization` (push, yank).

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::{AuthError, AuthOrDbError, Caller};

use crate::RubygemsState;
use crate::error::GemError;

/// The token in the `Authorization` header, if any.
pub fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or(("", value));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(BASE64.decode(rest.trim()).ok()?).ok()?;
        let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
        let token = if pass.starts_with("tg_") || user.is_empty() {
            pass
        } else {
            user
        };
        return Some(token.to_owned());
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    Some(value.to_owned())
}

/// The caller, or a 401 saying how to configure the token: for the API (`push`), the
/// publish token in `GEM_HOST_API_KEY`; else the `bundle config` / source URL forms.
pub async fn caller(
    state: &RubygemsState,
    seller: &Seller,
    headers: &HeaderMap,
    api: bool,
) -> Result<Caller, GemError> {
    let url = state.source_url(&seller.slug);
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .unwrap_or_default();
    let how = format!(
        "run `bundle config set --global {host} YOUR_TOKEN` (or set BUNDLE_{}=YOUR_TOKEN), or use the source http://YOUR_TOKEN@… with gem",
        host.to_ascii_uppercase()
            .replace('.', "__")
            .replace('-', "___")
    );
    let how = if api {
        format!(
            "push with GEM_HOST_API_KEY=YOUR_PUBLISH_TOKEN gem push NAME.gem --host {}",
            url.trim_end_matches('/')
        )
    } else {
        how
    };
    let fail = |m: String| GemError::new(StatusCode::UNAUTHORIZED, m);
    match state
        .registry
        .authenticate(seller, presented(headers).as_deref())
        .await
    {
        Ok(caller) => Ok(caller),
        Err(AuthOrDbError::Auth(AuthError::Missing)) => {
            Err(fail(format!("the gem source {url} needs a token: {how}")))
        }
        Err(AuthOrDbError::Auth(AuthError::Unknown)) => Err(fail(format!(
            "the token is not valid for the gem source {url}: {how}"
        ))),
        Err(AuthOrDbError::Auth(AuthError::Revoked(why))) => Err(fail(format!(
            "{why}; ask for a new token (your org admin, or the seller for a publish token), then {how}"
        ))),
        Err(AuthOrDbError::Db(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(v).expect("header"),
        );
        h
    }

    #[test]
    fn reads_basic_raw_and_bearer() {
        let basic = |s: &str| format!("Basic {}", BASE64.encode(s));
        assert_eq!(presented(&headers(&basic("tg_a:"))), Some("tg_a".into()));
        assert_eq!(presented(&headers(&basic("tg_a"))), Some("tg_a".into()));
        assert_eq!(
            presented(&headers(&basic("user:tg_b"))),
            Some("tg_b".into())
        );
        assert_eq!(presented(&headers(&basic(":tg_c"))), Some("tg_c".into()));
        assert_eq!(presented(&headers("tg_raw")), Some("tg_raw".into()));
        assert_eq!(presented(&headers("Bearer tg_d")), Some("tg_d".into()));
        assert_eq!(presented(&HeaderMap::new()), None);
    }
}

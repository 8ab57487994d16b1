//! Reads the token npm sends (`Bearer` from `_authToken`, or `Basic` with the token as the
//! password) and turns authentication failures into sentences that name the `.npmrc` line.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::{AuthError, AuthOrDbError, Caller};

use crate::NpmState;
use crate::error::NpmError;

/// The token in the `Authorization` header, if any.
pub fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = BASE64.decode(rest.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, pass) = decoded.split_once(':').unwrap_or((&decoded, ""));
        return Some(if pass.is_empty() { user } else { pass }.to_owned());
    }
    None
}

pub async fn caller(
    state: &NpmState,
    seller: &Seller,
    headers: &HeaderMap,
) -> Result<Caller, NpmError> {
    let token = presented(headers);
    let line = format!("{}:_authToken=YOUR_TOKEN", state.nerf_dart(&seller.slug));
    // npm prints the body's `error` only when a 401 carries no `WWW-Authenticate` (with one, it
    // prints "Unable to authenticate, need: …" instead), so none is sent.
    match state.registry.authenticate(seller, token.as_deref()).await {
        Ok(caller) => Ok(caller),
        Err(AuthOrDbError::Auth(AuthError::Missing)) => Err(NpmError::new(
            StatusCode::UNAUTHORIZED,
            format!("this registry needs a token: add `{line}` to your .npmrc"),
        )),
        Err(AuthOrDbError::Auth(AuthError::Unknown)) => Err(NpmError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "the token is not valid for the {} registry: check the `{line}` line of your .npmrc",
                seller.slug
            ),
        )),
        Err(AuthOrDbError::Auth(AuthError::Revoked(why))) => Err(NpmError::new(
            StatusCode::UNAUTHORIZED,
            format!(
                "{why}; ask for a new token (your org admin, or the seller for a publish token) and put it in the `{line}` line of your .npmrc"
            ),
        )),
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
    fn reads_bearer_and_basic() {
        assert_eq!(presented(&headers("Bearer tg_x")), Some("tg_x".into()));
        let basic = format!("Basic {}", BASE64.encode("user:tg_y"));
        assert_eq!(presented(&headers(&basic)), Some("tg_y".into()));
        let user_only = format!("Basic {}", BASE64.encode("tg_z:"));
        assert_eq!(presented(&headers(&user_only)), Some("tg_z".into()));
        assert_eq!(presented(&HeaderMap::new()), None);
    }
}

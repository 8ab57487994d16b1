//! The key mix (`--auth-key`) and rebar3 (`repo_key`) send: `authorization: KEY`, verbatim, or
//! `Bearer KEY` from newer clients. Failures say how to configure the key in both clients.

use axum::http::{HeaderMap, StatusCode, header};
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::{AuthError, AuthOrDbError, Caller};

use crate::HexState;
use crate::error::HexError;

pub fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    Some(value.strip_prefix("Bearer ").unwrap_or(value).trim())
}

/// The caller, or a 401 (403 without a key) whose `x-hex-message` (shown by mix as "API error") says what to do.
pub async fn caller(
    state: &HexState,
    seller: &Seller,
    headers: &HeaderMap,
) -> Result<Caller, HexError> {
    let slug = &seller.slug;
    let how = format!(
        "add it with `mix hex.repo add {slug} {} --fetch-public-key SHA256:FINGERPRINT --auth-key TOKEN` or `repo_key` in rebar.config",
        state.repo_url(slug)
    );
    let fail = |text: String| HexError::new(StatusCode::UNAUTHORIZED, text).shown("fatal");
    match state
        .registry
        .authenticate(seller, presented(headers))
        .await
    {
        Ok(caller) => Ok(caller),
        // 403, not 401: on a 401 to a request sent without a key, mix offers to log in to the
        // public Hex registry ("Do you want to authenticate now? [Yn]"), which cannot help.
        Err(AuthOrDbError::Auth(AuthError::Missing)) => Err(HexError::new(
            StatusCode::FORBIDDEN,
            format!("the {slug} Hex repository needs a key: {how}"),
        )
        .shown("fatal")),
        Err(AuthOrDbError::Auth(AuthError::Unknown)) => Err(fail(format!(
            "the key is not valid for the {slug} Hex repository: {how}"
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

    #[test]
    fn raw_and_bearer_keys() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("tg_abc"));
        assert_eq!(presented(&h), Some("tg_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tg_abc"),
        );
        assert_eq!(presented(&h), Some("tg_abc"));
        assert_eq!(presented(&HeaderMap::new()), None);
    }
}

//! Reads the token Cargo sends (`Authorization: <token>`, raw, or with `Bearer `) and turns
//! authentication failures into details that say how to configure it.

use axum::http::{HeaderMap, StatusCode, header};
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::{AuthError, AuthOrDbError, Caller};

use crate::CargoState;
use crate::error::CargoError;

pub fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    Some(value.strip_prefix("Bearer ").unwrap_or(value).trim())
}

/// The caller, or the error Cargo should show. Index and download requests answer 401 (Cargo
/// retries with a token and prints the detail); API calls answer 403 as the Cargo spec asks.
pub async fn caller(
    state: &CargoState,
    seller: &Seller,
    headers: &HeaderMap,
    api: bool,
) -> Result<Caller, CargoError> {
    let slug = &seller.slug;
    let how = format!(
        "set CARGO_REGISTRIES_{}_TOKEN (or run `cargo login --registry {slug}`) with `credential-provider = [\"cargo:token\"]` for the registry in .cargo/config.toml",
        slug.to_ascii_uppercase().replace('-', "_")
    );
    let status = if api {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    let fail = |detail: String| {
        let mut e = CargoError::new(status, detail);
        e.login_url = Some(format!("{}/me", state.api_url(slug)));
        e
    };
    match state
        .registry
        .authenticate(seller, presented(headers))
        .await
    {
        Ok(caller) => Ok(caller),
        Err(AuthOrDbError::Auth(AuthError::Missing)) => {
            Err(fail(format!("the {slug} registry needs a token: {how}")))
        }
        Err(AuthOrDbError::Auth(AuthError::Unknown)) => Err(fail(format!(
            "the token is not valid for the {slug} registry: {how}"
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
    fn raw_and_bearer_tokens() {
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

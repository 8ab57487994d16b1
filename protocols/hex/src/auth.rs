//! Hex's half of authentication: where its key goes (`mix hex.repo add --auth-key`, rebar3's
//! `repo_key`) and its status codes. Reading the header and the sentences are the core's.

use axum::http::{HeaderMap, StatusCode};
use tollgate_registry::credentials::AuthHint;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::{AuthError, Caller};

use crate::HexState;
use crate::error::HexError;

pub async fn caller(
    state: &HexState,
    seller: &Seller,
    headers: &HeaderMap,
) -> Result<Caller, HexError> {
    let error = match state.registry.caller(seller, headers).await? {
        Ok(caller) => return Ok(caller),
        Err(error) => error,
    };
    let slug = &seller.slug;
    let hint = AuthHint {
        place: &format!("the {slug} Hex repository"),
        credential: "key",
        how: &format!(
            "add it with `mix hex.repo add {slug} {} --fetch-public-key SHA256:FINGERPRINT --auth-key TOKEN` or `repo_key` in rebar.config",
            state.repo_url(slug)
        ),
    };
    // No key at all: 403, which mix reports with the body; a wrong or revoked key: 401.
    let status = if error == AuthError::Missing {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    Err(HexError::new(status, error.sentence(&hint)).shown("fatal"))
}

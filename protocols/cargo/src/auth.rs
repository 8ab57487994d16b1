//! Cargo's half of authentication: where its token goes (`CARGO_REGISTRIES_<NAME>_TOKEN` or
//! `cargo login`) and its status codes. Reading the header and the sentences are the core's.

use axum::http::{HeaderMap, StatusCode};
use tollgate_registry::credentials::AuthHint;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::Caller;

use crate::CargoState;
use crate::error::CargoError;

/// The caller of an index or download request (`api: false`: 401, which makes Cargo ask for a
/// token) or of a web API request (`api: true`: 403, whose body Cargo prints).
pub async fn caller(
    state: &CargoState,
    seller: &Seller,
    headers: &HeaderMap,
    api: bool,
) -> Result<Caller, CargoError> {
    let error = match state.registry.caller(seller, headers).await? {
        Ok(caller) => return Ok(caller),
        Err(error) => error,
    };
    let slug = &seller.slug;
    let hint = AuthHint {
        place: &format!("the {slug} registry"),
        credential: "token",
        how: &format!(
            "set CARGO_REGISTRIES_{}_TOKEN (or run `cargo login --registry {slug}`) with `credential-provider = [\"cargo:token\"]` for the registry in .cargo/config.toml",
            slug.to_ascii_uppercase().replace('-', "_")
        ),
    };
    let status = if api {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    let mut e = CargoError::new(status, error.sentence(&hint));
    e.login_url = Some(format!("{}/me", state.api_url(slug)));
    Err(e)
}

//! npm's half of authentication: where its token goes (the `.npmrc` line) and its status codes.
//! Reading the header and the sentences are the core's (`tollgate_registry::credentials`).

use axum::http::{HeaderMap, StatusCode};
use tollgate_registry::credentials::AuthHint;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::Caller;

use crate::NpmState;
use crate::error::NpmError;

pub async fn caller(
    state: &NpmState,
    seller: &Seller,
    headers: &HeaderMap,
) -> Result<Caller, NpmError> {
    let error = match state.registry.caller(seller, headers).await? {
        Ok(caller) => return Ok(caller),
        Err(error) => error,
    };
    let line = format!("{}:_authToken=YOUR_TOKEN", state.nerf_dart(&seller.slug));
    let hint = AuthHint {
        place: &format!("the {} registry", seller.slug),
        credential: "token",
        how: &format!("add `{line}` to your .npmrc"),
    };
    // npm prints the body's `error` only when a 401 carries no `WWW-Authenticate` (with one, it
    // prints "Unable to authenticate, need: …" instead), so none is sent.
    Err(NpmError::new(
        StatusCode::UNAUTHORIZED,
        error.sentence(&hint),
    ))
}

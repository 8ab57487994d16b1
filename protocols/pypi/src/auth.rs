//! PyPI's half of authentication: where the token goes (HTTP Basic, user `__token__` and the
//! token as the password, as in an index URL or `poetry config http-basic`). Reading the header
//! and the sentences are the core's.

use axum::http::{HeaderMap, StatusCode};
use tollgate_registry::credentials::AuthHint;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::Caller;

use crate::PypiState;
use crate::error::PypiError;

/// The caller of an index request, or (`upload: true`) of an upload.
pub async fn caller(
    state: &PypiState,
    seller: &Seller,
    headers: &HeaderMap,
    upload: bool,
) -> Result<Caller, PypiError> {
    let error = match state.registry.caller(seller, headers).await? {
        Ok(caller) => return Ok(caller),
        Err(error) => error,
    };
    let base = state.base_url(&seller.slug);
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", &base));
    let how = if upload {
        format!(
            "upload with twine upload --repository-url {base}/ -u __token__ -p YOUR_PUBLISH_TOKEN"
        )
    } else {
        format!("use the index URL {scheme}://__token__:YOUR_TOKEN@{rest}/simple/")
    };
    let hint = AuthHint {
        place: &format!("the package index {base}/simple/"),
        credential: "token",
        how: &how,
    };
    Err(PypiError::new(
        StatusCode::UNAUTHORIZED,
        error.sentence(&hint),
    ))
}

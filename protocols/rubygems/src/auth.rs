//! RubyGems' half of authentication: where its token goes (Bundler's per-host setting, a
//! `TOKEN@host` source, `GEM_HOST_API_KEY` for pushes). Reading the header and the sentences are
//! the core's.

use axum::http::{HeaderMap, StatusCode};
use tollgate_registry::credentials::AuthHint;
use tollgate_registry::domain::Seller;
use tollgate_registry::registry::Caller;

use crate::RubygemsState;
use crate::error::GemError;

/// The caller of a source request, or (`api: true`) of a push or yank.
pub async fn caller(
    state: &RubygemsState,
    seller: &Seller,
    headers: &HeaderMap,
    api: bool,
) -> Result<Caller, GemError> {
    let error = match state.registry.caller(seller, headers).await? {
        Ok(caller) => return Ok(caller),
        Err(error) => error,
    };
    let url = state.source_url(&seller.slug);
    let how = if api {
        format!(
            "push with GEM_HOST_API_KEY=YOUR_PUBLISH_TOKEN gem push NAME.gem --host {}",
            url.trim_end_matches('/')
        )
    } else {
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .unwrap_or_default();
        format!(
            "run `bundle config set --global {host} YOUR_TOKEN` (or set BUNDLE_{}=YOUR_TOKEN), or use the source http://YOUR_TOKEN@… with gem",
            host.to_ascii_uppercase()
                .replace('.', "__")
                .replace('-', "___")
        )
    };
    let hint = AuthHint {
        place: &format!("the gem source {url}"),
        credential: "token",
        how: &how,
    };
    Err(GemError::new(
        StatusCode::UNAUTHORIZED,
        error.sentence(&hint),
    ))
}

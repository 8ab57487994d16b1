//! Reading one gem: the source probe (`HEAD /`), `quick/Marshal.4.8/*.gemspec.rz`, `.gem`
//! downloads, and the helpers every read shares (seller lookup, the access rule, denials).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate_registry::domain::{Ecosystem, PackageState, Seller};
use tollgate_registry::registry::Caller;
use tollgate_registry::registry::download::{Allowed, Readable, Refusal};

use crate::error::GemError;
use crate::gemspec::{GemSpec, shown, valid_name};
use crate::version::Split;
use crate::{RubygemsState, auth, legacy, version};

#[derive(Deserialize)]
pub struct SellerPath {
    pub seller: String,
}

#[derive(Deserialize)]
pub struct FilePath {
    pub seller: String,
    pub file: String,
}

/// The seller and the authenticated caller of a request.
pub async fn seller_and_caller(
    state: &RubygemsState,
    slug: &str,
    headers: &HeaderMap,
    api: bool,
) -> Result<(Arc<Seller>, Caller), GemError> {
    let seller = state.registry.seller(slug).await?;
    let caller = auth::caller(state, &seller, headers, api).await?;
    Ok((seller, caller))
}

/// "Not found" for a name no gem can have, answered before any lookup (so a made-up name
/// is neither a query nor a cache entry).
pub fn invalid_name(name: &str) -> GemError {
    GemError::not_found(format!("gem `{}`", shown(name)))
}

/// The gem and what the caller may see of it, or the error to answer. A name breaking
/// RubyGems' rules is "not found" without a lookup.
pub async fn readable(
    state: &RubygemsState,
    caller: &Caller,
    name: &str,
) -> Result<Readable, GemError> {
    if !valid_name(name) {
        return Err(invalid_name(name));
    }
    state
        .registry
        .readable(caller, Ecosystem::Rubygems, name)
        .await?
        .map_err(|r| refused(r, name))
}

/// RubyGems' words for a refusal: 404 hides a gem outside the caller's licenses; a lapsed
/// license is a 403 whose body (the reason and the date) Bundler and gem print, as is a
/// metadata-only token asking for a `.gem`.
pub fn refused(refusal: Refusal, name: &str) -> GemError {
    match refusal {
        Refusal::Lapsed(reason) | Refusal::Forbidden(reason) => {
            GemError::new(StatusCode::FORBIDDEN, reason)
        }
        Refusal::Unauthenticated(why) => GemError::new(StatusCode::UNAUTHORIZED, why),
        Refusal::Hidden | Refusal::NoSuchVersion { .. } => {
            GemError::not_found(format!("gem `{name}`"))
        }
    }
}

/// The gemspec of every release of `pkg`, by release.
pub async fn gemspecs(
    state: &RubygemsState,
    pkg: &PackageState,
) -> Result<HashMap<tollgate_registry::ids::ReleaseId, GemSpec>, GemError> {
    Ok(state
        .registry
        .release_metadata(pkg.id)
        .await?
        .into_iter()
        .filter_map(|(id, m)| serde_json::from_value(m).ok().map(|s| (id, s)))
        .collect())
}

/// `/api/v1/dependencies`: not implemented, so Bundler 2.3 goes on to the compact index.
pub async fn dependencies() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// The full name (`name-version[-platform]`) of a requested `file`: its at most 4 plausible
/// `(name, version key)` splits, or "not found" (before any lookup) when it has none.
fn full_name<'a>(file: &'a str, suffix: &str) -> Result<(&'a str, Vec<Split<'a>>), GemError> {
    let full = file.strip_suffix(suffix).unwrap_or_default();
    let splits = version::split_full_name(full);
    if splits.is_empty() {
        return Err(GemError::not_found(format!("`{}`", shown(file))));
    }
    Ok((full, splits))
}

/// The release a full name names (`splits` from `full_name`), if the caller may download it
/// (`archive`), or only read its gemspec (a metadata-only token may). Yanked releases still
/// download (the core's yank table): lockfiles must keep installing.
async fn release_of(
    state: &RubygemsState,
    caller: &Caller,
    (full, splits): (&str, Vec<Split<'_>>),
    archive: bool,
) -> Result<Allowed, GemError> {
    let candidates: Vec<Split<'_>> = splits
        .into_iter()
        .filter(|(name, _)| valid_name(name))
        .collect();
    let registry = &state.registry;
    let decided = if archive {
        registry
            .downloadable_any(caller, Ecosystem::Rubygems, &candidates)
            .await?
    } else {
        registry
            .describable_any(caller, Ecosystem::Rubygems, &candidates)
            .await?
    };
    decided.map_err(|r| match r {
        Refusal::Hidden | Refusal::NoSuchVersion { .. } => {
            GemError::not_found(format!("gem `{full}`"))
        }
        other => refused(other, full),
    })
}

/// `quick/Marshal.4.8/FULLNAME.gemspec.rz`: `gem install` fetches it for every gem.
pub async fn quick_gemspec(
    State(state): State<RubygemsState>,
    Path(p): Path<FilePath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    let (full, splits) = full_name(&p.file, ".gemspec.rz")?;
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let allowed = release_of(&state, &caller, (full, splits), false).await?;
    let spec = gemspecs(&state, &allowed.package)
        .await?
        .remove(&allowed.release.id)
        .ok_or_else(|| GemError::not_found(&p.file))?;
    let body = legacy::gemspec_rz(&spec);
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response())
}

/// `gems/FULLNAME.gem`: streamed from the store (or redirected), recording a download.
pub async fn download(
    State(state): State<RubygemsState>,
    Path(p): Path<FilePath>,
    connect: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    let (full, splits) = full_name(&p.file, ".gem")?;
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let allowed = release_of(&state, &caller, (full, splits), true).await?;
    let ip = connect.map(|Extension(c)| c.0.ip().to_string());
    let download = state.registry.fetch(&caller, allowed, ip).await?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(download.into_response(out))
}

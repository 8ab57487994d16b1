//! The repository half: `public_key`, the signed `packages/NAME`, `names` and `versions` (what
//! the calling org may download, per the access rule), and tarballs with an ETag (rebar3 fails
//! a tarball answer without one).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tollgate_registry::access::Visibility;
use tollgate_registry::document::Document;
use tollgate_registry::domain::{Ecosystem, PackageState, Seller};
use tollgate_registry::registry::Caller;
use tollgate_registry::registry::download::{Readable, Refusal};

use crate::error::{HexError, hex_message};
use crate::paths::{FilePath, NamePath, SellerPath};
use crate::resources::{self, Listed, StoredRelease};
use crate::signing::SigningKey;
use crate::{HexState, auth};

/// `GET /public_key`: the PEM `mix hex.repo add --fetch-public-key` checks. Public, like any
/// public key: it lets a buyer verify the repository before holding a token.
pub async fn public_key(
    State(state): State<HexState>,
    Path(p): Path<SellerPath>,
) -> Result<Response, HexError> {
    let seller = state.registry.seller(&p.seller).await?;
    let key = signing_key(&state, &seller).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-pem-file"),
        )],
        key.public_pem().to_owned(),
    )
        .into_response())
}

pub async fn signing_key(state: &HexState, seller: &Seller) -> Result<Arc<SigningKey>, HexError> {
    Ok(state
        .keys
        .get(&state.registry, &state.config.secrets, seller)
        .await?)
}

/// The package, what the caller may see of it, and the warning to show with it (a lapsed
/// license), or the error to answer.
async fn readable(state: &HexState, caller: &Caller, name: &str) -> Result<Readable, HexError> {
    if !crate::paths::is_name(name) {
        return Err(HexError::not_found(format!("package {name:.100}")));
    }
    state
        .registry
        .readable(caller, Ecosystem::Hex, name)
        .await?
        .map_err(|r| refused(r, name, None))
}

/// Hex's words for a refusal: 404 for a package outside the caller's licenses (its existence is
/// not revealed); a lapsed license says why, in the header mix prints; a metadata-only key asking
/// for a tarball is a 403 that says so.
fn refused(refusal: Refusal, name: &str, version: Option<&str>) -> HexError {
    let what = match version {
        Some(version) => format!("{name} {version}"),
        None => name.to_owned(),
    };
    match refusal {
        Refusal::Unauthenticated(why) => {
            HexError::new(StatusCode::UNAUTHORIZED, why).shown("fatal")
        }
        Refusal::Lapsed(reason)
        | Refusal::NoSuchVersion {
            lapsed: Some(reason),
        } => HexError::new(StatusCode::NOT_FOUND, format!("{what}: {reason}")).shown("warn"),
        Refusal::NoSuchVersion { lapsed: None } => HexError::not_found(what),
        Refusal::Forbidden(why) => {
            HexError::new(StatusCode::FORBIDDEN, format!("{what}: {why}")).shown("fatal")
        }
        Refusal::Hidden => HexError::not_found(format!("package {name}")),
    }
}

/// A signed resource's answer: private (it depends on the caller), an ETag and 304.
fn signed(doc: &Document, headers: &HeaderMap, warning: Option<&str>) -> Response {
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let mut response = if doc.matches(if_none_match) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            doc.body.clone(),
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&doc.etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(v) = warning.and_then(|w| hex_message(w, "warn")) {
        h.insert("x-hex-message", v);
    }
    response
}

/// Each release's stored Hex metadata, by release id.
async fn stored_releases(
    state: &HexState,
    pkg: &PackageState,
) -> Result<HashMap<i64, StoredRelease>, HexError> {
    Ok(state
        .registry
        .release_metadata(pkg.id)
        .await?
        .into_iter()
        .filter_map(|(id, value)| Some((id.0, serde_json::from_value(value).ok()?)))
        .collect())
}

/// The signed `packages/NAME` of what `vis` shows, rendered once per distinct view.
async fn package_doc(
    state: &HexState,
    seller: &Seller,
    pkg: &PackageState,
    vis: Visibility,
) -> Result<Document, HexError> {
    state
        .packages
        .get_or_render((pkg.id, vis, 0), || async {
            let stored = stored_releases(state, pkg).await?;
            let key = signing_key(state, seller).await?;
            let shown = resources::visible(pkg, vis);
            let message = resources::package(&seller.slug, &pkg.name, &shown, |r| {
                stored.get(&r.id.0).cloned()
            });
            let count = message.releases.len();
            Ok::<_, HexError>(Document::new(resources::sign(&key, &message), count))
        })
        .await
}

/// `GET /packages/NAME`.
pub async fn package(
    State(state): State<HexState>,
    Path(p): Path<NamePath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers).await?;
    let readable = readable(&state, &caller, &p.name).await?;
    let doc = package_doc(&state, &seller, &readable.package, readable.visibility).await?;
    if doc.entries == 0 {
        return Err(refused(readable.refusal_when_empty(), &p.name, None));
    }
    Ok(signed(&doc, &headers, readable.notice.as_deref()))
}

/// `GET /names` and `GET /versions`: every package the caller may download something of.
async fn listing(
    state: &HexState,
    slug: &str,
    headers: &HeaderMap,
    variant: u8,
) -> Result<Response, HexError> {
    let seller = state.registry.seller(slug).await?;
    let caller = auth::caller(state, &seller, headers).await?;
    let shelf = state.registry.readable_all(&caller, Ecosystem::Hex).await?;
    let warning = shelf.lapsed;
    let views: Vec<(Arc<PackageState>, Visibility)> = shelf
        .readable
        .into_iter()
        .map(|r| (r.package, r.visibility))
        .collect();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (pkg, vis) in &views {
        (pkg.id, vis).hash(&mut hasher);
    }
    let key = (seller.id, hasher.finish(), variant);
    let doc = match state.listings.get(&key) {
        Some(doc) => doc,
        None => {
            let at = state.listings.generation();
            let listed: Vec<Listed<'_>> = views
                .iter()
                .map(|(pkg, vis)| Listed {
                    name: &pkg.name,
                    releases: resources::visible(pkg, *vis),
                })
                .filter(|l| !l.releases.is_empty())
                .collect();
            let signing = signing_key(state, &seller).await?;
            let body = if variant == 0 {
                resources::sign(&signing, &resources::names(&seller.slug, &listed))
            } else {
                resources::sign(&signing, &resources::versions(&seller.slug, &listed))
            };
            let doc = Document::new(body, listed.len());
            state.listings.insert(key, doc.clone(), at);
            doc
        }
    };
    Ok(signed(
        &doc,
        headers,
        warning.filter(|_| doc.entries == 0).as_deref(),
    ))
}

pub async fn names(
    State(state): State<HexState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    listing(&state, &p.seller, &headers, 0).await
}

pub async fn versions(
    State(state): State<HexState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    listing(&state, &p.seller, &headers, 1).await
}

/// `GET /tarballs/NAME-VERSION.tar`, streamed from the store. Hex names have no `-`, so the
/// first one ends the name. The ETag is the outer checksum.
pub async fn tarball(
    State(state): State<HexState>,
    Path(p): Path<FilePath>,
    connect: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers).await?;
    let (name, version) = p
        .file
        .strip_suffix(".tar")
        .and_then(|f| f.split_once('-'))
        .filter(|(name, _)| crate::paths::is_name(name))
        .ok_or_else(|| HexError::not_found(format!("tarball {:.200}", p.file)))?;
    let allowed = state
        .registry
        .downloadable(&caller, Ecosystem::Hex, name, version)
        .await?
        .map_err(|r| refused(r, name, Some(version)))?;
    let etag = format!("\"{}\"", allowed.release.blob_sha256);
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let ip = connect.map(|Extension(c)| c.0.ip().to_string());
    let download = state.registry.fetch(&caller, allowed, ip).await?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    out.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\"")),
    );
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    Ok(download.into_response(out))
}

//! Reading: `config.json`, index files (one JSON line per version the caller may download) and
//! `.crate` downloads, all through the one access rule.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_registry::document::Document;
use tollgate_registry::domain::Ecosystem;
use tollgate_registry::registry::Caller;
use tollgate_registry::registry::download::{Readable, Refusal};

use crate::error::CargoError;
use crate::name::{index_path, stored, validate};
use crate::{CargoState, auth};

#[derive(Deserialize)]
pub struct SellerPath {
    seller: String,
}

#[derive(Deserialize)]
pub struct FilePath {
    seller: String,
    path: String,
}

#[derive(Deserialize)]
pub struct VersionPath {
    pub seller: String,
    pub name: String,
    pub version: String,
}

/// `config.json` holds no secret: it is served to anyone, and says that everything else needs a
/// token (`auth-required`), so Cargo sends it on every later request.
pub async fn config(
    State(state): State<CargoState>,
    Path(p): Path<SellerPath>,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let api = state.api_url(&seller.slug);
    let body = json!({ "dl": format!("{api}/api/v1/crates"), "api": api, "auth-required": true });
    Ok(axum::Json(body).into_response())
}

/// The package and what the caller may see of it, or the error Cargo should print.
pub async fn readable(
    state: &CargoState,
    caller: &Caller,
    name: &str,
) -> Result<Readable, CargoError> {
    state
        .registry
        .readable(caller, Ecosystem::Cargo, &stored(name))
        .await?
        .map_err(|r| refused(r, name, None))
}

/// Cargo's words for a refusal: 404 hides a crate outside the caller's licenses (a 403 would
/// abort the whole build); a lapsed license (or a metadata-only token asking for a `.crate`) is a
/// 403 whose body Cargo prints, with the reason.
fn refused(refusal: Refusal, name: &str, version: Option<&str>) -> CargoError {
    match refusal {
        Refusal::Lapsed(reason) | Refusal::Forbidden(reason) => {
            CargoError::new(StatusCode::FORBIDDEN, reason)
        }
        Refusal::Unauthenticated(why) => CargoError::new(StatusCode::UNAUTHORIZED, why),
        Refusal::Hidden => CargoError::not_found(format!("crate `{name}`")),
        Refusal::NoSuchVersion { .. } => {
            CargoError::not_found(format!("{name} {}", version.unwrap_or_default()))
        }
    }
}

pub async fn file(
    State(state): State<CargoState>,
    Path(p): Path<FilePath>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let name = p.path.rsplit('/').next().unwrap_or_default();
    if validate(name).is_err() || name != stored(name) || index_path(name) != p.path {
        return Err(CargoError::not_found(format!("index file `{}`", p.path)));
    }
    let caller = auth::caller(&state, &seller, &headers, false).await?;
    let readable = readable(&state, &caller, name).await?;
    let doc = state
        .index
        .get_or_render((readable.package.id, readable.visibility, 0), || {
            render(&state, &readable)
        })
        .await?;
    if doc.entries == 0 {
        return Err(refused(readable.refusal_when_empty(), name, None));
    }
    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(etag) = HeaderValue::from_str(&doc.etag) {
        out.insert(header::ETAG, etag);
    }
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if doc.matches(if_none_match) {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok((out, doc.body).into_response())
}

/// One line per visible version (yanked ones included, marked, so lockfiles keep resolving).
async fn render(state: &CargoState, readable: &Readable) -> Result<Document, CargoError> {
    let pkg = &readable.package;
    let metadata: HashMap<_, Value> = state
        .registry
        .release_metadata(pkg.id)
        .await?
        .into_iter()
        .collect();
    let mut body = Vec::new();
    let mut entries = 0;
    for r in readable.listed() {
        let mut line = metadata
            .get(&r.id)
            .and_then(|m| m.get("line"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        line["cksum"] = r.blob_sha256.clone().into();
        line["yanked"] = r.yanked.into();
        line["pubtime"] = r
            .published_at
            .to_datetime()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
            .into();
        serde_json::to_writer(&mut body, &line)
            .map_err(|e| CargoError::bad_request(e.to_string()))?;
        body.push(b'\n');
        entries += 1;
    }
    Ok(Document::new(body, entries))
}

pub async fn download(
    State(state): State<CargoState>,
    Path(p): Path<VersionPath>,
    connect: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers, false).await?;
    let ip = connect.map(|Extension(c)| c.0.ip().to_string());
    let download = state
        .registry
        .download(&caller, Ecosystem::Cargo, &stored(&p.name), &p.version, ip)
        .await?
        .map_err(|r| refused(r, &p.name, Some(&p.version)))?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    Ok(download.into_response(out))
}

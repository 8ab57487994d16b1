//! The index as buyers read it: `/simple/` (the projects the caller may see), `/simple/NAME/`
//! (one project's files), `/files/FILE` (a download, recorded) and `/files/FILE.metadata`
//! (PEP 658). What is listed equals what downloads: both come from the core's one read path.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tollgate_registry::document::Document;
use tollgate_registry::domain::{Ecosystem, PackageState, Seller};
use tollgate_registry::ids::ReleaseId;
use tollgate_registry::registry::Caller;
use tollgate_registry::registry::download::{Allowed, Readable, Refusal};

use crate::error::PypiError;
use crate::filename;
use crate::simple::{self, FileEntry, Form};
use crate::stored::StoredFile;
use crate::{PypiState, auth, name};

#[derive(Deserialize)]
pub struct SellerPath {
    pub seller: String,
}

#[derive(Deserialize)]
pub struct ProjectPath {
    seller: String,
    name: String,
}

#[derive(Deserialize)]
pub struct FilePath {
    seller: String,
    file: String,
}

/// The seller and the authenticated caller of a request.
pub async fn seller_and_caller(
    state: &PypiState,
    slug: &str,
    headers: &HeaderMap,
    upload: bool,
) -> Result<(Arc<Seller>, Caller), PypiError> {
    let seller = state.registry.seller(slug).await?;
    let caller = auth::caller(state, &seller, headers, upload).await?;
    Ok((seller, caller))
}

/// pip's and uv's words for a refusal: 404 hides a project outside the caller's licenses (and
/// sends uv to its next index); an ended license is a 403 whose reason phrase (the product, the
/// date, what perpetual fallback keeps) pip, uv and poetry print, as is a metadata-only bot
/// token's request for a file (the sentence names its scope).
pub fn refused(refusal: Refusal, what: &str) -> PypiError {
    match refusal {
        Refusal::Lapsed(reason)
        | Refusal::Forbidden(reason)
        | Refusal::NoSuchVersion {
            lapsed: Some(reason),
        } => PypiError::new(StatusCode::FORBIDDEN, reason),
        Refusal::Unauthenticated(why) => PypiError::new(StatusCode::UNAUTHORIZED, why),
        Refusal::Hidden | Refusal::NoSuchVersion { lapsed: None } => PypiError::not_found(what),
    }
}

/// The stored record of every file of `pkg`, by release.
async fn records(
    state: &PypiState,
    pkg: &PackageState,
) -> Result<HashMap<ReleaseId, StoredFile>, PypiError> {
    Ok(state
        .registry
        .release_metadata(pkg.id)
        .await?
        .into_iter()
        .filter_map(|(id, m)| serde_json::from_value(m).ok().map(|s| (id, s)))
        .collect())
}

/// `2026-01-01T00:00:00.000000Z` (PEP 700).
fn upload_time(at: tollgate_registry::time::Timestamp) -> String {
    at.to_datetime()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// The rendered page of what `readable` lets the caller see, in `form`.
async fn page(state: &PypiState, readable: &Readable, form: Form) -> Result<Document, PypiError> {
    let pkg = &readable.package;
    state
        .pages
        .get_or_render((pkg.id, readable.visibility, form as u8), || async {
            let records = records(state, pkg).await?;
            let listed: Vec<_> = readable
                .listed()
                .filter_map(|r| records.get(&r.id).map(|s| (r, s)))
                .collect();
            let mut versions: Vec<&str> = listed.iter().map(|(_, s)| s.version.as_str()).collect();
            versions.sort_by_cached_key(|v| crate::version::parse(v).ok());
            // One entry per release: `1.0` and `1.0.0` are one (the first spelling stays).
            versions.dedup_by(|a, b| crate::version::same(a, b));
            let versions: Vec<String> = versions.into_iter().map(str::to_owned).collect();
            let files: Vec<FileEntry> = listed
                .iter()
                .map(|(r, s)| FileEntry {
                    filename: &s.filename,
                    sha256: &r.blob_sha256,
                    size: r.size,
                    upload_time: upload_time(r.published_at),
                    requires_python: s.requires_python.as_deref(),
                    core_metadata_sha256: s.core_metadata_sha256.as_deref(),
                    // The reason is the seller's retirement message, if any (PEP 592).
                    yanked: r
                        .yanked
                        .then(|| r.retired.as_ref().map_or("", |t| t.message.as_str())),
                })
                .collect();
            let body = simple::project_page(form, &pkg.name, &versions, &files);
            Ok::<_, PypiError>(Document::new(body, files.len()))
        })
        .await
}

/// A page's answer: the form's content type, `Vary: Accept`, `private, no-cache` (pip and uv
/// cache pages by URL; this one differs per caller) and the ETag, or 304.
fn answer(headers: &HeaderMap, doc: &Document, form: Form) -> Response {
    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(v) = HeaderValue::from_str(&doc.etag) {
        out.insert(header::ETAG, v);
    }
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    if doc.matches(if_none_match) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    let content_type = match form {
        Form::Json => simple::JSON_TYPE,
        Form::Html => simple::HTML_TYPE,
    };
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (out, doc.body.clone()).into_response()
}

fn form_of(headers: &HeaderMap) -> Form {
    simple::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

/// `/simple/NAME/`: the files of one project the caller may download. Another spelling of the
/// name redirects to the normalized one (PEP 503); a name no project can have is "not found"
/// before any lookup.
pub async fn project(
    State(state): State<PypiState>,
    Path(p): Path<ProjectPath>,
    headers: HeaderMap,
) -> Result<Response, PypiError> {
    if !name::is_valid(&p.name) {
        return Err(PypiError::not_found(format!(
            "project '{}'",
            p.name.chars().take(80).collect::<String>()
        )));
    }
    let normalized = name::normalize(&p.name);
    if normalized != p.name {
        return Ok(Redirect::permanent(&format!("../{normalized}/")).into_response());
    }
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let project = format!("project '{normalized}'");
    let readable = state
        .registry
        .readable(&caller, Ecosystem::Pypi, &normalized)
        .await?
        .map_err(|r| refused(r, &project))?;
    let form = form_of(&headers);
    let doc = page(&state, &readable, form).await?;
    if doc.entries == 0 {
        return Err(refused(readable.refusal_when_empty(), &project));
    }
    Ok(answer(&headers, &doc, form))
}

/// `/simple/NAME` without the slash: to the canonical URL.
pub async fn project_without_slash(Path(p): Path<ProjectPath>) -> Response {
    let normalized = if name::is_valid(&p.name) {
        name::normalize(&p.name)
    } else {
        return PypiError::not_found("project").into_response();
    };
    Redirect::permanent(&format!("{normalized}/")).into_response()
}

/// `/simple/`: the projects the caller may list something of. An org whose licenses all ended
/// gets the reason instead of an empty list.
pub async fn index(
    State(state): State<PypiState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, PypiError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let shelf = state
        .registry
        .readable_all(&caller, Ecosystem::Pypi)
        .await?;
    let mut names = Vec::new();
    for readable in &shelf.readable {
        // The HTML page says whether anything is listed (and is what pip reads first).
        if page(&state, readable, Form::Html).await?.entries > 0 {
            names.push(readable.package.name.as_str());
        }
    }
    if let (true, Some(reason)) = (names.is_empty(), shelf.lapsed) {
        return Err(PypiError::new(StatusCode::FORBIDDEN, reason));
    }
    let form = form_of(&headers);
    let doc = Document::new(simple::project_list(form, &names), names.len());
    Ok(answer(&headers, &doc, form))
}

/// The release a file name names, if the caller may download it. Yanked files still download
/// (PEP 592: a pin or a lockfile keeps installing them).
/// With `archive: false`, only what describes the file (its size, its METADATA): a
/// metadata-only bot token may read that too.
async fn allowed(
    state: &PypiState,
    caller: &Caller,
    file: &str,
    archive: bool,
) -> Result<Allowed, PypiError> {
    let shown = || format!("file '{}'", file.chars().take(120).collect::<String>());
    let dist = filename::parse(file).map_err(|_| PypiError::not_found(shown()))?;
    let registry = &state.registry;
    let decided = if archive {
        registry
            .downloadable(caller, Ecosystem::Pypi, &dist.project, file)
            .await?
    } else {
        registry
            .describable(caller, Ecosystem::Pypi, &dist.project, file)
            .await?
    };
    decided.map_err(|r| refused(r, &shown()))
}

/// `/files/FILE`: streamed from the store (or redirected to it), recording a download (`HEAD`
/// answers the size, unrecorded); and `/files/FILE.metadata`: the wheel's `METADATA` (PEP
/// 658), under the same rule, unrecorded.
pub async fn file(
    State(state): State<PypiState>,
    Path(p): Path<FilePath>,
    method: Method,
    connect: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, PypiError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    if let Some(dist) = p.file.strip_suffix(".metadata") {
        return metadata(&state, &caller, dist).await;
    }
    let allowed = allowed(&state, &caller, &p.file, method != Method::HEAD).await?;
    if method == Method::HEAD {
        // uv asks for a wheel's size before reading its metadata: not a download.
        return Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (header::CONTENT_LENGTH, allowed.release.size.to_string()),
            ],
            (),
        )
            .into_response());
    }
    let ip = connect.map(|Extension(c)| c.0.ip().to_string());
    let download = state.registry.fetch(&caller, allowed, ip).await?;
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(download.into_response(out))
}

async fn metadata(state: &PypiState, caller: &Caller, file: &str) -> Result<Response, PypiError> {
    let allowed = allowed(state, caller, file, false).await?;
    let text = records(state, &allowed.package)
        .await?
        .remove(&allowed.release.id)
        .and_then(|s| s.core_metadata)
        .ok_or_else(|| PypiError::not_found(format!("metadata of '{file}'")))?;
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(text.as_bytes())[..16])
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::ETAG, etag),
        ],
        text,
    )
        .into_response())
}

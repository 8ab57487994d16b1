//! Listings built per caller from the access rule: the compact index (`versions`, `names`,
//! `info/NAME`) and the legacy `specs.4.8.gz` family. Only releases the caller may download
//! and that are not yanked are listed; a gem with none is absent.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate_registry::access::Visibility;
use tollgate_registry::document::Document;
use tollgate_registry::domain::{Ecosystem, PackageState};
use tollgate_registry::ids::PackageId;
use tollgate_registry::registry::Caller;

use crate::RubygemsState;
use crate::compact::{self, Entry, Listing};
use crate::error::GemError;
use crate::gemspec::valid_name;
use crate::legacy::{self, SpecsFile};
use crate::read::{SellerPath, gemspecs, invalid_name, readable, refused, seller_and_caller};

/// The opaque first line of `/versions` (Bundler keeps it; every answer is a full file).
const CREATED_AT: &str = "2024-01-01T00:00:00Z";

#[derive(Deserialize)]
pub struct NamePath {
    seller: String,
    name: String,
}

/// The rendered `/info/NAME` of what `vis` lets the caller see.
async fn info_doc(
    state: &RubygemsState,
    pkg: &PackageState,
    vis: Visibility,
) -> Result<Document, GemError> {
    state
        .info
        .get_or_render((pkg.id, vis, 0), || async {
            let specs = gemspecs(state, pkg).await?;
            let entries: Vec<Entry> =
                tollgate_registry::yanked::listed(pkg, Ecosystem::Rubygems, vis)
                    .filter_map(|r| {
                        specs.get(&r.id).map(|spec| Entry {
                            key: &r.version,
                            sha256: &r.blob_sha256,
                            spec,
                        })
                    })
                    .collect();
            Ok::<_, GemError>(Document::new(compact::info(&entries), entries.len()))
        })
        .await
}

/// Every gem of the seller the caller may see something of, and the reasons of lapsed
/// licenses (to explain an empty answer).
async fn visible(
    state: &RubygemsState,
    caller: &Caller,
) -> Result<(Vec<(Arc<PackageState>, Document)>, Option<String>), GemError> {
    let shelf = state
        .registry
        .readable_all(caller, Ecosystem::Rubygems)
        .await?;
    let mut gems = Vec::new();
    for readable in shelf.readable {
        let doc = info_doc(state, &readable.package, readable.visibility).await?;
        if doc.entries > 0 {
            gems.push((readable.package, doc));
        }
    }
    Ok((gems, shelf.lapsed))
}

/// When the caller sees nothing because every license ended: the reason, as an error.
fn refuse_if_lapsed<T>(gems: &[T], lapsed: Option<String>) -> Result<(), GemError> {
    match lapsed {
        Some(reason) if gems.is_empty() => Err(GemError::lapsed(reason)),
        _ => Ok(()),
    }
}

/// `HEAD /` (and `GET /`): `gem` probes it and uses the compact index on a 200; an org whose
/// licenses all ended gets the reason instead (then `gem` prints it from the legacy index).
pub async fn root(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let (gems, lapsed) = visible(&state, &caller).await?;
    refuse_if_lapsed(&gems, lapsed)?;
    Ok(format!("{} gem source\n", seller.name).into_response())
}

/// A compact index answer: always the full body (`Range` is ignored, since it differs per
/// caller), `ETag` = quoted MD5 (Bundler ≤ 2.4 checks it), `Repr-Digest` (Bundler ≥ 2.5).
fn compact_answer(headers: &HeaderMap, body: Vec<u8>) -> Response {
    listing_answer(headers, &Listing::new(body, 0))
}

fn listing_answer(headers: &HeaderMap, listing: &Listing) -> Response {
    let md5 = listing.md5.as_str();
    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{md5}\"")) {
        out.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&listing.digest) {
        out.insert("repr-digest", v);
    }
    let matched = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == md5 || t == "*");
    if matched {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (out, listing.body.clone()).into_response()
}

/// `/versions`: what the caller may see of every gem decides the cache key, so the body is
/// built once per distinct view (not per request) and per package change.
pub async fn versions(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    use std::hash::{Hash, Hasher};
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    // Read before anything the body depends on, so a change racing this request is not cached.
    let at = state.versions.generation();
    let shelf = state
        .registry
        .readable_all(&caller, Ecosystem::Rubygems)
        .await?;
    let lapsed = shelf.lapsed;
    let mut key = std::collections::hash_map::DefaultHasher::new();
    let view: Vec<(Arc<PackageState>, Visibility)> = shelf
        .readable
        .into_iter()
        .map(|r| (r.package, r.visibility))
        .collect();
    for (pkg, vis) in &view {
        (pkg.id, vis).hash(&mut key);
    }
    let ids: Vec<(PackageId, Visibility)> = view.iter().map(|(p, v)| (p.id, *v)).collect();
    let cache_key = (seller.id, key.finish());
    let cached = state.versions.get(&cache_key).filter(|l| l.view == ids);
    let listing = match cached {
        Some(listing) => listing,
        None => {
            let mut lines: Vec<(String, Vec<String>, String)> = Vec::new();
            for (pkg, vis) in &view {
                let doc = info_doc(&state, pkg, *vis).await?;
                if doc.entries == 0 {
                    continue;
                }
                let keys = String::from_utf8_lossy(&doc.body)
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split(' ').next().map(str::to_owned))
                    .collect();
                lines.push((pkg.name.clone(), keys, compact::md5_hex(&doc.body)));
            }
            let mut listing = Listing::new(compact::versions(CREATED_AT, &lines), lines.len());
            listing.view = ids;
            let listing = Arc::new(listing);
            state.versions.insert(cache_key, listing.clone(), at);
            listing
        }
    };
    if listing.gems == 0
        && let Some(reason) = lapsed
    {
        return Err(GemError::lapsed(reason));
    }
    Ok(listing_answer(&headers, &listing))
}

pub async fn names(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let (gems, _) = visible(&state, &caller).await?;
    let mut names: Vec<String> = gems.into_iter().map(|(pkg, _)| pkg.name.clone()).collect();
    names.sort();
    Ok(compact_answer(&headers, compact::names(&names)))
}

pub async fn info(
    State(state): State<RubygemsState>,
    Path(p): Path<NamePath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    if !valid_name(&p.name) {
        return Err(invalid_name(&p.name));
    }
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let readable = readable(&state, &caller, &p.name).await?;
    let doc = info_doc(&state, &readable.package, readable.visibility).await?;
    if doc.entries == 0 {
        return Err(refused(readable.refusal_when_empty(), &p.name));
    }
    Ok(compact_answer(&headers, doc.body.to_vec()))
}

async fn specs_file(
    state: RubygemsState,
    p: SellerPath,
    headers: HeaderMap,
    file: SpecsFile,
) -> Result<Response, GemError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, false).await?;
    let (gems, lapsed) = visible(&state, &caller).await?;
    refuse_if_lapsed(&gems, lapsed)?;
    let mut releases = Vec::new();
    for (pkg, doc) in &gems {
        for line in String::from_utf8_lossy(&doc.body).lines().skip(1) {
            if let Some(key) = line.split(' ').next() {
                releases.push((pkg.name.clone(), key.to_owned()));
            }
        }
    }
    let body = legacy::specs(file, &releases);
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response())
}

pub async fn specs(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    specs_file(state, p, headers, SpecsFile::Released).await
}

pub async fn latest_specs(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    specs_file(state, p, headers, SpecsFile::Latest).await
}

pub async fn prerelease_specs(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, GemError> {
    specs_file(state, p, headers, SpecsFile::Prerelease).await
}

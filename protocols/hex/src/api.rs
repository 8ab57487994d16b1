//! The publish API under `/{seller}/hex/api` (the subset mix and hex_core use): `users/me`,
//! `auth`, publish (`POST /publish` from hex_core, `POST /packages/NAME/releases` from mix),
//! revert, retire, package and owner reads. Every body is an Erlang term.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tollgate_registry::domain::{Ecosystem, NewRelease, PackageRef, Retirement, Seller, TokenKind};
use tollgate_registry::registry::Caller;
use tollgate_registry::time::Timestamp;
use tollgate_registry::upload::Upload;

use crate::error::{HEX_ERLANG, HexError, erlang};
use crate::etf::{self, Term};
use crate::paths::{NamePath, SellerPath, VersionPath};
use crate::resources::StoredRelease;
use crate::{HexState, auth, tarball};

/// A release can be reverted or replaced this long after it was published…
const REVERT_WINDOW_MS: i64 = 60 * 60 * 1000;
/// …or this long after its package was created (a new package settles in its first day).
const NEW_PACKAGE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Deserialize)]
pub struct PublishQuery {
    #[serde(default)]
    replace: Option<String>,
}

async fn seller_and_caller(
    state: &HexState,
    slug: &str,
    headers: &HeaderMap,
) -> Result<(std::sync::Arc<Seller>, Caller), HexError> {
    let seller = state
        .registry
        .seller(slug)
        .await
        .map_err(|e| HexError::from(e).api())?;
    let caller = auth::caller(state, &seller, headers)
        .await
        .map_err(HexError::api)?;
    Ok((seller, caller))
}

/// `GET /users/me`: mix asks it before every publish and reads `organizations` (a 200 it cannot
/// decode crashes it).
pub async fn me(
    State(state): State<HexState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    let token = &caller.0;
    let username = match token.kind {
        TokenKind::Publish => seller.slug.clone(),
        TokenKind::Org | TokenKind::Seat => token
            .seat_email
            .clone()
            .or_else(|| token.org_slug.clone())
            .unwrap_or_else(|| token.id.to_string()),
    };
    Ok(erlang(
        StatusCode::OK,
        &Term::map([
            ("username", Term::str(&username)),
            ("email", Term::str(&seller.email)),
            ("organizations", Term::List(Vec::new())),
        ]),
    ))
}

/// `GET /auth?domain=…&resource=…`: 204 when the key may do that (writes need a publish token).
pub async fn auth(
    State(state): State<HexState>,
    Path(p): Path<SellerPath>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    let writes = q.get("resource").is_some_and(|r| r == "write")
        || q.get("domain")
            .is_some_and(|d| d == "api" && !q.contains_key("resource"));
    if writes && caller.0.kind != TokenKind::Publish {
        return Err(HexError::new(
            StatusCode::FORBIDDEN,
            "this key may read the repository but not publish; use a publish token",
        )
        .api());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /publish?replace=…` (hex_core): the package name comes from the tarball.
pub async fn publish(
    State(state): State<HexState>,
    Path(p): Path<SellerPath>,
    Query(q): Query<PublishQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HexError> {
    publish_tarball(&state, &p.seller, None, q, &headers, body)
        .await
        .map_err(HexError::api)
}

/// `POST /packages/NAME/releases?replace=…` (mix, with `expect: 100-continue`).
pub async fn publish_named(
    State(state): State<HexState>,
    Path(p): Path<NamePath>,
    Query(q): Query<PublishQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HexError> {
    publish_tarball(&state, &p.seller, Some(&p.name), q, &headers, body)
        .await
        .map_err(HexError::api)
}

/// Authenticates before reading the body (so a refused upload is never sent after
/// `100-continue`), validates the whole tarball, then stores it and records the release.
async fn publish_tarball(
    state: &HexState,
    slug: &str,
    path_name: Option<&str>,
    q: PublishQuery,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, HexError> {
    let (seller, caller) = seller_and_caller(state, slug, headers).await?;
    // The URL of mix's publish names the package: then the token's scope is checked here too.
    let named = path_name.map(package_ref);
    let (caller, bytes) = Upload::permit(caller, named.as_ref(), headers, tarball::MAX_TARBALL)?
        .read(body)
        .await?;
    // The name is in the outer tar's metadata.config: the token's scope is checked before the
    // contents are inflated (CPU work, off the async workers).
    let name = tarball::peek_name(&bytes).map_err(refused)?;
    state.registry.check_publish(&caller, &package_ref(&name))?;
    let checked = bytes.clone();
    let package = tokio::task::spawn_blocking(move || tarball::parse(&checked))
        .await
        .map_err(|e| HexError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(refused)?;
    let meta = &package.metadata;
    if let Some(name) = path_name
        && name != meta.name
    {
        return Err(invalid(
            "name",
            format!("the URL names {name} but the tarball is {}", meta.name),
        ));
    }
    let replace = matches!(q.replace.as_deref(), Some("true"));
    let replace_since = if replace {
        Some(window_start(state, &seller, &meta.name).await?)
    } else {
        None
    };
    let stored = StoredRelease {
        metadata: meta.clone(),
        inner_checksum: hex::encode(package.inner_checksum),
    };
    let release = NewRelease {
        seller_id: seller.id,
        ecosystem: Ecosystem::Hex,
        package: meta.name.clone(),
        version: meta.version.clone(),
        blob_sha256: hex::encode(package.outer_checksum),
        size: bytes.len() as i64,
        metadata: serde_json::to_value(&stored)
            .map_err(|e| HexError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        dist_tags: Vec::new(),
    };
    let recorded = state
        .registry
        .publish_replacing(&caller, release, &bytes, replace_since)
        .await
        .map_err(|e| match HexError::from(e) {
            e if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
                let mut out = invalid("inserted_at", e.message.clone());
                out.message = e.message;
                out
            }
            e => e,
        })?;
    tracing::info!(package = %meta.name, version = %recorded.version, seller = %seller.slug, "hex release published");
    let url = format!(
        "{}/api/packages/{}/releases/{}",
        state.repo_url(&seller.slug),
        meta.name,
        recorded.version
    );
    Ok(erlang(
        StatusCode::CREATED,
        &Term::map([
            ("version", Term::str(&recorded.version)),
            ("checksum", Term::str(&recorded.blob_sha256)),
            ("url", Term::str(&url)),
            (
                "package_url",
                Term::str(&format!(
                    "{}/packages/{}",
                    state.repo_url(&seller.slug),
                    meta.name
                )),
            ),
        ]),
    ))
}

/// The earliest publication time a release of `name` may have and still be reverted or
/// replaced now: an hour ago, or a day ago while the package is new.
async fn window_start(
    state: &HexState,
    seller: &Seller,
    name: &str,
) -> Result<Timestamp, HexError> {
    let now = Timestamp::now().0;
    let created = state
        .registry
        .package_state(seller.id, Ecosystem::Hex, name)
        .await?
        .map_or(now, |p| p.created_at.0);
    let window = if now - created < NEW_PACKAGE_WINDOW_MS {
        NEW_PACKAGE_WINDOW_MS
    } else {
        REVERT_WINDOW_MS
    };
    Ok(Timestamp(now - window))
}

/// A 422 with one field error, Hex's validation shape.
fn invalid(field: &str, reason: String) -> HexError {
    let mut e = HexError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error(s)");
    e.errors.push((field.to_owned(), reason));
    e
}

fn package_ref(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Hex,
        name: name.to_owned(),
    }
}

/// `GET /packages/NAME`: what mix reads to explain a refused publish, and `mix hex.info`.
pub async fn package(
    State(state): State<HexState>,
    Path(p): Path<NamePath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    if !crate::paths::is_name(&p.name) {
        return Err(HexError::not_found(format!("package {:.100}", p.name)).api());
    }
    let readable = state
        .registry
        .readable(&caller, Ecosystem::Hex, &p.name)
        .await
        .map_err(|e| HexError::from(e).api())?
        .map_err(|_| HexError::not_found(format!("package {}", p.name)).api())?;
    let pkg = &readable.package;
    let releases = crate::resources::visible(pkg, readable.visibility)
        .into_iter()
        .map(|r| {
            Term::map([
                ("version", Term::str(&r.version)),
                ("inserted_at", Term::str(&r.published_at.rfc3339())),
                (
                    "url",
                    Term::str(&format!(
                        "{}/api/packages/{}/releases/{}",
                        state.repo_url(&seller.slug),
                        pkg.name,
                        r.version
                    )),
                ),
            ])
        })
        .collect();
    Ok(erlang(
        StatusCode::OK,
        &Term::map([
            ("name", Term::str(&pkg.name)),
            ("repository", Term::str(&seller.slug)),
            ("releases", Term::List(releases)),
            ("inserted_at", Term::str(&pkg.created_at.rfc3339())),
        ]),
    ))
}

/// `GET /packages/NAME/releases/VERSION`.
pub async fn release(
    State(state): State<HexState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    if !crate::paths::is_name(&p.name) {
        return Err(HexError::not_found(format!("package {:.100}", p.name)).api());
    }
    let allowed = state
        .registry
        .describable(&caller, Ecosystem::Hex, &p.name, &p.version)
        .await
        .map_err(|e| HexError::from(e).api())?
        .map_err(|_| HexError::not_found(format!("{} {}", p.name, p.version)).api())?;
    let release = &allowed.release;
    let retirement = match &release.retired {
        Some(r) => Term::map([
            ("reason", Term::str(&r.reason)),
            ("message", Term::str(&r.message)),
        ]),
        None => Term::Nil,
    };
    Ok(erlang(
        StatusCode::OK,
        &Term::map([
            ("version", Term::str(&release.version)),
            ("checksum", Term::str(&release.blob_sha256)),
            ("inserted_at", Term::str(&release.published_at.rfc3339())),
            ("retirement", retirement),
        ]),
    ))
}

/// `GET /packages/NAME/owners`: the seller owns every package of its repository.
pub async fn owners(
    State(state): State<HexState>,
    Path(p): Path<NamePath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    state
        .registry
        .check_publish(&caller, &package_ref(&p.name))
        .map_err(|e| HexError::from(e).api())?;
    Ok(erlang(
        StatusCode::OK,
        &Term::List(vec![Term::map([
            ("username", Term::str(&seller.slug)),
            ("email", Term::str(&seller.email)),
            ("level", Term::str("full")),
        ])]),
    ))
}

/// `DELETE /packages/NAME/releases/VERSION`: revert, within the window.
pub async fn revert(
    State(state): State<HexState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    let since = window_start(&state, &seller, &p.name)
        .await
        .map_err(HexError::api)?;
    state
        .registry
        .revert(&caller, &package_ref(&p.name), &p.version, since)
        .await
        .map_err(|e| HexError::from(e).api())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /packages/NAME/releases/VERSION/retire` with `{reason, message}` (an Erlang term from
/// hex_core, or JSON).
pub async fn retire(
    State(state): State<HexState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HexError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    let named = package_ref(&p.name);
    let (caller, body) = Upload::permit(caller, Some(&named), &headers, MAX_RETIRE_BODY)
        .map_err(|e| HexError::from(e).api())?
        .read(body)
        .await
        .map_err(|e| HexError::from(e).api())?;
    let retirement = retirement(&headers, &body).map_err(|m| invalid("retirement", m).api())?;
    state
        .registry
        .set_retired(
            &caller,
            &package_ref(&p.name),
            &p.version,
            Some(&retirement),
        )
        .await
        .map_err(|e| HexError::from(e).api())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A tarball that fails its checks, in the shape mix prints field by field.
fn refused(invalid: tarball::Invalid) -> HexError {
    let mut e = HexError::new(StatusCode::UNPROCESSABLE_ENTITY, invalid.message);
    e.errors = invalid.errors;
    e
}

/// A retirement is a reason and a short message.
const MAX_RETIRE_BODY: usize = 16 * 1024;

fn retirement(headers: &HeaderMap, body: &[u8]) -> Result<Retirement, String> {
    let erlang = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains(HEX_ERLANG));
    let (reason, message) = if erlang {
        let term = etf::decode(body)?;
        let text = |k: &str| term.get(k).and_then(Term::as_str).map(str::to_owned);
        (text("reason"), text("message"))
    } else {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        let text = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        (text("reason"), text("message"))
    };
    let reason = reason.ok_or("the reason is missing")?;
    if crate::proto::RetirementReason::parse(&reason).is_none() {
        return Err(format!(
            "unknown reason `{reason}` (expected other, invalid, security, deprecated or renamed)"
        ));
    }
    Ok(Retirement {
        reason,
        message: message.unwrap_or_default(),
    })
}

/// `DELETE /packages/NAME/releases/VERSION/retire`.
pub async fn unretire(
    State(state): State<HexState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers).await?;
    state
        .registry
        .set_retired(&caller, &package_ref(&p.name), &p.version, None)
        .await
        .map_err(|e| HexError::from(e).api())?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST …/docs`: documentation is not hosted; say so in the words mix prints.
pub async fn docs(
    State(state): State<HexState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, HexError> {
    seller_and_caller(&state, &p.seller, &headers).await?;
    Err(HexError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "this repository does not host documentation; publish with `mix hex.publish package`",
    )
    .api())
}

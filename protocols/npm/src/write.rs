//! Writing: `npm publish` and `npm dist-tag add|rm`, with a publish token.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use tollgate_registry::domain::{Ecosystem, NewRelease, PackageRef};
use tollgate_registry::registry::Caller;
use tollgate_registry::upload::Upload;

use crate::error::NpmError;
use crate::name::validate;
use crate::publish::{self, validate_tag};
use crate::read::Ctx;
use crate::reply::{empty, ok_json};

/// Dist-tag bodies are a JSON string naming a version.
const MAX_TAG_BODY: usize = 1024;

/// Who you are, then what you send: the token (a publish token for `name`) and the announced
/// length are checked before a byte of the body is read.
async fn read_body(
    ctx: &Ctx<'_>,
    name: &str,
    body: Body,
    limit: usize,
) -> Result<(Caller, Bytes), NpmError> {
    let caller = ctx.caller().await?;
    validate(name).map_err(NpmError::bad_request)?;
    let package = PackageRef {
        ecosystem: Ecosystem::Npm,
        name: name.to_owned(),
    };
    let upload = Upload::permit(caller, Some(&package), ctx.headers, limit)?;
    Ok(upload.read(body).await?)
}

pub async fn publish(ctx: &Ctx<'_>, name: &str, body: Body) -> Result<Response, NpmError> {
    let limit = ctx.state.config.max_publish_bytes;
    let (caller, body) = read_body(ctx, name, body, limit).await?;
    let url_name = name.to_owned();
    // Decoding and hashing a large tarball is CPU work: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || publish::parse(&url_name, &body))
        .await
        .map_err(|e| NpmError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(NpmError::bad_request)?;
    let release = NewRelease {
        seller_id: ctx.seller.id,
        ecosystem: Ecosystem::Npm,
        package: parsed.name.clone(),
        version: parsed.version.clone(),
        blob_sha256: parsed.sha256.clone(),
        size: parsed.tarball.len() as i64,
        metadata: parsed.manifest,
        dist_tags: parsed.tags,
    };
    ctx.state
        .registry
        .publish(&caller, release, &parsed.tarball)
        .await?;
    tracing::info!(package = %parsed.name, version = %parsed.version, "npm publish");
    Ok(ok_json(
        StatusCode::CREATED,
        json!({"ok": true, "id": parsed.name}),
    ))
}

async fn writable_package(
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<std::sync::Arc<tollgate_registry::domain::PackageState>, NpmError> {
    let caller = ctx.caller().await?;
    validate(name).map_err(NpmError::bad_request)?;
    let package = PackageRef {
        ecosystem: Ecosystem::Npm,
        name: name.to_owned(),
    };
    ctx.state.registry.check_publish(&caller, &package)?;
    let pkg = ctx.readable(&caller, name).await?.package;
    Ok(pkg)
}

pub async fn set_dist_tag(
    ctx: &Ctx<'_>,
    name: &str,
    tag: &str,
    body: Body,
) -> Result<Response, NpmError> {
    validate_tag(tag).map_err(NpmError::bad_request)?;
    let (caller, body) = read_body(ctx, name, body, MAX_TAG_BODY).await?;
    let pkg = ctx.readable(&caller, name).await?.package;
    let version: String = serde_json::from_slice(&body)
        .map_err(|_| NpmError::bad_request("the body must be a JSON string naming a version"))?;
    if pkg.release(&version).is_none() {
        return Err(NpmError::new(
            StatusCode::NOT_FOUND,
            format!("{name}@{version} does not exist"),
        ));
    }
    ctx.state
        .registry
        .set_dist_tag(pkg.id, tag, &version)
        .await?;
    Ok(ok_json(StatusCode::CREATED, json!({"ok": true})))
}

pub async fn remove_dist_tag(ctx: &Ctx<'_>, name: &str, tag: &str) -> Result<Response, NpmError> {
    let pkg = writable_package(ctx, name).await?;
    if tag == "latest" {
        return Err(NpmError::bad_request(
            "the `latest` tag cannot be removed; move it instead",
        ));
    }
    if ctx.state.registry.remove_dist_tag(pkg.id, tag).await? {
        Ok(empty(StatusCode::OK))
    } else {
        Err(NpmError::new(
            StatusCode::NOT_FOUND,
            format!("{name} has no tag `{tag}`"),
        ))
    }
}

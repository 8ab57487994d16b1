//! The web API: publish, yank/unyank, owners and search, with a publish token (search with any
//! token: it lists only what the caller may see).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tollgate_registry::domain::{Ecosystem, NewRelease, PackageRef};
use tollgate_registry::upload::Upload;

use crate::error::CargoError;
use crate::index::{VersionPath, readable};
use crate::name::{collision_key, stored};
use crate::{CargoState, auth, publish};

#[derive(Deserialize)]
pub struct SellerPath {
    seller: String,
}

#[derive(Deserialize)]
pub struct CratePath {
    seller: String,
    name: String,
}

fn package(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Cargo,
        name: stored(name),
    }
}

pub async fn publish(
    State(state): State<CargoState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers, true).await?;
    let upload = Upload::permit(caller, None, &headers, state.config.max_publish_bytes)?;
    let (caller, body) = upload.read(body).await?;
    // The crate's name is in the JSON head: the token's scope is checked before the `.crate`
    // is inflated.
    let head = publish::peek(&body).map_err(CargoError::bad_request)?;
    state
        .registry
        .check_publish(&caller, &package(&head.name))?;
    let parsed = tokio::task::spawn_blocking(move || publish::parse(&body))
        .await
        .map_err(|e| CargoError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(CargoError::bad_request)?;
    let pkg = package(&parsed.name);
    let db = &state.registry;
    let key = collision_key(&parsed.name);
    if let Some(other) = db
        .stored_package_names(seller.id, Ecosystem::Cargo)
        .await?
        .into_iter()
        .find(|n| collision_key(n) == key && *n != pkg.name)
    {
        return Err(CargoError::bad_request(format!(
            "crate `{}` collides with the existing crate `{other}`: Cargo treats names that differ only in case or `-`/`_` as the same",
            parsed.name
        )));
    }
    // Versions are unique ignoring build metadata (`1.0.0+a` and `1.0.0+b` are the same).
    let mut bare = parsed.version.clone();
    bare.build = semver::BuildMetadata::EMPTY;
    if let Some(state) = db
        .package_state(seller.id, Ecosystem::Cargo, &pkg.name)
        .await?
        && let Some(existing) = state.releases.iter().find(|r| {
            semver::Version::parse(&r.version).is_ok_and(|mut v| {
                v.build = semver::BuildMetadata::EMPTY;
                v == bare
            })
        })
    {
        return Err(CargoError::new(
            StatusCode::CONFLICT,
            format!("crate version `{}` is already uploaded", existing.version),
        ));
    }
    let release = NewRelease {
        seller_id: seller.id,
        ecosystem: Ecosystem::Cargo,
        package: pkg.name.clone(),
        version: parsed.version.to_string(),
        blob_sha256: parsed.sha256.clone(),
        size: parsed.krate.len() as i64,
        metadata: parsed.metadata,
        dist_tags: Vec::new(),
    };
    state
        .registry
        .publish(&caller, release, &parsed.krate)
        .await?;
    tracing::info!(crate_name = %parsed.name, version = %parsed.version, "cargo publish");
    Ok(axum::Json(
        json!({"warnings": {"invalid_categories": [], "invalid_badges": [], "other": []}}),
    )
    .into_response())
}

async fn set_yanked(
    state: CargoState,
    p: VersionPath,
    headers: HeaderMap,
    yanked: bool,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers, true).await?;
    state
        .registry
        .set_yanked(&caller, &package(&p.name), &p.version, yanked)
        .await?;
    Ok(axum::Json(json!({"ok": true})).into_response())
}

pub async fn yank(
    State(state): State<CargoState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    set_yanked(state, p, headers, true).await
}

pub async fn unyank(
    State(state): State<CargoState>,
    Path(p): Path<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    set_yanked(state, p, headers, false).await
}

/// The seller owns every crate of its registry.
pub async fn owners(
    State(state): State<CargoState>,
    Path(p): Path<CratePath>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers, true).await?;
    readable(&state, &caller, &p.name).await?;
    let users = json!([{"id": seller.id.0, "login": seller.slug, "name": seller.name}]);
    Ok(axum::Json(json!({ "users": users })).into_response())
}

/// Who may publish is decided by publish tokens, not by crate owners: say so, change nothing.
pub async fn change_owners(
    State(state): State<CargoState>,
    Path(p): Path<CratePath>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers, true).await?;
    state.registry.check_publish(&caller, &package(&p.name))?;
    let msg = format!(
        "nothing changed: on this registry the seller {} owns every crate, and publish tokens (`tollgate token create --seller {} --publish`) decide who may publish",
        seller.name, seller.slug
    );
    Ok(axum::Json(json!({ "ok": true, "msg": msg })).into_response())
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    per_page: Option<usize>,
}

/// `cargo search`: the crates the caller may download whose name contains the query.
pub async fn search(
    State(state): State<CargoState>,
    Path(p): Path<SellerPath>,
    Query(query): Query<SearchQuery>,
    headers: HeaderMap,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let caller = auth::caller(&state, &seller, &headers, true).await?;
    let wanted = query.q.to_ascii_lowercase().replace('_', "-");
    let limit = query.per_page.unwrap_or(10).clamp(1, 100);
    let mut found = Vec::new();
    let names = state
        .registry
        .package_names(seller.id, Ecosystem::Cargo)
        .await?;
    for name in names.iter() {
        if !collision_key(name).contains(&wanted) {
            continue;
        }
        let Ok(readable) = readable(&state, &caller, name).await else {
            continue;
        };
        let pkg = &readable.package;
        let best = readable
            .listed()
            .filter(|r| !r.yanked)
            .filter_map(|r| semver::Version::parse(&r.version).ok().map(|v| (v, r)))
            .max_by(|a, b| a.0.cmp(&b.0));
        if let Some((version, release)) = best {
            found.push((name, version, release.id, pkg.id));
        }
    }
    let total = found.len();
    let mut crates = Vec::new();
    for (name, version, release, package) in found.into_iter().take(limit) {
        let metadata = state.registry.release_metadata(package).await?;
        let line = metadata
            .iter()
            .find(|(id, _)| *id == release)
            .map(|(_, m)| m);
        let shown = line
            .and_then(|m| m["line"]["name"].as_str())
            .unwrap_or(name)
            .to_owned();
        let description = line
            .and_then(|m| m["description"].as_str())
            .map(str::to_owned);
        crates.push(
            json!({"name": shown, "max_version": version.to_string(), "description": description}),
        );
    }
    Ok(axum::Json(json!({"crates": crates, "meta": {"total": total}})).into_response())
}

/// Where `cargo login` sends people for a token.
pub async fn me(
    State(state): State<CargoState>,
    Path(p): Path<SellerPath>,
) -> Result<Response, CargoError> {
    let seller = state.registry.seller(&p.seller).await?;
    let text = format!(
        "Tokens for the {name} registry are issued by {name}.\n\
         Buyers: ask your org admin for your org or seat token.\n\
         Then: cargo login --registry {slug}   (or set CARGO_REGISTRIES_{env}_TOKEN)\n",
        name = seller.name,
        slug = seller.slug,
        env = seller.slug.to_ascii_uppercase().replace('-', "_"),
    );
    Ok(text.into_response())
}

//! The npm registry protocol under `/{seller}/npm/`: packuments, tarballs, publish and
//! dist-tags, for the unmodified npm CLI. See shared/protocols/npm.md for the traps.

mod auth;
pub mod ecosystem;
mod error;
pub mod name;
pub mod packument;
pub mod publish;
mod read;
pub mod route;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tollgate_registry::Registry;
use tollgate_registry::document::DocumentCache;

use crate::error::NpmError;
use crate::route::Route;

/// Settings the npm endpoints need from the server.
#[derive(Debug, Clone)]
pub struct NpmConfig {
    /// The server's public base URL, without a trailing slash; tarball URLs start with it.
    pub public_url: String,
    /// Largest accepted publish body in bytes (the tarball travels base64-encoded inside).
    pub max_publish_bytes: usize,
}

#[derive(Clone)]
pub struct NpmState(Arc<Inner>);

pub struct Inner {
    registry: Registry,
    config: NpmConfig,
    /// Rendered packuments per (package, what the caller may see, abbreviated or full).
    packuments: DocumentCache,
}

impl std::ops::Deref for NpmState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl NpmState {
    pub fn new(registry: Registry, config: NpmConfig) -> Self {
        Self(Arc::new(Inner {
            packuments: DocumentCache::new(&registry, "npm_packuments"),
            registry,
            config,
        }))
    }

    /// `{public_url}/{seller}/npm`, the registry URL buyers configure (without the final `/`).
    fn registry_url(&self, seller: &str) -> String {
        format!("{}/{seller}/npm", self.config.public_url)
    }

    /// The `.npmrc` key prefix for this registry: `//host:port/seller/npm/`.
    fn nerf_dart(&self, seller: &str) -> String {
        let url = self.registry_url(seller);
        let without_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        format!("//{without_scheme}/")
    }
}

/// The router to nest at `/{seller}/npm`.
pub fn router(state: NpmState) -> Router {
    let limit = state.config.max_publish_bytes;
    Router::new()
        .route("/", any(handle))
        .route("/{*rest}", any(handle))
        // Bodies are read only by `Upload` (after the token is checked), under this same limit.
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn handle(State(state): State<NpmState>, req: Request) -> Response {
    match dispatch(state, req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(state: NpmState, req: Request) -> Result<Response, NpmError> {
    let full = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |o| o.0.path().to_owned());
    let (seller_slug, rest) = split_seller(&full).ok_or_else(NpmError::not_found)?;
    let route = route::parse(rest).map_err(NpmError::bad_request)?;
    let method = req.method().clone();
    match (&method, &route) {
        (&Method::GET, Route::Ping) => return Ok(axum::Json(serde_json::json!({})).into_response()),
        (&Method::POST, Route::Audit) => {
            return Ok(axum::Json(serde_json::json!({})).into_response());
        }
        _ => {}
    }
    let seller = match state.registry.seller(seller_slug).await {
        Ok(s) => s,
        Err(tollgate_registry::Error::NotFound(_)) => {
            return Err(NpmError::new(
                StatusCode::NOT_FOUND,
                format!("no registry named `{seller_slug}` here"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let ip = client_ip(&req);
    let (parts, body) = req.into_parts();
    let ctx = read::Ctx::new(&state, &seller, &parts.headers, ip);
    match (method, route) {
        (Method::GET | Method::HEAD, Route::Packument { name }) => {
            read::packument(&ctx, &name).await
        }
        (Method::GET | Method::HEAD, Route::Tarball { name, file }) => {
            read::tarball(&ctx, &name, &file).await
        }
        (Method::GET, Route::DistTags { name }) => read::dist_tags(&ctx, &name).await,
        (Method::GET, Route::Whoami) => read::whoami(&ctx).await,
        (Method::PUT, Route::Packument { name }) => write::publish(&ctx, &name, body).await,
        (Method::PUT, Route::DistTag { name, tag }) => {
            write::set_dist_tag(&ctx, &name, &tag, body).await
        }
        (Method::DELETE, Route::DistTag { name, tag }) => {
            write::remove_dist_tag(&ctx, &name, &tag).await
        }
        (_, Route::Unpublish) => Err(NpmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "unpublishing is not supported: buyers' lockfiles depend on every published version",
        )),
        (_, Route::Unknown) => Err(NpmError::not_found()),
        (m, _) => Err(NpmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{m} is not supported here"),
        )),
    }
}

/// `/acme/npm/@x%2fy` → (`acme`, `/@x%2fy`).
fn split_seller(path: &str) -> Option<(&str, &str)> {
    let path = path.strip_prefix('/')?;
    let (seller, rest) = path.split_once('/')?;
    let rest = rest.strip_prefix("npm")?;
    (rest.is_empty() || rest.starts_with('/')).then_some((seller, rest))
}

fn client_ip(req: &Request) -> Option<String> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// A small JSON answer such as `{"ok":true}`.
fn ok_json(status: StatusCode, value: serde_json::Value) -> Response {
    (status, axum::Json(value)).into_response()
}

fn empty(status: StatusCode) -> Response {
    (status, Body::empty()).into_response()
}

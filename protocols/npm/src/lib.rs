//! The npm registry protocol under `/{seller}/npm/`: packuments, tarballs, publish and
//! dist-tags, for the unmodified npm CLI. See shared/protocols/npm.md for the traps.

mod auth;
pub mod ecosystem;
mod error;
pub mod name;
pub mod packument;
pub mod publish;
mod read;
mod reply;
pub mod route;
mod state;
mod write;

pub use state::{NpmConfig, NpmState};

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::error::NpmError;
use crate::route::Route;

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

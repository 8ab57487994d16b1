//! The Hex repository (`/{seller}/hex`: signed `names`, `versions`, `packages/NAME`, tarballs,
//! `public_key`) and the publish API (`/{seller}/hex/api`) for the unmodified `mix` and `rebar3`.
//! The repository's name, which clients check against every signed resource, is the seller's
//! slug. See shared/protocols/hex.md and shared/tools/hex/README.md for what the clients need.

mod api;
mod auth;
pub mod ecosystem;
mod error;
pub mod etf;
pub mod keys;
pub mod metadata;
mod paths;
pub mod proto;
mod repo;
pub mod resources;
pub mod signing;
mod state;
pub mod tarball;

pub use state::{HexConfig, HexState};

use axum::Router;
use axum::routing::{get, post};

/// The router to nest at `/{seller}/hex`.
pub fn router(state: HexState) -> Router {
    Router::new()
        .route("/public_key", get(repo::public_key))
        .route("/names", get(repo::names))
        .route("/versions", get(repo::versions))
        .route("/packages/{name}", get(repo::package))
        .route("/tarballs/{file}", get(repo::tarball))
        .route("/api/users/me", get(api::me))
        .route("/api/auth", get(api::auth))
        .route("/api/publish", post(api::publish))
        .route("/api/packages/{name}", get(api::package))
        .route("/api/packages/{name}/owners", get(api::owners))
        .route("/api/packages/{name}/releases", post(api::publish_named))
        .route(
            "/api/packages/{name}/releases/{version}",
            get(api::release).delete(api::revert),
        )
        .route(
            "/api/packages/{name}/releases/{version}/retire",
            post(api::retire).delete(api::unretire),
        )
        .route(
            "/api/packages/{name}/releases/{version}/docs",
            post(api::docs),
        )
        .with_state(state)
}

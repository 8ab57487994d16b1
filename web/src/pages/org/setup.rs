//! `GET /{seller}/org/{org}/setup`: copy-paste client set-up for each ecosystem of the org's
//! products, with the real URLs and `YOUR_TOKEN` where a token goes. Everyone in the org.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tollgate_registry::ecosystem::Place;
pub(super) use tollgate_registry::ecosystem::Snippet;

use crate::auth::MemberUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, html};

/// What the set-up page shows where a token goes.
const PLACEHOLDER: &str = "YOUR_TOKEN";

pub fn routes() -> Router<Web> {
    Router::new().route("/{seller}/org/{org}/setup", get(page))
}

/// The set-up of every ecosystem the org's products use, with `token` filled in.
pub(super) async fn snippets(web: &Web, user: &MemberUser, token: &str) -> WebResult<Vec<Snippet>> {
    let packages = web.registry.views().org_packages(user.org.id).await?;
    let place = Place {
        public_url: &web.config.public_url,
        seller: &user.seller.slug,
    };
    Ok(web
        .config
        .ecosystems
        .setup(&web.registry, place, user.seller.id, &packages, token)
        .await?)
}

#[derive(Template)]
#[template(path = "org/setup.html")]
struct SetupPage {
    chrome: Chrome,
    admin: bool,
    placeholder: &'static str,
    snippets: Vec<Snippet>,
}

async fn page(State(web): State<Web>, user: MemberUser) -> WebResult<Response> {
    let snippets = snippets(&web, &user, PLACEHOLDER).await?;
    Ok(html(&SetupPage {
        chrome: Chrome::org(&user, "Client set-up", "setup"),
        admin: user.is_admin(),
        placeholder: PLACEHOLDER,
        snippets,
    })
    .into_response())
}

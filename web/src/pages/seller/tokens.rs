//! The seller's publish tokens: the list (ids and scopes, never secrets), creating one (its
//! secret is on the response page only, never in a URL or a redirect) and revoking one (a
//! confirmation page, then the POST). Tokens of other kinds or of other sellers are not found.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tollgate_registry::domain::{PackageRef, TokenKind, TokenRecord};
use tollgate_registry::ecosystem::{Place, Snippet};
use tollgate_registry::time::Timestamp;

use crate::auth::SellerUser;
use crate::error::{WebError, WebResult};
use crate::state::Web;
use crate::templates::{Chrome, format_time, html};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/dashboard/tokens", get(page).post(create))
        .route(
            "/{seller}/dashboard/tokens/{token}/revoke",
            get(confirm).post(revoke),
        )
}

#[derive(Template)]
#[template(path = "seller/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenLine>,
    /// Why the last create failed, shown above the form with what was typed.
    error: Option<String>,
    packages: String,
}

struct TokenLine {
    id: String,
    created: String,
    revoked: Option<String>,
    scope: Vec<String>,
}

#[derive(Template)]
#[template(path = "seller/token_created.html")]
struct CreatedPage {
    chrome: Chrome,
    secret: String,
    id: String,
    scope: Vec<String>,
    /// How to publish with it, per ecosystem.
    snippets: Vec<Snippet>,
}

#[derive(Template)]
#[template(path = "seller/token_revoke.html")]
struct RevokePage {
    chrome: Chrome,
    id: String,
    created: String,
    scope: Vec<String>,
}

fn tokens_url(user: &SellerUser) -> String {
    format!("/{}/dashboard/tokens", user.seller.slug)
}

/// Parses the scope field: one `ecosystem:name` per line (blank lines ignored); none = all.
fn parse_scope(text: &str) -> Result<Vec<PackageRef>, String> {
    let mut refs: Vec<PackageRef> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let r: PackageRef = line.parse()?;
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    Ok(refs)
}

/// Cargo reads a registry's token from `CARGO_REGISTRIES_<NAME>_TOKEN`, the name upper-cased
/// with `-` as `_`.
fn scope_of(t: &TokenRecord) -> Vec<String> {
    t.packages.iter().map(ToString::to_string).collect()
}

/// This seller's publish tokens, newest first.
async fn publish_tokens(web: &Web, user: &SellerUser) -> WebResult<Vec<TokenRecord>> {
    let mut all: Vec<TokenRecord> = web
        .registry
        .tokens(Some(user.seller.id))
        .await?
        .into_iter()
        .filter(|t| t.kind == TokenKind::Publish && t.seller_id == user.seller.id)
        .collect();
    all.reverse();
    Ok(all)
}

async fn render_list(
    web: &Web,
    user: &SellerUser,
    error: Option<String>,
    packages: String,
) -> WebResult<Response> {
    let tokens = publish_tokens(web, user)
        .await?
        .into_iter()
        .map(|t| TokenLine {
            scope: scope_of(&t),
            id: t.id.0,
            created: format_time(t.created_at),
            revoked: t.revoked_at.map(format_time),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = TokensPage {
        chrome: Chrome::seller(user, "Publish tokens", "tokens"),
        tokens,
        error,
        packages,
    };
    Ok((status, html(&page)).into_response())
}

/// `GET /{seller}/dashboard/tokens`.
async fn page(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    render_list(&web, &user, None, String::new()).await
}

#[derive(Debug, Deserialize)]
struct CreateForm {
    #[serde(default)]
    packages: String,
}

/// `POST /{seller}/dashboard/tokens`: a new publish token; this answer is the only place its
/// secret appears.
async fn create(
    State(web): State<Web>,
    user: SellerUser,
    axum::Form(form): axum::Form<CreateForm>,
) -> WebResult<Response> {
    let packages = match parse_scope(&form.packages) {
        Ok(p) => p,
        Err(why) => return render_list(&web, &user, Some(why), form.packages).await,
    };
    let generated = web
        .registry
        .issue_token(
            TokenKind::Publish,
            user.seller.id,
            None,
            None,
            packages.clone(),
        )
        .await?;
    // Not live: the page must never be re-fetched (the secret is not kept anywhere).
    let mut chrome = Chrome::seller(&user, "New publish token", "tokens");
    chrome.live_url = None;
    let place = Place {
        public_url: &web.config.public_url,
        seller: &user.seller.slug,
    };
    let snippets = web.config.ecosystems.publish(place, &generated.secret);
    let page = CreatedPage {
        chrome,
        secret: generated.secret,
        id: generated.id.0,
        scope: packages.iter().map(ToString::to_string).collect(),
        snippets,
    };
    Ok(html(&page).into_response())
}

/// A publish token of this seller, or 404 (another seller's, or an org's, is not found).
async fn own_token(web: &Web, user: &SellerUser, id: &str) -> WebResult<TokenRecord> {
    web.registry
        .token(id)
        .await?
        .filter(|t| t.seller_id == user.seller.id && t.kind == TokenKind::Publish)
        .ok_or_else(|| WebError::NotFound(format!("there is no publish token {id}")))
}

/// `GET /{seller}/dashboard/tokens/{token}/revoke`: "are you sure?".
async fn confirm(
    State(web): State<Web>,
    user: SellerUser,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let t = own_token(&web, &user, &id).await?;
    if t.revoked_at.is_some() {
        return Ok(Redirect::to(&tokens_url(&user)).into_response());
    }
    let page = RevokePage {
        chrome: Chrome::seller(&user, &format!("Revoke publish token {id}?"), "tokens"),
        scope: scope_of(&t),
        id: t.id.0,
        created: format_time(t.created_at),
    };
    Ok(html(&page).into_response())
}

/// `POST /{seller}/dashboard/tokens/{token}/revoke`: revokes it, back to the list.
async fn revoke(
    State(web): State<Web>,
    user: SellerUser,
    Path((_, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let t = own_token(&web, &user, &id).await?;
    web.registry.revoke_token(&t.id, Timestamp::now()).await?;
    Ok(Redirect::to(&tokens_url(&user)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lines_parse_and_dedupe() {
        let refs =
            parse_scope("npm:@acme/ui\n\n  cargo:acme-core \nnpm:@acme/ui\n").expect("valid scope");
        let shown: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["npm:@acme/ui", "cargo:acme-core"]);
        assert!(parse_scope("").expect("empty scope").is_empty());
        assert!(parse_scope("left-pad").is_err());
        assert!(parse_scope("pip:requests").is_err());
    }
}

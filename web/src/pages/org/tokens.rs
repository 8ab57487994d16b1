//! The org's tokens for machines (kind `org`, no seat: CI tokens and labelled bot tokens with a
//! scope), admins only: the list (never a secret), creating one (the secret is on the response
//! page only, with the client set-up filled in) and revoking one (confirmation, then the POST;
//! another org's token is not found).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tollgate_registry::domain::{TokenKind, TokenRecord, TokenScope};
use tollgate_registry::ids::TokenId;
use tollgate_registry::last_use::LastUse;
use tollgate_registry::time::Timestamp;
use tollgate_registry::views::OrgToken;

use super::parts::{Confirm, set_notice, take_notice};
use super::setup::{Snippet, snippets};
use crate::auth::MemberUser;
use crate::error::{WebError, WebResult};
use crate::state::Web;
use crate::templates::{Chrome, format_time, html};

/// A token in a list: the org's tokens here, the member's own on the seats page.
pub(super) struct TokenLine {
    pub id: String,
    /// A bot token's label.
    pub label: Option<String>,
    /// `read` or `metadata`.
    pub scope: &'static str,
    pub created: String,
    pub revoked: Option<String>,
    /// When, from where and by which client it was last used (`None`: never).
    pub last_used: Option<String>,
}

impl TokenLine {
    /// `t` as listed, with the newer of its written last use and the one this server holds.
    pub fn of(web: &Web, t: OrgToken) -> Self {
        let pending = web.registry.pending_last_use(&t.id);
        Self {
            last_used: LastUse::newest(t.last_use, pending).map(|u| u.describe()),
            id: t.id.0,
            label: t.label,
            scope: t.scope.as_str(),
            created: format_time(t.created_at),
            revoked: t.revoked_at.map(format_time),
        }
    }
}

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/org/{org}/tokens", get(page).post(create))
        .route(
            "/{seller}/org/{org}/tokens/{token}/revoke",
            get(confirm).post(revoke),
        )
}

fn tokens_url(user: &MemberUser) -> String {
    format!("/{}/org/{}/tokens", user.seller.slug, user.org.slug)
}

/// Only admins manage the org's shared tokens; a member is pointed to their own token.
fn require_admin(user: &MemberUser) -> WebResult<()> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "only an admin of {} manages its CI tokens; your own token is on the Seats page",
            user.org.name
        )))
    }
}

/// Creates a token of `kind` for the org (a seat token: for the signed-in member's seat) and
/// returns its secret, to be shown once.
pub(super) async fn create_token(
    web: &Web,
    user: &MemberUser,
    kind: TokenKind,
) -> WebResult<String> {
    let generated = web
        .registry
        .issue_token(
            kind,
            user.seller.id,
            Some(user.org.id),
            (kind == TokenKind::Seat).then_some(user.seat.id),
            Vec::new(),
        )
        .await?;
    Ok(generated.secret)
}

#[derive(Template)]
#[template(path = "org/token_created.html")]
struct Created {
    chrome: Chrome,
    secret: String,
    about: String,
    snippets: Vec<Snippet>,
    back: String,
}

/// The page that shows a new token's secret, once, with the client set-up that uses it. Not
/// live: a refresh must not redraw it without the secret.
pub(super) async fn created_page(
    web: &Web,
    user: &MemberUser,
    title: &str,
    nav: &'static str,
    secret: &str,
    about: String,
    back: String,
) -> WebResult<Response> {
    let mut chrome = Chrome::org(user, title, nav);
    chrome.live_url = None;
    Ok(html(&Created {
        chrome,
        secret: secret.to_owned(),
        about,
        snippets: snippets(web, user, secret).await?,
        back,
    })
    .into_response())
}

#[derive(Template)]
#[template(path = "org/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    notice: Option<String>,
    tokens: Vec<TokenLine>,
    /// Why the last create was refused, with what was typed.
    error: Option<String>,
    label: String,
}

/// `GET /{seller}/org/{org}/tokens`: the org's CI and bot tokens.
async fn page(State(web): State<Web>, user: MemberUser) -> WebResult<Response> {
    require_admin(&user)?;
    render_list(&web, &user, None, String::new()).await
}

async fn render_list(
    web: &Web,
    user: &MemberUser,
    error: Option<String>,
    label: String,
) -> WebResult<Response> {
    let tokens = web
        .registry
        .views()
        .org_tokens(user.org.id)
        .await?
        .into_iter()
        .filter(|t| t.kind == TokenKind::Org)
        .map(|t| TokenLine::of(web, t))
        .collect();
    Ok(html(&TokensPage {
        chrome: Chrome::org(user, "CI and bot tokens", "tokens"),
        notice: take_notice(&user.session).await?,
        tokens,
        error,
        label,
    })
    .into_response())
}

/// The create form: no label makes a plain CI token; a label makes a bot token of `scope`.
#[derive(Debug, Deserialize)]
struct CreateForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    scope: Option<String>,
}

/// `POST /{seller}/org/{org}/tokens`: a new CI or bot token, its secret on the response only.
async fn create(
    State(web): State<Web>,
    user: MemberUser,
    axum::Form(form): axum::Form<CreateForm>,
) -> WebResult<Response> {
    require_admin(&user)?;
    let scope = match form.scope.as_deref().map(str::parse::<TokenScope>) {
        None => TokenScope::Read,
        Some(Ok(scope)) => scope,
        Some(Err(why)) => return render_list(&web, &user, Some(why), form.label).await,
    };
    let label = form.label.trim();
    let (secret, title, about) = if label.is_empty() && scope == TokenScope::Read {
        let secret = create_token(&web, &user, TokenKind::Org).await?;
        (secret, "New CI token", String::new())
    } else {
        let generated = match web
            .registry
            .issue_bot_token(user.seller.id, user.org.id, label, scope)
            .await
        {
            Ok(generated) => generated,
            Err(tollgate_registry::Error::Invalid(why)) => {
                return render_list(&web, &user, Some(why), form.label).await;
            }
            Err(e) => return Err(e.into()),
        };
        let what = match scope {
            TokenScope::Read => "It lists and installs.",
            TokenScope::Metadata => {
                "Scope metadata: it lists versions and checksums (enough for Renovate and \
                 lockfile-only updates) and never downloads a package."
            }
        };
        (
            generated.secret,
            "New bot token",
            format!("Bot token \u{201c}{label}\u{201d}. {what}"),
        )
    };
    created_page(
        &web,
        &user,
        title,
        "tokens",
        &secret,
        format!(
            "{about} It belongs to {}, not to a person: it keeps working until an admin revokes it.",
            user.org.name
        )
        .trim_start()
        .to_owned(),
        tokens_url(&user),
    )
    .await
}

/// The org's CI or bot token `id`; any other token is not found.
async fn org_token(web: &Web, user: &MemberUser, id: &str) -> WebResult<TokenRecord> {
    web.registry
        .token(id)
        .await?
        .filter(|t| t.org_id == Some(user.org.id) && t.kind == TokenKind::Org)
        .ok_or_else(|| WebError::NotFound(format!("{} has no CI token {id}", user.org.name)))
}

/// `GET …/tokens/{token}/revoke`: "Revoke the CI token …?"
async fn confirm(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    require_admin(&user)?;
    let token = org_token(&web, &user, &id).await?;
    if token.revoked_at.is_some() {
        return Err(WebError::Conflict(format!(
            "the token {id} is revoked already"
        )));
    }
    Ok(Confirm {
        chrome: Chrome::org(&user, "Revoke a CI token", "tokens"),
        question: format!("Revoke the CI token {id}?"),
        detail: "Builds using it are refused within a second, on every server.".into(),
        action: format!("{}/{id}/revoke", tokens_url(&user)),
        button: "Revoke the token".into(),
        back: tokens_url(&user),
    }
    .render())
}

/// `POST …/tokens/{token}/revoke`.
async fn revoke(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    require_admin(&user)?;
    org_token(&web, &user, &id).await?;
    web.registry
        .revoke_token(&TokenId(id.clone()), Timestamp::now())
        .await?;
    set_notice(
        &user.session,
        format!("Revoked the CI token {id}; it no longer works."),
    )
    .await?;
    Ok(Redirect::to(&tokens_url(&user)).into_response())
}

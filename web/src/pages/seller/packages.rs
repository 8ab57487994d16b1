//! Packages and releases across the four ecosystems: the list, one package's releases, and the
//! release actions (yank, unyank, retire, unretire), each behind a confirmation page that says
//! what the action does in that ecosystem's words. Changes go through [`Registry`] methods so
//! caches drop and open pages update.
//!
//! A package path ends in the name (`{*name}`: npm names may be `@scope/name`), so an action is
//! chosen by query (`?action=yank&version=1.2.0`) for its confirmation page and by form field
//! for the POST to the package's own URL.
//!
//! [`Registry`]: tollgate_registry::Registry

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tollgate_registry::domain::{
    Ecosystem, PackageRef, PackageState, Retirement, Seller, TokenKind, TokenRecord, TokenScope,
};
use tollgate_registry::ids::TokenId;
use tollgate_registry::registry::Caller;
use tollgate_registry::time::Timestamp;

use crate::auth::SellerUser;
use crate::error::{WebError, WebResult};
use crate::state::Web;
use crate::templates::{Chrome, format_opt, format_time, html, thousands};

/// Hex's retirement reasons (what `mix hex.retire` accepts), with their labels.
pub const RETIRE_REASONS: [(&str, &str); 5] = [
    ("other", "Other"),
    ("invalid", "Invalid (broken release)"),
    ("security", "Security issue"),
    ("deprecated", "Deprecated"),
    ("renamed", "Renamed"),
];

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/dashboard/packages", get(list))
        .route(
            "/{seller}/dashboard/packages/{ecosystem}/{*name}",
            get(package).post(act),
        )
}

#[derive(Template)]
#[template(path = "seller/packages.html")]
struct ListPage {
    chrome: Chrome,
    packages: Vec<PackageLine>,
}

struct PackageLine {
    ecosystem: String,
    name: String,
    releases: String,
    latest: String,
    last_published: String,
    downloads_30d: String,
}

async fn list(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let summaries = web
        .registry
        .views()
        .package_summaries(user.seller.id, Timestamp::now())
        .await?;
    let page = ListPage {
        chrome: Chrome::seller(&user, "Packages", "packages"),
        packages: summaries
            .into_iter()
            .map(|p| PackageLine {
                ecosystem: p.ecosystem,
                name: p.name,
                releases: thousands(p.releases),
                latest: p.latest.unwrap_or_else(|| "—".into()),
                last_published: format_opt(p.last_published),
                downloads_30d: thousands(p.downloads_30d),
            })
            .collect(),
    };
    Ok(html(&page).into_response())
}

/// A release action, as named in query strings and forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Yank,
    Unyank,
    Retire,
    Unretire,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Yank => "yank",
            Self::Unyank => "unyank",
            Self::Retire => "retire",
            Self::Unretire => "unretire",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Self::Yank => "Yank",
            Self::Unyank => "Restore",
            Self::Retire => "Retire",
            Self::Unretire => "Un-retire",
        }
    }

    /// What the action does for buyers of `ecosystem`, in that ecosystem's words (static HTML,
    /// shown unescaped).
    fn effect(self, ecosystem: Ecosystem) -> &'static str {
        match (self, ecosystem) {
            (Self::Yank, Ecosystem::Npm) => {
                "Buyers can no longer resolve it: it leaves the package's version list and its \
                 tarball is no longer served, so <code>npm install</code> of exactly this version (even from \
                 a package-lock.json) fails. Unlike <code>npm unpublish</code>, you can undo it."
            }
            (Self::Yank, Ecosystem::Cargo) => {
                "Like <code>cargo yank</code>: Cargo no longer picks it for new lockfiles, while projects whose \
                 Cargo.lock already names it keep building."
            }
            (Self::Yank, Ecosystem::Rubygems) => {
                "Like <code>gem yank</code>: it leaves the index, so <code>bundle install</code> and <code>gem install</code> can \
                 no longer resolve it, including from a Gemfile.lock that names it."
            }
            (Self::Yank, Ecosystem::Hex) => {
                "Hex has no yank: mix and rebar3 still see this version. Retire it instead to \
                 warn buyers."
            }
            (Self::Unyank, _) => {
                "It becomes resolvable again for every buyer entitled to it, as before the yank."
            }
            (Self::Retire, Ecosystem::Hex) => {
                "Like <code>mix hex.retire</code>: it stays installable, but <code>mix deps.get</code> and \
                 <code>mix hex.outdated</code> warn buyers with the reason and message below."
            }
            (Self::Retire, _) => {
                "It stays installable; the reason is recorded and shown here. Only Hex clients \
                 show retirements to buyers."
            }
            (Self::Unretire, _) => {
                "The retirement and its message are removed; clients stop warning about it."
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct ActionQuery {
    action: Option<Action>,
    version: Option<String>,
}

#[derive(Template)]
#[template(path = "seller/package.html")]
struct PackagePage {
    chrome: Chrome,
    ecosystem: &'static str,
    name: String,
    releases: Vec<ReleaseLine>,
    can_yank: bool,
}

struct ReleaseLine {
    version: String,
    published: String,
    size: String,
    yanked: bool,
    retired: Option<Retirement>,
    tags: String,
    yank_url: String,
    retire_url: String,
}

#[derive(Template)]
#[template(path = "seller/release_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    url: String,
    name: String,
    version: String,
    action: &'static str,
    verb: &'static str,
    effect: &'static str,
    danger: bool,
    retire: bool,
    reasons: &'static [(&'static str, &'static str)],
}

/// The seller's own package, or 404 (another seller's package is not found either).
async fn load(
    web: &Web,
    seller: &Seller,
    ecosystem: &str,
    name: &str,
) -> WebResult<(Ecosystem, PackageState)> {
    let missing = || WebError::NotFound(format!("there is no package {ecosystem}:{name}"));
    let ecosystem: Ecosystem = ecosystem.parse().map_err(|_| missing())?;
    let state = web
        .registry
        .package_state(seller.id, ecosystem, name)
        .await?
        .ok_or_else(missing)?;
    Ok((ecosystem, state))
}

fn package_url(seller: &str, ecosystem: Ecosystem, name: &str) -> String {
    format!("/{seller}/dashboard/packages/{}/{name}", ecosystem.as_str())
}

fn action_url(base: &str, action: Action, version: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("action", action.as_str())
        .append_pair("version", version)
        .finish();
    format!("{base}?{query}")
}

/// Yank is offered where clients honour it (Hex has retire instead).
fn can_yank(ecosystem: Ecosystem) -> bool {
    ecosystem != Ecosystem::Hex
}

async fn package(
    State(web): State<Web>,
    user: SellerUser,
    Path((_, ecosystem, name)): Path<(String, String, String)>,
    Query(q): Query<ActionQuery>,
) -> WebResult<Response> {
    let (ecosystem, state) = load(&web, &user.seller, &ecosystem, &name).await?;
    let url = package_url(&user.seller.slug, ecosystem, &state.name);
    if let Some(action) = q.action {
        let version = q.version.unwrap_or_default();
        let release = state.release(&version).ok_or_else(|| {
            WebError::NotFound(format!("{} has no version {version}", state.name))
        })?;
        let page = ConfirmPage {
            chrome: Chrome::seller(
                &user,
                &format!("{} {} {version}?", action.verb(), state.name),
                "packages",
            ),
            url,
            name: state.name.clone(),
            version: release.version.clone(),
            action: action.as_str(),
            verb: action.verb(),
            effect: action.effect(ecosystem),
            danger: matches!(action, Action::Yank | Action::Retire),
            retire: action == Action::Retire,
            reasons: &RETIRE_REASONS,
        };
        return Ok(html(&page).into_response());
    }
    let releases = state
        .releases
        .iter()
        .rev()
        .map(|r| {
            let tags: Vec<&str> = state
                .dist_tags
                .iter()
                .filter(|(_, v)| *v == r.version)
                .map(|(t, _)| t.as_str())
                .collect();
            let yank = if r.yanked {
                Action::Unyank
            } else {
                Action::Yank
            };
            let retire = if r.retired.is_some() {
                Action::Unretire
            } else {
                Action::Retire
            };
            ReleaseLine {
                version: r.version.clone(),
                published: format_time(r.published_at),
                size: human_size(r.size),
                yanked: r.yanked,
                retired: r.retired.clone(),
                tags: tags.join(", "),
                yank_url: action_url(&url, yank, &r.version),
                retire_url: action_url(&url, retire, &r.version),
            }
        })
        .collect();
    let page = PackagePage {
        chrome: Chrome::seller(&user, &state.name, "packages"),
        ecosystem: ecosystem.as_str(),
        name: state.name.clone(),
        releases,
        can_yank: can_yank(ecosystem),
    };
    Ok(html(&page).into_response())
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    action: Action,
    version: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

async fn act(
    State(web): State<Web>,
    user: SellerUser,
    Path((_, ecosystem, name)): Path<(String, String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> WebResult<Response> {
    let (ecosystem, state) = load(&web, &user.seller, &ecosystem, &name).await?;
    if state.release(&form.version).is_none() {
        return Err(WebError::NotFound(format!(
            "{} has no version {}",
            state.name, form.version
        )));
    }
    let caller = seller_caller(&user.seller);
    let package = PackageRef {
        ecosystem,
        name: state.name.clone(),
    };
    let registry = &web.registry;
    match form.action {
        Action::Yank | Action::Unyank => {
            let yank = form.action == Action::Yank;
            if yank && !can_yank(ecosystem) {
                return Err(WebError::BadRequest(
                    "Hex packages cannot be yanked; retire the release instead".into(),
                ));
            }
            registry
                .set_yanked(&caller, &package, &form.version, yank)
                .await?;
        }
        Action::Retire => {
            let reason = form.reason.trim();
            if !RETIRE_REASONS.iter().any(|(r, _)| *r == reason) {
                return Err(WebError::BadRequest(
                    "choose a reason: other, invalid, security, deprecated or renamed".into(),
                ));
            }
            let message = form.message.trim();
            if message.chars().count() > 140 {
                return Err(WebError::BadRequest(
                    "the message is longer than 140 characters (Hex's limit); shorten it".into(),
                ));
            }
            let retirement = Retirement {
                reason: reason.to_owned(),
                message: message.to_owned(),
            };
            registry
                .set_retired(&caller, &package, &form.version, Some(&retirement))
                .await?;
        }
        Action::Unretire => {
            registry
                .set_retired(&caller, &package, &form.version, None)
                .await?;
        }
    }
    let url = package_url(&user.seller.slug, ecosystem, &state.name);
    Ok(Redirect::to(&url).into_response())
}

/// The signed-in seller acting as an unscoped publish token of its own (the registry's release
/// changes take a caller; the session already proved who this is).
fn seller_caller(seller: &Seller) -> Caller {
    Caller(Arc::new(TokenRecord {
        id: TokenId(format!("web-session:{}", seller.slug)),
        secret_hash: String::new(),
        kind: TokenKind::Publish,
        seller_id: seller.id,
        seller_slug: seller.slug.clone(),
        org_id: None,
        org_slug: None,
        seat_id: None,
        seat_email: None,
        seat_active: true,
        packages: Vec::new(),
        label: None,
        scope: TokenScope::Read,
        created_at: seller.created_at,
        revoked_at: None,
    }))
}

/// 1536 → `1.5 kB` (decimal units, as registries show sizes).
fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 1000.0 {
        format!("{bytes} B")
    } else if b < 1_000_000.0 {
        format!("{:.1} kB", b / 1000.0)
    } else {
        format!("{:.1} MB", b / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_registry() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 kB");
        assert_eq!(human_size(2_500_000), "2.5 MB");
    }

    #[test]
    fn action_links_encode_the_version() {
        let url = action_url("/acme/dashboard/packages/cargo/x", Action::Yank, "1.0.0+b1");
        assert_eq!(
            url,
            "/acme/dashboard/packages/cargo/x?action=yank&version=1.0.0%2Bb1"
        );
    }
}

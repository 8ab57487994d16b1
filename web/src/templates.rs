//! Shared page parts: the chrome every page is drawn in, rendering, formatting filters.

use askama::Template;
use axum::response::Html;

/// What the layout (`base.html`) needs: the title, whose navigation to show, the CSRF token for
/// its sign-out form, and the URL of the page's live events (none on static pages).
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub title: String,
    pub seller: String,
    pub seller_name: String,
    /// `Some(org slug)` on org pages.
    pub org: Option<String>,
    pub org_name: String,
    /// Which entry of the navigation is current.
    pub current: &'static str,
    pub admin: bool,
    pub signed_in: bool,
    pub csrf: String,
    pub live_url: Option<String>,
}

impl Chrome {
    // `seller` and `org`, the signed-in pages' chrome, are made from the user in `crate::auth`
    // (next to `SellerUser` and `MemberUser`), so this file needs nothing from the rest.

    /// A page before sign-in.
    pub fn public(seller: &tollgate_registry::domain::Seller, title: &str, csrf: &str) -> Self {
        Self {
            title: title.to_owned(),
            seller: seller.slug.clone(),
            seller_name: seller.name.clone(),
            csrf: csrf.to_owned(),
            ..Self::default()
        }
    }
}

/// Renders a template; a template that fails is a bug, logged and shown as a plain error.
pub fn html(t: &impl Template) -> Html<String> {
    match t.render() {
        Ok(s) => Html(s),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            Html("<!doctype html><title>Error</title><p>The page could not be drawn.</p>".into())
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// `2026-11-25 14:03 UTC` (templates get formatted strings, not timestamps).
pub fn format_time(t: tollgate_registry::time::Timestamp) -> String {
    chrono::DateTime::from_timestamp_millis(t.0)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// 1234567 → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// 4900 minor units of `usd` → `USD 49.00`.
pub fn money(minor: i64, currency: &str) -> String {
    format!(
        "{} {}.{:02}",
        currency.to_ascii_uppercase(),
        thousands(minor / 100),
        (minor % 100).abs()
    )
}

/// A timestamp or `—`.
pub fn format_opt(t: Option<tollgate_registry::time::Timestamp>) -> String {
    t.map_or_else(|| "—".to_owned(), format_time)
}

//! Settings, read-only: who the seller is, how Stripe is connected (never a secret: only which
//! kind of connection and the public account id) with the webhook to configure, the Hex
//! repository's signing key fingerprint, the license public key, and each repository's URL.
//! Changing them stays in the CLI (`tollgate seller stripe …`), as the page says.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::SellerUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, html};

pub fn routes() -> Router<Web> {
    Router::new().route("/{seller}/dashboard/settings", get(page))
}

/// How the seller bills through Stripe.
enum Stripe {
    None,
    OwnKey,
    Connect(String),
}

#[derive(Template)]
#[template(path = "seller/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    name: String,
    slug: String,
    email: String,
    stripe: Stripe,
    webhook_url: String,
    connect_webhook_url: String,
    events: &'static [&'static str],
    hex_fingerprint: Option<String>,
    hex_url: String,
    hex_key_url: String,
    license_key: String,
    license_key_url: String,
    repos: Vec<Repo>,
}

struct Repo {
    ecosystem: &'static str,
    url: String,
}

/// Each ecosystem's repository URL, as its client is configured with it.
fn repositories(public_url: &str, seller: &str) -> Vec<Repo> {
    let base = format!("{public_url}/{seller}");
    vec![
        Repo {
            ecosystem: "npm",
            url: format!("{base}/npm/"),
        },
        Repo {
            ecosystem: "Cargo (sparse index)",
            url: format!("sparse+{base}/cargo/index/"),
        },
        Repo {
            ecosystem: "Hex",
            url: format!("{base}/hex"),
        },
        Repo {
            ecosystem: "RubyGems",
            url: format!("{base}/gems/"),
        },
    ]
}

async fn page(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let db = web.registry.db();
    let seller = &user.seller;
    let public_url = &web.config.public_url;
    let stripe = match db.stripe_connection(seller.id).await? {
        None => Stripe::None,
        Some(c) => match c.account_id {
            Some(account) => Stripe::Connect(account),
            None => Stripe::OwnKey,
        },
    };
    // Made by the Hex repository on its first request; until then there is none to show.
    let hex_fingerprint = db
        .seller_key(seller.id, tollgate_hex::signing::PURPOSE)
        .await?
        .and_then(|key| tollgate_hex::signing::fingerprint_of_pem(&key.public));
    // Made on first use, as `/{seller}/license/public_key` does.
    let license_key =
        tollgate_billing::license::public_key(&web.registry, &web.billing.secrets, seller)
            .await?
            .to_text();
    let base = format!("{public_url}/{}", seller.slug);
    let page = SettingsPage {
        chrome: Chrome::seller(&user, "Settings", "settings"),
        name: seller.name.clone(),
        slug: seller.slug.clone(),
        email: seller.email.clone(),
        stripe,
        webhook_url: format!("{base}/stripe/webhook"),
        connect_webhook_url: format!("{public_url}/stripe/connect/webhook"),
        events: &tollgate_billing::webhook::EVENTS,
        hex_fingerprint,
        hex_url: format!("{base}/hex"),
        hex_key_url: format!("{base}/hex/public_key"),
        license_key,
        license_key_url: format!("/{}/license/public_key", seller.slug),
        repos: repositories(public_url, &seller.slug),
    };
    Ok(html(&page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_urls_match_the_protocol_routes() {
        let repos = repositories("https://pkg.example.com", "acme");
        let urls: Vec<&str> = repos.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://pkg.example.com/acme/npm/",
                "sparse+https://pkg.example.com/acme/cargo/index/",
                "https://pkg.example.com/acme/hex",
                "https://pkg.example.com/acme/gems/",
            ]
        );
    }
}

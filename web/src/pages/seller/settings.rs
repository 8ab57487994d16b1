//! Settings: who the seller is, how Stripe is connected (never a secret: only which kind of
//! connection and the public account id) with the webhook to configure, the Hex repository's
//! signing key fingerprint, the license public key, and each repository's URL. One action:
//! "Connect with Stripe" (Stripe Connect OAuth), whose return from Stripe is accepted only in
//! the session that pressed it (see `tollgate_billing::connect`). Own keys stay in the CLI
//! (`tollgate seller stripe …`), as the page says.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tollgate_billing::connect::{self, ConnectError, Refusal};
use tollgate_billing::service::BillingError;
use tollgate_registry::ecosystem::{Ecosystems, Place, SellerKeyShown};
use tower_sessions::Session;

use crate::auth::{SellerUser, WHO, Who};
use crate::error::{WebError, WebResult};
use crate::state::Web;
use crate::templates::{Chrome, html};

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/{seller}/dashboard/settings", get(page))
        .route("/{seller}/dashboard/settings/stripe-connect", post(connect))
        // `connect::RETURN_PATH`, spelled out for the route table test (tests/pages/routes.rs).
        .route("/stripe/connect/oauth", get(oauth_return))
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
    /// The seller has an endpoint of its own (a signing secret is stored).
    own_endpoint: bool,
    /// This server offers Connect onboarding (client id and platform key set).
    connect_available: bool,
    /// The seller keys buyers check (the Hex repository's signing key).
    keys: Vec<SellerKeyShown>,
    license_key: String,
    license_key_url: String,
    repos: Vec<Repo>,
}

struct Repo {
    ecosystem: &'static str,
    url: String,
}

/// Each ecosystem's repository URL, as its client is configured with it.
fn repositories(ecosystems: Ecosystems, place: &Place<'_>) -> Vec<Repo> {
    ecosystems
        .iter()
        .map(|e| Repo {
            ecosystem: e.repository_label(),
            url: e.repository_url(place),
        })
        .collect()
}

async fn page(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let db = &web.registry;
    let seller = &user.seller;
    let public_url = &web.config.public_url;
    let connection = db.stripe_connection(seller.id).await?;
    let own_endpoint = connection
        .as_ref()
        .is_some_and(|c| c.webhook_secret.is_some());
    let stripe = match connection {
        None => Stripe::None,
        Some(c) => match c.account_id {
            Some(account) => Stripe::Connect(account),
            None => Stripe::OwnKey,
        },
    };
    let place = Place {
        public_url,
        seller: &seller.slug,
    };
    // Made by the Hex repository on its first request; until then there is none to show.
    let keys = web
        .config
        .ecosystems
        .seller_keys(&web.registry, place, seller.id)
        .await?;
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
        own_endpoint,
        connect_available: web.billing.connect_available(),
        keys,
        license_key,
        license_key_url: format!("/{}/license/public_key", seller.slug),
        repos: repositories(web.config.ecosystems, &place),
    };
    Ok(html(&page).into_response())
}

/// `POST /{seller}/dashboard/settings/stripe-connect` (CSRF-checked like every form): a fresh
/// single-use state, kept by hash in this session, then off to Stripe's authorize page.
async fn connect(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let started = web
        .billing
        .connect_start(&user.seller)
        .await
        .map_err(billing_error)?;
    user.session
        .insert(connect::SESSION_KEY, &started.state_hash)
        .await?;
    Ok(Redirect::to(&started.authorize_url).into_response())
}

#[derive(Deserialize)]
struct OAuthReturn {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /stripe/connect/oauth`: where Stripe sends the seller back. Accepted only in the
/// session that pressed Connect, signed in as the seller the state was issued to, once; then
/// back to the settings page, which shows the connected account.
async fn oauth_return(
    State(web): State<Web>,
    session: Session,
    Query(q): Query<OAuthReturn>,
) -> WebResult<Response> {
    if let Some(error) = q.error {
        session.remove::<String>(connect::SESSION_KEY).await?;
        let why: String = q
            .error_description
            .unwrap_or(error)
            .chars()
            .take(300)
            .collect();
        return Err(WebError::BadRequest(format!(
            "Stripe did not connect the account: {why}"
        )));
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return Err(WebError::BadRequest(
            "Stripe's answer lacks its code or state; press Connect with Stripe again on your \
             settings page"
                .into(),
        ));
    };
    let signed_in = match session.get::<Who>(WHO).await? {
        Some(Who::Seller { seller }) => Some(seller),
        _ => None,
    };
    let bound = session.get::<String>(connect::SESSION_KEY).await?;
    let (seller, account) = web
        .billing
        .connect_finish(signed_in, bound.as_deref(), &state, &code)
        .await
        .map_err(|e| match e {
            ConnectError::Refused(why) => refused(why),
            ConnectError::Billing(e) => billing_error(e),
        })?;
    session.remove::<String>(connect::SESSION_KEY).await?;
    tracing::info!(seller = %seller.slug, %account, "connected through the settings page");
    Ok(Redirect::to(&format!("/{}/dashboard/settings", seller.slug)).into_response())
}

/// A refused state: 403 when it is someone else's (or no one is signed in), 400 when it is
/// spent.
fn refused(why: Refusal) -> WebError {
    tracing::warn!(refusal = ?why, "stripe connect return refused");
    match why {
        Refusal::NotSignedIn | Refusal::OtherSeller | Refusal::OtherSession => {
            WebError::Forbidden(why.to_string())
        }
        Refusal::Unknown | Refusal::Used | Refusal::Expired => {
            WebError::BadRequest(why.to_string())
        }
    }
}

fn billing_error(e: BillingError) -> WebError {
    match e {
        BillingError::BadRequest(m) => WebError::BadRequest(m),
        BillingError::NotFound(what) => WebError::NotFound(format!("{what} was not found")),
        BillingError::Unavailable(m) => WebError::Internal(anyhow::anyhow!("stripe connect: {m}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_route_is_where_stripe_is_told_to_send_the_seller() {
        assert_eq!(connect::RETURN_PATH, "/stripe/connect/oauth");
    }

    #[test]
    fn repositories_come_from_the_ecosystems_in_their_order() {
        use tollgate_registry::domain::Ecosystem;
        use tollgate_registry::ecosystem::{EcosystemInfo, Setup, Snippet};
        struct Fake(&'static str);
        impl EcosystemInfo for Fake {
            fn ecosystem(&self) -> Ecosystem {
                Ecosystem::Npm
            }
            fn mount(&self) -> &'static str {
                self.0
            }
            fn display_name(&self) -> &'static str {
                self.0
            }
            fn repository_url(&self, place: &Place<'_>) -> String {
                place.mount_url(self)
            }
            fn setup(&self, _: &Setup<'_>) -> Vec<Snippet> {
                Vec::new()
            }
            fn publish(&self, _: &Place<'_>, _: &str) -> Snippet {
                Snippet::new("", "")
            }
        }
        let place = Place {
            public_url: "https://pkg.example.com",
            seller: "acme",
        };
        let repos = repositories(Ecosystems::new(&[&Fake("b"), &Fake("a")]), &place);
        let shown: Vec<(&str, &str)> = repos
            .iter()
            .map(|r| (r.ecosystem, r.url.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("b", "https://pkg.example.com/acme/b"),
                ("a", "https://pkg.example.com/acme/a")
            ]
        );
    }
}

//! What the billing endpoints do: verify and apply Stripe webhooks (re-reading the subscription
//! from the seller's Stripe, so the order events arrive in does not matter), provision an org for
//! a new customer (admin seat, org token, welcome mail with a license key), and create Checkout
//! and Billing Portal sessions.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tollgate_registry::db::StripeConnection;
use tollgate_registry::domain::{Org, SeatMode, Seller};
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::time::Timestamp;
use tollgate_registry::{Error, Registry};

use crate::mail::Mailer;
use crate::stripe::{CheckoutRequest, StripeAccount, StripeError};
use crate::webhook::{self, Event};

mod notices;
mod sync;

/// Settings from the server's configuration.
#[derive(Clone, Debug, Default)]
pub struct BillingConfig {
    /// The server's public base URL without a trailing slash.
    pub public_url: String,
    /// `TOLLGATE_STRIPE_API_BASE`: another Stripe-compatible server (tests).
    pub api_base: Option<String>,
    /// `TOLLGATE_STRIPE_SECRET_KEY`: the operator's platform key, for Connect sellers.
    pub platform_key: Option<String>,
    /// `TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET`: the signing secret of the platform's Connect
    /// endpoint (`/stripe/connect/webhook`).
    pub connect_webhook_secret: Option<String>,
    /// `TOLLGATE_STRIPE_CONNECT_BASE`: another Stripe Connect OAuth host (tests).
    pub connect_base: Option<String>,
    /// `TOLLGATE_STRIPE_CONNECT_CLIENT_ID`: the platform's Connect client id (`ca_…`), for the
    /// settings page's "Connect with Stripe".
    pub connect_client_id: Option<String>,
    /// The ecosystems served, for the welcome mail's client set-up.
    pub ecosystems: tollgate_registry::ecosystem::Ecosystems,
}

/// Why a billing request failed, sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The request is wrong (bad signature, unknown plan…): 400, Stripe does not retry usefully.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(String),
    /// Stripe or the database failed: 5xx, Stripe retries the webhook.
    #[error("{0}")]
    Unavailable(String),
}

impl From<Error> for BillingError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(what) => Self::NotFound(what),
            Error::Invalid(m) | Error::Forbidden(m) | Error::Conflict(m) => Self::BadRequest(m),
            other => {
                tracing::error!(error = %other, "billing failed");
                Self::Unavailable("the registry could not apply this; it will be retried".into())
            }
        }
    }
}

impl From<StripeError> for BillingError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Config(m) => Self::BadRequest(m),
            StripeError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

#[derive(Clone)]
pub struct Billing(Arc<Inner>);

pub struct Inner {
    pub registry: Registry,
    pub secrets: Arc<SecretBox>,
    pub mailer: Mailer,
    pub config: BillingConfig,
}

impl std::ops::Deref for Billing {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A seller's Stripe, opened: the client. (The webhook signing secret is opened only by the
/// seller's own endpoint, the one place that needs it.)
struct Connected {
    connection: StripeConnection,
    account: StripeAccount,
}

impl Billing {
    pub fn new(
        registry: Registry,
        secrets: Arc<SecretBox>,
        mailer: Mailer,
        config: BillingConfig,
    ) -> Self {
        Self(Arc::new(Inner {
            registry,
            secrets,
            mailer,
            config,
        }))
    }

    fn open(&self, binding: &Binding, sealed: &str, what: &str) -> Result<String, BillingError> {
        let bytes = self.secrets.open(binding, sealed).map_err(|e| {
            tracing::error!(error = %e, secret = binding.as_str(), "cannot open a stored Stripe secret");
            BillingError::Unavailable(format!("the stored {what} cannot be read"))
        })?;
        String::from_utf8(bytes)
            .map_err(|_| BillingError::Unavailable(format!("the stored {what} is damaged")))
    }

    /// The seller's Stripe connection, repaired on the way: a Connect row whose webhook secret
    /// is not a signing secret (`whsec_…`) holds what Connect OAuth onboarding of earlier
    /// versions stored there (random bytes, issue 16 row 5). A Connect seller's events arrive at
    /// the platform's endpoint, so the value is dropped, not replaced.
    async fn connection(&self, seller: &Seller) -> Result<StripeConnection, BillingError> {
        let db = &self.registry;
        let mut connection = db.stripe_connection(seller.id).await?.ok_or_else(|| {
            BillingError::BadRequest(format!(
                "seller {} has no Stripe connection (Connect with Stripe on its settings page, \
                 or `tollgate seller stripe {}`)",
                seller.slug, seller.slug
            ))
        })?;
        let connect = connection.account_id.is_some() && connection.secret_key.is_none();
        if connect
            && let Some(sealed) = &connection.webhook_secret
            && let Ok(plaintext) = self
                .secrets
                .open(&Binding::stripe_webhook_secret(seller.id), sealed)
            && !plaintext.starts_with(b"whsec_")
        {
            db.clear_webhook_secret(seller.id, sealed).await?;
            tracing::info!(seller = %seller.slug,
                "dropped the placeholder webhook secret Connect onboarding stored (issue 16)");
            connection.webhook_secret = None;
        }
        Ok(connection)
    }

    async fn connect(&self, seller: &Seller) -> Result<Connected, BillingError> {
        let connection = self.connection(seller).await?;
        let key = match (&connection.secret_key, &self.config.platform_key) {
            (Some(sealed), _) => self.open(
                &Binding::stripe_secret_key(seller.id),
                sealed,
                "Stripe secret key",
            )?,
            (None, Some(platform)) => platform.clone(),
            (None, None) => {
                return Err(BillingError::BadRequest(
                    "a Connect seller needs the platform key in TOLLGATE_STRIPE_SECRET_KEY".into(),
                ));
            }
        };
        let account = StripeAccount::new(
            &key,
            connection.account_id.as_deref(),
            self.config.api_base.as_deref(),
        )?;
        Ok(Connected {
            connection,
            account,
        })
    }

    /// `POST /{seller}/stripe/webhook`: verified with the seller's own signing secret (before
    /// the body is read as JSON), then applied once. `Ok` carries what was done, for the
    /// response body. A seller connected through Connect OAuth has no endpoint of its own.
    pub async fn webhook(
        &self,
        slug: &str,
        payload: &[u8],
        signature: Option<&str>,
    ) -> Result<String, BillingError> {
        let seller = self.registry.seller(slug).await?;
        let stripe = self.connect(&seller).await?;
        let Some(sealed) = &stripe.connection.webhook_secret else {
            return Err(BillingError::BadRequest(format!(
                "seller {slug} has no webhook endpoint of its own: it is connected through Stripe \
                 Connect, whose events arrive at the platform's endpoint /stripe/connect/webhook"
            )));
        };
        let secret = self.open(
            &Binding::stripe_webhook_secret(seller.id),
            sealed,
            "webhook signing secret",
        )?;
        verify(payload, signature, &secret)?;
        let event = Event::parse(payload).map_err(BillingError::BadRequest)?;
        if let (Some(expected), Some(got)) = (&stripe.connection.account_id, &event.account)
            && expected != got
        {
            return Err(BillingError::BadRequest(format!(
                "the event is for Stripe account {got}, not this seller's {expected}"
            )));
        }
        self.apply(&seller, &stripe, &event).await
    }

    /// `POST /stripe/connect/webhook`: the platform's one Connect endpoint, verified with
    /// `TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET`; each event goes to the seller whose connected
    /// account it names. Events of accounts no seller uses are acknowledged and ignored.
    pub async fn connect_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
    ) -> Result<String, BillingError> {
        let secret = self
            .config
            .connect_webhook_secret
            .as_deref()
            .ok_or_else(|| {
                BillingError::BadRequest(
                "this server has no Connect endpoint: set TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET"
                    .into(),
            )
            })?;
        let now = Timestamp::now().0.div_euclid(1000);
        webhook::verify(payload, signature, secret, now).map_err(|e| match e {
            webhook::WebhookError::BadSignature => BillingError::BadRequest(
                "the Stripe-Signature does not match the platform's Connect endpoint secret \
                 (TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET)"
                    .into(),
            ),
            other => BillingError::BadRequest(other.to_string()),
        })?;
        let event = Event::parse(payload).map_err(BillingError::BadRequest)?;
        let Some(account) = &event.account else {
            return Ok(format!("{} is not a Connect event; ignored", event.id));
        };
        let Some(slug) = self.registry.seller_by_stripe_account(account).await? else {
            return Ok(format!("no seller uses {account}; {} ignored", event.id));
        };
        let seller = self.registry.seller(&slug).await?;
        let stripe = self.connect(&seller).await?;
        self.apply(&seller, &stripe, &event).await
    }

    /// `GET /{seller}/buy/{plan}`: a Checkout Session for `quantity` seats; returns its URL.
    pub async fn checkout(
        &self,
        slug: &str,
        plan_slug: &str,
        quantity: u32,
    ) -> Result<String, BillingError> {
        let seller = self.registry.seller(slug).await?;
        let plan = self.registry.plan(seller.id, plan_slug).await?;
        let stripe = self.connect(&seller).await?;
        let quantity = match plan.seats {
            SeatMode::PerQuantity => quantity.clamp(1, 10_000),
            SeatMode::Unlimited => 1,
        };
        let base = format!(
            "{}/{}/buy/{}",
            self.config.public_url, seller.slug, plan.slug
        );
        let metadata = HashMap::from([
            ("tollgate_seller".to_owned(), seller.slug.clone()),
            ("tollgate_plan".to_owned(), plan.slug.clone()),
        ]);
        Ok(stripe
            .account
            .checkout(&CheckoutRequest {
                price: plan.stripe_price.clone(),
                quantity,
                success_url: format!("{base}/done?session_id={{CHECKOUT_SESSION_ID}}"),
                cancel_url: format!("{base}?canceled=1"),
                metadata,
            })
            .await?)
    }

    /// A Billing Portal session for `org`'s Stripe customer; returns its URL.
    pub async fn portal(&self, seller: &Seller, org: &Org) -> Result<String, BillingError> {
        let customer = self.registry.org_customer(org.id).await?.ok_or_else(|| {
            BillingError::BadRequest(format!("org {} has no Stripe customer", org.slug))
        })?;
        let stripe = self.connect(seller).await?;
        // Back to the org's billing page, where the admin clicked through.
        let back = format!(
            "{}/{}/org/{}/billing",
            self.config.public_url, seller.slug, org.slug
        );
        Ok(stripe.account.portal(&customer, &back).await?)
    }
}

/// Checks a webhook's `Stripe-Signature` against `secret` now.
fn verify(payload: &[u8], signature: Option<&str>, secret: &str) -> Result<(), BillingError> {
    let now = Timestamp::now().0.div_euclid(1000);
    webhook::verify(payload, signature, secret, now)
        .map_err(|e| BillingError::BadRequest(e.to_string()))
}

/// A string at `path` in a JSON object.
fn text(v: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let v = serde_json::json!({"a": {"b": "c"}, "e": ""});
        assert_eq!(text(&v, &["a", "b"]).as_deref(), Some("c"));
        assert_eq!(text(&v, &["e"]), None);
        assert_eq!(text(&v, &["x"]), None);
    }
}

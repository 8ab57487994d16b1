//! Calls to the seller's Stripe account: re-reading a subscription (the truth a webhook points
//! at), reading a customer, creating Checkout and Billing Portal sessions. Requests are built
//! with async-stripe; replies are read as untyped JSON, because its typed models cannot read
//! older API shapes (localstripe answers in 2017 shapes) and we need only a few fields.
//! `TOLLGATE_STRIPE_API_BASE` points every call at another server (tests).

use std::collections::HashMap;

use serde_json::Value;
use stripe::{Client, ClientBuilder, StripeRequest};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::RetrieveSubscription;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_core::customer::RetrieveCustomer;
use stripe_shared::CheckoutSessionMode;

/// Why a Stripe call failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe (or the network) failed: worth retrying; webhooks answer 5xx.
    #[error("the Stripe API call failed: {0}")]
    Unavailable(String),
    /// The seller's Stripe settings are unusable.
    #[error("{0}")]
    Config(String),
}

/// How to reach one seller's Stripe account.
#[derive(Clone)]
pub struct StripeAccount {
    client: Client,
}

impl std::fmt::Debug for StripeAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StripeAccount(<key redacted>)")
    }
}

/// What a Checkout Session should sell.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub price: String,
    pub quantity: u32,
    pub success_url: String,
    pub cancel_url: String,
    /// Copied onto the session and its subscription (`tollgate_seller`, `tollgate_plan`).
    pub metadata: HashMap<String, String>,
}

impl StripeAccount {
    /// A client with `secret_key` (the seller's own, or the platform's for Connect with
    /// `account`), talking to `api_base` (`None`: Stripe itself).
    pub fn new(
        secret_key: &str,
        account: Option<&str>,
        api_base: Option<&str>,
    ) -> Result<Self, StripeError> {
        let mut builder = ClientBuilder::new(secret_key);
        if let Some(base) = api_base {
            // async-stripe joins paths onto the base; it must end in `/`.
            builder = builder.url(format!("{}/", base.trim_end_matches('/')));
        }
        if let Some(account) = account {
            let id = account.parse().map_err(|_| {
                StripeError::Config(format!("`{account}` is not a Stripe account id"))
            })?;
            builder = builder.account_id(id);
        }
        let client = builder
            .build()
            .map_err(|e| StripeError::Config(format!("cannot build the Stripe client: {e}")))?;
        Ok(Self { client })
    }

    async fn send<R: StripeRequest>(&self, request: &R) -> Result<Value, StripeError> {
        let value: miniserde::json::Value = request
            .build()
            .customize()
            .send(&self.client)
            .await
            .map_err(|e| StripeError::Unavailable(e.to_string()))?;
        serde_json::from_str(&miniserde::json::to_string(&value))
            .map_err(|e| StripeError::Unavailable(format!("unreadable Stripe reply: {e}")))
    }

    /// The subscription as Stripe has it now (see `subscription::Subscription::from_json`).
    pub async fn subscription(&self, id: &str) -> Result<Value, StripeError> {
        self.send(&RetrieveSubscription::new(id)).await
    }

    /// The customer's email and name, for a new org's admin and name.
    pub async fn customer(
        &self,
        id: &str,
    ) -> Result<(Option<String>, Option<String>), StripeError> {
        let v = self.send(&RetrieveCustomer::new(id)).await?;
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok((text("email"), text("name")))
    }

    /// A subscription Checkout Session; returns its URL.
    pub async fn checkout(&self, r: &CheckoutRequest) -> Result<String, StripeError> {
        let item = CreateCheckoutSessionLineItems {
            price: Some(r.price.clone()),
            quantity: Some(u64::from(r.quantity)),
            ..CreateCheckoutSessionLineItems::new()
        };
        let subscription = CreateCheckoutSessionSubscriptionData {
            metadata: Some(r.metadata.clone()),
            ..CreateCheckoutSessionSubscriptionData::new()
        };
        let session = self
            .send(
                &CreateCheckoutSession::new()
                    .mode(CheckoutSessionMode::Subscription)
                    .line_items(vec![item])
                    .success_url(r.success_url.clone())
                    .cancel_url(r.cancel_url.clone())
                    .metadata(r.metadata.clone())
                    .subscription_data(subscription),
            )
            .await?;
        session
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| StripeError::Unavailable("the Checkout Session has no url".into()))
    }

    /// A Billing Portal session for `customer`; returns its URL.
    pub async fn portal(&self, customer: &str, return_url: &str) -> Result<String, StripeError> {
        let session = self
            .send(
                &CreateBillingPortalSession::new()
                    .customer(customer)
                    .return_url(return_url),
            )
            .await?;
        session
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| StripeError::Unavailable("the portal session has no url".into()))
    }
}

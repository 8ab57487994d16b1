//! What the billing endpoints do: verify and apply Stripe webhooks (re-reading the subscription
//! from the seller's Stripe, so the order events arrive in does not matter), provision an org for
//! a new customer (admin seat, org token, welcome mail with a license key), and create Checkout
//! and Billing Portal sessions.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tollgate_registry::db::{StripeConnection, SubscriptionRecord, SubscriptionState};
use tollgate_registry::domain::{NewToken, Org, Plan, SeatMode, Seller, TokenKind, VersionRule};
use tollgate_registry::ecosystem::{Ecosystems, Place};
use tollgate_registry::ids::OrgId;
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::time::Timestamp;
use tollgate_registry::{Error, Registry, token};

use crate::mail::{self, Mailer};
use crate::stripe::{CheckoutRequest, StripeAccount, StripeError};
use crate::subscription::{self, Status, Subscription};
use crate::webhook::{self, Event};

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
    pub ecosystems: Ecosystems,
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
        let db = self.registry.db();
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
        let Some(slug) = self.registry.db().seller_by_stripe_account(account).await? else {
            return Ok(format!("no seller uses {account}; {} ignored", event.id));
        };
        let seller = self.registry.seller(&slug).await?;
        let stripe = self.connect(&seller).await?;
        self.apply(&seller, &stripe, &event).await
    }

    /// Applies a verified event for `seller`, once.
    async fn apply(
        &self,
        seller: &Seller,
        stripe: &Connected,
        event: &Event,
    ) -> Result<String, BillingError> {
        let db = self.registry.db();
        if db.event_seen(seller.id, &event.id).await? {
            return Ok(format!("{} already applied", event.id));
        }
        let sub_id = match event.kind.as_str() {
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted"
            | "customer.subscription.paused"
            | "customer.subscription.resumed" => text(&event.object, &["id"]),
            "invoice.paid"
            | "invoice.payment_succeeded"
            | "invoice.payment_failed"
            | "checkout.session.completed" => {
                text(&event.object, &["subscription"]).or_else(|| {
                    text(
                        &event.object,
                        &["parent", "subscription_details", "subscription"],
                    )
                })
            }
            _ => None,
        };
        let Some(sub_id) = sub_id else {
            db.record_event(seller.id, (&event.id, &event.kind)).await?;
            return Ok(format!("{} ({}) recorded", event.id, event.kind));
        };
        self.sync(seller, stripe, event, &sub_id).await
    }

    /// Re-reads subscription `sub_id` and applies its state (with `event` recorded in the same
    /// transaction), provisioning an org for a customer seen for the first time.
    async fn sync(
        &self,
        seller: &Seller,
        stripe: &Connected,
        event: &Event,
        sub_id: &str,
    ) -> Result<String, BillingError> {
        let db = self.registry.db();
        let raw = stripe.account.subscription(sub_id).await?;
        let sub = Subscription::from_json(&raw).map_err(|e| {
            BillingError::Unavailable(format!("unreadable subscription {sub_id}: {e}"))
        })?;
        let Some(plan) = self.plan_of(seller, &sub).await? else {
            tracing::warn!(seller = %seller.slug, subscription = %sub.id, prices = ?sub.prices,
                "a subscription to a price no plan sells; ignored");
            db.record_event(seller.id, (&event.id, &event.kind)).await?;
            return Ok(format!("{}: no plan sells {:?}", sub.id, sub.prices));
        };
        let existing = db.subscription(seller.id, &sub.id).await?;
        let failed_hint = (event.kind == "invoice.payment_failed").then_some(event.created * 1000);
        let state = state_of(&sub, &plan, existing.as_ref(), failed_hint);
        // A subscription whose first payment never succeeded (incomplete) grants nothing, not
        // even what perpetual fallback keeps: it is stored once it has been live.
        let never_live = state.ends_at.is_some_and(|end| end <= state.starts_at);
        if existing.is_none() && never_live {
            db.record_event(seller.id, (&event.id, &event.kind)).await?;
            return Ok(format!("{}: {} (not live yet)", sub.id, state.status));
        }
        let org = match &existing {
            Some(record) => Some(OrgId(record.org_id)),
            None => db
                .org_by_customer(seller.id, &sub.customer)
                .await?
                .map(|o| o.id),
        };
        let Some(org) = org else {
            // A new customer gets an org (admin seat, token, welcome) once it has paid: a
            // subscription first seen ended or out of grace waits for a live state.
            let now = Timestamp::now();
            let live = state.starts_at <= now && state.ends_at.is_none_or(|end| now < end);
            if !live {
                db.record_event(seller.id, (&event.id, &event.kind)).await?;
                return Ok(format!("{}: {} (no org until live)", sub.id, state.status));
            }
            return self
                .provision(seller, stripe, event, &sub, &plan, &state)
                .await;
        };
        let applied = db
            .apply_subscription(seller.id, Some((&event.id, &event.kind)), org, &state)
            .await?;
        if applied {
            // Read-your-writes: this server's access caches follow at once, not at the next poll.
            self.registry.catch_up().await;
            self.notify_transition(seller, org, &plan, existing.as_ref(), &state)
                .await;
        }
        Ok(format!(
            "{}: {} × {} ({})",
            sub.id, state.quantity, plan.slug, state.status
        ))
    }

    /// The plan a subscription buys: by its prices, else by our Checkout's metadata.
    async fn plan_of(
        &self,
        seller: &Seller,
        sub: &Subscription,
    ) -> Result<Option<Plan>, BillingError> {
        let db = self.registry.db();
        for price in &sub.prices {
            if let Some(plan) = db.plan_by_price(seller.id, price).await? {
                return Ok(Some(plan));
            }
        }
        match sub.metadata.get("tollgate_plan") {
            Some(slug) => match db.plan(seller.id, slug).await {
                Ok(plan) => Ok(Some(plan)),
                Err(Error::NotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            },
            None => Ok(None),
        }
    }

    /// A customer's first subscription: a new org (named after the customer), its admin seat
    /// for the customer's email, an org token, then the welcome mail with the token.
    async fn provision(
        &self,
        seller: &Seller,
        stripe: &Connected,
        event: &Event,
        sub: &Subscription,
        plan: &Plan,
        state: &SubscriptionState,
    ) -> Result<String, BillingError> {
        let from_session = text(&event.object, &["customer_details", "email"])
            .or_else(|| text(&event.object, &["customer_email"]));
        let (email, name) = match from_session {
            // Checkout sessions carry `customer_details`, invoices `customer_name`.
            Some(email) => (
                Some(email),
                text(&event.object, &["customer_details", "name"])
                    .or_else(|| text(&event.object, &["customer_name"])),
            ),
            None => stripe.account.customer(&sub.customer).await?,
        };
        let email = email.ok_or_else(|| {
            BillingError::BadRequest(format!(
                "customer {} has no email address: cannot make its org admin",
                sub.customer
            ))
        })?;
        let slug = org_slug(name.as_deref(), &email);
        let org_name = name.unwrap_or_else(|| slug.clone());
        let generated = token::generate();
        let new_token = NewToken {
            id: generated.id.clone(),
            secret_hash: generated.secret_hash.clone(),
            kind: TokenKind::Org,
            seller_id: seller.id,
            org_id: None,
            seat_id: None,
            packages: Vec::new(),
        };
        let done = self
            .registry
            .db()
            .complete_checkout(
                seller.id,
                (&event.id, &event.kind),
                (&slug, &org_name),
                &email,
                &new_token,
                state,
            )
            .await?;
        let Some(done) = done else {
            return Ok(format!("{} already applied", event.id));
        };
        self.registry.catch_up().await;
        if !done.new_org {
            // Another event about the same purchase provisioned the org meanwhile (Stripe sends
            // them in parallel): it issued the token and sent the welcome.
            return Ok(format!(
                "{}: org {} already provisioned",
                sub.id, done.org.slug
            ));
        }
        tracing::info!(seller = %seller.slug, org = %done.org.slug, subscription = %sub.id,
            "provisioned an org for a new customer");
        self.welcome(seller, &done.org, plan, &email, &generated.secret, state)
            .await;
        Ok(format!("{}: org {} created", sub.id, done.org.slug))
    }

    /// The purchase welcome: the org token (only here), set-up for each ecosystem the product
    /// has, a license key. A failure to send is logged: the org admin can make a new token.
    async fn welcome(
        &self,
        seller: &Seller,
        org: &Org,
        plan: &Plan,
        to: &str,
        token: &str,
        state: &SubscriptionState,
    ) {
        let product = match self
            .registry
            .db()
            .product(seller.id, &plan.product_slug)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "welcome mail: cannot read the product");
                return;
            }
        };
        let license_key =
            crate::license::issue(&self.registry, &self.secrets, seller, org, &product)
                .await
                .map_err(
                    |e| tracing::error!(error = %e, "welcome mail: cannot issue a license key"),
                )
                .ok();
        let setup = self.setup(seller, &product.packages, token).await;
        // The admin's way into the org's pages (seats, tokens, billing); a mail without it is
        // still worth sending.
        let sign_in_link = tollgate_registry::sign_in::issue(
            self.registry.db(),
            &self.config.public_url,
            tollgate_registry::db::LinkPurpose::Member,
            seller,
            Some(org),
            to,
            tollgate_registry::sign_in::PRINTED_SIGN_IN,
        )
        .await
        .map_err(|e| tracing::error!(error = %e, "welcome mail: cannot make a sign-in link"))
        .ok();
        let message = mail::purchase_welcome(&mail::Welcome {
            to: to.to_owned(),
            seller_name: seller.name.clone(),
            product: plan.product_name.clone(),
            org: org.name.clone(),
            seats: (plan.seats == SeatMode::PerQuantity)
                .then(|| u32::try_from(state.quantity).unwrap_or(u32::MAX)),
            sign_in_link,
            token: token.to_owned(),
            setup,
            license_key,
        });
        if let Err(e) = self.mailer.send(&message).await {
            tracing::error!(error = %e, org = %org.slug, "could not send the welcome mail");
        }
    }

    /// The client set-up of `packages` with `token`; with placeholders for the seller's key
    /// fingerprints when they cannot be read (the mail is still worth sending).
    async fn setup(
        &self,
        seller: &Seller,
        packages: &[tollgate_registry::domain::PackageRef],
        token: &str,
    ) -> Vec<(String, String)> {
        let place = Place {
            public_url: &self.config.public_url,
            seller: &seller.slug,
        };
        let ecosystems = self.config.ecosystems;
        ecosystems
            .setup(&self.registry, place, seller.id, packages, token)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "welcome mail: cannot read the seller's keys");
                ecosystems.setup_with(place, packages, token, |_| None)
            })
            .into_iter()
            .map(|s| (s.title, s.text))
            .collect()
    }

    /// Mails the org's admins when the subscription starts failing or ends.
    async fn notify_transition(
        &self,
        seller: &Seller,
        org: OrgId,
        plan: &Plan,
        before: Option<&SubscriptionRecord>,
        after: &SubscriptionState,
    ) {
        let was = before.map(|b| b.status.as_str());
        let failing = |s: &str| s == "past_due" || s == "unpaid";
        let message_for = |to: String, org_name: &str| -> Option<mail::Message> {
            if failing(&after.status) && !was.is_some_and(failing) {
                let grace_ends = after.ends_at.map_or_else(String::new, |t| t.date());
                return Some(mail::payment_failed(&mail::PaymentFailed {
                    to,
                    org: org_name.to_owned(),
                    product: plan.product_name.clone(),
                    grace_ends,
                    billing_link: None,
                }));
            }
            if after.status == "canceled" && was != Some("canceled") {
                let ended = after.ends_at.map_or_else(String::new, |t| t.date());
                return Some(mail::license_ended(&mail::LicenseEnded {
                    to,
                    org: org_name.to_owned(),
                    product: plan.product_name.clone(),
                    kept: (plan.rule == VersionRule::PerpetualFallback)
                        .then(|| format!("versions published before {ended} keep working")),
                    ended,
                }));
            }
            None
        };
        let db = self.registry.db();
        // The org pays as the subscription's customer: one row, not the seller's whole list.
        let (Ok(Some(org_row)), Ok(seats)) = (
            db.org_by_customer(seller.id, &after.customer_id).await,
            db.seats(org).await,
        ) else {
            return;
        };
        for admin in seats.iter().filter(|s| s.active && s.role == "admin") {
            if let Some(message) = message_for(admin.email.clone(), &org_row.name)
                && let Err(e) = self.mailer.send(&message).await
            {
                tracing::error!(error = %e, "could not send a billing mail");
            }
        }
    }

    /// `GET /{seller}/buy/{plan}`: a Checkout Session for `quantity` seats; returns its URL.
    pub async fn checkout(
        &self,
        slug: &str,
        plan_slug: &str,
        quantity: u32,
    ) -> Result<String, BillingError> {
        let seller = self.registry.seller(slug).await?;
        let plan = self.registry.db().plan(seller.id, plan_slug).await?;
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
        let customer = self
            .registry
            .db()
            .org_customer(org.id)
            .await?
            .ok_or_else(|| {
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

/// The state to store for `sub` under `plan`: the entitlement window of our policy, with the
/// first failed payment carried over while payments keep failing.
pub fn state_of(
    sub: &Subscription,
    plan: &Plan,
    existing: Option<&SubscriptionRecord>,
    failed_hint_ms: Option<i64>,
) -> SubscriptionState {
    let now = Timestamp::now().0;
    let failing = matches!(sub.status, Status::PastDue | Status::Unpaid);
    let first_failed_at = failing.then(|| {
        existing
            .and_then(|e| e.first_failed_at)
            .or(failed_hint_ms)
            .unwrap_or(now)
    });
    let window = subscription::window(
        sub,
        &plan.product_name,
        plan.grace_days,
        first_failed_at,
        now,
    );
    SubscriptionState {
        stripe_id: sub.id.clone(),
        customer_id: sub.customer.clone(),
        plan: plan.id,
        status: sub.status.as_str().to_owned(),
        quantity: i64::from(sub.quantity),
        first_failed_at: first_failed_at.map(Timestamp),
        starts_at: Timestamp(window.starts_at),
        ends_at: window.ends_at.map(Timestamp),
        warning: window.warning,
        unit_amount: sub.price.unit_amount,
        currency: sub.price.currency.clone(),
        price_interval: sub.price.interval.map(|i| i.as_str().to_owned()),
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

/// An org slug from the customer's name, else its email's domain (`ops@globex.example` →
/// `globex`), else `org`.
fn org_slug(name: Option<&str>, email: &str) -> String {
    let from_domain = email
        .rsplit_once('@')
        .and_then(|(_, domain)| domain.split('.').next())
        .unwrap_or_default();
    let source = name.filter(|n| !n.trim().is_empty()).unwrap_or(from_domain);
    let mut slug = String::new();
    for c in source.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug
        .trim_end_matches('-')
        .chars()
        .take(40)
        .collect::<String>();
    if slug.is_empty() { "org".into() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_slugs_come_from_names_or_domains() {
        assert_eq!(org_slug(Some("Globex Corp."), "a@b.example"), "globex-corp");
        assert_eq!(org_slug(None, "ops@globex.example"), "globex");
        assert_eq!(org_slug(Some("  "), "ops@Initech.io"), "initech");
        assert_eq!(org_slug(None, "nobody"), "org");
    }

    #[test]
    fn json_paths() {
        let v = serde_json::json!({"a": {"b": "c"}, "e": ""});
        assert_eq!(text(&v, &["a", "b"]).as_deref(), Some("c"));
        assert_eq!(text(&v, &["e"]), None);
        assert_eq!(text(&v, &["x"]), None);
    }
}

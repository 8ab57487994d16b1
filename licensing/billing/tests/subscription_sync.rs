//! [`Billing::webhook`] → `sync`: what a subscription's state does to orgs and entitlements, with
//! the subscription served by a small Stripe stand-in in this process. A new customer gets an
//! org only once the subscription is live (paid, or failing but within its grace period); one
//! whose first payment never succeeded grants nothing, even to a customer with an org already;
//! a failed payment's grace period runs from the event's own time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};
use tollgate_billing::mail::Mailer;
use tollgate_billing::service::{Billing, BillingConfig};
use tollgate_billing::webhook::sign;
use tollgate_registry::Registry;
use tollgate_registry::db::StripeConnection;
use tollgate_registry::domain::{
    Ecosystem, Entitlement, PackageRef, SeatMode, Seller, VersionRule,
};
use tollgate_registry::registry::Options;
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::store::Store;
use tollgate_registry::time::Timestamp;

const WHSEC: &str = "whsec_acme_sync";
const DAY_MS: i64 = 86_400_000;
const GRACE_DAYS: u32 = 7;

/// Subscriptions by id, as the stand-in answers `GET …/subscriptions/{id}`.
type Subscriptions = Arc<Mutex<HashMap<String, Value>>>;

struct App {
    billing: Billing,
    db: Registry,
    acme: Seller,
    stripe: Subscriptions,
    events: usize,
    _dir: tempfile::TempDir,
}

/// The stand-in: subscriptions from the map, 404 for anything else.
async fn stripe_api(State(subs): State<Subscriptions>, uri: Uri) -> (StatusCode, String) {
    let mut segments = uri.path().rsplit('/');
    let (id, kind) = (segments.next(), segments.next());
    let found = match (kind, id) {
        (Some("subscriptions"), Some(id)) => subs.lock().expect("lock").get(id).cloned(),
        _ => None,
    };
    match found {
        Some(v) => (StatusCode::OK, v.to_string()),
        None => (
            StatusCode::NOT_FOUND,
            json!({"error": {"type": "invalid_request_error", "message": format!("no {uri}")}})
                .to_string(),
        ),
    }
}

async fn app() -> App {
    let stripe: Subscriptions = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let api = Router::new()
        .fallback(stripe_api)
        .with_state(stripe.clone());
    tokio::spawn(async move { axum::serve(listener, api).await });

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::connect(&dir.path().display().to_string())
        .await
        .expect("store");
    let registry = Registry::connect(
        &dir.path().join("t.db").display().to_string(),
        store,
        Options { presign: None },
    )
    .await
    .expect("registry");
    let db = registry.clone();
    let secrets = Arc::new(SecretBox::new(&[5; 32]));
    let acme = db
        .create_seller("acme", "Acme", "a@acme.example")
        .await
        .expect("seller");
    db.set_stripe_connection(
        acme.id,
        &StripeConnection {
            secret_key: Some(secrets.seal(&Binding::stripe_secret_key(acme.id), b"sk_test_acme")),
            account_id: None,
            webhook_secret: Some(
                secrets.seal(&Binding::stripe_webhook_secret(acme.id), WHSEC.as_bytes()),
            ),
        },
    )
    .await
    .expect("stripe connection");
    let product = db
        .create_product(
            acme.id,
            "pro",
            "Acme Pro",
            &[PackageRef {
                ecosystem: Ecosystem::Npm,
                name: "@acme/pro".into(),
            }],
        )
        .await
        .expect("product");
    db.create_plan(
        acme.id,
        "pro-monthly",
        product.id,
        "price_pro",
        SeatMode::PerQuantity,
        VersionRule::PerpetualFallback,
        GRACE_DAYS,
    )
    .await
    .expect("plan");
    let mailer = Mailer::from_config(None, "T <t@example.test>", dir.path()).expect("mailer");
    let billing = Billing::new(
        registry,
        secrets,
        mailer,
        BillingConfig {
            public_url: "http://pkg.example.test".into(),
            api_base: Some(base),
            ..BillingConfig::default()
        },
    );
    App {
        billing,
        db,
        acme,
        stripe,
        events: 0,
        _dir: dir,
    }
}

fn now_secs() -> i64 {
    Timestamp::now().0 / 1000
}

/// A subscription of `customer` to the plan's price, started a month ago, in the current shape.
fn subscription(id: &str, customer: &str, status: &str) -> Value {
    json!({
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "start_date": now_secs() - 30 * 86_400,
        "items": {"data": [{"quantity": 3, "price": {
            "id": "price_pro", "unit_amount": 1500, "currency": "usd",
            "recurring": {"interval": "month"}
        }}]},
        "metadata": {}
    })
}

impl App {
    /// Stripe now has `sub` (and answers with it when `sync` re-reads it).
    fn stripe_has(&self, sub: Value) {
        let id = sub["id"].as_str().expect("id").to_owned();
        self.stripe.lock().expect("lock").insert(id, sub);
    }

    /// Delivers an event of `kind` created at `created` (unix s) about `object`; the answer.
    async fn deliver(&mut self, kind: &str, created: i64, object: Value) -> String {
        self.events += 1;
        let payload = json!({
            "id": format!("evt_{}", self.events),
            "type": kind,
            "created": created,
            "data": {"object": object},
        })
        .to_string();
        let signature = sign(payload.as_bytes(), WHSEC, now_secs());
        self.billing
            .webhook("acme", payload.as_bytes(), Some(&signature))
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"))
    }

    /// A customer's Checkout completed for subscription `sub`.
    async fn checkout(&mut self, sub: &str, customer: &str, email: &str) -> String {
        let object = json!({
            "object": "checkout.session",
            "subscription": sub,
            "customer": customer,
            "customer_details": {"email": email, "name": "Globex"},
        });
        self.deliver("checkout.session.completed", now_secs(), object)
            .await
    }

    async fn entitlements_of(&self, customer: &str) -> Option<Vec<Entitlement>> {
        let org = self
            .db
            .org_by_customer(self.acme.id, customer)
            .await
            .expect("org by customer")?;
        Some(self.db.entitlements(org.id).await.expect("entitlements"))
    }
}

#[tokio::test]
async fn a_paid_subscription_makes_the_customers_org_with_a_live_entitlement() {
    let mut app = app().await;
    app.stripe_has(subscription("sub_1", "cus_1", "active"));
    let answer = app.checkout("sub_1", "cus_1", "ops@globex.example").await;
    assert!(answer.contains("org globex created"), "{answer}");
    let ents = app
        .entitlements_of("cus_1")
        .await
        .expect("an org for the customer");
    assert_eq!(ents.len(), 1, "{ents:?}");
    assert!(ents[0].starts_at <= Timestamp::now(), "{ents:?}");
    assert_eq!(ents[0].ends_at, None, "{ents:?}");
    let record = app
        .db
        .subscription(app.acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!((record.status.as_str(), record.quantity), ("active", 3));
}

#[tokio::test]
async fn a_subscription_first_seen_ended_makes_no_org() {
    let mut app = app().await;
    let mut sub = subscription("sub_1", "cus_1", "canceled");
    sub["ended_at"] = json!(now_secs() - 86_400);
    app.stripe_has(sub);
    let answer = app.checkout("sub_1", "cus_1", "ops@globex.example").await;
    assert!(answer.contains("no org until live"), "{answer}");
    assert!(app.entitlements_of("cus_1").await.is_none());
    assert!(
        app.db
            .subscription(app.acme.id, "sub_1")
            .await
            .expect("read")
            .is_none()
    );
}

/// Incomplete: the first payment never succeeded. Nothing is stored, not even for a customer
/// whose org exists from another subscription, so nothing is ever kept from it.
#[tokio::test]
async fn a_subscription_never_paid_grants_nothing() {
    let mut app = app().await;
    app.stripe_has(subscription("sub_0", "cus_1", "incomplete"));
    let answer = app.checkout("sub_0", "cus_1", "ops@globex.example").await;
    assert!(answer.contains("not live yet"), "{answer}");
    assert!(app.entitlements_of("cus_1").await.is_none());

    app.stripe_has(subscription("sub_1", "cus_1", "active"));
    app.checkout("sub_1", "cus_1", "ops@globex.example").await;
    let before = app.entitlements_of("cus_1").await.expect("org");
    app.stripe_has(subscription("sub_2", "cus_1", "incomplete"));
    let answer = app
        .deliver(
            "customer.subscription.created",
            now_secs(),
            json!({"id": "sub_2"}),
        )
        .await;
    assert!(answer.contains("not live yet"), "{answer}");
    assert!(
        app.db
            .subscription(app.acme.id, "sub_2")
            .await
            .expect("read")
            .is_none(),
        "a never-paid subscription is stored"
    );
    let after = app.entitlements_of("cus_1").await.expect("org");
    assert_eq!(
        after.iter().map(|e| e.id).collect::<Vec<_>>(),
        before.iter().map(|e| e.id).collect::<Vec<_>>()
    );
}

/// A new customer whose first payment failed is provisioned while its grace period runs, and
/// the grace period runs from the time of the failed payment's event, not from when it arrived.
#[tokio::test]
async fn a_failed_payment_starts_the_grace_period_at_the_event() {
    let mut app = app().await;
    app.stripe_has(subscription("sub_1", "cus_1", "past_due"));
    let failed_at = now_secs() - 2 * 86_400;
    let invoice = json!({
        "object": "invoice",
        "subscription": "sub_1",
        "customer": "cus_1",
        "customer_email": "ops@globex.example",
    });
    let answer = app
        .deliver("invoice.payment_failed", failed_at, invoice)
        .await;
    assert!(answer.contains("org globex created"), "{answer}");
    let record = app
        .db
        .subscription(app.acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(record.first_failed_at, Some(failed_at * 1000));
    let ents = app.entitlements_of("cus_1").await.expect("org");
    assert_eq!(
        ents[0].ends_at,
        Some(Timestamp(failed_at * 1000 + i64::from(GRACE_DAYS) * DAY_MS)),
        "{ents:?}"
    );
    // Another event about the same failure does not move the start of the grace period.
    app.deliver(
        "customer.subscription.updated",
        now_secs(),
        json!({"id": "sub_1"}),
    )
    .await;
    let record = app
        .db
        .subscription(app.acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(record.first_failed_at, Some(failed_at * 1000));
}

/// A failing subscription first seen after its grace period ended makes no org.
#[tokio::test]
async fn a_subscription_first_seen_out_of_grace_makes_no_org() {
    let mut app = app().await;
    app.stripe_has(subscription("sub_1", "cus_1", "unpaid"));
    let failed_at = now_secs() - (i64::from(GRACE_DAYS) + 1) * 86_400;
    let invoice = json!({
        "object": "invoice",
        "subscription": "sub_1",
        "customer_email": "ops@globex.example",
    });
    let answer = app
        .deliver("invoice.payment_failed", failed_at, invoice)
        .await;
    assert!(answer.contains("no org until live"), "{answer}");
    assert!(app.entitlements_of("cus_1").await.is_none());
}

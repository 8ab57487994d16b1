//! End-to-end: Stripe webhooks, Checkout and the Billing Portal, driven against a fake Stripe API
//! that each test runs and controls (`TOLLGATE_STRIPE_API_BASE` points the server at it).
//!
//! The fake serves subscriptions and customers from a map the test edits, records every request
//! (method, path, form, headers such as `stripe-account`), answers Checkout and Billing Portal
//! session creation like Stripe, and answers 500 on demand. Events are built in the test in
//! Stripe's shapes (the current one, with prices and periods on the items, and the 2017 one, with
//! top-level `plan` and `quantity`) and signed with the seller's webhook secret. Because the
//! server re-reads every subscription from the API, what the fake holds is the truth and the
//! event objects are only hints.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use common::Server;
use common::http::{self, request};
use serde_json::{Value, json};
use tollgate_billing::mail::eml::{ReadMail, read_dir};
use tollgate_billing::webhook::sign;

const DAY: i64 = 86_400;
const SELLER: &str = "acme";
const WHSEC: &str = "whsec_acme_test_5f2b1c0e9a8d7c6b";
const SECRET_KEY: &str = "sk_test_acme_51Hx";
const PLATFORM_KEY: &str = "sk_test_platform_51Px";
const PACKAGE: &str = "@acme/ui-pro";

// ---- the fake Stripe API -----------------------------------------------------------------------

/// One request the fake received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Query and form body, percent-decoded, in order.
    form: Vec<(String, String)>,
    /// Lower-case names.
    headers: Vec<(String, String)>,
}

impl Recorded {
    fn field(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the fake holds; the test edits it between deliveries.
#[derive(Default)]
struct StripeData {
    subscriptions: HashMap<String, Value>,
    customers: HashMap<String, Value>,
    /// Path prefixes answered with 500 (an outage).
    failing: Vec<String>,
    requests: Vec<Recorded>,
    sessions: u32,
}

type Shared = Arc<Mutex<StripeData>>;

fn lock(data: &Shared) -> MutexGuard<'_, StripeData> {
    data.lock().unwrap_or_else(PoisonError::into_inner)
}

struct FakeStripe {
    url: String,
    data: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeStripe {
    fn start() -> FakeStripe {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake Stripe");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let data: Shared = Arc::default();
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&data));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for the fake Stripe");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        FakeStripe {
            url,
            data,
            stop: Some(stop),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StripeData> {
        lock(&self.data)
    }

    fn put_subscription(&self, sub: Value) {
        let id = sub["id"].as_str().expect("subscription id").to_owned();
        self.lock().subscriptions.insert(id, sub);
    }

    /// Edits a stored subscription in place.
    fn edit_subscription(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let mut data = self.lock();
        let sub = data
            .subscriptions
            .get_mut(id)
            .unwrap_or_else(|| panic!("the fake holds no {id}"));
        f(sub);
    }

    fn put_customer(&self, id: &str, email: &str, name: &str) {
        self.lock().customers.insert(
            id.to_owned(),
            json!({
                "id": id, "object": "customer", "email": email, "name": name,
                "created": now() - 40 * DAY, "currency": "usd", "delinquent": false,
                "description": null, "livemode": false, "metadata": {},
                "invoice_settings": {"default_payment_method": "pm_card_visa"}
            }),
        );
    }

    /// Answers 500 for every path starting with `prefix` until [`FakeStripe::recover`].
    fn fail(&self, prefix: &str) {
        self.lock().failing.push(prefix.to_owned());
    }

    fn recover(&self) {
        self.lock().failing.clear();
    }

    fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    fn requests_to(&self, method: &str, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .collect()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn answer(
    State(data): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let mut form = parse_form(uri.query().unwrap_or(""));
    form.extend(parse_form(&String::from_utf8_lossy(&body)));
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut data = lock(&data);
    data.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        form: form.clone(),
        headers,
    });
    if data.failing.iter().any(|p| path.starts_with(p.as_str())) {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": {"type": "api_error", "message": "An unknown error occurred (fake outage)."}}),
        );
    }
    let field = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["v1", "subscriptions", id]) => match data.subscriptions.get(*id) {
            Some(sub) => reply(StatusCode::OK, sub.clone()),
            None => missing("subscription", id),
        },
        ("GET", ["v1", "customers", id]) => match data.customers.get(*id) {
            Some(c) => reply(StatusCode::OK, c.clone()),
            None => missing("customer", id),
        },
        ("POST", ["v1", "checkout", "sessions"]) => {
            data.sessions += 1;
            let id = format!("cs_test_{}", data.sessions);
            reply(
                StatusCode::OK,
                json!({
                    "id": id, "object": "checkout.session", "mode": field("mode"),
                    "status": "open", "payment_status": "unpaid", "livemode": false,
                    "url": format!("https://checkout.stripe.test/c/pay/{id}"),
                    "success_url": field("success_url"), "cancel_url": field("cancel_url"),
                    "customer": null, "subscription": null, "created": now(),
                    "expires_at": now() + DAY, "metadata": {}
                }),
            )
        }
        ("POST", ["v1", "billing_portal", "sessions"]) => reply(
            StatusCode::OK,
            json!({
                "id": "bps_test_1", "object": "billing_portal.session",
                "customer": field("customer"), "return_url": field("return_url"),
                "created": now(), "livemode": false,
                "url": "https://billing.stripe.test/p/session/bps_test_1"
            }),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"error": {"type": "invalid_request_error",
                "message": format!("Unrecognized request URL ({method} {path}).")}}),
        ),
    }
}

fn missing(what: &str, id: &str) -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
            "message": format!("No such {what}: '{id}'")}}),
    )
}

fn reply(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded` → pairs (`+` is a space, `%XX` a byte).
fn parse_form(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

// ---- Stripe objects, in the shapes Stripe sends ------------------------------------------------

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("unix time fits i64")
}

fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis();
    i64::try_from(ms).expect("unix ms fits i64")
}

/// An event envelope around `object`.
fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2025-03-31.basil", "created": created,
        "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind, "data": {"object": object}
    })
}

/// A subscription in the current API shape: `price` and the billing period on each item, no
/// top-level `plan`, `quantity` or period. Started 30 days ago, renews in 28 days.
fn subscription(id: &str, customer: &str, price: &str, quantity: u32, status: &str) -> Value {
    let start = now() - 30 * DAY;
    let period_start = now() - 2 * DAY;
    let price = json!({
        "id": price, "object": "price", "active": true, "currency": "usd",
        "unit_amount": 1500, "type": "recurring", "product": "prod_acme_pro",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}
    });
    let item = json!({
        "id": format!("si_{id}"), "object": "subscription_item", "created": start,
        "current_period_start": period_start, "current_period_end": period_start + 30 * DAY,
        "quantity": quantity, "subscription": id, "metadata": {}, "price": price
    });
    json!({
        "id": id, "object": "subscription", "status": status, "customer": customer,
        "created": start, "start_date": start, "billing_cycle_anchor": start,
        "cancel_at": null, "cancel_at_period_end": false, "canceled_at": null, "ended_at": null,
        "trial_start": null, "trial_end": null, "collection_method": "charge_automatically",
        "currency": "usd", "livemode": false, "metadata": {}, "latest_invoice": format!("in_{id}"),
        "items": {
            "object": "list", "has_more": false, "total_count": 1, "data": [item],
            "url": format!("/v1/subscription_items?subscription={id}")
        }
    })
}

/// A subscription as API version 2017-08-15 has it: top-level `plan`, `quantity`, period and
/// `start`, items carrying `plan`.
fn subscription_2017(id: &str, customer: &str, plan: &str, quantity: u32, status: &str) -> Value {
    let start = now() - 30 * DAY;
    let plan = json!({
        "id": plan, "object": "plan", "amount": 1500, "currency": "usd", "interval": "month",
        "interval_count": 1, "livemode": false, "metadata": {}, "nickname": null,
        "product": "prod_acme_pro", "trial_period_days": null
    });
    json!({
        "id": id, "object": "subscription", "status": status, "customer": customer,
        "application_fee_percent": null, "billing": "charge_automatically",
        "cancel_at_period_end": false, "canceled_at": null, "created": start,
        "current_period_start": now() - 2 * DAY, "current_period_end": now() + 28 * DAY,
        "discount": null, "ended_at": null, "livemode": false, "metadata": {},
        "plan": plan, "quantity": quantity, "start": start, "tax_percent": null,
        "trial_start": null, "trial_end": null,
        "items": {
            "object": "list", "has_more": false, "total_count": 1,
            "url": format!("/v1/subscription_items?subscription={id}"),
            "data": [{"id": format!("si_{id}"), "object": "subscription_item", "created": start,
                      "metadata": {}, "plan": plan, "quantity": quantity}]
        }
    })
}

/// A completed subscription Checkout Session.
fn checkout_session(session: &str, customer: &str, sub: &str, email: &str, name: &str) -> Value {
    json!({
        "id": session, "object": "checkout.session", "mode": "subscription",
        "status": "complete", "payment_status": "paid", "livemode": false,
        "customer": customer, "subscription": sub, "customer_email": null,
        "customer_details": {"email": email, "name": name, "phone": null, "address": null,
                             "tax_exempt": "none", "tax_ids": []},
        "amount_total": 7500, "currency": "usd", "created": now() - 60,
        "metadata": {"tollgate_seller": SELLER}
    })
}

/// An invoice of the current API shape: the subscription under `parent.subscription_details`.
fn invoice(id: &str, customer: &str, email: &str, sub: &str, paid: bool) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": customer, "customer_email": email,
        "status": if paid { "paid" } else { "open" }, "paid": paid, "attempted": true,
        "attempt_count": 1, "billing_reason": "subscription_cycle", "amount_due": 7500,
        "amount_paid": if paid { 7500 } else { 0 }, "currency": "usd", "livemode": false,
        "next_payment_attempt": if paid { Value::Null } else { json!(now() + 3 * DAY) },
        "parent": {"type": "subscription_details", "quote_details": null,
                   "subscription_details": {"metadata": {}, "subscription": sub}}
    })
}

/// An invoice of API 2017-08-15: top-level `subscription`.
fn invoice_2017(id: &str, customer: &str, sub: &str, paid: bool) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": customer, "subscription": sub,
        "paid": paid, "closed": paid, "attempted": true, "attempt_count": 1,
        "billing": "charge_automatically", "amount_due": 7500, "currency": "usd",
        "livemode": false, "date": now()
    })
}

// ---- the server and what it says ---------------------------------------------------------------

/// A server talking to `stripe`, with `extra` environment.
fn server_for(stripe: &FakeStripe, extra: &[(&str, &str)]) -> Server {
    let mut env = common::backend_env();
    env.push(("TOLLGATE_STRIPE_API_BASE".into(), stripe.url.clone()));
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Server::start_on(env)
}

/// Seller `acme` on its own Stripe keys, product `pro` = `@acme/ui-pro`, and `plans`:
/// (slug, price, seats, rule).
fn acme(server: &Server, plans: &[(&str, &str, &str, &str)]) {
    server.seller(SELLER);
    server.product(SELLER, "pro", &[&format!("npm:{PACKAGE}")]);
    server.cli(&[
        "seller",
        "stripe",
        SELLER,
        "--secret-key",
        SECRET_KEY,
        "--webhook-secret",
        WHSEC,
    ]);
    for (slug, price, seats, rule) in plans {
        plan(server, SELLER, "pro", slug, price, seats, rule);
    }
}

fn plan(
    server: &Server,
    seller: &str,
    product: &str,
    slug: &str,
    price: &str,
    seats: &str,
    rule: &str,
) {
    server.cli(&[
        "plan",
        "create",
        "--seller",
        seller,
        "--product",
        product,
        "--stripe-price",
        price,
        "--seats",
        seats,
        "--rule",
        rule,
        "--grace-days",
        "7",
        "--slug",
        slug,
    ]);
}

/// Signs `event` with `secret` now and posts it to `seller`'s webhook.
fn deliver(server: &Server, seller: &str, secret: &str, event: &Value) -> http::Response {
    let body = event.to_string();
    let signature = sign(body.as_bytes(), secret, now());
    deliver_raw(server, seller, body.as_bytes(), Some(&signature))
}

fn deliver_raw(
    server: &Server,
    seller: &str,
    body: &[u8],
    signature: Option<&str>,
) -> http::Response {
    let url = format!("{}/{seller}/stripe/webhook", server.url());
    let mut headers = vec![
        ("content-type", "application/json; charset=utf-8"),
        (
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        ),
    ];
    if let Some(s) = signature {
        headers.push(("stripe-signature", s));
    }
    request("POST", &url, &headers, body).expect("deliver the webhook")
}

/// Delivers and expects 200.
fn applied(server: &Server, secret: &str, event: &Value) -> String {
    let r = deliver(server, SELLER, secret, event);
    assert_eq!(
        r.status,
        200,
        "{} ({}) → {}: {}",
        event["id"],
        event["type"],
        r.status,
        r.text()
    );
    r.text()
}

fn orgs(server: &Server, seller: &str) -> Vec<Value> {
    match server.cli_json(&["org", "list", "--seller", seller]) {
        Value::Array(a) => a,
        other => panic!("`org list --json` is not an array: {other}"),
    }
}

/// The seller's org slugs, sorted.
fn org_slugs(server: &Server, seller: &str) -> Vec<String> {
    let mut slugs: Vec<String> = orgs(server, seller)
        .iter()
        .map(|o| o["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    slugs.sort();
    slugs
}

/// The org tokens of `seller` (publish tokens left out).
fn org_tokens(server: &Server, seller: &str) -> Vec<Value> {
    match server.cli_json(&["token", "list", "--seller", seller]) {
        Value::Array(a) => a.into_iter().filter(|t| t["kind"] == "org").collect(),
        other => panic!("`token list --json` is not an array: {other}"),
    }
}

fn seats(server: &Server, seller: &str, org: &str) -> Vec<Value> {
    match server.cli_json(&["seat", "list", "--seller", seller, "--org", org]) {
        Value::Array(a) => a,
        other => panic!("`seat list --json` is not an array: {other}"),
    }
}

fn seat_add(server: &Server, org: &str, email: &str) -> Result<(), String> {
    let out = server.try_cli(&["seat", "add", "--seller", SELLER, "--org", org, email]);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn mails(server: &Server) -> Vec<ReadMail> {
    read_dir(&server.data_dir().join("mail")).expect("read the mail directory")
}

fn mails_to(server: &Server, to: &str) -> Vec<ReadMail> {
    mails(server)
        .into_iter()
        .filter(|m| m.to().contains(to))
        .collect()
}

/// The org token in a welcome mail: the line that is nothing but the token.
fn token_in(mail: &ReadMail) -> String {
    mail.body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tg_") && !l.contains(' ') && l.len() > 70)
        .unwrap_or_else(|| panic!("no token in the mail:\n{}", mail.body))
        .to_owned()
}

fn publish(server: &Server, token: &str, name: &str, version: &str) {
    let seed = version.bytes().map(u64::from).sum::<u64>() + name.len() as u64;
    let body = common::npm_publish_body(name, version, &common::fake_tgz(seed, 512));
    let auth = format!("Bearer {token}");
    let r = request(
        "PUT",
        &format!("{}/{SELLER}/npm/{}", server.url(), common::npm_escape(name)),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .expect("publish");
    assert_eq!(r.status, 201, "publish {name}@{version}: {}", r.text());
}

fn packument(server: &Server, name: &str, token: &str, abbreviated: bool) -> http::Response {
    let auth = format!("Bearer {token}");
    let accept = if abbreviated {
        "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
    } else {
        "application/json"
    };
    request(
        "GET",
        &format!("{}/{SELLER}/npm/{}", server.url(), common::npm_escape(name)),
        &[("authorization", &auth), ("accept", accept)],
        b"",
    )
    .expect("GET the packument")
}

fn tarball_url(server: &Server, name: &str, version: &str) -> String {
    let base = name.rsplit_once('/').map_or(name, |(_, b)| b);
    format!(
        "{}/{SELLER}/npm/{name}/-/{base}-{version}.tgz",
        server.url()
    )
}

fn download(server: &Server, name: &str, version: &str, token: &str) -> http::Response {
    let auth = format!("Bearer {token}");
    request(
        "GET",
        &tarball_url(server, name, version),
        &[("authorization", &auth)],
        b"",
    )
    .expect("GET the tarball")
}

fn listed_versions(r: &http::Response) -> BTreeSet<String> {
    if r.status != 200 {
        return BTreeSet::new();
    }
    r.json()["versions"]
        .as_object()
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default()
}

// ---- 1 + 2: checkout, provisioning, replays ----------------------------------------------------

/// The buy link creates a subscription Checkout Session on the seller's Stripe (own keys or
/// Connect) and redirects to it; the completed session provisions an org with its admin seat,
/// an org token that works at once, and the welcome mail; replays and the other events about
/// the same purchase change nothing more; the Billing Portal link is made for the org's customer.
#[test]
fn checkout_provisions_once_and_connect_calls_carry_the_account() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[("TOLLGATE_STRIPE_SECRET_KEY", PLATFORM_KEY)]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    let publisher = server.publish_token(SELLER, &[]);
    publish(&server, &publisher.secret, PACKAGE, "1.0.0");

    // The buy link.
    let r = request(
        "GET",
        &format!("{}/{SELLER}/buy/pro-seat?quantity=5", server.url()),
        &[],
        b"",
    )
    .expect("GET the buy link");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("https://checkout.stripe.test/c/pay/cs_test_1")
    );
    let created = stripe.requests_to("POST", "/v1/checkout/sessions");
    assert_eq!(created.len(), 1, "{created:#?}");
    let c = &created[0];
    let buy_base = format!("{}/{SELLER}/buy/pro-seat", server.url());
    for (key, want) in [
        ("mode", "subscription"),
        ("line_items[0][price]", "price_pro_seat"),
        ("line_items[0][quantity]", "5"),
        ("metadata[tollgate_plan]", "pro-seat"),
        ("subscription_data[metadata][tollgate_plan]", "pro-seat"),
        ("metadata[tollgate_seller]", SELLER),
    ] {
        assert_eq!(c.field(key), Some(want), "{key} in {:#?}", c.form);
    }
    for key in ["success_url", "cancel_url"] {
        let url = c.field(key).unwrap_or_default();
        assert!(url.starts_with(&buy_base), "{key} = {url:?}");
    }
    assert_eq!(
        c.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(
        c.header("stripe-account"),
        None,
        "own keys: no Connect header"
    );

    // Stripe completes the checkout: the subscription exists, the session event arrives.
    let mut sub = subscription(
        "sub_1Pglobex",
        "cus_Globex01",
        "price_pro_seat",
        5,
        "active",
    );
    sub["metadata"] = json!({"tollgate_seller": SELLER, "tollgate_plan": "pro-seat"});
    stripe.put_subscription(sub.clone());
    let completed = event(
        "evt_1Pcheckout",
        "checkout.session.completed",
        now() - 5,
        checkout_session(
            "cs_test_1",
            "cus_Globex01",
            "sub_1Pglobex",
            "ops@globex.example",
            "Globex Corp",
        ),
    );
    applied(&server, WHSEC, &completed);
    assert_eq!(org_slugs(&server, SELLER), ["globex-corp"]);
    let seat_list = seats(&server, SELLER, "globex-corp");
    assert_eq!(seat_list.len(), 1, "{seat_list:#?}");
    assert_eq!(seat_list[0]["email"], "ops@globex.example");
    assert_eq!(seat_list[0]["role"], "admin");
    assert_eq!(seat_list[0]["active"], true);
    let tokens = org_tokens(&server, SELLER);
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    assert_eq!(tokens[0]["org_slug"], "globex-corp");

    let welcome = mails_to(&server, "ops@globex.example");
    assert_eq!(welcome.len(), 1, "one welcome mail");
    let mail = &welcome[0];
    assert!(mail.subject().contains("access"), "{}", mail.subject());
    let token = token_in(mail);
    let host = server.authority();
    for needle in [
        format!("{}/{SELLER}/", server.url()),
        format!("@acme:registry={}/{SELLER}/npm/", server.url()),
        format!("//{host}/{SELLER}/npm/:_authToken={token}"),
        "5 seats".to_owned(),
        "tollgate-license-v1.".to_owned(),
    ] {
        assert!(
            mail.body.contains(&needle),
            "welcome lacks {needle:?}:\n{}",
            mail.body
        );
    }
    assert!(
        token.contains(tokens[0]["id"].as_str().unwrap_or("?")),
        "the mailed token is the listed one"
    );
    // The token works at once.
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 200, "{}", p.text());
    assert!(listed_versions(&p).contains("1.0.0"));
    assert_eq!(p.header("npm-notice"), None);
    assert_eq!(download(&server, PACKAGE, "1.0.0", &token).status, 200);

    // 2. Replays: the same delivery again (same signature), a re-signed redelivery, and the
    // subscription's own events about the same purchase: 200, nothing more.
    let body = completed.to_string();
    let signature = sign(body.as_bytes(), WHSEC, now());
    for _ in 0..2 {
        let r = deliver_raw(&server, SELLER, body.as_bytes(), Some(&signature));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let again = applied(&server, WHSEC, &completed);
    assert!(again.contains("already"), "{again}");
    applied(
        &server,
        WHSEC,
        &event(
            "evt_1Psubcreated",
            "customer.subscription.created",
            now() - 6,
            sub.clone(),
        ),
    );
    applied(
        &server,
        WHSEC,
        &event(
            "evt_1Pinvoicepaid",
            "invoice.paid",
            now() - 4,
            invoice(
                "in_1Pglobex",
                "cus_Globex01",
                "ops@globex.example",
                "sub_1Pglobex",
                true,
            ),
        ),
    );
    assert_eq!(org_slugs(&server, SELLER), ["globex-corp"]);
    assert_eq!(org_tokens(&server, SELLER).len(), 1);
    assert_eq!(seats(&server, SELLER, "globex-corp").len(), 1);
    assert_eq!(mails(&server).len(), 1, "no second mail");

    // The Billing Portal link for the org's customer.
    let link = server.cli_json(&[
        "org",
        "billing-link",
        "--seller",
        SELLER,
        "--org",
        "globex-corp",
        "--public-url",
        server.url(),
    ]);
    assert_eq!(
        link["url"],
        "https://billing.stripe.test/p/session/bps_test_1"
    );
    let portal = stripe.requests_to("POST", "/v1/billing_portal/sessions");
    assert_eq!(portal.len(), 1);
    assert_eq!(portal[0].field("customer"), Some("cus_Globex01"));
    assert!(
        portal[0]
            .field("return_url")
            .is_some_and(|u| u.starts_with(server.url())),
        "{:#?}",
        portal[0].form
    );

    // Stripe Connect: another seller whose account is reached with the platform key and the
    // `Stripe-Account` header; it sells a legacy plan id, and the re-read subscription comes
    // back in the 2017 shape.
    server.seller("initech");
    server.product("initech", "kit", &["npm:initech-kit"]);
    server.cli(&[
        "seller",
        "stripe",
        "initech",
        "--connect-account",
        "acct_123",
        "--webhook-secret",
        "whsec_initech_connect",
    ]);
    plan(
        &server,
        "initech",
        "kit",
        "kit",
        "plan_kit_monthly",
        "per-quantity",
        "while_active",
    );
    let r = request(
        "GET",
        &format!("{}/initech/buy/kit?quantity=2", server.url()),
        &[],
        b"",
    )
    .expect("GET the Connect buy link");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("https://checkout.stripe.test/c/pay/cs_test_2")
    );
    let created = stripe.requests_to("POST", "/v1/checkout/sessions");
    let c = created.last().expect("a second checkout");
    assert_eq!(c.header("stripe-account"), Some("acct_123"));
    assert_eq!(
        c.header("authorization"),
        Some(format!("Bearer {PLATFORM_KEY}").as_str())
    );
    assert_eq!(c.field("line_items[0][price]"), Some("plan_kit_monthly"));
    assert_eq!(c.field("line_items[0][quantity]"), Some("2"));
    assert_eq!(c.field("metadata[tollgate_plan]"), Some("kit"));

    stripe.put_subscription(subscription_2017(
        "sub_1Pumbrella",
        "cus_Umbrella1",
        "plan_kit_monthly",
        2,
        "active",
    ));
    stripe.put_customer("cus_Umbrella1", "it@umbrella.example", "Umbrella");
    let mut connect_event = event(
        "evt_1Pconnect",
        "customer.subscription.created",
        now() - 3,
        subscription_2017(
            "sub_1Pumbrella",
            "cus_Umbrella1",
            "plan_kit_monthly",
            2,
            "active",
        ),
    );
    // An event for another connected account is refused, and nothing is read for it.
    connect_event["account"] = json!("acct_999");
    let before = stripe.requests().len();
    let r = deliver(&server, "initech", "whsec_initech_connect", &connect_event);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        stripe.requests().len(),
        before,
        "nothing read for a refused event"
    );
    connect_event["account"] = json!("acct_123");
    let r = deliver(&server, "initech", "whsec_initech_connect", &connect_event);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(org_slugs(&server, "initech"), ["umbrella"]);
    let reads: Vec<Recorded> = stripe
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.method == "GET")
        .collect();
    assert!(
        reads
            .iter()
            .any(|r| r.path == "/v1/subscriptions/sub_1Pumbrella")
            && reads
                .iter()
                .any(|r| r.path == "/v1/customers/cus_Umbrella1"),
        "{reads:#?}"
    );
    for r in &reads {
        assert_eq!(r.header("stripe-account"), Some("acct_123"), "{r:?}");
    }
    // 2 seats from the 2017 shape: the admin and one more.
    let seat_add_initech = |email: &str| {
        server
            .try_cli(&[
                "seat", "add", "--seller", "initech", "--org", "umbrella", email,
            ])
            .status
            .success()
    };
    assert!(seat_add_initech("dev@umbrella.example"));
    assert!(!seat_add_initech("dev2@umbrella.example"));
}

/// Stripe sends `checkout.session.completed`, `customer.subscription.created` and `invoice.paid`
/// for one purchase at nearly the same moment, in parallel. Only one org, one token and one
/// welcome mail may come of it.
#[test]
fn concurrent_events_of_one_purchase_provision_once() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    let rounds = 4;
    for n in 0..rounds {
        let sub_id = format!("sub_race{n}");
        let customer = format!("cus_race{n}");
        let email = format!("ops{n}@race.example");
        stripe.put_subscription(subscription(
            &sub_id,
            &customer,
            "price_pro_seat",
            3,
            "active",
        ));
        stripe.put_customer(&customer, &email, &format!("Race {n}"));
        let events = [
            event(
                &format!("evt_race{n}_checkout"),
                "checkout.session.completed",
                now(),
                checkout_session(
                    &format!("cs_race{n}"),
                    &customer,
                    &sub_id,
                    &email,
                    &format!("Race {n}"),
                ),
            ),
            event(
                &format!("evt_race{n}_created"),
                "customer.subscription.created",
                now(),
                subscription(&sub_id, &customer, "price_pro_seat", 3, "active"),
            ),
            event(
                &format!("evt_race{n}_paid"),
                "invoice.paid",
                now(),
                invoice(&format!("in_race{n}"), &customer, &email, &sub_id, true),
            ),
        ];
        std::thread::scope(|s| {
            let handles: Vec<_> = events
                .iter()
                .map(|e| s.spawn(|| deliver(&server, SELLER, WHSEC, e)))
                .collect();
            for h in handles {
                let r = h.join().expect("delivery thread");
                assert_eq!(r.status, 200, "{}", r.text());
            }
        });
    }
    let slugs = org_slugs(&server, SELLER);
    let tokens = org_tokens(&server, SELLER);
    let all_mail = mails(&server);
    let mut problems = Vec::new();
    if slugs.len() != rounds || tokens.len() != rounds || all_mail.len() != rounds {
        problems.push(format!("orgs: {slugs:?}"));
    }
    if slugs.len() != rounds {
        problems.push(format!(
            "{} orgs for {rounds} customers: {slugs:?}",
            slugs.len()
        ));
    }
    if tokens.len() != rounds {
        problems.push(format!(
            "{} org tokens for {rounds} purchases: {:?}",
            tokens.len(),
            tokens.iter().map(|t| &t["org_slug"]).collect::<Vec<_>>()
        ));
    }
    if all_mail.len() != rounds {
        problems.push(format!(
            "{} welcome mails for {rounds} purchases: {:?}",
            all_mail.len(),
            all_mail.iter().map(ReadMail::to).collect::<Vec<_>>()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- 3: out-of-order delivery ------------------------------------------------------------------

/// An older `customer.subscription.updated` (3 seats) delivered after a newer one (5 seats):
/// the server re-reads the subscription, so the seat cap is what Stripe has now. The fake
/// answers in the 2017 shape (top-level `plan`/`quantity`).
#[test]
fn out_of_order_events_end_in_stripes_current_state() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("team", "plan_team_monthly", "per-quantity", "while_active")],
    );
    let sub_id = "sub_1Pinitech";
    stripe.put_customer("cus_Initech01", "admin@initech.example", "Initech");
    stripe.put_subscription(subscription_2017(
        sub_id,
        "cus_Initech01",
        "plan_team_monthly",
        5,
        "active",
    ));

    let newer = event(
        "evt_newer",
        "customer.subscription.updated",
        now() - 10,
        subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 5, "active"),
    );
    let older = event(
        "evt_older",
        "customer.subscription.updated",
        now() - 100,
        subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 3, "active"),
    );
    applied(&server, WHSEC, &newer);
    applied(&server, WHSEC, &older);
    assert_eq!(
        org_slugs(&server, SELLER),
        ["initech"],
        "provisioned from the customer"
    );
    assert!(
        !stripe
            .requests_to("GET", "/v1/customers/cus_Initech01")
            .is_empty(),
        "the admin's email comes from the customer"
    );
    // Cap 5: the admin and four more.
    for n in 1..=4 {
        seat_add(&server, "initech", &format!("dev{n}@initech.example"))
            .unwrap_or_else(|e| panic!("seat {n} of 5 refused: {e}"));
    }
    let err = seat_add(&server, "initech", "dev5@initech.example")
        .expect_err("a sixth seat over a quantity of 5");
    assert!(err.contains("seat"), "{err}");

    // Lowered to 2 seats (the object now without items: only top-level plan and quantity).
    // Nobody is cut off, but no new seat.
    let mut two = subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 2, "active");
    two.as_object_mut().expect("object").remove("items");
    stripe.put_subscription(two.clone());
    applied(
        &server,
        WHSEC,
        &event(
            "evt_lowered",
            "customer.subscription.updated",
            now() - 5,
            two,
        ),
    );
    // An even older event again: still the current state.
    applied(
        &server,
        WHSEC,
        &event(
            "evt_oldest",
            "customer.subscription.created",
            now() - 1000,
            subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 9, "active"),
        ),
    );
    let active = seats(&server, SELLER, "initech")
        .iter()
        .filter(|s| s["active"] == true)
        .count();
    assert_eq!(active, 5, "lowering the quantity cuts nobody off");
    let err = seat_add(&server, "initech", "dev6@initech.example")
        .expect_err("no new seat over the lowered quantity");
    assert!(err.contains("seat"), "{err}");
    assert_eq!(org_slugs(&server, SELLER), ["initech"]);
    assert_eq!(org_tokens(&server, SELLER).len(), 1);
}

// ---- 4: refused deliveries ---------------------------------------------------------------------

/// Forged, tampered, stale, unsigned and cross-seller deliveries get 400 and change nothing
/// (the server does not even call Stripe); the genuine event is applied afterwards, so none of
/// the refusals marked it as seen.
#[test]
fn forged_stale_and_cross_seller_events_are_refused() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    server.seller("other");
    server.cli(&[
        "seller",
        "stripe",
        "other",
        "--secret-key",
        "sk_test_other",
        "--webhook-secret",
        "whsec_other_seller",
    ]);
    stripe.put_subscription(subscription(
        "sub_1Phooli",
        "cus_Hooli001",
        "price_pro_seat",
        3,
        "active",
    ));
    let e = event(
        "evt_1Phooli",
        "checkout.session.completed",
        now() - 2,
        checkout_session(
            "cs_hooli",
            "cus_Hooli001",
            "sub_1Phooli",
            "it@hooli.example",
            "Hooli",
        ),
    );
    let body = e.to_string();
    let good = sign(body.as_bytes(), WHSEC, now());
    let tampered = body.replace("it@hooli.example", "evil@attacker.example");
    let cases: Vec<(&str, Vec<u8>, Option<String>, &str)> = vec![
        (
            "forged (unknown secret)",
            body.clone().into_bytes(),
            Some(sign(body.as_bytes(), "whsec_forger", now())),
            "does not match",
        ),
        (
            "tampered body",
            tampered.into_bytes(),
            Some(good.clone()),
            "does not match",
        ),
        (
            "stale (t = now - 600)",
            body.clone().into_bytes(),
            Some(sign(body.as_bytes(), WHSEC, now() - 600)),
            "old",
        ),
        (
            "signed with another seller's secret",
            body.clone().into_bytes(),
            Some(sign(body.as_bytes(), "whsec_other_seller", now())),
            "does not match",
        ),
        (
            "no signature",
            body.clone().into_bytes(),
            None,
            "Stripe-Signature",
        ),
        (
            "garbage signature",
            body.clone().into_bytes(),
            Some("t=abc".to_owned()),
            "malformed",
        ),
    ];
    for (name, payload, signature, says) in cases {
        let r = deliver_raw(&server, SELLER, &payload, signature.as_deref());
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert!(r.text().contains(says), "{name}: {}", r.text());
    }
    // The other seller's endpoint refuses what was signed for acme.
    let r = deliver_raw(&server, "other", body.as_bytes(), Some(&good));
    assert_eq!(
        r.status,
        400,
        "acme's event at other's endpoint: {}",
        r.text()
    );

    assert!(
        stripe.requests().is_empty(),
        "refused events are not processed"
    );
    assert!(org_slugs(&server, SELLER).is_empty());
    assert!(org_slugs(&server, "other").is_empty());
    assert!(org_tokens(&server, SELLER).is_empty());
    assert!(mails(&server).is_empty());

    // The genuine delivery still applies.
    let r = deliver_raw(&server, SELLER, body.as_bytes(), Some(&good));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(org_slugs(&server, SELLER), ["hooli"]);
    assert_eq!(
        seats(&server, SELLER, "hooli")[0]["email"],
        "it@hooli.example"
    );
}

// ---- 5: processing failures --------------------------------------------------------------------

/// When Stripe fails while an event is processed, the webhook answers 5xx (Stripe retries) and
/// nothing is applied; the retry after the outage applies the event once.
#[test]
fn a_failure_while_processing_answers_5xx_and_the_retry_applies() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    stripe.put_subscription(subscription(
        "sub_1Pacme1",
        "cus_Vandelay1",
        "price_pro_seat",
        3,
        "active",
    ));
    stripe.put_subscription(subscription(
        "sub_1Pacme2",
        "cus_Pied0001",
        "price_pro_seat",
        2,
        "active",
    ));
    stripe.put_customer("cus_Pied0001", "richard@piedpiper.example", "Pied Piper");

    // The subscription cannot be read.
    let checkout = event(
        "evt_1Pfail1",
        "checkout.session.completed",
        now() - 1,
        checkout_session(
            "cs_v",
            "cus_Vandelay1",
            "sub_1Pacme1",
            "art@vandelay.example",
            "Vandelay",
        ),
    );
    stripe.fail("/v1/subscriptions/");
    let r = deliver(&server, SELLER, WHSEC, &checkout);
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    // The subscription is read, then the customer cannot be: still nothing half-applied.
    stripe.recover();
    stripe.fail("/v1/customers/");
    let created = event(
        "evt_1Pfail2",
        "customer.subscription.created",
        now() - 1,
        subscription("sub_1Pacme2", "cus_Pied0001", "price_pro_seat", 2, "active"),
    );
    let r = deliver(&server, SELLER, WHSEC, &created);
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    assert!(
        !stripe
            .requests_to("GET", "/v1/subscriptions/sub_1Pacme2")
            .is_empty(),
        "the failure came after the subscription was read"
    );
    assert!(org_slugs(&server, SELLER).is_empty(), "no org on failure");
    assert!(
        org_tokens(&server, SELLER).is_empty(),
        "no token on failure"
    );
    assert!(mails(&server).is_empty(), "no mail on failure");

    // Stripe retries after the outage.
    stripe.recover();
    applied(&server, WHSEC, &checkout);
    applied(&server, WHSEC, &created);
    assert_eq!(org_slugs(&server, SELLER), ["pied-piper", "vandelay"]);
    assert_eq!(org_tokens(&server, SELLER).len(), 2);
    assert_eq!(mails_to(&server, "art@vandelay.example").len(), 1);
    assert_eq!(mails_to(&server, "richard@piedpiper.example").len(), 1);

    // A failure on an update of an existing subscription keeps the old state.
    stripe.edit_subscription("sub_1Pacme1", |s| {
        s["items"]["data"][0]["quantity"] = json!(1)
    });
    stripe.fail("/v1/subscriptions/");
    let lowered = event(
        "evt_1Pfail3",
        "customer.subscription.updated",
        now(),
        subscription(
            "sub_1Pacme1",
            "cus_Vandelay1",
            "price_pro_seat",
            1,
            "active",
        ),
    );
    let r = deliver(&server, SELLER, WHSEC, &lowered);
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    seat_add(&server, "vandelay", "george@vandelay.example").expect("still 3 seats");
    stripe.recover();
    applied(&server, WHSEC, &lowered);
    seat_add(&server, "vandelay", "kramer@vandelay.example").expect_err("1 seat now");
}

/// Stripe announces a subscription while its first payment is still pending (`incomplete`, e.g.
/// waiting for 3-D Secure): the webhook answers 200 and provisions nothing; once Stripe has it
/// active, the next event provisions the org, its admin seat, token and welcome mail.
#[test]
fn a_subscription_first_seen_unpaid_provisions_once_it_is_paid() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[(
            "pro-seat",
            "price_pro_seat",
            "per-quantity",
            "perpetual_fallback",
        )],
    );
    let (sub_id, customer, email) = ("sub_1Pstark", "cus_Stark001", "tony@stark.example");
    stripe.put_customer(customer, email, "Stark Industries");
    for status in ["incomplete", "incomplete_expired", "canceled"] {
        let mut sub = subscription(sub_id, customer, "price_pro_seat", 2, status);
        if status == "canceled" {
            sub["ended_at"] = json!(now() - DAY);
        }
        stripe.put_subscription(sub.clone());
        applied(
            &server,
            WHSEC,
            &event(
                &format!("evt_unpaid_{status}"),
                "customer.subscription.created",
                now() - 9,
                sub,
            ),
        );
        assert!(
            org_slugs(&server, SELLER).is_empty(),
            "{status}: no org yet"
        );
        assert!(mails(&server).is_empty(), "{status}: no mail yet");
    }
    let sub = subscription(sub_id, customer, "price_pro_seat", 2, "active");
    stripe.put_subscription(sub.clone());
    applied(
        &server,
        WHSEC,
        &event("evt_paid", "customer.subscription.updated", now() - 1, sub),
    );
    assert_eq!(org_slugs(&server, SELLER), ["stark-industries"]);
    assert_eq!(
        seats(&server, SELLER, "stark-industries")[0]["email"],
        email
    );
    assert_eq!(org_tokens(&server, SELLER).len(), 1);
    assert_eq!(mails_to(&server, email).len(), 1);
}

// ---- 6: grace period ---------------------------------------------------------------------------

/// A failed payment keeps access through the grace period with a warning in npm's output and a
/// mail to the org admin; a paid invoice clears the warning; the cancelled subscription ends
/// access with the reason.
#[test]
fn a_failed_payment_warns_through_grace_then_cancel_ends_access() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    let publisher = server.publish_token(SELLER, &[]);
    publish(&server, &publisher.secret, PACKAGE, "1.0.0");
    let (sub_id, customer, email) = ("sub_1Pwayne", "cus_Wayne001", "bruce@wayne.example");
    stripe.put_subscription(subscription(
        sub_id,
        customer,
        "price_pro_seat",
        3,
        "active",
    ));
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w1",
            "checkout.session.completed",
            now() - 100,
            checkout_session("cs_w", customer, sub_id, email, "Wayne Enterprises"),
        ),
    );
    let token = token_in(&mails_to(&server, email)[0]);
    let p = packument(&server, PACKAGE, &token, true);
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.header("npm-notice"), None);

    // The renewal fails: Stripe marks the subscription past_due.
    stripe.edit_subscription(sub_id, |s| s["status"] = json!("past_due"));
    let failed_at = now() - 60;
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w2",
            "invoice.payment_failed",
            failed_at,
            invoice("in_w2", customer, email, sub_id, false),
        ),
    );
    for abbreviated in [false, true] {
        let p = packument(&server, PACKAGE, &token, abbreviated);
        assert_eq!(p.status, 200, "in grace: {}", p.text());
        let notice = p.header("npm-notice").unwrap_or_default();
        assert!(notice.contains("payment"), "npm-notice: {notice:?}");
    }
    assert_eq!(download(&server, PACKAGE, "1.0.0", &token).status, 200);
    let grace_end = chrono::DateTime::from_timestamp(failed_at + 7 * DAY, 0)
        .expect("date")
        .format("%Y-%m-%d")
        .to_string();
    let failed_mail = mails_to(&server, email)
        .into_iter()
        .find(|m| m.subject().contains("Payment failed"))
        .expect("a payment-failed mail to the org admin");
    assert!(
        failed_mail.body.contains(&grace_end),
        "{}",
        failed_mail.body
    );
    // Stripe's retry notice for the same failure: no second mail.
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w3",
            "customer.subscription.updated",
            now() - 50,
            subscription(sub_id, customer, "price_pro_seat", 3, "past_due"),
        ),
    );
    let failed_mails = mails_to(&server, email)
        .iter()
        .filter(|m| m.subject().contains("Payment failed"))
        .count();
    assert_eq!(failed_mails, 1);

    // The card is updated and the invoice paid (a 2017-shaped invoice): no more warning.
    stripe.edit_subscription(sub_id, |s| s["status"] = json!("active"));
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w4",
            "invoice.paid",
            now() - 40,
            invoice_2017("in_w2", customer, sub_id, true),
        ),
    );
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.header("npm-notice"), None, "paid: no warning");

    // Cancelled, ended a minute ago.
    stripe.edit_subscription(sub_id, |s| {
        s["status"] = json!("canceled");
        s["canceled_at"] = json!(now() - 60);
        s["ended_at"] = json!(now() - 60);
    });
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w5",
            "customer.subscription.deleted",
            now() - 30,
            subscription(sub_id, customer, "price_pro_seat", 3, "canceled"),
        ),
    );
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 403, "{}", p.text());
    let reason = p.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("ended"), "{reason}");
    assert_eq!(download(&server, PACKAGE, "1.0.0", &token).status, 403);
    assert!(
        mails_to(&server, email)
            .iter()
            .any(|m| m.subject().contains("ended")),
        "a license-ended mail"
    );
}

// ---- 7: subscription state × rule × release date -----------------------------------------------

/// One row: the subscription's state (set in the fake, then announced by `event`), and what
/// each rule lets the org list and download of v1 (published before the boundary E) and v2
/// (published after it).
struct Row {
    name: &'static str,
    status: &'static str,
    /// Edits the fake's subscription; arguments: the subscription, E, now (unix seconds).
    edit: fn(&mut Value, i64, i64),
    /// `invoice.payment_failed` created at this time (from E and now), else a subscription
    /// event announces the state.
    failed_at: Option<fn(i64, i64) -> i64>,
    while_active: &'static [&'static str],
    perpetual: &'static [&'static str],
    /// The grace warning shows.
    notice: bool,
}

const V1: &str = "1.0.0";
const V2: &str = "2.0.0";

fn rows() -> Vec<Row> {
    let same = |_: &mut Value, _: i64, _: i64| {};
    vec![
        Row {
            name: "trialing",
            status: "trialing",
            edit: |s, _, now| {
                s["trial_start"] = json!(now - 3 * DAY);
                s["trial_end"] = json!(now + 11 * DAY);
            },
            failed_at: None,
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: false,
        },
        Row {
            name: "active",
            status: "active",
            edit: same,
            failed_at: None,
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: false,
        },
        Row {
            name: "active, cancels at the period end",
            status: "active",
            edit: |s, _, now| {
                s["cancel_at_period_end"] = json!(true);
                s["cancel_at"] = json!(now + 20 * DAY);
                s["canceled_at"] = json!(now - DAY);
            },
            failed_at: None,
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: false,
        },
        Row {
            name: "past_due within grace",
            status: "past_due",
            edit: same,
            failed_at: Some(|_, now| now - DAY),
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: true,
        },
        Row {
            name: "past_due after grace (first failure 30 days ago)",
            status: "past_due",
            edit: same,
            failed_at: Some(|_, now| now - 30 * DAY),
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "past_due, grace ended at E",
            status: "past_due",
            edit: same,
            failed_at: Some(|e, _| e - 7 * DAY),
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "unpaid within grace",
            status: "unpaid",
            edit: same,
            failed_at: Some(|_, now| now - 2 * DAY),
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: true,
        },
        Row {
            name: "unpaid, grace ended at E",
            status: "unpaid",
            edit: same,
            failed_at: Some(|e, _| e - 7 * DAY),
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "canceled, ended at E",
            status: "canceled",
            edit: |s, e, _| {
                s["canceled_at"] = json!(e - DAY);
                s["ended_at"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "canceled 20 days ago",
            status: "canceled",
            edit: |s, _, now| {
                s["canceled_at"] = json!(now - 20 * DAY);
                s["ended_at"] = json!(now - 20 * DAY);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "canceled, no ended_at: the item's period end E",
            status: "canceled",
            edit: |s, e, _| {
                s["items"]["data"][0]["current_period_end"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "incomplete, started at E",
            status: "incomplete",
            edit: |s, e, _| {
                s["created"] = json!(e);
                s["start_date"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "incomplete_expired, started at E",
            status: "incomplete_expired",
            edit: |s, e, _| {
                s["created"] = json!(e);
                s["start_date"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "paused (ends when read)",
            status: "paused",
            edit: same,
            failed_at: None,
            while_active: &[],
            perpetual: &[V1, V2],
            notice: false,
        },
    ]
}

/// For every subscription state × version rule × release date: what npm lists (full and
/// abbreviated packument) equals what the tarball URLs serve, and equals the policy.
#[test]
fn what_npm_lists_equals_what_it_may_download_for_every_state_rule_and_release_date() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    let rules = [
        ("wa", "price_while_active", "while_active"),
        ("pf", "price_perpetual", "perpetual_fallback"),
    ];
    acme(
        &server,
        &rules.map(|(slug, price, rule)| (slug, price, "per-quantity", rule)),
    );
    // Another product, which buyers of never-paid subscriptions already hold (so that they
    // have an org and a token).
    server.product(SELLER, "starter", &["npm:acme-starter"]);
    plan(
        &server,
        SELLER,
        "starter",
        "starter",
        "price_starter",
        "per-quantity",
        "while_active",
    );
    let publisher = server.publish_token(SELLER, &[]);

    // v1, then the boundary E (a whole second), then v2.
    publish(&server, &publisher.secret, PACKAGE, V1);
    let e = now_ms() / 1000 + 1;
    let wait = e * 1000 + 30 - now_ms();
    std::thread::sleep(Duration::from_millis(
        u64::try_from(wait.max(0)).unwrap_or(0),
    ));
    publish(&server, &publisher.secret, PACKAGE, V2);

    let rows = rows();
    // Drive every subscription: provision it as active (or, for one that was never paid, its
    // buyer through another product), then bring it to the row's state.
    let mut subjects = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (rule_slug, price, _) in rules {
            let key = format!("t{i}-{rule_slug}");
            let (sub_id, customer) = (format!("sub_{key}"), format!("cus_{key}"));
            let email = format!("{key}@buyers.example");
            stripe.put_customer(&customer, &email, &key);
            let now = now();
            let mut sub = subscription(&sub_id, &customer, price, 3, row.status);
            (row.edit)(&mut sub, e, now);
            let never_paid = matches!(row.status, "incomplete" | "incomplete_expired");
            let starts_live = never_paid || row.status == "trialing";
            if never_paid {
                let starter = format!("{sub_id}_starter");
                stripe.put_subscription(subscription(
                    &starter,
                    &customer,
                    "price_starter",
                    1,
                    "active",
                ));
                applied(
                    &server,
                    WHSEC,
                    &event(
                        &format!("evt_{key}_starter"),
                        "customer.subscription.created",
                        now - 60,
                        subscription(&starter, &customer, "price_starter", 1, "active"),
                    ),
                );
            }
            if !starts_live {
                stripe.put_subscription(subscription(&sub_id, &customer, price, 3, "active"));
                applied(
                    &server,
                    WHSEC,
                    &event(
                        &format!("evt_{key}_created"),
                        "customer.subscription.created",
                        now - 40,
                        subscription(&sub_id, &customer, price, 3, "active"),
                    ),
                );
            }
            stripe.put_subscription(sub.clone());
            let announce = match (row.failed_at, row.status) {
                (Some(at), _) => event(
                    &format!("evt_{key}_failed"),
                    "invoice.payment_failed",
                    at(e, now),
                    invoice(&format!("in_{key}"), &customer, &email, &sub_id, false),
                ),
                (None, "canceled") => event(
                    &format!("evt_{key}_deleted"),
                    "customer.subscription.deleted",
                    now - 20,
                    sub,
                ),
                (None, _) if starts_live => event(
                    &format!("evt_{key}_created"),
                    "customer.subscription.created",
                    now - 20,
                    sub,
                ),
                (None, _) => event(
                    &format!("evt_{key}_updated"),
                    "customer.subscription.updated",
                    now - 20,
                    sub,
                ),
            };
            applied(&server, WHSEC, &announce);
            subjects.push((row, rule_slug, email));
        }
    }

    // Each org's token from its welcome mail, then what npm lists and downloads.
    let all_mail = mails(&server);
    let mut problems = Vec::new();
    for (row, rule_slug, email) in subjects {
        let label = format!("{} × {rule_slug}", row.name);
        let welcome: Vec<&ReadMail> = all_mail
            .iter()
            .filter(|m| m.to().contains(&email) && m.subject().contains("access"))
            .collect();
        assert_eq!(welcome.len(), 1, "{label}: one welcome mail");
        let token = token_in(welcome[0]);
        let expected: BTreeSet<String> = if rule_slug == "wa" {
            row.while_active
        } else {
            row.perpetual
        }
        .iter()
        .map(|v| (*v).to_owned())
        .collect();

        let full = packument(&server, PACKAGE, &token, false);
        let abbreviated = packument(&server, PACKAGE, &token, true);
        let listed = listed_versions(&full);
        if listed_versions(&abbreviated) != listed {
            problems.push(format!(
                "{label}: abbreviated lists {:?}, full lists {listed:?}",
                listed_versions(&abbreviated)
            ));
        }
        if full.status != 200 && !matches!(full.status, 403 | 404) {
            problems.push(format!(
                "{label}: packument {}: {}",
                full.status,
                full.text()
            ));
        }
        for v in [V1, V2] {
            let got = download(&server, PACKAGE, v, &token);
            let downloadable = got.status == 200;
            if !downloadable && !matches!(got.status, 403 | 404) {
                problems.push(format!(
                    "{label}: {v} tarball {}: {}",
                    got.status,
                    got.text()
                ));
            }
            if listed.contains(v) != downloadable {
                problems.push(format!(
                    "{label}: {v} listed={} but tarball {} ({})",
                    listed.contains(v),
                    got.status,
                    got.text().trim()
                ));
            }
            if listed.contains(v) {
                let url = &full.json()["versions"][v]["dist"]["tarball"];
                if url.as_str() != Some(tarball_url(&server, PACKAGE, v).as_str()) {
                    problems.push(format!("{label}: {v} dist.tarball {url}"));
                }
            }
        }
        if listed != expected {
            problems.push(format!(
                "{label}: lists {listed:?}, the policy says {expected:?}"
            ));
        }
        let notice = full
            .header("npm-notice")
            .is_some_and(|n| n.contains("payment"));
        if full.status == 200 && notice != row.notice {
            problems.push(format!(
                "{label}: npm-notice {:?}, expected one: {}",
                full.header("npm-notice"),
                row.notice
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

//! The fake Stripe API: subscriptions and customers from a map the test edits, every request
//! recorded, Checkout and Billing Portal sessions answered like Stripe, 500 on demand; and
//! Stripe Connect's OAuth token endpoint (`POST /oauth/token`), which trades each code the test
//! granted once for its connected account, as Stripe does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::DAY;
use crate::objects::now;

/// One request the fake received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Query and form body, percent-decoded, in order.
    pub(crate) form: Vec<(String, String)>,
    /// Lower-case names.
    headers: Vec<(String, String)>,
}

impl Recorded {
    pub(crate) fn field(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
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
    /// Connect OAuth: authorization code → the account it connects (used up when traded).
    oauth_codes: HashMap<String, String>,
}

type Shared = Arc<Mutex<StripeData>>;

fn lock(data: &Shared) -> MutexGuard<'_, StripeData> {
    data.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct FakeStripe {
    pub(crate) url: String,
    data: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FakeStripe {
    pub(crate) fn start() -> FakeStripe {
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

    pub(crate) fn put_subscription(&self, sub: Value) {
        let id = sub["id"].as_str().expect("subscription id").to_owned();
        self.lock().subscriptions.insert(id, sub);
    }

    /// Edits a stored subscription in place.
    pub(crate) fn edit_subscription(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let mut data = self.lock();
        let sub = data
            .subscriptions
            .get_mut(id)
            .unwrap_or_else(|| panic!("the fake holds no {id}"));
        f(sub);
    }

    pub(crate) fn put_customer(&self, id: &str, email: &str, name: &str) {
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

    /// Connect OAuth: the seller approved on Stripe's page, which sends it back with `code`;
    /// trading that code (once) answers `account`.
    pub(crate) fn grant_oauth_code(&self, code: &str, account: &str) {
        self.lock()
            .oauth_codes
            .insert(code.to_owned(), account.to_owned());
    }

    /// Answers 500 for every path starting with `prefix` until [`FakeStripe::recover`].
    pub(crate) fn fail(&self, prefix: &str) {
        self.lock().failing.push(prefix.to_owned());
    }

    pub(crate) fn recover(&self) {
        self.lock().failing.clear();
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub(crate) fn requests_to(&self, method: &str, prefix: &str) -> Vec<Recorded> {
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
        ("POST", ["oauth", "token"]) => {
            let code = field("code").unwrap_or_default();
            match (
                field("grant_type").as_deref(),
                data.oauth_codes.remove(&code),
            ) {
                (Some("authorization_code"), Some(account)) => reply(
                    StatusCode::OK,
                    json!({
                        "access_token": "sk_test_connected_unused", "livemode": false,
                        "refresh_token": "rt_test_unused", "token_type": "bearer",
                        "stripe_publishable_key": "pk_test_unused",
                        "stripe_user_id": account, "scope": "read_write"
                    }),
                ),
                _ => reply(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "invalid_grant",
                        "error_description": format!("Authorization code does not exist: {code}")}),
                ),
            }
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

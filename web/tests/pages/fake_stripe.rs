//! A stand-in for the Stripe API on a loopback port (`BillingConfig::api_base`): it answers
//! Billing Portal session requests with a portal URL and records every request, so that a test
//! sees what the app asked Stripe for. Anything else is a 404 in Stripe's error shape.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// The URL every Billing Portal session of the fake has.
pub const PORTAL_URL: &str = "https://billing.stripe.test/p/session/test_portal";

/// One request the app sent to the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeCall {
    pub method: String,
    pub path: String,
    /// The form body (Stripe's requests are `application/x-www-form-urlencoded`).
    pub body: String,
}

impl StripeCall {
    /// The value of the form field `name`, if sent.
    pub fn field(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

type Calls = Arc<Mutex<Vec<StripeCall>>>;

pub struct FakeStripe {
    /// `http://127.0.0.1:PORT`, for `api_base`.
    pub url: String,
    calls: Calls,
    server: JoinHandle<()>,
}

impl FakeStripe {
    /// Listens on a free loopback port (on the test's runtime) until dropped.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Stripe");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the fake Stripe's address")
        );
        let calls = Calls::default();
        let app = Router::new().fallback(answer).with_state(calls.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("serve the fake Stripe");
        });
        Self { url, calls, server }
    }

    /// Every request so far, oldest first.
    pub fn calls(&self) -> Vec<StripeCall> {
        self.calls.lock().expect("the fake Stripe's calls").clone()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(State(calls): State<Calls>, method: Method, uri: Uri, body: Bytes) -> Response {
    let call = StripeCall {
        method: method.to_string(),
        path: uri.path().to_owned(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    calls.lock().expect("the fake Stripe's calls").push(call);
    if method == Method::POST && uri.path().ends_with("/billing_portal/sessions") {
        let session = serde_json::json!({
            "id": "bps_test_portal",
            "object": "billing_portal.session",
            "url": PORTAL_URL,
        });
        return axum::Json(session).into_response();
    }
    let error = serde_json::json!({
        "error": {
            "type": "invalid_request_error",
            "message": format!("the fake Stripe has no {method} {}", uri.path()),
        }
    });
    (StatusCode::NOT_FOUND, axum::Json(error)).into_response()
}

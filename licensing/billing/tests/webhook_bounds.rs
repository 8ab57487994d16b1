//! The webhook endpoints through the real router: who (a well-formed `Stripe-Signature`) and how
//! much (`Content-Length`) are settled before a byte of the body is read, the body is read under
//! [`MAX_EVENT_BYTES`], the signature is checked before the body is parsed as JSON; and a seller
//! onboarded through Connect OAuth by an earlier version (a placeholder webhook secret of random
//! bytes) is served, its row repaired.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use futures_util::stream;
use tollgate_billing::mail::Mailer;
use tollgate_billing::routes::{self, MAX_EVENT_BYTES};
use tollgate_billing::service::{Billing, BillingConfig};
use tollgate_billing::webhook::sign;
use tollgate_registry::Registry;
use tollgate_registry::db::StripeConnection;
use tollgate_registry::registry::Options;
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::store::Store;
use tower::ServiceExt as _;

const PLATFORM_SECRET: &str = "whsec_platform_test";

struct App {
    router: Router,
    db: Registry,
    secrets: Arc<SecretBox>,
    _dir: tempfile::TempDir,
}

async fn app() -> App {
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
    let secrets = Arc::new(SecretBox::new(&[3; 32]));
    let mailer = Mailer::from_config(None, "T <t@example.test>", dir.path()).expect("mailer");
    let billing = Billing::new(
        registry,
        secrets.clone(),
        mailer,
        BillingConfig {
            public_url: "http://pkg.example.test".into(),
            api_base: Some("http://127.0.0.1:9".into()),
            platform_key: Some("sk_test_platform".into()),
            connect_webhook_secret: Some(PLATFORM_SECRET.into()),
            connect_base: None,
            connect_client_id: Some("ca_test".into()),
            ecosystems: Default::default(),
        },
    );
    App {
        router: routes::router(billing),
        db,
        secrets,
        _dir: dir,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A body that records whether it was read at all, and how many bytes were taken.
fn watched_body(chunks: usize, chunk: usize) -> (Body, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let polled = Arc::new(AtomicBool::new(false));
    let taken = Arc::new(AtomicUsize::new(0));
    let (p, t) = (polled.clone(), taken.clone());
    let body = Body::from_stream(stream::iter((0..chunks).map(move |_| {
        p.store(true, Ordering::SeqCst);
        t.fetch_add(chunk, Ordering::SeqCst);
        Ok::<_, std::io::Error>(Bytes::from(vec![b' '; chunk]))
    })));
    (body, polled, taken)
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.expect("answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn who_and_how_much_before_the_body_is_read() {
    let app = app().await;
    for path in ["/acme/stripe/webhook", "/stripe/connect/webhook"] {
        // No signature: refused before reading a byte, whatever the body claims.
        let (body, polled, _) = watched_body(4096, 1024);
        let request = Request::post(path)
            .header("content-length", "4194304")
            .body(body)
            .expect("request");
        let (status, text) = send(&app.router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {text}");
        assert!(text.contains("no Stripe-Signature header"), "{text}");
        assert!(!polled.load(Ordering::SeqCst), "{path}: the body was read");

        // A malformed signature: the same.
        let (body, polled, _) = watched_body(4, 1024);
        let request = Request::post(path)
            .header("stripe-signature", "garbage")
            .body(body)
            .expect("request");
        let (status, text) = send(&app.router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {text}");
        assert!(text.contains("malformed"), "{text}");
        assert!(!polled.load(Ordering::SeqCst), "{path}: the body was read");

        // Too large a Content-Length: 413 before reading.
        let (body, polled, _) = watched_body(4096, 1024);
        let request = Request::post(path)
            .header(
                "stripe-signature",
                format!("t={},v1={}", now(), "0".repeat(64)),
            )
            .header("content-length", (MAX_EVENT_BYTES + 1).to_string())
            .body(body)
            .expect("request");
        let (status, text) = send(&app.router, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {text}");
        assert!(!polled.load(Ordering::SeqCst), "{path}: the body was read");

        // No Content-Length (chunked): read only up to the limit, then 413.
        let (body, _, taken) = watched_body(4096, 1024);
        let request = Request::post(path)
            .header(
                "stripe-signature",
                format!("t={},v1={}", now(), "0".repeat(64)),
            )
            .body(body)
            .expect("request");
        let (status, text) = send(&app.router, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {text}");
        let taken = taken.load(Ordering::SeqCst);
        assert!(
            taken <= MAX_EVENT_BYTES + 1024,
            "{path}: read {taken} bytes of a 4 MiB body"
        );
    }
}

#[tokio::test]
async fn the_signature_is_checked_before_the_json() {
    let app = app().await;
    let deep = format!(
        "{{\"id\":\"evt_1\",\"type\":\"x\",\"created\":1,\"data\":{{\"object\":{{\"a\":{}{}}}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let post = |body: &str, signature: String| {
        Request::post("/stripe/connect/webhook")
            .header("stripe-signature", signature)
            .body(Body::from(body.to_owned()))
            .expect("request")
    };
    // Forged: refused for its signature; the JSON is never looked at.
    let (status, text) = send(
        &app.router,
        post(&deep, sign(deep.as_bytes(), "whsec_forger", now())),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("does not match"), "{text}");
    // Signed (only the platform could), still bounded: an error, not a stack overflow.
    let (status, text) = send(
        &app.router,
        post(&deep, sign(deep.as_bytes(), PLATFORM_SECRET, now())),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("recursion limit exceeded"), "{text}");
}

/// What Connect OAuth onboarding stored before issue 16 (random bytes sealed as the webhook
/// secret) no longer stops the seller: Connect events apply, and the placeholder is dropped.
/// A Connect seller's own endpoint says where its events go instead.
#[tokio::test]
async fn a_seller_onboarded_by_the_old_oauth_is_served_and_repaired() {
    let app = app().await;
    let acme = app
        .db
        .create_seller("acme", "Acme", "a@acme.example")
        .await
        .expect("seller");
    let random: [u8; 32] = [0xC3; 32];
    let placeholder = app
        .secrets
        .seal(&Binding::stripe_webhook_secret(acme.id), &random);
    app.db
        .set_stripe_connection(
            acme.id,
            &StripeConnection {
                secret_key: None,
                account_id: Some("acct_old_oauth".into()),
                webhook_secret: Some(placeholder),
            },
        )
        .await
        .expect("row as the old onboarding wrote it");

    let event = serde_json::json!({
        "id": "evt_ping_1", "object": "event", "type": "account.updated", "created": now(),
        "account": "acct_old_oauth", "data": {"object": {"id": "acct_old_oauth"}}
    })
    .to_string();
    let request = Request::post("/stripe/connect/webhook")
        .header(
            "stripe-signature",
            sign(event.as_bytes(), PLATFORM_SECRET, now()),
        )
        .body(Body::from(event))
        .expect("request");
    let (status, text) = send(&app.router, request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("evt_ping_1 (account.updated) recorded"),
        "{text}"
    );
    let row = app
        .db
        .stripe_connection(acme.id)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.webhook_secret, None, "the placeholder is dropped");
    assert_eq!(row.account_id.as_deref(), Some("acct_old_oauth"));

    let event = r#"{"id":"evt_2","type":"x","created":1,"data":{"object":{}}}"#;
    let request = Request::post("/acme/stripe/webhook")
        .header(
            "stripe-signature",
            sign(event.as_bytes(), "whsec_any", now()),
        )
        .body(Body::from(event))
        .expect("request");
    let (status, text) = send(&app.router, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(
        text.contains("no webhook endpoint of its own") && text.contains("/stripe/connect/webhook"),
        "{text}"
    );
}

/// A Stripe secret key copied from one seller's row into another's does not open there: the
/// second seller's requests fail instead of billing through the first seller's account.
#[tokio::test]
async fn a_secret_moved_to_another_sellers_row_does_not_open() {
    let app = app().await;
    let acme = app
        .db
        .create_seller("acme", "Acme", "a@acme.example")
        .await
        .expect("seller");
    let globex = app
        .db
        .create_seller("globex", "Globex", "g@globex.example")
        .await
        .expect("seller");
    let whsec = "whsec_acme_own";
    let acme_row = StripeConnection {
        secret_key: Some(
            app.secrets
                .seal(&Binding::stripe_secret_key(acme.id), b"sk_test_acme"),
        ),
        account_id: None,
        webhook_secret: Some(
            app.secrets
                .seal(&Binding::stripe_webhook_secret(acme.id), whsec.as_bytes()),
        ),
    };
    app.db
        .set_stripe_connection(acme.id, &acme_row)
        .await
        .expect("acme");
    // Copied verbatim, as a database-level attacker or a bad restore would.
    app.db
        .set_stripe_connection(globex.id, &acme_row)
        .await
        .expect("globex");
    let event = r#"{"id":"evt_3","type":"ping","created":1,"data":{"object":{}}}"#;
    let deliver = |seller: &str| {
        Request::post(format!("/{seller}/stripe/webhook"))
            .header("stripe-signature", sign(event.as_bytes(), whsec, now()))
            .body(Body::from(event))
            .expect("request")
    };
    let (status, text) = send(&app.router, deliver("acme")).await;
    assert_eq!(status, StatusCode::OK, "acme's own row opens: {text}");
    let (status, text) = send(&app.router, deliver("globex")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("cannot be read"), "{text}");
}

//! The npm endpoints through the real router (no network): bad input is refused with a clear
//! 4xx and leaves nothing behind; access follows the rule.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha512};
use tollgate_npm::{NpmConfig, NpmState};
use tollgate_registry::Registry;
use tollgate_registry::domain::{Ecosystem, TokenKind};
use tollgate_registry::store::{FsStore, Store};
use tollgate_registry::time::Timestamp;
use tower::ServiceExt;

struct TestApp {
    router: Router,
    registry: Registry,
    dir: tempfile::TempDir,
    publish: String,
    org: String,
}

impl TestApp {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let registry = Registry::connect(
            &dir.path().join("t.db").display().to_string(),
            Store::Fs(FsStore::new(dir.path())),
            Default::default(),
        )
        .await
        .expect("registry");
        let db = &registry;
        let seller = db
            .create_seller("acme", "Acme", "a@acme.test")
            .await
            .expect("seller");
        let product = db
            .create_product(
                seller.id,
                "pro",
                "Acme Pro",
                &["npm:@acme/ui".parse().expect("ref")],
            )
            .await
            .expect("product");
        let org = db
            .create_org(seller.id, "buyer", "Buyer")
            .await
            .expect("org");
        db.grant(
            org.id,
            product.id,
            Timestamp(0),
            None,
            tollgate_registry::domain::VersionRule::WhileActive,
            "test",
        )
        .await
        .expect("grant");
        let publish = token_of(&registry, TokenKind::Publish, seller.id, None).await;
        let org = token_of(&registry, TokenKind::Org, seller.id, Some(org.id)).await;
        let state = NpmState::new(
            registry.clone(),
            NpmConfig {
                public_url: "http://reg.test".into(),
                max_publish_bytes: 64 * 1024,
            },
        );
        let router = Router::new().nest("/{seller}/npm", tollgate_npm::router(state));
        Self {
            router,
            registry,
            dir,
            publish,
            org,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn publish_body(&self, name_in_url: &str, body: &Value) -> (StatusCode, Value) {
        let bytes = serde_json::to_vec(body).expect("json");
        self.call(
            "PUT",
            &format!("/acme/npm/{name_in_url}"),
            Some(&self.publish),
            bytes,
        )
        .await
    }

    /// Nothing was recorded and no blob was kept.
    async fn assert_nothing_stored(&self) {
        let pkg = self
            .registry
            .package_state(
                tollgate_registry::ids::SellerId(1),
                Ecosystem::Npm,
                "@acme/ui",
            )
            .await
            .expect("state");
        assert!(
            pkg.is_none_or(|p| p.releases.is_empty()),
            "a release was recorded"
        );
        let blobs = self.dir.path().join("blobs");
        let count = walk(&blobs);
        assert_eq!(count, 0, "a blob was left in the store");
    }
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                if e.path().is_dir() {
                    walk(&e.path())
                } else {
                    1
                }
            })
            .sum()
    })
}

async fn token_of(
    registry: &Registry,
    kind: TokenKind,
    seller: tollgate_registry::ids::SellerId,
    org: Option<tollgate_registry::ids::OrgId>,
) -> String {
    registry
        .issue_token(kind, seller, org, None, vec![])
        .await
        .expect("token")
        .secret
}

fn tgz(content: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1f, 0x8b, 8, 0];
    v.extend_from_slice(content);
    v
}

fn body(name: &str, version: &str, tarball: &[u8]) -> Value {
    json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version,
            "dist": {"integrity": format!("sha512-{}", BASE64.encode(Sha512::digest(tarball))),
                     "shasum": hex::encode(Sha1::digest(tarball))}}},
        "_attachments": {format!("{name}-{version}.tgz"): {
            "content_type": "application/octet-stream",
            "data": BASE64.encode(tarball), "length": tarball.len()}}
    })
}

fn error_text(v: &Value) -> String {
    v["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn bad_publish_bodies_are_refused_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let good = body("@acme/ui", "1.0.0", &tgz(b"one"));
    let good_bytes = serde_json::to_vec(&good).expect("json");
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "garbage",
            b"\x00\xffnot json".to_vec(),
            StatusCode::BAD_REQUEST,
            "not a valid npm publish",
        ),
        (
            "truncated",
            good_bytes[..good_bytes.len() - 40].to_vec(),
            StatusCode::BAD_REQUEST,
            "not a valid npm publish",
        ),
        (
            "oversized",
            {
                let big = body("@acme/ui", "1.0.0", &tgz(&vec![7u8; 100 * 1024]));
                serde_json::to_vec(&big).expect("json")
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
        (
            "bad semver",
            serde_json::to_vec(&body("@acme/ui", "1.0", &tgz(b"x"))).expect("json"),
            StatusCode::BAD_REQUEST,
            "invalid version",
        ),
        (
            "sha mismatch",
            {
                let mut b = good.clone();
                b["versions"]["1.0.0"]["dist"]["integrity"] =
                    format!("sha512-{}", BASE64.encode(Sha512::digest(b"other"))).into();
                serde_json::to_vec(&b).expect("json")
            },
            StatusCode::BAD_REQUEST,
            "integrity mismatch",
        ),
        (
            "shasum mismatch",
            {
                let mut b = good.clone();
                b["versions"]["1.0.0"]["dist"]["shasum"] = "0000".into();
                serde_json::to_vec(&b).expect("json")
            },
            StatusCode::BAD_REQUEST,
            "shasum mismatch",
        ),
    ];
    for (what, bytes, status, text) in cases {
        let (got, v) = app
            .call("PUT", "/acme/npm/@acme%2fui", Some(&app.publish), bytes)
            .await;
        assert_eq!(got, status, "{what}: {v}");
        assert!(error_text(&v).contains(text), "{what}: {v}");
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn bad_names_are_refused() {
    let app = TestApp::new().await;
    for (url, name) in [
        ("..", ".."),
        ("%2e%2e", ".."),
        ("%2e", "."),
        ("@acme%2f..", "@acme/.."),
        ("@ACME%2fui", "@ACME/ui"),
        ("Upper", "Upper"),
    ] {
        let (status, v) = app
            .publish_body(url, &body(name, "1.0.0", &tgz(b"x")))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {v}");
        assert!(
            error_text(&v).contains("invalid package name"),
            "{url}: {v}"
        );
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_version_is_never_overwritten() {
    let app = TestApp::new().await;
    let (status, v) = app
        .publish_body("@acme%2fui", &body("@acme/ui", "1.0.0", &tgz(b"first")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = app
        .publish_body("@acme%2fui", &body("@acme/ui", "1.0.0", &tgz(b"second")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(
        error_text(&v),
        "cannot publish over previously published version 1.0.0"
    );
    let (status, doc) = app
        .call("GET", "/acme/npm/@acme%2fui", Some(&app.org), vec![])
        .await;
    assert_eq!(status, StatusCode::OK);
    let expected = format!("sha512-{}", BASE64.encode(Sha512::digest(tgz(b"first"))));
    assert_eq!(doc["versions"]["1.0.0"]["dist"]["integrity"], expected);
    assert_eq!(
        doc["versions"]["1.0.0"]["dist"]["tarball"],
        "http://reg.test/acme/npm/@acme/ui/-/ui-1.0.0.tgz"
    );
}

#[tokio::test]
async fn org_tokens_cannot_publish_and_unknown_tokens_are_told_how_to_configure() {
    let app = TestApp::new().await;
    let bytes = serde_json::to_vec(&body("@acme/ui", "1.0.0", &tgz(b"x"))).expect("json");
    let (status, v) = app
        .call("PUT", "/acme/npm/@acme%2fui", Some(&app.org), bytes.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert!(error_text(&v).contains("cannot publish"), "{v}");
    let (status, v) = app.call("GET", "/acme/npm/@acme%2fui", None, vec![]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        error_text(&v).contains("//reg.test/acme/npm/:_authToken="),
        "{v}"
    );
    let bogus = format!("tg_{}_{}", "0".repeat(16), "1".repeat(64));
    let (status, _) = app
        .call("GET", "/acme/npm/@acme%2fui", Some(&bogus), vec![])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn packuments_revalidate_with_etags() {
    let app = TestApp::new().await;
    app.publish_body("@acme%2fui", &body("@acme/ui", "1.0.0", &tgz(b"x")))
        .await;
    let req = |etag: Option<String>| {
        let mut r = Request::builder()
            .uri("/acme/npm/@acme%2fui")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.org))
            .header(header::ACCEPT, "application/vnd.npm.install-v1+json");
        if let Some(e) = etag {
            r = r.header(header::IF_NONE_MATCH, e);
        }
        r.body(Body::empty()).expect("request")
    };
    let first = app
        .router
        .clone()
        .oneshot(req(None))
        .await
        .expect("response");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()[header::CONTENT_TYPE],
        "application/vnd.npm.install-v1+json"
    );
    let etag = first.headers()[header::ETAG]
        .to_str()
        .expect("etag")
        .to_owned();
    let second = app
        .router
        .clone()
        .oneshot(req(Some(etag.clone())))
        .await
        .expect("response");
    assert_eq!(second.status(), StatusCode::NOT_MODIFIED);
    // A publish changes the document, so the old ETag no longer matches.
    app.publish_body("@acme%2fui", &body("@acme/ui", "1.1.0", &tgz(b"y")))
        .await;
    let third = app
        .router
        .clone()
        .oneshot(req(Some(etag)))
        .await
        .expect("response");
    assert_eq!(third.status(), StatusCode::OK);
}

//! Names from URLs through the real router (no network): a name or file name no gem can have
//! is answered 404 before any lookup, so it is neither a database query nor a cached
//! "not found" (issue 16 row 4). The registry's package cache counts every lookup (a hit or a
//! miss); these tests read that count around each request.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::io::Write;
use tollgate_registry::Registry;
use tollgate_registry::domain::{TokenKind, VersionRule};
use tollgate_registry::store::{FsStore, Store};
use tollgate_registry::time::Timestamp;
use tollgate_rubygems::{RubygemsConfig, RubygemsState};
use tower::ServiceExt;

/// `metadata.gz` of a gem built by `gem build` (RubyGems 3.3.15): `demo_gem`.
const REAL_YAML: &str = include_str!("fixtures/demo_gem-0.3.1.pre2-x86_64-linux.gemspec.yaml");
const FULL_NAME: &str = "demo_gem-0.3.1.pre2-x86_64-linux";

struct TestApp {
    router: Router,
    registry: Registry,
    _dir: tempfile::TempDir,
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
                &["rubygems:demo_gem".parse().expect("ref")],
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
            VersionRule::WhileActive,
            "test",
        )
        .await
        .expect("grant");
        let publish = token_of(&registry, TokenKind::Publish, seller.id, None).await;
        let org = token_of(&registry, TokenKind::Org, seller.id, Some(org.id)).await;
        let state = RubygemsState::new(
            registry.clone(),
            RubygemsConfig {
                public_url: "http://reg.test".into(),
                max_publish_bytes: 1024 * 1024,
            },
        );
        let router = Router::new().nest("/{seller}/gems", tollgate_rubygems::router(state));
        Self {
            router,
            registry,
            _dir: dir,
            publish,
            org,
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, token)
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `GET path` with the org token, and how many package lookups it made.
    async fn get(&self, path: &str) -> (StatusCode, String, u64) {
        let before = self.lookups();
        let (status, body) = self.call("GET", path, &self.org, Vec::new()).await;
        (status, body, self.lookups() - before)
    }

    /// Lookups in the registry's per-name package cache (each hit or miss).
    fn lookups(&self) -> u64 {
        let c = self.registry.metrics().cache("packages");
        c.hits.get() + c.misses.get()
    }
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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

fn gem(yaml: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        ("metadata.gz", gzip(yaml.as_bytes())),
        ("data.tar.gz", gzip(b"")),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o444);
        header.set_cksum();
        tar.append_data(&mut header, name, &bytes[..])
            .expect("tar entry");
    }
    tar.into_inner().expect("tar")
}

/// Issue 16 row 4: `a-1-1-…` 30 000 times, with an org token, on both paths taking a full
/// name. Before: 30 000 lookups, each a query and a cached "not found", seconds per request.
#[tokio::test]
async fn a_30000_segment_file_name_is_404_without_a_lookup() {
    let app = TestApp::new().await;
    let hostile = format!("a{}", "-1".repeat(30_000));
    for path in [
        format!("/acme/gems/quick/Marshal.4.8/{hostile}.gemspec.rz"),
        format!("/acme/gems/gems/{hostile}.gem"),
    ] {
        let started = Instant::now();
        let (status, body, lookups) = app.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(lookups, 0, "no package lookup for an impossible name");
        assert!(body.len() < 200, "the name is not echoed whole: {body}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    // The counter does count: a plausible name that does not exist is one lookup, and a full
    // name with every split plausible at most four.
    let (status, _, lookups) = app
        .get("/acme/gems/quick/Marshal.4.8/nothere-1.0.gemspec.rz")
        .await;
    assert_eq!((status, lookups), (StatusCode::NOT_FOUND, 1));
    let (status, _, lookups) = app.get("/acme/gems/gems/b-1-1-1-1-1.gem").await;
    assert_eq!((status, lookups), (StatusCode::NOT_FOUND, 4));
}

#[tokio::test]
async fn impossible_names_are_404_without_a_lookup() {
    let app = TestApp::new().await;
    let long = "a".repeat(129);
    let long_full = format!("{long}-1.0");
    for path in [
        format!("/acme/gems/info/{long}"),
        "/acme/gems/info/a%20b".into(),
        "/acme/gems/info/...".into(),
        "/acme/gems/info/%C3%A9".into(),
        format!("/acme/gems/gems/{long_full}.gem"),
        format!("/acme/gems/quick/Marshal.4.8/{long_full}.gemspec.rz"),
        "/acme/gems/gems/demo_gem.gem".into(),
        "/acme/gems/gems/demo_gem-x.gem".into(),
        "/acme/gems/gems/demo_gem-1.0-a-b-c-d.gem".into(),
        "/acme/gems/gems/demo_gem-1.0.tar".into(),
        "/acme/gems/quick/Marshal.4.8/a%2Fb-1.0.gemspec.rz".into(),
    ] {
        let (status, body, lookups) = app.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(lookups, 0, "{path}");
    }
    // `/api/v1/dependencies` is not served (Bundler goes on to the compact index): whatever
    // the list, a 404 that reads nothing.
    let many: Vec<String> = (0..10_000).map(|i| format!("g{i}")).collect();
    let (status, _, lookups) = app
        .get(&format!(
            "/acme/gems/api/v1/dependencies?gems={}",
            many.join(",")
        ))
        .await;
    assert_eq!((status, lookups), (StatusCode::NOT_FOUND, 0));
    // A valid name is looked up (and is not there).
    let (status, _, lookups) = app.get("/acme/gems/info/nothere").await;
    assert_eq!((status, lookups), (StatusCode::NOT_FOUND, 1));
}

/// Real names still work on every path that takes one.
#[tokio::test]
async fn a_pushed_gem_is_found_by_its_names() {
    let app = TestApp::new().await;
    let (status, body) = app
        .call(
            "POST",
            "/acme/gems/api/v1/gems",
            &app.publish,
            gem(REAL_YAML),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = app.get("/acme/gems/info/demo_gem").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("0.3.1.pre2-x86_64-linux rake:"), "{body}");
    for path in [
        format!("/acme/gems/quick/Marshal.4.8/{FULL_NAME}.gemspec.rz"),
        format!("/acme/gems/gems/{FULL_NAME}.gem"),
    ] {
        let (status, body, lookups) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(lookups <= 4, "{path}: {lookups}");
    }
}

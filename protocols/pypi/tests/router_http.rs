//! The PyPI index through the real router (no network): wheels and sdists built here, uploaded
//! as twine sends them (multipart, Basic `__token__:TOKEN`), then read back as pip and uv read
//! them (the simple API in JSON and HTML, PEP 658 metadata, downloads), under every kind of
//! licence: live, never granted, ended, ended with perpetual fallback.

use std::io::Write;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tollgate_pypi::{PypiConfig, PypiState};
use tollgate_registry::Registry;
use tollgate_registry::domain::{Ecosystem, PackageRef, TokenKind, VersionRule};
use tollgate_registry::ecosystem::EcosystemInfo;
use tollgate_registry::ids::{OrgId, ProductId, SellerId};
use tollgate_registry::registry::Caller;
use tollgate_registry::store::{FsStore, Store};
use tollgate_registry::time::Timestamp;
use tower::ServiceExt;

const JSON: &str = "application/vnd.pypi.simple.v1+json";
/// What pip 26 sends on a project page.
const PIP_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
const WHEEL_1: &str = "acme_pro-1.0.0-py3-none-any.whl";
const SDIST_1: &str = "acme_pro-1.0.0.tar.gz";
const WHEEL_2: &str = "acme_pro-2.0.0-py3-none-any.whl";
/// 2025-10-01T00:00:00Z, the end of the ended licences.
const ENDED: Timestamp = Timestamp(1_759_276_800_000);

struct TestApp {
    router: Router,
    registry: Registry,
    _dir: tempfile::TempDir,
    seller: SellerId,
    pro: ProductId,
    /// Publish token of the seller.
    publish: String,
    /// Org token of `buyer`, licensed to Acme Pro with no end.
    org: String,
}

/// A response, with the reason phrase pip, uv and twine print.
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    reason: Option<String>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ASCII header")
    }

    /// An error's reason phrase, which is also its body.
    fn reason(&self) -> &str {
        let reason = self
            .reason
            .as_deref()
            .unwrap_or_else(|| panic!("no reason phrase: {} {}", self.status, self.text()));
        assert_eq!(
            reason,
            self.text().trim_end(),
            "reason phrase and body differ"
        );
        reason
    }
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}: {}", self.status, self.reason, self.text())
    }
}

fn basic(token: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("__token__:{token}")))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
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
        let seller = registry
            .create_seller("acme", "Acme", "a@acme.test")
            .await
            .expect("seller");
        let pro = registry
            .create_product(
                seller.id,
                "pro",
                "Acme Pro",
                &[
                    "pypi:acme-pro".parse().expect("ref"),
                    "pypi:acme-core".parse().expect("ref"),
                ],
            )
            .await
            .expect("product");
        let publish = token_of(&registry, TokenKind::Publish, seller.id, None).await;
        let state = PypiState::new(
            registry.clone(),
            PypiConfig {
                public_url: "http://reg.test".into(),
                max_publish_bytes: 4 * 1024 * 1024,
            },
        );
        let router = Router::new().nest(
            &tollgate_pypi::ecosystem::ECOSYSTEM.nest_path(),
            tollgate_pypi::router(state),
        );
        let mut app = Self {
            router,
            registry,
            _dir: dir,
            seller: seller.id,
            pro: pro.id,
            publish,
            org: String::new(),
        };
        app.org = app
            .org_token("buyer", Some((None, VersionRule::WhileActive)))
            .await;
        app
    }

    /// A new org's token; `grant` = its Acme Pro licence (end, rule), `None` for no licence.
    async fn org_token(
        &self,
        slug: &str,
        grant: Option<(Option<Timestamp>, VersionRule)>,
    ) -> String {
        let org = self
            .registry
            .create_org(self.seller, slug, slug)
            .await
            .expect("org");
        if let Some((ends, rule)) = grant {
            self.grant(org.id, self.pro, ends, rule).await;
        }
        token_of(&self.registry, TokenKind::Org, self.seller, Some(org.id)).await
    }

    async fn grant(
        &self,
        org: OrgId,
        product: ProductId,
        ends: Option<Timestamp>,
        rule: VersionRule,
    ) {
        self.registry
            .grant(org, product, Timestamp(0), ends, rule, "test")
            .await
            .expect("grant");
    }

    async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let headers = resp.headers().clone();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec();
        Resp {
            status,
            headers,
            body,
            reason,
        }
    }

    /// `GET path` with `token` (Basic, as pip sends it) and these headers.
    async fn get_with(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Resp {
        let mut req = Request::builder().method("GET").uri(path);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, basic(token));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    async fn get(&self, path: &str, token: &str, accept: Option<&str>) -> Resp {
        match accept {
            Some(a) => self.get_with(path, Some(token), &[("accept", a)]).await,
            None => self.get_with(path, Some(token), &[]).await,
        }
    }

    /// The project page of `project` as JSON, with `token`.
    async fn page_json(&self, project: &str, token: &str) -> Value {
        let r = self
            .get(&format!("/acme/pypi/simple/{project}/"), token, Some(JSON))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        r.json()
    }

    /// `POST path` with a multipart body of `fields` and the file, as twine sends it.
    async fn post_form(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, String)],
        file: &str,
        bytes: &[u8],
    ) -> Resp {
        let (content_type, body) = multipart(fields, file, bytes);
        self.post_body(path, token, content_type, body).await
    }

    /// `POST path` with this `Content-Type` and body.
    async fn post_body(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: String,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, basic(token));
        }
        self.send(req.body(Body::from(body)).expect("request"))
            .await
    }

    /// Uploads `file` with twine's fields, with the publish token.
    async fn upload(&self, file: &str, bytes: &[u8]) -> Resp {
        self.post_form(
            "/acme/pypi/upload/",
            Some(&self.publish),
            &twine_fields(file, bytes),
            file,
            bytes,
        )
        .await
    }

    async fn upload_ok(&self, file: &str, bytes: &[u8]) {
        let r = self.upload(file, bytes).await;
        assert_eq!(r.status, StatusCode::OK, "{file}: {r:?}");
    }

    /// Lookups in the registry's per-name package cache (each hit or miss).
    fn lookups(&self) -> u64 {
        let c = self.registry.metrics().cache("packages");
        c.hits.get() + c.misses.get()
    }

    async fn yank(&self, file: &str, yanked: bool) {
        let seller = self.registry.seller("acme").await.expect("seller");
        self.registry
            .set_yanked(
                &Caller::seller(&seller, "test"),
                &PackageRef {
                    ecosystem: Ecosystem::Pypi,
                    name: "acme-pro".into(),
                },
                file,
                yanked,
            )
            .await
            .expect("yank");
    }
}

async fn token_of(
    registry: &Registry,
    kind: TokenKind,
    seller: SellerId,
    org: Option<OrgId>,
) -> String {
    registry
        .issue_token(kind, seller, org, None, vec![])
        .await
        .expect("token")
        .secret
}

/// An upload form's text fields.
type Fields = Vec<(&'static str, String)>;

/// `multipart/form-data` as twine writes it: text fields, then `content` with its file name.
fn multipart(fields: &[(&str, String)], file: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    multipart_with(fields, file, bytes, Some("application/octet-stream"))
}

/// `multipart/form-data` with the file part's type, if any (uv sends none).
fn multipart_with(
    fields: &[(&str, String)],
    file: &str,
    bytes: &[u8],
    part_type: Option<&str>,
) -> (String, Vec<u8>) {
    let boundary = "c3f1b9a2e5d84b7f9e0a1d2c3b4a5968";
    let mut body = Vec::new();
    for (name, value) in fields {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
        .expect("write");
    }
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file}\"\r\n"
    )
    .expect("write");
    if let Some(t) = part_type {
        write!(body, "Content-Type: {t}\r\n").expect("write");
    }
    body.extend_from_slice(b"\r\n");
    body.extend_from_slice(bytes);
    write!(body, "\r\n--{boundary}--\r\n").expect("write");
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The fields twine 7 sends for `file`, with every digest right.
fn twine_fields(file: &str, bytes: &[u8]) -> Fields {
    // Name and version as twine reads them (from the file's start), even for a file name the
    // index refuses.
    let mut parts = file.splitn(3, '-');
    let project = tollgate_pypi::name::normalize(parts.next().unwrap_or_default());
    let version = parts
        .next()
        .unwrap_or_default()
        .trim_end_matches(".tar.gz")
        .to_owned();
    let (filetype, pyversion) = if file.ends_with(".whl") {
        ("bdist_wheel", "py3")
    } else {
        ("sdist", "source")
    };
    use blake2::digest::consts::U32;
    vec![
        (":action", "file_upload".into()),
        ("protocol_version", "1".into()),
        ("name", project),
        ("version", version),
        ("metadata_version", "2.1".into()),
        ("filetype", filetype.into()),
        ("pyversion", pyversion.into()),
        ("summary", "Acme tools".into()),
        ("requires_python", ">=3.8".into()),
        ("classifiers", "Programming Language :: Python :: 3".into()),
        ("classifiers", "License :: Other/Proprietary License".into()),
        ("sha256_digest", sha256(bytes)),
        (
            "blake2_256_digest",
            hex::encode(blake2::Blake2b::<U32>::digest(bytes)),
        ),
    ]
}

/// `fields` with `key` set to `value`.
fn with(mut fields: Fields, key: &str, value: &str) -> Fields {
    for (k, v) in &mut fields {
        if *k == key {
            *v = value.to_owned();
        }
    }
    fields
}

/// Core metadata of `name` at `version`.
fn core_metadata(name: &str, version: &str, requires_python: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: Acme tools\nRequires-Python: {requires_python}\nRequires-Dist: acme-core>=1.0\n\nAcme Pro, the long description.\n"
    )
}

/// A wheel of `dist` (the file name's `acme_pro`) at `version`, with `metadata` as its
/// `METADATA` and `code` as its module.
fn wheel(dist: &str, version: &str, metadata: &str, code: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let info = format!("{dist}-{version}.dist-info");
    for (path, text) in [
        (format!("{dist}/__init__.py"), code.to_owned()),
        (format!("{info}/METADATA"), metadata.to_owned()),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .into(),
        ),
        (
            format!("{info}/RECORD"),
            format!("{dist}/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n"),
        ),
    ] {
        zip.start_file(path, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// The usual wheel of acme-pro at `version`.
fn pro_wheel(version: &str, code: &str) -> (String, Vec<u8>) {
    let meta = core_metadata("acme-pro", version, ">=3.8");
    (meta.clone(), wheel("acme_pro", version, &meta, code))
}

/// An sdist whose top directory is `top`, with `pkg_info` as its `PKG-INFO`.
fn sdist(top: &str, pkg_info: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, text) in [
        (format!("{top}/PKG-INFO"), pkg_info),
        (
            format!("{top}/pyproject.toml"),
            "[project]\nname = \"acme-pro\"\n",
        ),
        (format!("{top}/src/acme_pro/__init__.py"), "X = 1\n"),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, text.as_bytes())
            .expect("tar entry");
    }
    let tar = tar.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// `location` resolved against the request path `base` (enough for `../x/` and `x/`).
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with('/') {
        return location.to_owned();
    }
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for seg in location.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[tokio::test]
async fn an_upload_is_checked_against_its_file() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    // twine posts to the index's base URL.
    let r = app
        .post_form(
            "/acme/pypi/",
            Some(&app.publish),
            &twine_fields(WHEEL_1, &w1),
            WHEEL_1,
            &w1,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // The same bytes again: a retried upload succeeds.
    let r = app.upload(WHEEL_1, &w1).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Other bytes under the same file name.
    let (_, other) = pro_wheel("1.0.0", "X = 2\n");
    assert_ne!(other, w1);
    let r = app.upload(WHEEL_1, &other).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.reason().starts_with("File already exists"), "{r:?}");

    // One sdist per release, whatever the file name spells the version as.
    let s1 = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    app.upload_ok(SDIST_1, &s1).await;
    let second = "acme_pro-1.0.tar.gz";
    let s2 = sdist("acme_pro-1.0", &core_metadata("acme-pro", "1.0", ">=3.8"));
    let r = app.upload(second, &s2).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.reason().contains("Only one sdist"), "{r:?}");

    // The form's name is another project than the file's (acme-core is the seller's too).
    let (_, w) = pro_wheel("1.1.0", "X = 1\n");
    let file = "acme_pro-1.1.0-py3-none-any.whl";
    let fields = with(twine_fields(file, &w), "name", "acme-core");
    let r = app
        .post_form("/acme/pypi/upload/", Some(&app.publish), &fields, file, &w)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(
        r.reason().contains("Start filename for 'acme-core'"),
        "{r:?}"
    );

    // METADATA says another version than the file name.
    let file = "acme_pro-1.2.0-py3-none-any.whl";
    let w = wheel(
        "acme_pro",
        "1.2.0",
        &core_metadata("acme-pro", "1.2.1", ">=3.8"),
        "X = 1\n",
    );
    let r = app.upload(file, &w).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert_eq!(
        r.reason(),
        "Version in filename should be '1.2.1' not '1.2.0'.",
        "{r:?}"
    );

    // A digest that is not the bytes'.
    let (_, w) = pro_wheel("1.3.0", "X = 1\n");
    let file = "acme_pro-1.3.0-py3-none-any.whl";
    for field in ["sha256_digest", "blake2_256_digest", "md5_digest"] {
        // poetry adds an MD5 digest.
        let mut fields = twine_fields(file, &w);
        fields.push(("md5_digest", hex::encode(md5::Md5::digest(&w))));
        let fields = with(fields, field, &sha256(b"other bytes")[..32]);
        let r = app
            .post_form("/acme/pypi/upload/", Some(&app.publish), &fields, file, &w)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {r:?}");
        assert!(r.reason().contains(field), "{r:?}");
    }
    // The same file with its digests right is taken: only the digest was wrong. uv sends
    // no type on the file part, and its digests in upper case hex is still the same digest.
    let fields = with(
        twine_fields(file, &w),
        "sha256_digest",
        &sha256(&w).to_uppercase(),
    );
    let (content_type, body) = multipart_with(&fields, file, &w, None);
    let r = app
        .post_body("/acme/pypi/upload/", Some(&app.publish), content_type, body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Only what was accepted is listed.
    let page = app.page_json("acme-pro", &app.org).await;
    let mut files: Vec<&str> = page["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["filename"].as_str().expect("filename"))
        .collect();
    files.sort_unstable();
    assert_eq!(files, [WHEEL_1, SDIST_1, file]);
    let listed = page["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["filename"] == WHEEL_1)
        .expect("wheel 1");
    assert_eq!(
        listed["hashes"]["sha256"],
        sha256(&w1),
        "the first bytes stay"
    );
}

#[tokio::test]
async fn only_a_publish_token_uploads() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    let fields = twine_fields(WHEEL_1, &w);

    let r = app
        .post_form("/acme/pypi/upload/", Some(&app.org), &fields, WHEEL_1, &w)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");

    let r = app
        .post_form("/acme/pypi/upload/", None, &fields, WHEEL_1, &w)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert!(
        r.header(header::WWW_AUTHENTICATE).starts_with("Basic "),
        "{:?}",
        r.headers
    );
    assert!(r.reason().contains("twine upload"), "{r:?}");

    let r = app
        .post_form(
            "/acme/pypi/upload/",
            Some("tg_not_a_token"),
            &fields,
            WHEEL_1,
            &w,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

    // Nothing was stored: the seller's own upload is the first.
    app.upload_ok(WHEEL_1, &w).await;
    let page = app.page_json("acme-pro", &app.org).await;
    assert_eq!(page["files"].as_array().expect("files").len(), 1);
}

/// pip and uv send credentials they have only after a Basic challenge; the seller's own
/// token reads its pages (`uv publish --check-url`).
#[tokio::test]
async fn reading_needs_a_token_and_the_seller_reads_its_own() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    let r = app
        .post_form(
            "/acme/pypi/legacy/",
            Some(&app.publish),
            &twine_fields(WHEEL_1, &w),
            WHEEL_1,
            &w,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    for path in [
        "/acme/pypi/simple/".to_owned(),
        "/acme/pypi/simple/acme-pro/".to_owned(),
        format!("/acme/pypi/files/{WHEEL_1}"),
        format!("/acme/pypi/files/{WHEEL_1}.metadata"),
    ] {
        for token in [None, Some("tg_not_a_token")] {
            let r = app.get_with(&path, token, &[("accept", JSON)]).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {r:?}");
            assert!(
                r.header(header::WWW_AUTHENTICATE).starts_with("Basic "),
                "{path}"
            );
            assert!(!r.text().contains(WHEEL_1), "{path}: {r:?}");
        }
    }
    let page = app.page_json("acme-pro", &app.publish).await;
    assert_eq!(page["files"][0]["hashes"]["sha256"], sha256(&w), "{page}");
    let r = app
        .get("/acme/pypi/simple/", &app.publish, Some(JSON))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.json()["projects"],
        serde_json::json!([{"name": "acme-pro"}])
    );
}

#[tokio::test]
async fn the_pages_list_every_file_with_its_hashes() {
    let app = TestApp::new().await;
    let (meta1, w1) = pro_wheel("1.0.0", "X = 1\n");
    let s1 = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    let meta2 = core_metadata("acme-pro", "2.0.0", ">=3.9");
    let w2 = wheel("acme_pro", "2.0.0", &meta2, "X = 2\n");
    for (file, bytes) in [(WHEEL_2, &w2), (WHEEL_1, &w1), (SDIST_1, &s1)] {
        app.upload_ok(file, bytes).await;
    }
    let wheels = [(WHEEL_1, &w1, &meta1), (WHEEL_2, &w2, &meta2)];

    // PEP 658: the METADATA bytes as they are in the wheel.
    for (file, _, meta) in wheels {
        let r = app
            .get(&format!("/acme/pypi/files/{file}.metadata"), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.text(), *meta);
    }

    // JSON, as pip asks for it.
    let r = app
        .get("/acme/pypi/simple/acme-pro/", &app.org, Some(PIP_ACCEPT))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header(header::CONTENT_TYPE), JSON);
    assert_eq!(r.header(header::VARY), "Accept");
    assert_eq!(r.header(header::CACHE_CONTROL), "private, no-cache");
    let json_etag = r.header(header::ETAG).to_owned();
    let page = r.json();
    assert_eq!(page["meta"]["api-version"], "1.1");
    assert_eq!(page["name"], "acme-pro");
    assert_eq!(page["versions"], serde_json::json!(["1.0.0", "2.0.0"]));
    let files = page["files"].as_array().expect("files");
    assert_eq!(files.len(), 3, "{page}");
    for (file, bytes, meta) in wheels {
        let f = files
            .iter()
            .find(|f| f["filename"] == file)
            .unwrap_or_else(|| panic!("{file} listed: {page}"));
        assert_eq!(f["hashes"]["sha256"], sha256(bytes), "{file}");
        assert_eq!(f["size"], bytes.len(), "{file}");
        assert_eq!(f["url"], format!("../../files/{file}"));
        assert_eq!(f["core-metadata"]["sha256"], sha256(meta.as_bytes()));
        assert_eq!(f["yanked"], false);
        assert!(
            f["upload-time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 27),
            "{f}"
        );
    }
    let f2 = files.iter().find(|f| f["filename"] == WHEEL_2).expect("2");
    assert_eq!(f2["requires-python"], ">=3.9");
    let sd = files
        .iter()
        .find(|f| f["filename"] == SDIST_1)
        .expect("sdist");
    assert_eq!(sd["hashes"]["sha256"], sha256(&s1));
    assert_eq!(sd["core-metadata"], false, "no PEP 658 file for an sdist");

    // HTML, asked for and by default.
    let mut html_etag = None;
    for accept in [Some("text/html"), None] {
        let r = app
            .get("/acme/pypi/simple/acme-pro/", &app.org, accept)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(r.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert_eq!(r.header(header::VARY), "Accept");
        let html = r.text();
        for (file, bytes, meta) in wheels {
            let link = format!("<a href=\"../../files/{file}#sha256={}\"", sha256(bytes));
            let at = html.find(&link).unwrap_or_else(|| panic!("{link}: {html}"));
            let tag = &html[at..at + html[at..].find('>').expect("tag end")];
            assert!(
                tag.contains(&format!(
                    "data-core-metadata=\"sha256={}\"",
                    sha256(meta.as_bytes())
                )),
                "{tag}"
            );
            assert!(!tag.contains("data-yanked"), "{tag}");
        }
        assert!(html.contains("data-requires-python=\"&gt;=3.9\""), "{html}");
        let link = format!("<a href=\"../../files/{SDIST_1}#sha256={}\"", sha256(&s1));
        let at = html.find(&link).unwrap_or_else(|| panic!("{link}: {html}"));
        let tag = &html[at..at + html[at..].find('>').expect("tag end")];
        assert!(!tag.contains("core-metadata"), "{tag}");
        html_etag = Some(r.header(header::ETAG).to_owned());
    }
    let html_etag = html_etag.expect("etag");
    // Every link, followed as pip follows it, is the file its fragment's hash names.
    let html = app
        .get("/acme/pypi/simple/acme-pro/", &app.org, Some("text/html"))
        .await
        .text();
    let mut followed = 0;
    for line in html.lines().filter(|l| l.starts_with("<a href=\"")) {
        let start = "<a href=\"".len();
        let href = &line[start..start + line[start..].find('"').expect("end")];
        let (url, hash) = href.split_once("#sha256=").expect("a hash");
        let r = app
            .get(&resolve("/acme/pypi/simple/acme-pro/", url), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{href}: {r:?}");
        assert_eq!(sha256(&r.body), hash, "{href}");
        followed += 1;
    }
    assert_eq!(followed, 3, "{html}");
    assert_ne!(html_etag, json_etag);

    // Revalidation: the same page is 304; the other form's tag is not this one's.
    let path = "/acme/pypi/simple/acme-pro/";
    let r = app
        .get_with(
            path,
            Some(&app.org),
            &[("accept", JSON), ("if-none-match", &json_etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{r:?}");
    assert!(r.body.is_empty());
    assert_eq!(r.header(header::ETAG), json_etag);
    let r = app
        .get_with(
            path,
            Some(&app.org),
            &[("accept", JSON), ("if-none-match", &html_etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A new file changes the page.
    let (_, w3) = pro_wheel("3.0.0", "X = 3\n");
    app.upload_ok("acme_pro-3.0.0-py3-none-any.whl", &w3).await;
    let r = app
        .get_with(
            path,
            Some(&app.org),
            &[("accept", JSON), ("if-none-match", &json_etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.json()["versions"],
        serde_json::json!(["1.0.0", "2.0.0", "3.0.0"])
    );

    // Other spellings of the name go to the normalized one (PEP 503).
    for from in [
        "/acme/pypi/simple/Acme_Pro/",
        "/acme/pypi/simple/acme.pro/",
        "/acme/pypi/simple/Acme_Pro",
        "/acme/pypi/simple/acme-pro",
    ] {
        let r = app.get(from, &app.org, Some(JSON)).await;
        assert!(r.status.is_redirection(), "{from}: {r:?}");
        assert_eq!(
            resolve(from, r.header(header::LOCATION)),
            "/acme/pypi/simple/acme-pro/",
            "{from}"
        );
    }
}

#[tokio::test]
async fn each_org_sees_what_its_licence_covers() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let core = wheel(
        "acme_core",
        "1.0.0",
        &core_metadata("acme-core", "1.0.0", ">=3.8"),
        "C = 1\n",
    );
    let core_file = "acme_core-1.0.0-py3-none-any.whl";
    app.upload_ok(core_file, &core).await;
    // A product of acme-core alone, and an org licensed to it only.
    let core_only = app
        .registry
        .create_product(
            app.seller,
            "core",
            "Acme Core",
            &["pypi:acme-core".parse().expect("ref")],
        )
        .await
        .expect("product");
    let partial_org = app
        .registry
        .create_org(app.seller, "partial", "Partial")
        .await
        .expect("org");
    app.grant(partial_org.id, core_only.id, None, VersionRule::WhileActive)
        .await;
    let partial = token_of(
        &app.registry,
        TokenKind::Org,
        app.seller,
        Some(partial_org.id),
    )
    .await;
    let stranger = app.org_token("stranger", None).await;

    let names = |r: &Resp| -> Vec<String> {
        let mut n: Vec<String> = r.json()["projects"]
            .as_array()
            .expect("projects")
            .iter()
            .map(|p| p["name"].as_str().expect("name").to_owned())
            .collect();
        n.sort_unstable();
        n
    };
    let r = app.get("/acme/pypi/simple/", &app.org, Some(JSON)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(names(&r), ["acme-core", "acme-pro"]);
    let r = app.get("/acme/pypi/simple/", &partial, Some(JSON)).await;
    assert_eq!(names(&r), ["acme-core"]);
    let r = app
        .get("/acme/pypi/simple/", &partial, Some("text/html"))
        .await;
    let html = r.text();
    assert!(
        html.contains("<a href=\"acme-core/\">acme-core</a>"),
        "{html}"
    );
    assert!(!html.contains("acme-pro"), "{html}");
    let r = app.get("/acme/pypi/simple/", &stranger, Some(JSON)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(names(&r).is_empty(), "{r:?}");

    // What is not listed is not found, on the page and the file.
    for (token, path) in [
        (&partial, "/acme/pypi/simple/acme-pro/".to_owned()),
        (&partial, format!("/acme/pypi/files/{WHEEL_1}")),
        (&partial, format!("/acme/pypi/files/{WHEEL_1}.metadata")),
        (&stranger, "/acme/pypi/simple/acme-pro/".to_owned()),
        (&stranger, "/acme/pypi/simple/acme-core/".to_owned()),
        (&stranger, format!("/acme/pypi/files/{core_file}")),
    ] {
        let r = app.get(&path, token, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
    }
    let r = app
        .get(&format!("/acme/pypi/files/{core_file}"), &partial, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, core);
}

#[tokio::test]
async fn an_ended_licence_says_when_it_ended() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let lapsed = app
        .org_token("lapsed", Some((Some(ENDED), VersionRule::WhileActive)))
        .await;
    for path in [
        "/acme/pypi/simple/".to_owned(),
        "/acme/pypi/simple/acme-pro/".to_owned(),
        format!("/acme/pypi/files/{WHEEL_1}"),
        format!("/acme/pypi/files/{WHEEL_1}.metadata"),
    ] {
        let r = app.get(&path, &lapsed, Some(PIP_ACCEPT)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {r:?}");
        let reason = r.reason();
        assert!(
            reason.contains("ended on 2025-10-01") && reason.contains("Acme Pro"),
            "{path}: {reason}"
        );
    }
}

#[tokio::test]
async fn perpetual_fallback_keeps_the_files_published_before_the_end() {
    let app = TestApp::new().await;
    let (meta1, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let end = Timestamp::now();
    let loyal = app
        .org_token("loyal", Some((Some(end), VersionRule::PerpetualFallback)))
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, w2) = pro_wheel("2.0.0", "X = 2\n");
    app.upload_ok(WHEEL_2, &w2).await;

    let page = app.page_json("acme-pro", &loyal).await;
    assert_eq!(page["versions"], serde_json::json!(["1.0.0"]), "{page}");
    let files = page["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{page}");
    assert_eq!(files[0]["filename"], WHEEL_1);
    let html = app
        .get("/acme/pypi/simple/acme-pro/", &loyal, Some("text/html"))
        .await
        .text();
    assert!(html.contains(WHEEL_1) && !html.contains(WHEEL_2), "{html}");
    // The buyer with a live licence sees both.
    assert_eq!(
        app.page_json("acme-pro", &app.org).await["versions"],
        serde_json::json!(["1.0.0", "2.0.0"])
    );

    let r = app
        .get(&format!("/acme/pypi/files/{WHEEL_1}"), &loyal, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, w1);
    let r = app
        .get(
            &format!("/acme/pypi/files/{WHEEL_1}.metadata"),
            &loyal,
            None,
        )
        .await;
    assert_eq!(r.text(), meta1);
    // An org whose fallback ended before anything was published keeps nothing: the reason,
    // not a 404 that would send uv to its next index.
    let early = app
        .org_token("early", Some((Some(ENDED), VersionRule::PerpetualFallback)))
        .await;
    for path in [
        "/acme/pypi/simple/".to_owned(),
        "/acme/pypi/simple/acme-pro/".to_owned(),
        format!("/acme/pypi/files/{WHEEL_1}"),
    ] {
        let r = app.get(&path, &early, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {r:?}");
        assert!(r.reason().contains("ended on 2025-10-01"), "{path}: {r:?}");
    }

    for path in [
        format!("/acme/pypi/files/{WHEEL_2}"),
        format!("/acme/pypi/files/{WHEEL_2}.metadata"),
    ] {
        let r = app.get(&path, &loyal, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {r:?}");
        let reason = r.reason();
        assert!(
            reason.contains(&format!("ended on {}", end.date()))
                && reason.contains("published before then stay available"),
            "{reason}"
        );
    }
}

#[tokio::test]
async fn downloads_are_the_uploaded_bytes_yanked_or_not() {
    let app = TestApp::new().await;
    let (meta1, w1) = pro_wheel("1.0.0", "X = 1\n");
    let (_, w2) = pro_wheel("2.0.0", "X = 2\n");
    let s1 = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    for (file, bytes) in [(WHEEL_1, &w1), (WHEEL_2, &w2), (SDIST_1, &s1)] {
        app.upload_ok(file, bytes).await;
    }
    for (file, bytes) in [(WHEEL_1, &w1), (WHEEL_2, &w2), (SDIST_1, &s1)] {
        let r = app
            .get(&format!("/acme/pypi/files/{file}"), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{file}: {r:?}");
        assert_eq!(r.header(header::CONTENT_TYPE), "application/octet-stream");
        assert!(r.body == **bytes, "{file}: other bytes");
    }
    // PEP 658 metadata is a wheel's only.
    let r = app
        .get(
            &format!("/acme/pypi/files/{SDIST_1}.metadata"),
            &app.org,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // A file that is not there.
    for file in [
        "acme_pro-9.0.0-py3-none-any.whl",
        "acme_pro-9.0.0-py3-none-any.whl.metadata",
    ] {
        let r = app
            .get(&format!("/acme/pypi/files/{file}"), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{file}: {r:?}");
    }

    // Yanked (PEP 592): listed as such, and still downloads.
    app.yank(WHEEL_1, true).await;
    let page = app.page_json("acme-pro", &app.org).await;
    for f in page["files"].as_array().expect("files") {
        let yanked = f["filename"] == WHEEL_1;
        assert_eq!(f["yanked"], yanked, "{f}");
    }
    assert_eq!(page["versions"], serde_json::json!(["1.0.0", "2.0.0"]));
    let html = app
        .get("/acme/pypi/simple/acme-pro/", &app.org, Some("text/html"))
        .await
        .text();
    let line = |file: &str| {
        html.lines()
            .find(|l| l.contains(&format!("files/{file}#")))
            .unwrap_or_else(|| panic!("{file}: {html}"))
            .to_owned()
    };
    assert!(line(WHEEL_1).contains(" data-yanked"), "{html}");
    assert!(!line(WHEEL_2).contains("data-yanked"), "{html}");
    assert!(!line(SDIST_1).contains("data-yanked"), "{html}");
    let r = app
        .get(&format!("/acme/pypi/files/{WHEEL_1}"), &app.org, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body == w1);
    let r = app
        .get(
            &format!("/acme/pypi/files/{WHEEL_1}.metadata"),
            &app.org,
            None,
        )
        .await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, meta1));
    // Unyanked again.
    app.yank(WHEEL_1, false).await;
    let page = app.page_json("acme-pro", &app.org).await;
    assert!(
        page["files"]
            .as_array()
            .expect("files")
            .iter()
            .all(|f| f["yanked"] == false)
    );
}

#[tokio::test]
async fn impossible_names_are_404_without_a_lookup() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let long = "a".repeat(300);
    for path in [
        "/acme/pypi/simple/..%2f..%2fetc/".to_owned(),
        "/acme/pypi/simple/..%2f..%2fetc".to_owned(),
        "/acme/pypi/simple/a%20b/".to_owned(),
        "/acme/pypi/simple/%C3%A9/".to_owned(),
        "/acme/pypi/simple/-acme/".to_owned(),
        format!("/acme/pypi/simple/{long}/"),
        format!("/acme/pypi/simple/{long}"),
        format!("/acme/pypi/files/..%2f..%2f{WHEEL_1}"),
        format!("/acme/pypi/files/..%2f..%2f{WHEEL_1}.metadata"),
        format!("/acme/pypi/files/acme_pro%5c{WHEEL_1}"),
        format!("/acme/pypi/files/{long}-1.0-py3-none-any.whl"),
        format!("/acme/pypi/files/{long}-1.0-py3-none-any.whl.metadata"),
        format!(
            "/acme/pypi/files/acme_pro-{}-py3-none-any.whl",
            "1.".repeat(150)
        ),
        "/acme/pypi/files/acme_pro-1.0.0.zip".to_owned(),
        "/acme/pypi/files/acme_pro-1.0.0+local.tar.gz".to_owned(),
        "/acme/pypi/files/acme_pro-1.0.0-py3-any.whl".to_owned(),
        "/acme/pypi/files/acme%20pro-1.0.0.tar.gz".to_owned(),
    ] {
        let before = app.lookups();
        let r = app.get(&path, &app.org, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
        assert_eq!(app.lookups() - before, 0, "{path}: no package lookup");
        assert!(r.body.len() < 250, "{path}: the name is not echoed whole");
    }
    // The counter does count: a plausible name is looked up.
    for path in [
        "/acme/pypi/simple/nothere/",
        "/acme/pypi/files/nothere-1.0.tar.gz",
        "/acme/pypi/files/nothere-1.0-py3-none-any.whl.metadata",
    ] {
        let before = app.lookups();
        let r = app.get(path, &app.org, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
        assert!(app.lookups() > before, "{path}: looked up");
    }
    let before = app.lookups();
    let r = app
        .get(&format!("/acme/pypi/files/{WHEEL_1}"), &app.org, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(app.lookups() > before);
}

/// What twine, uv and poetry may send wrong, each refused with the sentence they print.
#[tokio::test]
async fn every_refused_upload_says_why() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    let post = |fields: Fields, file: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            app.post_form(
                "/acme/pypi/upload/",
                Some(&app.publish),
                &fields,
                file,
                &bytes,
            )
            .await
        }
    };
    let no_record = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("acme_pro-1.0.0.dist-info/METADATA", options)
            .expect("zip");
        zip.write_all(core_metadata("acme-pro", "1.0.0", ">=3.8").as_bytes())
            .expect("zip");
        zip.start_file("acme_pro-1.0.0.dist-info/WHEEL", options)
            .expect("zip");
        zip.finish().expect("zip").into_inner()
    };
    let other_name = wheel(
        "acme_pro",
        "1.0.0",
        &core_metadata("acme-core", "1.0.0", ">=3.8"),
        "X = 1\n",
    );
    let sdist_pkg_info = sdist("acme_pro-1.0.0", &core_metadata("acme-pro", "1.0.1", ""));
    // (what, the form's fields, the file name, its bytes, the reason)
    let cases: Vec<(&str, Fields, &'static str, Vec<u8>, &str)> = vec![
        (
            "register, as poetry sends it first",
            with(twine_fields(WHEEL_1, &w), ":action", "submit"),
            WHEEL_1,
            w.clone(),
            "Unsupported :action 'submit'",
        ),
        (
            "a wheel with no RECORD",
            twine_fields(WHEEL_1, &no_record),
            WHEEL_1,
            no_record.clone(),
            "RECORD is missing",
        ),
        (
            "METADATA of another project",
            twine_fields(WHEEL_1, &other_name),
            WHEEL_1,
            other_name.clone(),
            "('acme-core') is not the project of its file name ('acme-pro')",
        ),
        (
            "PKG-INFO of another version",
            twine_fields(SDIST_1, &sdist_pkg_info),
            SDIST_1,
            sdist_pkg_info.clone(),
            "Version in filename should be '1.0.1' not '1.0.0'.",
        ),
        (
            "the form's version is another",
            with(twine_fields(WHEEL_1, &w), "version", "1.0.1"),
            WHEEL_1,
            w.clone(),
            "Version in filename should be '1.0.1' not '1.0.0'.",
        ),
        (
            "filetype sdist for a wheel",
            with(twine_fields(WHEEL_1, &w), "filetype", "sdist"),
            WHEEL_1,
            w.clone(),
            "filetype 'sdist' does not match",
        ),
        (
            "a local version",
            twine_fields("acme_pro-1.0.0-py3-none-any.whl", &w),
            "acme_pro-1.0.0+local-py3-none-any.whl",
            w.clone(),
            "Invalid wheel file name",
        ),
        (
            "a path as the file name",
            twine_fields(WHEEL_1, &w),
            "../acme_pro-1.0.0-py3-none-any.whl",
            w.clone(),
            "Invalid distribution file name",
        ),
        (
            "an egg",
            twine_fields(WHEEL_1, &w),
            "acme_pro-1.0.0-py3.12.egg",
            w.clone(),
            "Invalid file extension",
        ),
    ];
    for (what, fields, file, bytes, reason) in cases {
        let r = post(fields, file, bytes).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {r:?}");
        assert!(r.reason().contains(reason), "{what}: {r:?}");
    }

    // twine sends the name as METADATA spells it; any spelling of the project is the project.
    let r = post(
        with(twine_fields(WHEEL_1, &w), "name", "Acme_Pro"),
        WHEEL_1,
        w.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Not a form at all.
    let req = Request::builder()
        .method("POST")
        .uri("/acme/pypi/upload/")
        .header(header::AUTHORIZATION, basic(&app.publish))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .expect("request");
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.reason().contains("multipart/form-data"), "{r:?}");

    // Larger than the limit (4 MiB here).
    let big = vec![7u8; 5 * 1024 * 1024];
    let file = "acme_pro-1.1.0-py3-none-any.whl";
    let r = post(twine_fields(file, &big), file, big.clone()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{r:?}");

    let page = app.page_json("acme-pro", &app.org).await;
    assert_eq!(page["files"].as_array().expect("files").len(), 1, "{page}");
}

/// `versions` (PEP 700) lists releases: two spellings of one version are one release, and
/// the order is PEP 440's.
#[tokio::test]
async fn versions_are_releases_in_pep_440_order() {
    let app = TestApp::new().await;
    let short = wheel(
        "acme_pro",
        "1.0",
        &core_metadata("acme-pro", "1.0", ">=3.8"),
        "X = 1\n",
    );
    app.upload_ok("acme_pro-1.0-py3-none-any.whl", &short).await;
    let s = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    app.upload_ok(SDIST_1, &s).await;
    for v in ["1.10.0", "1.9.0", "2.0.0rc1", "2.0.0"] {
        let (_, w) = pro_wheel(v, "X = 1\n");
        app.upload_ok(&format!("acme_pro-{v}-py3-none-any.whl"), &w)
            .await;
    }
    let page = app.page_json("acme-pro", &app.org).await;
    let versions: Vec<&str> = page["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v.as_str().expect("version"))
        .collect();
    assert_eq!(versions.len(), 5, "one entry per release: {versions:?}");
    assert!(matches!(versions[0], "1.0" | "1.0.0"), "{versions:?}");
    assert_eq!(versions[1..], ["1.9.0", "1.10.0", "2.0.0rc1", "2.0.0"]);
}

/// A download is recorded once per file fetched; `HEAD` (uv asks a wheel's size first) and
/// the PEP 658 metadata are not downloads, and `HEAD` follows the licence as `GET` does.
#[tokio::test]
async fn only_a_fetched_file_is_a_recorded_download() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let recorded = || async {
        app.registry
            .downloads(app.seller, 100)
            .await
            .expect("downloads")
    };
    let path = format!("/acme/pypi/files/{WHEEL_1}");
    let head = |token: String| {
        let path = path.clone();
        let app = &app;
        async move {
            let req = Request::builder()
                .method("HEAD")
                .uri(path)
                .header(header::AUTHORIZATION, basic(&token))
                .body(Body::empty())
                .expect("request");
            app.send(req).await
        }
    };
    let r = head(app.org.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header(header::CONTENT_LENGTH), w1.len().to_string());
    assert!(r.body.is_empty());
    let r = app.get(&format!("{path}.metadata"), &app.org, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(
        recorded().await.is_empty(),
        "HEAD and metadata are not downloads"
    );

    let stranger = app.org_token("stranger", None).await;
    let r = head(stranger).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let lapsed = app
        .org_token("lapsed", Some((Some(ENDED), VersionRule::WhileActive)))
        .await;
    let r = head(lapsed).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");

    let r = app.get(&path, &app.org, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let events = recorded().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].version, WHEEL_1);
    assert_eq!(events[0].package, "acme-pro");
}

/// A file's name is its project written as PEP 427 and PEP 625 write it (`acme_pro`): another
/// spelling of the same wheel is not a new file name that takes other bytes.
#[tokio::test]
async fn another_spelling_of_a_file_is_not_another_file() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    let (_, other) = pro_wheel("1.0.0", "X = 2\n");
    app.upload_ok(WHEEL_1, &w1).await;
    for file in [
        "Acme_Pro-1.0.0-py3-none-any.whl",
        "acme.pro-1.0.0-py3-none-any.whl",
        "ACME_PRO-1.0.0.tar.gz",
    ] {
        let bytes = if file.ends_with(".whl") {
            other.clone()
        } else {
            sdist(
                "ACME_PRO-1.0.0",
                &core_metadata("acme-pro", "1.0.0", ">=3.8"),
            )
        };
        let r = app.upload(file, &bytes).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file}: {r:?}");
    }
    let page = app.page_json("acme-pro", &app.org).await;
    assert_eq!(page["files"].as_array().expect("files").len(), 1, "{page}");
}

/// Wheel tags are letters, digits, `_` and `.` (PEP 425, PEP 427): a file name holding URL
/// syntax (`#`, `?`, `%`) or markup would be listed with a link no client can follow.
#[tokio::test]
async fn a_wheel_tag_is_letters_digits_and_dots() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    for file in [
        "acme_pro-1.0.0-py3-none-any#x.whl",
        "acme_pro-1.0.0-py3-none-any?x=1.whl",
        "acme_pro-1.0.0-py3-none-a%2541.whl",
        "acme_pro-1.0.0-1<b>x&amp;-py3-none-any.whl",
        "acme_pro-1.0.0-py3-none-any;x.whl",
    ] {
        let r = app.upload(file, &w).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file}: {r:?}");
        assert!(
            r.reason().contains("Invalid wheel file name"),
            "{file}: {r:?}"
        );
    }
}

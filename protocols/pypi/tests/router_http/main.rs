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
mod reads;
mod uploads;

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

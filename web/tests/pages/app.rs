//! `TestApp`: the real router over a SQLite database and a file store in a temporary directory,
//! built like crates.io's test app (`TestApp::new().with_seller("acme").with_org(…)…`), and a
//! `Client` that keeps the session cookie between requests, as a browser would.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use tempfile::TempDir;
use tollgate_billing::mail::Mailer;
use tollgate_billing::mail::eml::{self, ReadMail};
use tollgate_billing::service::{Billing, BillingConfig};
use tollgate_registry::Registry;
use tollgate_registry::db::LinkPurpose;
use tollgate_registry::domain::{
    Ecosystem, NewRelease, Org, PackageRef, Seat, Seller, TokenKind, VersionRule,
};
use tollgate_registry::registry::Options;
use tollgate_registry::secret::SecretBox;
use tollgate_registry::store::Store;
use tollgate_registry::time::Timestamp;
use tollgate_web::{SESSION_COOKIE, Web, WebConfig, csrf, links};
use tower::ServiceExt;

use crate::fake_stripe::FakeStripe;

/// The public URL the app believes it has (links are issued under it).
pub const PUBLIC_URL: &str = "http://tollgate.test";

/// Where "Connect with Stripe" sends a seller, with [`TestAppBuilder::with_fake_stripe`].
pub const CONNECT_BASE: &str = "https://connect.stripe.test";

/// A seller's sign-in address in every test: `boss@{slug}.test`.
pub fn seller_email(slug: &str) -> String {
    format!("boss@{slug}.test")
}

/// What to create before the app starts.
pub struct TestAppBuilder {
    public_url: String,
    sellers: Vec<String>,
    orgs: Vec<(String, String)>,
    seats: Vec<(String, String, bool)>,
    packages: Vec<(String, String)>,
    fake_stripe: bool,
}

/// The running app: the router, its registry, and where its mail goes.
pub struct TestApp {
    pub dir: TempDir,
    pub registry: Registry,
    pub router: Router,
    pub public_url: String,
    /// The Stripe API the app talks to, if built [`with_fake_stripe`](TestAppBuilder::with_fake_stripe).
    pub stripe: Option<FakeStripe>,
}

impl TestApp {
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> TestAppBuilder {
        TestAppBuilder {
            public_url: PUBLIC_URL.to_owned(),
            sellers: Vec::new(),
            orgs: Vec::new(),
            seats: Vec::new(),
            packages: Vec::new(),
            fake_stripe: false,
        }
    }
}

impl TestAppBuilder {
    /// Served under another public URL (`https://…` makes cookies `Secure`).
    pub fn public_url(mut self, url: &str) -> Self {
        self.public_url = url.to_owned();
        self
    }

    /// A seller `slug` named "`slug` Inc" whose address is [`seller_email`].
    pub fn with_seller(mut self, slug: &str) -> Self {
        self.sellers.push(slug.to_owned());
        self
    }

    /// An org `org` of `seller`, named "`org` Corporation". Org slugs are unique across a test's
    /// sellers so that [`with_seat`](Self::with_seat) can name the org alone.
    pub fn with_org(mut self, seller: &str, org: &str) -> Self {
        self.orgs.push((seller.to_owned(), org.to_owned()));
        self
    }

    /// An active seat of `org` held by `email`, an admin or a plain member.
    pub fn with_seat(mut self, org: &str, email: &str, admin: bool) -> Self {
        self.seats.push((org.to_owned(), email.to_owned(), admin));
        self
    }

    /// An npm package `name` of `seller` with release 1.0.0, in a product `name-plan` that
    /// every org of the seller is granted.
    pub fn with_package(mut self, seller: &str, name: &str) -> Self {
        self.packages.push((seller.to_owned(), name.to_owned()));
        self
    }

    /// Billing talks to a [`FakeStripe`] (Billing Portal sessions), and the server offers
    /// Stripe Connect (a platform key, a client id, authorize URLs under
    /// [`CONNECT_BASE`]). Sellers still have no Stripe connection unless a test stores one.
    pub fn with_fake_stripe(mut self) -> Self {
        self.fake_stripe = true;
        self
    }

    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("tollgate.db");
        let store = Store::connect(&dir.path().display().to_string())
            .await
            .expect("open the store");
        let registry = Registry::connect(
            &db_path.display().to_string(),
            store,
            Options { presign: None },
        )
        .await
        .expect("open the registry");
        let stripe = if self.fake_stripe {
            Some(FakeStripe::start().await)
        } else {
            None
        };
        let secrets = Arc::new(SecretBox::new(&[7u8; 32]));
        let mailer = Mailer::from_config(None, "Tollgate <t@example.test>", dir.path())
            .expect("file mailer");
        let billing = Billing::new(
            registry.clone(),
            secrets,
            mailer,
            BillingConfig {
                public_url: self.public_url.clone(),
                api_base: stripe.as_ref().map(|s| s.url.clone()),
                platform_key: stripe.as_ref().map(|_| "sk_test_platform".to_owned()),
                connect_webhook_secret: None,
                connect_base: stripe.as_ref().map(|_| CONNECT_BASE.to_owned()),
                connect_client_id: stripe.as_ref().map(|_| "ca_test_platform".to_owned()),
                ecosystems: Default::default(),
            },
        );
        let db = &registry;
        let mut sellers: HashMap<String, Seller> = HashMap::new();
        for slug in &self.sellers {
            let s = db
                .create_seller(slug, &format!("{slug} Inc"), &seller_email(slug))
                .await
                .expect("create seller");
            sellers.insert(slug.clone(), s);
        }
        let mut orgs: HashMap<String, Org> = HashMap::new();
        for (seller, slug) in &self.orgs {
            let s = &sellers[seller];
            let o = db
                .create_org(s.id, slug, &format!("{slug} Corporation"))
                .await
                .expect("create org");
            orgs.insert(slug.clone(), o);
        }
        for (org, email, admin) in &self.seats {
            let role = if *admin { "admin" } else { "member" };
            db.add_seat(orgs[org].id, email, role)
                .await
                .expect("add seat");
        }
        for (seller, name) in &self.packages {
            let s = &sellers[seller];
            let package = PackageRef {
                ecosystem: Ecosystem::Npm,
                name: name.clone(),
            };
            let bytes = format!("tarball of {name}");
            let blob = registry
                .store()
                .put_bytes(bytes.as_bytes())
                .await
                .expect("store blob");
            let publisher = db
                .issue_token(TokenKind::Publish, s.id, None, None, Vec::new())
                .await
                .expect("publish token");
            let caller = db
                .authenticate(s, Some(&publisher.secret))
                .await
                .unwrap_or_else(|_| panic!("the publish token of {}", s.slug));
            db.publish(
                &caller,
                NewRelease {
                    seller_id: s.id,
                    ecosystem: Ecosystem::Npm,
                    package: name.clone(),
                    version: "1.0.0".into(),
                    blob_sha256: blob.sha256.clone(),
                    size: bytes.len() as i64,
                    metadata: serde_json::json!({ "name": name, "version": "1.0.0" }),
                    dist_tags: vec![("latest".into(), "1.0.0".into())],
                },
                bytes.as_bytes(),
            )
            .await
            .expect("publish");
            let product = db
                .create_product(
                    s.id,
                    &format!("{name}-plan"),
                    &format!("{name} plan"),
                    &[package],
                )
                .await
                .expect("create product");
            for (of, org) in &self.orgs {
                if of == seller {
                    db.grant(
                        orgs[org].id,
                        product.id,
                        Timestamp(0),
                        None,
                        VersionRule::WhileActive,
                        "manual",
                    )
                    .await
                    .expect("grant");
                }
            }
        }
        let web = Web::new(
            registry.clone(),
            billing,
            WebConfig {
                public_url: self.public_url.clone(),
                ecosystems: Default::default(),
            },
        );
        TestApp {
            dir,
            registry,
            router: tollgate_web::router(web),
            public_url: self.public_url,
            stripe,
        }
    }
}

impl TestApp {
    /// The core's operations, as the pages call them.
    pub fn db(&self) -> &Registry {
        &self.registry
    }

    pub async fn seller(&self, slug: &str) -> Seller {
        Seller::clone(&self.db().seller(slug).await.expect("seller"))
    }

    pub async fn org(&self, seller: &str, org: &str) -> Org {
        let s = self.seller(seller).await;
        self.db().org(s.id, org).await.expect("org")
    }

    pub async fn seat(&self, seller: &str, org: &str, email: &str) -> Seat {
        let o = self.org(seller, org).await;
        self.db()
            .seats(o.id)
            .await
            .expect("seats")
            .into_iter()
            // Stored folded (see `normalized_email`): found in any case.
            .find(|s| s.email.eq_ignore_ascii_case(email))
            .expect("seat")
    }

    /// A client without a cookie.
    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            cookie: None,
            csrf_cookie: None,
        }
    }

    /// The path of a link issued under the public URL.
    pub fn path_of(&self, link: &str) -> String {
        link.strip_prefix(&self.public_url)
            .unwrap_or_else(|| panic!("{link} is not under {}", self.public_url))
            .to_owned()
    }

    /// A printed (CLI) sign-in link for the seller, as `tollgate seller login-link` makes it.
    pub async fn seller_link(&self, seller: &str) -> String {
        let s = self.seller(seller).await;
        links::issue(
            self.db(),
            &self.public_url,
            LinkPurpose::Seller,
            &s,
            None,
            &s.email,
            links::PRINTED_SIGN_IN,
        )
        .await
        .expect("issue a seller link")
    }

    /// A printed sign-in link for a seat holder, as `tollgate org login-link` makes it.
    pub async fn member_link(&self, seller: &str, org: &str, email: &str) -> String {
        let s = self.seller(seller).await;
        let o = self.db().org(s.id, org).await.expect("org");
        links::issue(
            self.db(),
            &self.public_url,
            LinkPurpose::Member,
            &s,
            Some(&o),
            email,
            links::PRINTED_SIGN_IN,
        )
        .await
        .expect("issue a member link")
    }

    /// A client signed in as the seller (it followed a printed link).
    pub async fn sign_in_seller(&self, seller: &str) -> Client<'_> {
        let link = self.seller_link(seller).await;
        let mut c = self.anonymous();
        let res = c.get(&self.path_of(&link)).await;
        assert_eq!(
            res.location(),
            Some(format!("/{seller}/dashboard").as_str()),
            "signing in as {seller}: {res:?}"
        );
        c
    }

    /// A client signed in as the holder of `email`'s seat in `org`.
    pub async fn sign_in_member(&self, seller: &str, org: &str, email: &str) -> Client<'_> {
        let link = self.member_link(seller, org, email).await;
        let mut c = self.anonymous();
        let res = c.get(&self.path_of(&link)).await;
        assert_eq!(
            res.location(),
            Some(format!("/{seller}/org/{org}").as_str()),
            "signing in {email} to {org}: {res:?}"
        );
        c
    }

    /// Every mail the file sink holds, oldest first.
    pub fn mail(&self) -> Vec<ReadMail> {
        eml::read_dir(&self.dir.path().join("mail")).expect("read the mail directory")
    }

    /// A seller publish token (for pages listing tokens); returns its id.
    pub async fn publish_token(&self, seller: &str) -> String {
        let s = self.seller(seller).await;
        self.token(NewTokenOf {
            kind: TokenKind::Publish,
            seller: &s,
            org: None,
            seat: None,
        })
        .await
    }

    /// A personal token of `seat`; returns its id.
    pub async fn seat_token(&self, seller: &str, org: &str, seat: &Seat) -> String {
        let s = self.seller(seller).await;
        let o = self.db().org(s.id, org).await.expect("org");
        self.token(NewTokenOf {
            kind: TokenKind::Seat,
            seller: &s,
            org: Some(&o),
            seat: Some(seat),
        })
        .await
    }

    /// An org token for CI; returns its id.
    pub async fn org_token(&self, seller: &str, org: &str) -> String {
        let s = self.seller(seller).await;
        let o = self.db().org(s.id, org).await.expect("org");
        self.token(NewTokenOf {
            kind: TokenKind::Org,
            seller: &s,
            org: Some(&o),
            seat: None,
        })
        .await
    }

    async fn token(&self, t: NewTokenOf<'_>) -> String {
        self.db()
            .issue_token(
                t.kind,
                t.seller.id,
                t.org.map(|o| o.id),
                t.seat.map(|s| s.id),
                Vec::new(),
            )
            .await
            .expect("create token")
            .id
            .0
    }
}

struct NewTokenOf<'a> {
    kind: TokenKind,
    seller: &'a Seller,
    org: Option<&'a Org>,
    seat: Option<&'a Seat>,
}

/// A browser of one: sends the session cookie it was given, follows nothing by itself.
pub struct Client<'a> {
    pub app: &'a TestApp,
    /// The session cookie's value, if the app set one.
    pub cookie: Option<String>,
    /// The anonymous form token's cookie ([`tollgate_web::csrf::COOKIE`]), if the app set one.
    pub csrf_cookie: Option<String>,
}

/// A response with its body read.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The page's own part, not the layout's head.
        let main = self
            .body
            .find("<main>")
            .map_or(&self.body[..], |at| &self.body[at..]);
        let body: String = main.chars().take(400).collect();
        write!(
            f,
            "{} location={:?} body={body:?}",
            self.status,
            self.location()
        )
    }
}

impl Resp {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` header of the session cookie, if any.
    pub fn session_set_cookie(&self) -> Option<String> {
        self.set_cookie(SESSION_COOKIE)
    }

    /// The `Set-Cookie` header of the cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Whether this sends the browser to the seller's sign-in page.
    pub fn is_sign_in_redirect(&self, seller: &str) -> bool {
        self.status.is_redirection() && self.location() == Some(&format!("/{seller}/login"))
    }

    /// The value of the page's first hidden `csrf` field.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\"")?;
        let rest = &self.body[at..];
        let v = rest.find("value=\"")? + "value=\"".len();
        let end = rest[v..].find('"')?;
        Some(rest[v..v + end].to_owned())
    }
}

impl Client<'_> {
    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    /// GETs an event stream (or a page): the status and headers, and the body unless it is a
    /// stream.
    pub async fn head_of(&mut self, path: &str) -> Resp {
        self.get(path).await
    }

    /// POSTs a form (`application/x-www-form-urlencoded`).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(Method::POST, path, Some(body)).await
    }

    /// POSTs `form` plus this visitor's CSRF token (read from the sign-in page, which shows a
    /// signed-in session its token, and anyone else an anonymous one, set in a cookie too).
    pub async fn post_with_csrf(
        &mut self,
        seller: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Resp {
        let csrf = self.csrf(seller).await;
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }

    /// This visitor's CSRF token, as the sign-in form carries it (for a visitor who is not
    /// signed in, a new anonymous token sets its cookie; nothing is stored on the server).
    pub async fn csrf(&mut self, seller: &str) -> String {
        let page = self.get(&format!("/{seller}/login")).await;
        assert_eq!(page.status, StatusCode::OK, "sign-in page: {page:?}");
        page.csrf().expect("the sign-in page has a csrf field")
    }

    pub async fn send(&mut self, method: Method, path: &str, form: Option<String>) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        let mut cookies = Vec::new();
        if let Some(c) = &self.cookie {
            cookies.push(format!("{SESSION_COOKIE}={c}"));
        }
        if let Some(c) = &self.csrf_cookie {
            cookies.push(format!("{}={c}", csrf::COOKIE));
        }
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f)
            }
            None => Body::empty(),
        };
        let res = self
            .app
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("the router answers");
        let (parts, body) = res.into_parts();
        let is_stream = parts
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        // An event stream never ends: only its status and headers are read.
        let bytes = if is_stream {
            Default::default()
        } else {
            to_bytes(body, 64 * 1024 * 1024).await.expect("body")
        };
        let res = Resp {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        if let Some(set) = res.session_set_cookie() {
            self.cookie = kept_value(&set);
        }
        if let Some(set) = res.set_cookie(csrf::COOKIE) {
            self.csrf_cookie = kept_value(&set);
        }
        res
    }
}

/// The value a browser keeps from a `Set-Cookie` header (`None`: the cookie is removed).
fn kept_value(set: &str) -> Option<String> {
    let value = set
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let removed =
        value.is_empty() || set.to_ascii_lowercase().contains("max-age=0") || set.contains("1970");
    (!removed).then_some(value)
}

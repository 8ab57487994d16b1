//! The table of every page and form: its method, its path as the router spells it, who may use
//! it, and what a valid form sends. The authorization matrix and the CSRF tests loop over it, and
//! [`every_route_is_in_the_table`] reads the router's source so that a new route without a row
//! fails the build's tests instead of going untested.

use std::collections::HashMap;

use axum::http::Method;
use tollgate_registry::db::{LinkPurpose, StripeConnection};
use tollgate_registry::domain::{Org, Seller};
use tollgate_web::links;

use crate::app::{Client, Resp, TestApp};

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum May {
    /// The seller named in the path (its dashboard).
    Seller,
    /// Any holder of an active seat of the org in the path.
    Member,
    /// An admin of the org in the path.
    Admin,
    /// Only the holder of the seat that owns `{token}` (a member's own token): the plain
    /// member `dev@globex.test` in the scenario.
    TokenOwner,
}

pub struct Route {
    pub method: Method,
    /// The path exactly as given to `.route(…)`.
    pub path: &'static str,
    /// Appended to the path (a GET's query string).
    pub query: &'static str,
    pub may: May,
    /// The fields of a valid form (a POST), besides `csrf`.
    pub form: &'static [(&'static str, &'static str)],
    /// An event stream: only its status and headers are read.
    pub stream: bool,
}

fn get(path: &'static str, may: May) -> Route {
    Route {
        method: Method::GET,
        path,
        query: "",
        may,
        form: &[],
        stream: false,
    }
}

fn post(path: &'static str, may: May, form: &'static [(&'static str, &'static str)]) -> Route {
    Route {
        method: Method::POST,
        path,
        query: "",
        may,
        form,
        stream: false,
    }
}

fn stream(path: &'static str, may: May) -> Route {
    Route {
        stream: true,
        ..get(path, may)
    }
}

fn query(route: Route, query: &'static str) -> Route {
    Route { query, ..route }
}

/// Every page and form behind sign-in. Sign-in itself (`/login…`, `/invite/…`, `/logout`) is
/// tested in `sign_in.rs` and `sessions.rs`.
pub fn table() -> Vec<Route> {
    use May::*;
    vec![
        // The seller's dashboard.
        get("/{seller}/dashboard", Seller),
        stream("/{seller}/dashboard/live", Seller),
        get("/{seller}/dashboard/packages", Seller),
        get("/{seller}/dashboard/packages/{ecosystem}/{*name}", Seller),
        query(
            get("/{seller}/dashboard/packages/{ecosystem}/{*name}", Seller),
            "?action=yank&version=1.0.0",
        ),
        post(
            "/{seller}/dashboard/packages/{ecosystem}/{*name}",
            Seller,
            &[("action", "yank"), ("version", "1.0.0")],
        ),
        get("/{seller}/dashboard/customers", Seller),
        get("/{seller}/dashboard/downloads", Seller),
        query(get("/{seller}/dashboard/downloads", Seller), "?org=globex"),
        get("/{seller}/dashboard/downloads.csv", Seller),
        get("/{seller}/dashboard/plans", Seller),
        get("/{seller}/dashboard/tokens", Seller),
        post("/{seller}/dashboard/tokens", Seller, &[("packages", "")]),
        get("/{seller}/dashboard/tokens/{token}/revoke", Seller),
        post("/{seller}/dashboard/tokens/{token}/revoke", Seller, &[]),
        get("/{seller}/dashboard/settings", Seller),
        post("/{seller}/dashboard/settings/stripe-connect", Seller, &[]),
        // An org's pages.
        get("/{seller}/org/{org}", Member),
        stream("/{seller}/org/{org}/live", Member),
        get("/{seller}/org/{org}/seats/{seat}/revoke", Admin),
        post("/{seller}/org/{org}/seats/{seat}/revoke", Admin, &[]),
        post(
            "/{seller}/org/{org}/invite",
            Admin,
            &[("email", "newcomer@globex.test")],
        ),
        post("/{seller}/org/{org}/invites/{invite}/cancel", Admin, &[]),
        post("/{seller}/org/{org}/my-tokens", Member, &[]),
        get("/{seller}/org/{org}/my-tokens/{token}/revoke", TokenOwner),
        post(
            "/{seller}/org/{org}/my-tokens/{token}/revoke",
            TokenOwner,
            &[],
        ),
        get("/{seller}/org/{org}/downloads", Admin),
        get("/{seller}/org/{org}/downloads.csv", Admin),
        get("/{seller}/org/{org}/setup", Member),
        get("/{seller}/org/{org}/tokens", Admin),
        post("/{seller}/org/{org}/tokens", Admin, &[]),
        get("/{seller}/org/{org}/tokens/{token}/revoke", Admin),
        post("/{seller}/org/{org}/tokens/{token}/revoke", Admin, &[]),
        get("/{seller}/org/{org}/billing", Admin),
        post("/{seller}/org/{org}/billing/portal", Admin, &[]),
    ]
}

/// `acme`'s connected Stripe account in the scenario.
pub const ACME_STRIPE_ACCOUNT: &str = "acct_1AcmeTestAccount";
/// The Stripe customer `globex` pays `acme` as.
pub const GLOBEX_CUSTOMER: &str = "cus_GlobexTest";

/// The data of the matrix: two sellers, each with orgs, seats, a package, tokens and an invite.
///
/// - `acme` sells `acme-secret-widget` to `globex` (admin `admin@globex.test`, plain members
///   `dev@globex.test` and `ops@globex.test`) and `hooli` (admin `admin@hooli.test`).
///   `acme` bills through Stripe Connect (the app's fake Stripe); `globex` is its paying customer.
/// - `umbrella` sells `umbrella-hidden-lib` to `initech` (admin `admin@initech.test`).
pub async fn scenario() -> Scenario {
    let app = TestApp::new()
        .with_seller("acme")
        .with_seller("umbrella")
        .with_org("acme", "globex")
        .with_org("acme", "hooli")
        .with_org("umbrella", "initech")
        .with_seat("globex", "admin@globex.test", true)
        .with_seat("globex", "dev@globex.test", false)
        .with_seat("globex", "ops@globex.test", false)
        .with_seat("hooli", "admin@hooli.test", true)
        .with_seat("initech", "admin@initech.test", true)
        .with_package("acme", "acme-secret-widget")
        .with_package("umbrella", "umbrella-hidden-lib")
        .with_fake_stripe()
        .build()
        .await;
    let acme = app.seller("acme").await;
    let globex = app.org("acme", "globex").await;
    // `acme` bills through Stripe Connect and `globex` pays it, so that the billing portal opens.
    app.db()
        .set_stripe_connection(
            acme.id,
            &StripeConnection {
                secret_key: None,
                account_id: Some(ACME_STRIPE_ACCOUNT.into()),
                webhook_secret: None,
            },
        )
        .await
        .expect("connect acme to Stripe");
    app.set_org_customer("acme", "globex", GLOBEX_CUSTOMER)
        .await;
    let ops = app.seat("acme", "globex", "ops@globex.test").await;
    let dev = app.seat("acme", "globex", "dev@globex.test").await;
    let dev_token = app.seat_token("acme", "globex", &dev).await;
    let ops_token = app.seat_token("acme", "globex", &ops).await;
    let publish_token = app.publish_token("acme").await;
    let umbrella_publish_token = app.publish_token("umbrella").await;
    let org_token = app.org_token("acme", "globex").await;
    let hooli_org_token = app.org_token("acme", "hooli").await;
    app.org_token("umbrella", "initech").await;
    let hooli_seat = app.seat("acme", "hooli", "admin@hooli.test").await;
    let hooli_admin_token = app.seat_token("acme", "hooli", &hooli_seat).await;
    let invite_id = invite(&app, &acme, &globex, "invited@globex.test").await;
    let hooli = app.org("acme", "hooli").await;
    let hooli_invite = invite(&app, &acme, &hooli, "invited@hooli.test").await;
    let params = HashMap::from([
        ("{seller}", "acme".to_owned()),
        ("{org}", "globex".to_owned()),
        ("{ecosystem}", "npm".to_owned()),
        ("{*name}", "acme-secret-widget".to_owned()),
        ("{seat}", ops.id.0.to_string()),
        ("{invite}", invite_id),
        ("{my-token}", dev_token),
        ("{publish-token}", publish_token),
        ("{org-token}", org_token),
        // Other owners' things, for object-level checks (`objects.rs`).
        ("{ops-token}", ops_token),
        ("{umbrella-publish-token}", umbrella_publish_token),
        ("{hooli-org-token}", hooli_org_token),
        ("{hooli-admin-token}", hooli_admin_token),
        ("{hooli-seat}", hooli_seat.id.0.to_string()),
        ("{hooli-invite}", hooli_invite),
    ]);
    Scenario { app, params }
}

/// An invite to `org` for `email`; returns the link's id.
async fn invite(app: &TestApp, seller: &Seller, org: &Org, email: &str) -> String {
    let link = links::issue(
        app.db(),
        &app.public_url,
        LinkPurpose::Invite,
        seller,
        Some(org),
        email,
        links::INVITE,
    )
    .await
    .expect("invite");
    link.rsplit('/')
        .next()
        .and_then(|secret| secret.strip_prefix("tg_"))
        .and_then(|rest| rest.split_once('_'))
        .map(|(id, _)| id.to_owned())
        .expect("the invite's id")
}

pub struct Scenario {
    pub app: TestApp,
    params: HashMap<&'static str, String>,
}

impl Scenario {
    /// One of the scenario's values by its key (`"{ops-token}"`, `"{hooli-seat}"`, …).
    pub fn param(&self, key: &str) -> &str {
        self.params
            .get(key)
            .unwrap_or_else(|| panic!("no {key} in the scenario"))
    }

    /// The route's path with the scenario's values (seller `acme`, org `globex`, …).
    pub fn path(&self, route: &Route) -> String {
        // `{token}` is a publish token on the dashboard, an org token on an org's tokens page,
        // and the member's own token under `my-tokens`.
        let token = if route.path.contains("/my-tokens/") {
            "{my-token}"
        } else if route.path.contains("/dashboard/") {
            "{publish-token}"
        } else {
            "{org-token}"
        };
        let mut path = route.path.replace("{token}", token);
        for (k, v) in &self.params {
            path = path.replace(k, v);
        }
        assert!(
            !path.contains('{'),
            "no value for a parameter of {}: add it to scenario()",
            route.path
        );
        format!("{path}{}", route.query)
    }

    /// Sends the route's request as `client`, with the session's valid CSRF token for a POST.
    pub async fn send(&self, client: &mut Client<'_>, route: &Route) -> Resp {
        let path = self.path(route);
        if route.method == Method::POST {
            client.post_with_csrf("acme", &path, route.form).await
        } else if route.stream {
            client.head_of(&path).await
        } else {
            client.get(&path).await
        }
    }
}

/// `(path, has GET, has POST)` of every `.route("…", …)` in the crate's source.
fn routes_in_source() -> Vec<(String, bool, bool)> {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read web/src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut paths,
    );
    let mut found = Vec::new();
    for file in paths {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        let chunks: Vec<&str> = text.split(".route(").skip(1).collect();
        for chunk in chunks {
            let rest = chunk.trim_start();
            let path = rest
                .strip_prefix('"')
                .and_then(|r| r.split_once('"'))
                .map(|(p, _)| p.to_owned())
                .unwrap_or_else(|| {
                    panic!(
                        "{}: a route whose path is not a literal; give the table a row by hand",
                        file.display()
                    )
                });
            // The handlers are what follows the path, up to the next step of the builder.
            let after = rest[path.len() + 2..].to_owned();
            let end = [";", ".merge(", ".layer(", ".with_state(", "\n}"]
                .iter()
                .filter_map(|stop| after.find(stop))
                .min()
                .unwrap_or(after.len());
            let handlers = &after[..end];
            // The CSRF middleware guards POST only: a form on another method would go
            // unchecked.
            for unguarded in ["put(", "delete(", "patch(", "any("] {
                assert!(
                    !handlers.contains(unguarded),
                    "{}: {path} takes `{unguarded}…)`, which csrf::check does not guard",
                    file.display()
                );
            }
            found.push((path, handlers.contains("get("), handlers.contains("post(")));
        }
    }
    found
}

/// Sign-in, sign-out and the public assets: not behind sign-in.
const PUBLIC: &[&str] = &[
    "/{seller}/login",
    "/{seller}/login/{secret}",
    "/{seller}/invite/{secret}",
    "/{seller}/logout",
    "/_tollgate/app.css",
    "/_tollgate/live.js",
    // Stripe Connect's return: no seller in the path; it checks the session against the state
    // itself (tested end to end in tests/billing_webhooks_e2e/connect.rs).
    "/stripe/connect/oauth",
];

#[test]
fn every_route_is_in_the_table() {
    let table = table();
    let found = routes_in_source();
    assert!(
        found.len() >= 10,
        "the source scan found too few routes ({found:?}): has the router moved?"
    );
    let mut missing = Vec::new();
    for (path, has_get, has_post) in &found {
        if PUBLIC.contains(&path.as_str()) {
            continue;
        }
        let row = |m: Method| table.iter().any(|r| r.path == path && r.method == m);
        if *has_get && !row(Method::GET) {
            missing.push(format!("GET {path}"));
        }
        if *has_post && !row(Method::POST) {
            missing.push(format!("POST {path}"));
        }
        if !has_get && !has_post {
            missing.push(format!(
                "{path} (neither get( nor post( found: check the scan)"
            ));
        }
    }
    let stale: Vec<String> = table
        .iter()
        .filter(|r| {
            !found
                .iter()
                .any(|(p, g, po)| p == r.path && if r.method == Method::POST { *po } else { *g })
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a row in tests/pages/routes.rs: {missing:#?}\nrows without a route: {stale:#?}"
    );
}

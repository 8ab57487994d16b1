//! Stripe Connect onboarding end to end (issue 16, rows 5 and 6): a seller signs in, presses
//! "Connect with Stripe" on its settings page, Stripe's OAuth (the fake) sends it back with a
//! code, and the seller can sell at once: a buyer checks out, the platform's signed Connect
//! webhook provisions the org, whose token reads the npm packument, and the Billing Portal opens
//! on the connected account. The OAuth state works once, only in the session that asked for it:
//! a replay, another seller's session, and a browser with no session are refused and change
//! nothing.

use serde_json::{Value, json};
use tollgate_billing::webhook::sign;

use crate::common::Server;
use crate::common::http::{Response, request};
use crate::fake_stripe::FakeStripe;
use crate::harness::{mails_to, org_slugs, packument, plan, publish, server_for, token_in};
use crate::objects::{checkout_session, event, now, subscription};
use crate::{PACKAGE, PLATFORM_KEY, SELLER};

const CONNECT_WHSEC: &str = "whsec_platform_connect_7c1e";
const CLIENT_ID: &str = "ca_test_tollgate";
const ACCOUNT: &str = "acct_1AcmeConnected";

/// A browser: one cookie jar (the session cookie), requests to the server.
struct Browser<'a> {
    server: &'a Server,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(server: &'a Server) -> Self {
        Self {
            server,
            cookie: None,
        }
    }

    /// Signs in as `seller` with the one-time link `tollgate seller login-link` prints.
    fn signed_in(server: &'a Server, seller: &str) -> Self {
        let mut browser = Self::new(server);
        let link = server.cli_json(&["seller", "login-link", seller, "--public-url", server.url()]);
        let link = link["link"].as_str().expect("a sign-in link");
        let r = browser.get(link);
        assert_eq!(r.status, 303, "sign-in link: {}", r.text());
        assert_eq!(
            r.header("location"),
            Some(format!("/{seller}/dashboard").as_str())
        );
        assert!(browser.cookie.is_some(), "no session cookie after sign-in");
        browser
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.server.url())
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        let cookie = self.cookie.clone();
        if let Some(c) = &cookie {
            all.push(("cookie", c));
        }
        let r = request(method, &self.url(path), &all, body).expect("request");
        for (name, value) in &r.headers {
            if name == "set-cookie"
                && let Some(pair) = value.split(';').next()
                && pair.starts_with("tollgate_session=")
            {
                self.cookie = Some(pair.to_owned());
            }
        }
        r
    }

    fn get(&mut self, path: &str) -> Response {
        self.send("GET", path, &[], b"")
    }

    /// Submits the form at `action` on `page`, with the page's CSRF token.
    fn submit(&mut self, page: &str, action: &str) -> Response {
        let r = self.get(page);
        assert_eq!(r.status, 200, "{page}: {}", r.text());
        let html = r.text();
        assert!(
            html.contains(&format!("action=\"{action}\"")),
            "{page} has no form for {action}:\n{html}"
        );
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a CSRF token on the page")
            .to_owned();
        self.send(
            "POST",
            action,
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("csrf={csrf}").as_bytes(),
        )
    }

    /// Presses "Connect with Stripe" on `seller`'s settings page; returns the state of the
    /// authorize URL it is sent to.
    fn press_connect(&mut self, stripe: &FakeStripe, seller: &str) -> String {
        let r = self.submit(
            &format!("/{seller}/dashboard/settings"),
            &format!("/{seller}/dashboard/settings/stripe-connect"),
        );
        assert_eq!(r.status, 303, "{}", r.text());
        let to = r.header("location").expect("a redirect").to_owned();
        assert!(
            to.starts_with(&format!("{}/oauth/authorize?", stripe.url)),
            "{to}"
        );
        let redirect = format!(
            "redirect_uri={}",
            encode(&format!("{}/stripe/connect/oauth", self.server.url()))
        );
        for part in [
            "response_type=code",
            "scope=read_write",
            &format!("client_id={CLIENT_ID}"),
            &redirect,
        ] {
            assert!(to.contains(part), "{part} missing in {to}");
        }
        to.split("state=")
            .nth(1)
            .and_then(|s| s.split('&').next())
            .expect("a state")
            .to_owned()
    }

    /// Arrives where Stripe sends the seller back.
    fn come_back(&mut self, code: &str, state: &str) -> Response {
        self.get(&format!("/stripe/connect/oauth?code={code}&state={state}"))
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn connected_account(server: &Server, seller: &str) -> Value {
    server.cli_json(&["seller", "show", seller])["stripe"].clone()
}

/// Posts `event` to the platform's Connect endpoint, signed with `secret`.
fn connect_webhook(server: &Server, secret: &str, event: &Value) -> Response {
    let body = event.to_string();
    let signature = sign(body.as_bytes(), secret, now());
    request(
        "POST",
        &format!("{}/stripe/connect/webhook", server.url()),
        &[
            ("content-type", "application/json"),
            ("stripe-signature", &signature),
        ],
        body.as_bytes(),
    )
    .expect("deliver")
}

#[test]
fn a_seller_connected_through_the_settings_page_sells_and_the_state_cannot_be_reused() {
    let stripe = FakeStripe::start();
    let server = server_for(
        &stripe,
        &[
            ("TOLLGATE_STRIPE_SECRET_KEY", PLATFORM_KEY),
            ("TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET", CONNECT_WHSEC),
            ("TOLLGATE_STRIPE_CONNECT_BASE", &stripe.url),
            ("TOLLGATE_STRIPE_CONNECT_CLIENT_ID", CLIENT_ID),
        ],
    );
    server.seller(SELLER);
    server.seller("globex");
    server.product(SELLER, "pro", &[&format!("npm:{PACKAGE}")]);
    plan(
        &server,
        SELLER,
        "pro",
        "pro-seat",
        "price_pro_seat",
        "per-quantity",
        "while_active",
    );
    let publisher = server.publish_token(SELLER, &[]);
    publish(&server, &publisher.secret, PACKAGE, "1.0.0");

    // The CLI no longer prints an OAuth link: it says where to go.
    let told = server.cli_json(&[
        "seller",
        "stripe-connect-link",
        SELLER,
        "--public-url",
        server.url(),
    ]);
    assert_eq!(
        told["settings_url"],
        format!("{}/{SELLER}/dashboard/settings", server.url())
    );
    assert!(!told.to_string().contains("oauth"), "{told}");

    // The seller signs in and presses Connect; someone who saw the authorize URL (a shared
    // screen, a log) gets there first with their own Stripe account: refused, as no session
    // of the seller's is theirs.
    let mut acme = Browser::signed_in(&server, SELLER);
    let state = acme.press_connect(&stripe, SELLER);
    stripe.grant_oauth_code("ac_attacker", "acct_1Attacker");
    let mut stranger = Browser::new(&server);
    let r = stranger.come_back("ac_attacker", &state);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text().contains("not signed in as the seller"),
        "{}",
        r.text()
    );
    assert_eq!(connected_account(&server, SELLER), Value::Null);

    // Another seller's session with acme's state: refused too.
    let mut globex = Browser::signed_in(&server, "globex");
    let r = globex.come_back("ac_attacker", &state);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("another seller"), "{}", r.text());
    assert_eq!(connected_account(&server, SELLER), Value::Null);
    assert_eq!(connected_account(&server, "globex"), Value::Null);
    assert!(
        stripe.requests_to("POST", "/oauth/token").is_empty(),
        "a refused state never reaches Stripe"
    );

    // Acme's own return: the code is traded with the platform key, the account stored, and the
    // settings page shows it.
    stripe.grant_oauth_code("ac_acme", ACCOUNT);
    let r = acme.come_back("ac_acme", &state);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("/{SELLER}/dashboard/settings").as_str())
    );
    let traded = stripe.requests_to("POST", "/oauth/token");
    assert_eq!(traded.len(), 1, "{traded:#?}");
    assert_eq!(traded[0].field("grant_type"), Some("authorization_code"));
    assert_eq!(traded[0].field("code"), Some("ac_acme"));
    assert_eq!(
        traded[0].header("authorization"),
        Some(format!("Bearer {PLATFORM_KEY}").as_str())
    );
    assert_eq!(
        connected_account(&server, SELLER),
        format!("connect {ACCOUNT}")
    );
    let settings = acme.get(&format!("/{SELLER}/dashboard/settings"));
    assert!(settings.text().contains(ACCOUNT), "{}", settings.text());

    // The same state again, from the seller's own session: already used, nothing changes.
    stripe.grant_oauth_code("ac_again", "acct_1Other");
    let r = acme.come_back("ac_again", &state);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("already used"), "{}", r.text());
    assert_eq!(
        connected_account(&server, SELLER),
        format!("connect {ACCOUNT}")
    );
    assert_eq!(stripe.requests_to("POST", "/oauth/token").len(), 1);

    // Globex's own press still works in its own session: the refused attempt with acme's
    // state did not spend anything of globex's, and globex's state is useless to acme.
    let globex_state = globex.press_connect(&stripe, "globex");
    let r = acme.come_back("ac_again", &globex_state);
    assert_eq!(r.status, 403, "{}", r.text());
    stripe.grant_oauth_code("ac_globex", "acct_1Globex");
    let r = globex.come_back("ac_globex", &globex_state);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(connected_account(&server, "globex"), "connect acct_1Globex");
    assert_eq!(
        connected_account(&server, SELLER),
        format!("connect {ACCOUNT}")
    );

    // A buyer buys: Checkout on the connected account, with the platform key.
    let r = request(
        "GET",
        &format!("{}/{SELLER}/buy/pro-seat?quantity=3", server.url()),
        &[],
        b"",
    )
    .expect("buy link");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("https://checkout.stripe.test/c/pay/cs_test_1")
    );
    let created = stripe.requests_to("POST", "/v1/checkout/sessions");
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].header("stripe-account"), Some(ACCOUNT));
    assert_eq!(
        created[0].header("authorization"),
        Some(format!("Bearer {PLATFORM_KEY}").as_str())
    );
    assert_eq!(created[0].field("line_items[0][quantity]"), Some("3"));

    // Stripe completes it and tells the platform's Connect endpoint.
    let mut sub = subscription(
        "sub_1Connect",
        "cus_Initech01",
        "price_pro_seat",
        3,
        "active",
    );
    sub["metadata"] = json!({"tollgate_seller": SELLER, "tollgate_plan": "pro-seat"});
    stripe.put_subscription(sub);
    let mut completed = event(
        "evt_1Connectcheckout",
        "checkout.session.completed",
        now() - 5,
        checkout_session(
            "cs_test_1",
            "cus_Initech01",
            "sub_1Connect",
            "cto@initech.example",
            "Initech",
        ),
    );
    completed["account"] = json!(ACCOUNT);
    let forged = connect_webhook(&server, "whsec_not_the_platform", &completed);
    assert_eq!(forged.status, 400, "{}", forged.text());
    assert!(org_slugs(&server, SELLER).is_empty());
    let r = connect_webhook(&server, CONNECT_WHSEC, &completed);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("org initech created"), "{}", r.text());
    assert_eq!(org_slugs(&server, SELLER), ["initech"]);
    let reread = stripe.requests_to("GET", "/v1/subscriptions/sub_1Connect");
    assert!(!reread.is_empty());
    assert!(
        reread
            .iter()
            .all(|r| r.header("stripe-account") == Some(ACCOUNT)),
        "{reread:#?}"
    );

    // The org's token, from the welcome mail, reads the package.
    let welcome = mails_to(&server, "cto@initech.example");
    assert_eq!(welcome.len(), 1, "one welcome mail");
    let token = token_in(&welcome[0]);
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 200, "{}", p.text());
    assert!(p.json()["versions"]["1.0.0"].is_object(), "{}", p.text());

    // The Billing Portal opens on the connected account too.
    let link = server.cli_json(&[
        "org",
        "billing-link",
        "--seller",
        SELLER,
        "--org",
        "initech",
        "--public-url",
        server.url(),
    ]);
    assert_eq!(
        link["url"],
        "https://billing.stripe.test/p/session/bps_test_1"
    );
    let portal = stripe.requests_to("POST", "/v1/billing_portal/sessions");
    assert_eq!(portal.len(), 1);
    assert_eq!(portal[0].header("stripe-account"), Some(ACCOUNT));
    assert_eq!(portal[0].field("customer"), Some("cus_Initech01"));

    // A Connect seller has no endpoint of its own: it says where its events go.
    let r = crate::harness::deliver(&server, SELLER, "whsec_anything", &completed);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("/stripe/connect/webhook"), "{}", r.text());
}

/// `seller stripe --connect-account` needs no webhook secret of the seller's own (its events come
/// on the platform's endpoint, which the command names); a secret-key seller still needs one.
#[test]
fn a_connect_seller_is_set_up_from_the_cli_without_a_webhook_secret() {
    let server = Server::start();
    server.seller("hooks");
    let out = server.cli(&[
        "seller",
        "stripe",
        "hooks",
        "--connect-account",
        "acct_1Cli",
    ]);
    assert!(out.contains("/stripe/connect/webhook"), "{out}");
    let refused = server.cli_fail(&["seller", "stripe", "hooks", "--secret-key", "sk_test_x"]);
    assert!(refused.contains("--webhook-secret"), "{refused}");
    let refused = server.cli_fail(&[
        "seller",
        "stripe",
        "hooks",
        "--connect-account",
        "acct_1Cli",
        "--webhook-secret",
        "not-a-secret",
    ]);
    assert!(refused.contains("whsec_"), "{refused}");
}

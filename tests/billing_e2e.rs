//! End-to-end licensing against a real Stripe-compatible server (localstripe, started by
//! `.ci/run` through `scripts/stripe`; skipped with a note when `TOLLGATE_TEST_STRIPE_URL` is
//! unset) and a real SMTP sink (aiosmtpd through `scripts/smtp`, when `TOLLGATE_TEST_SMTP_URL` is
//! set; else the `.eml` file sink). The test plays the buyer with Stripe's API: customer, card,
//! plan, a subscription of 3 seats; localstripe's own signed webhooks reach the server, which
//! re-reads the subscription through the same client code it uses against Stripe, provisions the
//! org and mails its token. Then 5 seats (localstripe sends no event for that: the test signs
//! one), then cancel; the real `npm install` with the mailed token follows each step.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::http::request;
use common::{
    CLIENT_TIMEOUT, Run, Server, backend_env, npm_publish_body, run_with_timeout, write_file,
};
use serde_json::Value;

const SELLER: &str = "acme";
const PACKAGE: &str = "@acme/ui-pro";
const STRIPE_KEY: &str = "sk_test_tollgate";

/// A form POST (or DELETE) to localstripe's API.
fn stripe(base: &str, method: &str, path: &str, form: &[(&str, &str)]) -> Value {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let auth = format!("Bearer {STRIPE_KEY}");
    let r = request(
        method,
        &format!("{base}{path}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    )
    .expect("localstripe request");
    assert!(
        r.status < 300,
        "{method} {path} → {}: {}",
        r.status,
        r.text()
    );
    r.json()
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

/// The buyer's side in Stripe: a customer with a card, subscribed to `plan` for `quantity`.
fn subscribe(base: &str, plan: &str, email: &str, name: &str, quantity: &str) -> Value {
    let customer = stripe(
        base,
        "POST",
        "/v1/customers",
        &[("email", email), ("name", name)],
    );
    let card = stripe(
        base,
        "POST",
        "/v1/tokens",
        &[
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ],
    );
    stripe(
        base,
        "POST",
        &format!("/v1/customers/{}/sources", id(&customer)),
        &[("source", &id(&card))],
    );
    stripe(
        base,
        "POST",
        "/v1/subscriptions",
        &[
            ("customer", &id(&customer)),
            ("items[0][plan]", plan),
            ("items[0][quantity]", quantity),
        ],
    )
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// The mails to `to` so far (SMTP sink when configured, else the server's file sink).
fn mails_to(server: &Server, to: &str) -> Vec<tollgate_billing::mail::eml::ReadMail> {
    let dir = match std::env::var("TOLLGATE_TEST_SMTP_DIR") {
        Ok(dir) if std::env::var("TOLLGATE_TEST_SMTP_URL").is_ok() => PathBuf::from(dir),
        _ => server.data_dir().join("mail"),
    };
    tollgate_billing::mail::eml::read_dir(&dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.to().contains(to))
        .collect()
}

fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `npm install PACKAGE@^1` in a fresh project with `token` for the seller's registry.
fn npm_install(server: &Server, token: &str) -> Run {
    let root = tempfile::tempdir().expect("tmp");
    let host = server.url().trim_start_matches("http://");
    write_file(
        root.path(),
        "npmrc",
        &format!(
            "@acme:registry={}/{SELLER}/npm/\n//{host}/{SELLER}/npm/:_authToken={token}\n",
            server.url()
        ),
    );
    let app = root.path().join("app");
    write_file(
        &app,
        "package.json",
        "{\"name\":\"app\",\"version\":\"1.0.0\"}\n",
    );
    let mut cmd = Command::new("npm");
    cmd.current_dir(&app)
        .args(["install", &format!("{PACKAGE}@^1"), "--prefer-online"])
        .env("HOME", root.path())
        .env("npm_config_cache", root.path().join("cache"))
        .env("npm_config_userconfig", root.path().join("npmrc"))
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fetch_retries", "0");
    run_with_timeout(cmd, CLIENT_TIMEOUT)
}

fn publish(server: &Server, token: &str, version: &str) {
    // A real package tarball (npm unpacks it): package/package.json and index.js.
    let dir = tempfile::tempdir().expect("tmp");
    write_file(
        dir.path(),
        "package/package.json",
        &format!("{{\"name\":\"{PACKAGE}\",\"version\":\"{version}\",\"main\":\"index.js\"}}\n"),
    );
    write_file(dir.path(), "package/index.js", "module.exports = 'pro';\n");
    let out = Command::new("tar")
        .current_dir(dir.path())
        .args(["czf", "p.tgz", "package"])
        .output()
        .expect("tar");
    assert!(out.status.success(), "{out:?}");
    let tgz = std::fs::read(dir.path().join("p.tgz")).expect("read tgz");
    let body = npm_publish_body(PACKAGE, version, &tgz);
    let auth = format!("Bearer {token}");
    let r = request(
        "PUT",
        &format!(
            "{}/{SELLER}/npm/{}",
            server.url(),
            common::npm_escape(PACKAGE)
        ),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .expect("publish");
    assert_eq!(r.status, 201, "{}", r.text());
}

fn seat_add(server: &Server, org: &str, email: &str) -> std::process::Output {
    server.try_cli(&["seat", "add", "--seller", SELLER, "--org", org, email])
}

#[test]
fn a_localstripe_subscription_drives_access_seats_and_mail() {
    let Some(base) = tollgate_testkit::STRIPE.url() else {
        return;
    };
    let mut env = backend_env();
    env.push(("TOLLGATE_STRIPE_API_BASE".into(), base.clone()));
    if let Ok(smtp) = std::env::var("TOLLGATE_TEST_SMTP_URL") {
        env.push(("TOLLGATE_SMTP_URL".into(), smtp));
    }
    let server = Server::start_on(env);
    server.seller(SELLER);
    server.product(SELLER, "pro", &[&format!("npm:{PACKAGE}")]);
    let publisher = server.publish_token(SELLER, &[]);
    publish(&server, &publisher.secret, "1.0.0");

    // The seller's Stripe: a product and a per-seat plan, the webhook endpoint.
    let unique = format!(
        "{}{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    let whsec = format!("whsec_{unique}");
    let product = stripe(&base, "POST", "/v1/products", &[("name", "Acme Pro")]);
    let plan = stripe(
        &base,
        "POST",
        "/v1/plans",
        &[
            ("amount", "1000"),
            ("currency", "usd"),
            ("interval", "month"),
            ("product", &id(&product)),
        ],
    );
    let hook = format!("{}/{SELLER}/stripe/webhook", server.url());
    let r = request(
        "POST",
        &format!("{base}/_config/webhooks/tollgate{unique}"),
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("url={}&secret={}", encode(&hook), encode(&whsec)).as_bytes(),
    )
    .expect("register webhook");
    assert!(r.status < 300, "{}", r.text());
    server.cli(&[
        "seller",
        "stripe",
        SELLER,
        "--secret-key",
        STRIPE_KEY,
        "--webhook-secret",
        &whsec,
    ]);
    server.cli(&[
        "plan",
        "create",
        "--seller",
        SELLER,
        "--product",
        "pro",
        "--stripe-price",
        &id(&plan),
        "--seats",
        "per-quantity",
        "--rule",
        "while_active",
    ]);

    // The buyer: customer, card, a subscription of 3 seats.
    let email = format!("ops{unique}@globex.example");
    let sub = subscribe(&base, &id(&plan), &email, "Globex", "3");
    let sub_id = id(&sub);

    // localstripe's signed webhook → org, admin seat, token, welcome mail.
    let welcome = wait_for("the welcome mail", || {
        mails_to(&server, &email).into_iter().next()
    });
    let body = &welcome.body;
    let token = body
        .split_whitespace()
        .find(|w| w.starts_with("tg_") && w.len() > 70)
        .expect("the mail holds the org token")
        .to_owned();
    for needle in [
        ".npmrc",
        "_authToken=",
        "tollgate-license-v1.",
        "/acme/npm/",
    ] {
        assert!(
            body.contains(needle),
            "welcome mail lacks {needle}:\n{body}"
        );
    }
    let orgs = server.cli_json(&["org", "list", "--seller", SELLER]);
    let org = orgs[0]["slug"].as_str().expect("an org").to_owned();
    assert_eq!(org, "globex");
    // The mail's sign-in link opens the org's pages for the admin, once.
    let link = welcome
        .links()
        .into_iter()
        .find(|l| l.contains(&format!("/{SELLER}/login/tg_")))
        .expect("the welcome mail has a sign-in link")
        .to_owned();
    let signed_in = request("GET", &link, &[], b"").expect("follow the sign-in link");
    assert_eq!(signed_in.status, 303, "{signed_in:?}");
    assert_eq!(
        signed_in.header("location"),
        Some(format!("/{SELLER}/org/{org}").as_str())
    );
    let again = request("GET", &link, &[], b"").expect("follow it again");
    assert_eq!(again.status, 409, "a sign-in link works once: {again:?}");
    let run = npm_install(&server, &token);
    assert!(
        run.success,
        "npm install with the mailed token:\n{}",
        run.output()
    );

    // 3 seats: the admin + 2.
    assert!(seat_add(&server, &org, "a@globex.example").status.success());
    assert!(seat_add(&server, &org, "b@globex.example").status.success());
    let over = seat_add(&server, &org, "c@globex.example");
    assert!(!over.status.success());
    assert!(
        String::from_utf8_lossy(&over.stderr).contains("paid seat"),
        "{over:?}"
    );

    // 5 seats: localstripe sends no event for a quantity change, so the test signs one; the
    // server re-reads the subscription and finds 5.
    let item = sub["items"]["data"][0]["id"]
        .as_str()
        .expect("item id")
        .to_owned();
    stripe(
        &base,
        "POST",
        &format!("/v1/subscriptions/{sub_id}"),
        &[("items[0][id]", &item), ("items[0][quantity]", "5")],
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let event = serde_json::json!({
        "id": format!("evt_test_{unique}"), "object": "event", "type": "customer.subscription.updated",
        "created": now, "data": {"object": {"id": sub_id, "object": "subscription"}}
    })
    .to_string();
    let signature = tollgate_billing::webhook::sign(event.as_bytes(), &whsec, now);
    let r = request(
        "POST",
        &hook,
        &[
            ("stripe-signature", &signature),
            ("content-type", "application/json"),
        ],
        event.as_bytes(),
    )
    .expect("webhook");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(seat_add(&server, &org, "c@globex.example").status.success());
    assert!(seat_add(&server, &org, "d@globex.example").status.success());
    assert!(!seat_add(&server, &org, "e@globex.example").status.success());

    // Cancel: localstripe's customer.subscription.deleted ends the license.
    stripe(&base, "DELETE", &format!("/v1/subscriptions/{sub_id}"), &[]);
    let packument = format!(
        "{}/{SELLER}/npm/{}",
        server.url(),
        common::npm_escape(PACKAGE)
    );
    let auth = format!("Bearer {token}");
    wait_for("the license to end", || {
        let r = request("GET", &packument, &[("authorization", &auth)], b"").ok()?;
        (r.status == 403).then_some(())
    });
    let run = npm_install(&server, &token);
    assert!(
        !run.success,
        "npm install after cancel succeeded:\n{}",
        run.output()
    );
    assert!(run.output().contains("ended"), "{}", run.output());
    let ended = wait_for("the license-ended mail", || {
        mails_to(&server, &email)
            .into_iter()
            .find(|m| m.subject().contains("ended"))
    });
    assert!(
        ended.body.contains("Acme") || ended.body.contains("pro"),
        "{}",
        ended.body
    );
}

/// `license issue` → `license verify` offline; a tampered key and another seller's public key
/// are refused; `/{seller}/license/public_key` serves the same key as the CLI.
#[test]
fn license_keys_issue_and_verify_offline() {
    let server = Server::start();
    server.seller(SELLER);
    server.product(SELLER, "pro", &[&format!("npm:{PACKAGE}")]);
    server.org(SELLER, "globex");
    server.grant(SELLER, "globex", "pro", &["--rule", "perpetual_fallback"]);
    server.seller("other");

    let issued = server.cli_json(&[
        "license",
        "issue",
        "--seller",
        SELLER,
        "--org",
        "globex",
        "--product",
        "pro",
    ]);
    let key_text = issued["license"].as_str().expect("license").to_owned();
    assert!(key_text.starts_with("tollgate-license-v1."), "{key_text}");
    let public = server.cli_json(&["license", "public-key", "--seller", SELLER])["public_key"]
        .as_str()
        .expect("public key")
        .to_owned();
    let served = request(
        "GET",
        &format!("{}/{SELLER}/license/public_key", server.url()),
        &[],
        b"",
    )
    .expect("GET public key");
    assert_eq!(served.text().trim(), public);
    let other = server.cli_json(&["license", "public-key", "--seller", "other"])["public_key"]
        .as_str()
        .expect("public key")
        .to_owned();

    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("license.txt");
    let verify = |text: &str, key: &str| {
        std::fs::write(&file, text).expect("write");
        // Offline: no data directory, no database.
        let out = Command::new(common::tollgate_bin())
            .args(["license", "verify"])
            .arg(&file)
            .args(["--public-key", key])
            .env("TOLLGATE_DATA", dir.path().join("does-not-exist"))
            .output()
            .expect("run tollgate");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (ok, out) = verify(&key_text, &public);
    assert!(
        ok && out.contains("globex") && out.contains("perpetual fallback"),
        "{out}"
    );
    assert!(
        !dir.path().join("does-not-exist").exists(),
        "verify must not touch a data dir"
    );
    let mut tampered = key_text.clone().into_bytes();
    let at = tampered.len() / 2;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let (ok, out) = verify(&String::from_utf8_lossy(&tampered), &public);
    assert!(!ok, "a tampered key verified: {out}");
    let (ok, out) = verify(&key_text, &other);
    assert!(!ok && out.contains("another key"), "{out}");
}

/// Stripe Connect: the platform's one endpoint (`/stripe/connect/webhook`, signed with the
/// platform's secret) routes each event to the seller connected as its `account`; the seller's
/// subscription is re-read with `Stripe-Account` and provisions the org. Unknown accounts and
/// bad signatures change nothing.
#[test]
fn connect_events_reach_the_seller_of_their_account() {
    let Some(base) = tollgate_testkit::STRIPE.url() else {
        return;
    };
    let platform_secret = "whsec_platform";
    let mut env = backend_env();
    env.push(("TOLLGATE_STRIPE_API_BASE".into(), base.clone()));
    env.push(("TOLLGATE_STRIPE_SECRET_KEY".into(), STRIPE_KEY.into()));
    env.push((
        "TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET".into(),
        platform_secret.into(),
    ));
    if let Ok(smtp) = std::env::var("TOLLGATE_TEST_SMTP_URL") {
        env.push(("TOLLGATE_SMTP_URL".into(), smtp));
    }
    let server = Server::start_on(env);
    server.seller(SELLER);
    server.product(SELLER, "pro", &[&format!("npm:{PACKAGE}")]);
    server.cli(&[
        "seller",
        "stripe",
        SELLER,
        "--connect-account",
        "acct_1tollgate",
        "--webhook-secret",
        "whsec_unused",
    ]);
    let product = stripe(&base, "POST", "/v1/products", &[("name", "Acme Pro")]);
    let plan = stripe(
        &base,
        "POST",
        "/v1/plans",
        &[
            ("amount", "500"),
            ("currency", "usd"),
            ("interval", "month"),
            ("product", &id(&product)),
        ],
    );
    server.cli(&[
        "plan",
        "create",
        "--seller",
        SELLER,
        "--product",
        "pro",
        "--stripe-price",
        &id(&plan),
    ]);
    let sub = subscribe(&base, &id(&plan), "cto@initech.example", "Initech", "2");
    let hook = format!("{}/stripe/connect/webhook", server.url());
    let send = |account: &str, event_id: &str, secret: &str| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        let event = serde_json::json!({
            "id": event_id, "object": "event", "type": "customer.subscription.created",
            "created": now, "account": account, "data": {"object": {"id": id(&sub), "object": "subscription"}}
        })
        .to_string();
        let signature = tollgate_billing::webhook::sign(event.as_bytes(), secret, now);
        request(
            "POST",
            &hook,
            &[
                ("stripe-signature", &signature),
                ("content-type", "application/json"),
            ],
            event.as_bytes(),
        )
        .expect("webhook")
    };
    let forged = send("acct_1tollgate", "evt_connect_0", "whsec_wrong");
    assert_eq!(forged.status, 400, "{}", forged.text());
    let stranger = send("acct_someone_else", "evt_connect_1", platform_secret);
    assert_eq!(stranger.status, 200, "{}", stranger.text());
    assert!(stranger.text().contains("no seller"), "{}", stranger.text());
    assert_eq!(
        server.cli_json(&["org", "list", "--seller", SELLER]),
        serde_json::json!([])
    );

    let ours = send("acct_1tollgate", "evt_connect_2", platform_secret);
    assert_eq!(ours.status, 200, "{}", ours.text());
    let orgs = server.cli_json(&["org", "list", "--seller", SELLER]);
    assert_eq!(orgs[0]["slug"], "initech", "{orgs}");
    assert!(
        !mails_to(&server, "cto@initech.example").is_empty(),
        "no welcome mail"
    );
}

// Connect onboarding through OAuth (settings page, session-bound single-use state) is tested
// end to end in `billing_webhooks_e2e/connect.rs`, against the fake's OAuth endpoint.

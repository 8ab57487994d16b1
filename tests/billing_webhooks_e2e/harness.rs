//! The server under test and what it says: start it against the fake, set up the seller and
//! its plans, deliver signed events, and read orgs, seats, tokens, mail and npm answers.

use std::collections::BTreeSet;

use serde_json::Value;
use tollgate_billing::mail::eml::{ReadMail, read_dir};
use tollgate_billing::webhook::sign;

use crate::common::http::{self, request};
use crate::common::{self, Server};
use crate::fake_stripe::FakeStripe;
use crate::objects::now;
use crate::{CRATE, GEM, HEX_PACKAGE, PACKAGE, SECRET_KEY, SELLER, WHSEC};

/// A server talking to `stripe`, with `extra` environment.
pub(crate) fn server_for(stripe: &FakeStripe, extra: &[(&str, &str)]) -> Server {
    let mut env = common::backend_env();
    env.push(("TOLLGATE_STRIPE_API_BASE".into(), stripe.url.clone()));
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Server::start_on(env)
}

/// Seller `acme` on its own Stripe keys, product `pro` = `@acme/ui-pro`, and `plans`:
/// (slug, price, seats, rule).
pub(crate) fn acme(server: &Server, plans: &[(&str, &str, &str, &str)]) {
    server.seller(SELLER);
    server.product(
        SELLER,
        "pro",
        &[
            &format!("npm:{PACKAGE}"),
            &format!("hex:{HEX_PACKAGE}"),
            &format!("cargo:{CRATE}"),
            &format!("rubygems:{GEM}"),
        ],
    );
    server.cli(&[
        "seller",
        "stripe",
        SELLER,
        "--secret-key",
        SECRET_KEY,
        "--webhook-secret",
        WHSEC,
    ]);
    for (slug, price, seats, rule) in plans {
        plan(server, SELLER, "pro", slug, price, seats, rule);
    }
}

pub(crate) fn plan(
    server: &Server,
    seller: &str,
    product: &str,
    slug: &str,
    price: &str,
    seats: &str,
    rule: &str,
) {
    server.cli(&[
        "plan",
        "create",
        "--seller",
        seller,
        "--product",
        product,
        "--stripe-price",
        price,
        "--seats",
        seats,
        "--rule",
        rule,
        "--grace-days",
        "7",
        "--slug",
        slug,
    ]);
}

/// Signs `event` with `secret` now and posts it to `seller`'s webhook.
pub(crate) fn deliver(
    server: &Server,
    seller: &str,
    secret: &str,
    event: &Value,
) -> http::Response {
    let body = event.to_string();
    let signature = sign(body.as_bytes(), secret, now());
    deliver_raw(server, seller, body.as_bytes(), Some(&signature))
}

pub(crate) fn deliver_raw(
    server: &Server,
    seller: &str,
    body: &[u8],
    signature: Option<&str>,
) -> http::Response {
    let url = format!("{}/{seller}/stripe/webhook", server.url());
    let mut headers = vec![
        ("content-type", "application/json; charset=utf-8"),
        (
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        ),
    ];
    if let Some(s) = signature {
        headers.push(("stripe-signature", s));
    }
    request("POST", &url, &headers, body).expect("deliver the webhook")
}

/// Delivers and expects 200.
pub(crate) fn applied(server: &Server, secret: &str, event: &Value) -> String {
    let r = deliver(server, SELLER, secret, event);
    assert_eq!(
        r.status,
        200,
        "{} ({}) → {}: {}",
        event["id"],
        event["type"],
        r.status,
        r.text()
    );
    r.text()
}

fn orgs(server: &Server, seller: &str) -> Vec<Value> {
    match server.cli_json(&["org", "list", "--seller", seller]) {
        Value::Array(a) => a,
        other => panic!("`org list --json` is not an array: {other}"),
    }
}

/// The seller's org slugs, sorted.
pub(crate) fn org_slugs(server: &Server, seller: &str) -> Vec<String> {
    let mut slugs: Vec<String> = orgs(server, seller)
        .iter()
        .map(|o| o["slug"].as_str().unwrap_or_default().to_owned())
        .collect();
    slugs.sort();
    slugs
}

/// The org tokens of `seller` (publish tokens left out).
pub(crate) fn org_tokens(server: &Server, seller: &str) -> Vec<Value> {
    match server.cli_json(&["token", "list", "--seller", seller]) {
        Value::Array(a) => a.into_iter().filter(|t| t["kind"] == "org").collect(),
        other => panic!("`token list --json` is not an array: {other}"),
    }
}

pub(crate) fn seats(server: &Server, seller: &str, org: &str) -> Vec<Value> {
    match server.cli_json(&["seat", "list", "--seller", seller, "--org", org]) {
        Value::Array(a) => a,
        other => panic!("`seat list --json` is not an array: {other}"),
    }
}

pub(crate) fn seat_add(server: &Server, org: &str, email: &str) -> Result<(), String> {
    let out = server.try_cli(&["seat", "add", "--seller", SELLER, "--org", org, email]);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

pub(crate) fn mails(server: &Server) -> Vec<ReadMail> {
    read_dir(&server.data_dir().join("mail")).expect("read the mail directory")
}

pub(crate) fn mails_to(server: &Server, to: &str) -> Vec<ReadMail> {
    mails(server)
        .into_iter()
        .filter(|m| m.to().contains(to))
        .collect()
}

/// The org token in a welcome mail: the line that is nothing but the token.
pub(crate) fn token_in(mail: &ReadMail) -> String {
    mail.body
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("tg_") && !l.contains(' ') && l.len() > 70)
        .unwrap_or_else(|| panic!("no token in the mail:\n{}", mail.body))
        .to_owned()
}

pub(crate) fn publish(server: &Server, token: &str, name: &str, version: &str) {
    let seed = version.bytes().map(u64::from).sum::<u64>() + name.len() as u64;
    let body = common::npm_publish_body(name, version, &common::fake_tgz(seed, 512));
    let auth = format!("Bearer {token}");
    let r = request(
        "PUT",
        &format!("{}/{SELLER}/npm/{}", server.url(), common::npm_escape(name)),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .expect("publish");
    assert_eq!(r.status, 201, "publish {name}@{version}: {}", r.text());
}

pub(crate) fn packument(
    server: &Server,
    name: &str,
    token: &str,
    abbreviated: bool,
) -> http::Response {
    let auth = format!("Bearer {token}");
    let accept = if abbreviated {
        "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
    } else {
        "application/json"
    };
    request(
        "GET",
        &format!("{}/{SELLER}/npm/{}", server.url(), common::npm_escape(name)),
        &[("authorization", &auth), ("accept", accept)],
        b"",
    )
    .expect("GET the packument")
}

pub(crate) fn tarball_url(server: &Server, name: &str, version: &str) -> String {
    let base = name.rsplit_once('/').map_or(name, |(_, b)| b);
    format!(
        "{}/{SELLER}/npm/{name}/-/{base}-{version}.tgz",
        server.url()
    )
}

pub(crate) fn download(server: &Server, name: &str, version: &str, token: &str) -> http::Response {
    let auth = format!("Bearer {token}");
    request(
        "GET",
        &tarball_url(server, name, version),
        &[("authorization", &auth)],
        b"",
    )
    .expect("GET the tarball")
}

pub(crate) fn listed_versions(r: &http::Response) -> BTreeSet<String> {
    if r.status != 200 {
        return BTreeSet::new();
    }
    r.json()["versions"]
        .as_object()
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default()
}

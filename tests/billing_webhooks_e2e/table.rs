//! 7: subscription state × rule × release date.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};
use tollgate_billing::mail::eml::ReadMail;

use crate::common::Server;
use crate::fake_stripe::FakeStripe;
use crate::harness::{
    acme, applied, crate_download, crate_listed, download, gem_download, gem_listed, hex_download,
    hex_listed, listed_versions, mails, packument, plan, publish, publish_crate, publish_gem,
    publish_hex, server_for, tarball_url, token_in,
};
use crate::objects::{event, invoice, now, now_ms, subscription};
use crate::{DAY, PACKAGE, SELLER, WHSEC};

/// One row: the subscription's state (set in the fake, then announced by `event`), and what
/// each rule lets the org list and download of v1 (published before the boundary E) and v2
/// (published after it).
struct Row {
    name: &'static str,
    status: &'static str,
    /// Edits the fake's subscription; arguments: the subscription, E, now (unix seconds).
    edit: fn(&mut Value, i64, i64),
    /// `invoice.payment_failed` created at this time (from E and now), else a subscription
    /// event announces the state.
    failed_at: Option<fn(i64, i64) -> i64>,
    while_active: &'static [&'static str],
    perpetual: &'static [&'static str],
    /// The grace warning shows.
    notice: bool,
}

/// The other clients checked like npm: (name, what it lists, a download's status).
type Listing = fn(&Server, &str) -> BTreeSet<String>;
type Fetch = fn(&Server, &str, &str) -> u16;
const CLIENTS: [(&str, Listing, Fetch); 3] = [
    ("Hex", hex_listed, hex_download),
    ("Cargo", crate_listed, crate_download),
    ("RubyGems", gem_listed, gem_download),
];

const V1: &str = "1.0.0";
const V2: &str = "2.0.0";

fn rows() -> Vec<Row> {
    let same = |_: &mut Value, _: i64, _: i64| {};
    vec![
        Row {
            name: "trialing",
            status: "trialing",
            edit: |s, _, now| {
                s["trial_start"] = json!(now - 3 * DAY);
                s["trial_end"] = json!(now + 11 * DAY);
            },
            failed_at: None,
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: false,
        },
        Row {
            name: "active",
            status: "active",
            edit: same,
            failed_at: None,
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: false,
        },
        Row {
            name: "active, cancels at the period end",
            status: "active",
            edit: |s, _, now| {
                s["cancel_at_period_end"] = json!(true);
                s["cancel_at"] = json!(now + 20 * DAY);
                s["canceled_at"] = json!(now - DAY);
            },
            failed_at: None,
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: false,
        },
        Row {
            name: "past_due within grace",
            status: "past_due",
            edit: same,
            failed_at: Some(|_, now| now - DAY),
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: true,
        },
        Row {
            name: "past_due after grace (first failure 30 days ago)",
            status: "past_due",
            edit: same,
            failed_at: Some(|_, now| now - 30 * DAY),
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "past_due, grace ended at E",
            status: "past_due",
            edit: same,
            failed_at: Some(|e, _| e - 7 * DAY),
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "unpaid within grace",
            status: "unpaid",
            edit: same,
            failed_at: Some(|_, now| now - 2 * DAY),
            while_active: &[V1, V2],
            perpetual: &[V1, V2],
            notice: true,
        },
        Row {
            name: "unpaid, grace ended at E",
            status: "unpaid",
            edit: same,
            failed_at: Some(|e, _| e - 7 * DAY),
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "canceled, ended at E",
            status: "canceled",
            edit: |s, e, _| {
                s["canceled_at"] = json!(e - DAY);
                s["ended_at"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "canceled 20 days ago",
            status: "canceled",
            edit: |s, _, now| {
                s["canceled_at"] = json!(now - 20 * DAY);
                s["ended_at"] = json!(now - 20 * DAY);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "canceled, no ended_at: the item's period end E",
            status: "canceled",
            edit: |s, e, _| {
                s["items"]["data"][0]["current_period_end"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[V1],
            notice: false,
        },
        Row {
            name: "incomplete, started at E",
            status: "incomplete",
            edit: |s, e, _| {
                s["created"] = json!(e);
                s["start_date"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "incomplete_expired, started at E",
            status: "incomplete_expired",
            edit: |s, e, _| {
                s["created"] = json!(e);
                s["start_date"] = json!(e);
            },
            failed_at: None,
            while_active: &[],
            perpetual: &[],
            notice: false,
        },
        Row {
            name: "paused (ends when read)",
            status: "paused",
            edit: same,
            failed_at: None,
            while_active: &[],
            perpetual: &[V1, V2],
            notice: false,
        },
    ]
}

/// For every subscription state × version rule × release date: what npm lists (full and
/// abbreviated packument) equals what the tarball URLs serve, and equals the policy.
#[test]
fn what_each_client_lists_equals_what_it_may_download_for_every_state_rule_and_release_date() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    let rules = [
        ("wa", "price_while_active", "while_active"),
        ("pf", "price_perpetual", "perpetual_fallback"),
    ];
    acme(
        &server,
        &rules.map(|(slug, price, rule)| (slug, price, "per-quantity", rule)),
    );
    // Another product, which buyers of never-paid subscriptions already hold (so that they
    // have an org and a token).
    server.product(SELLER, "starter", &["npm:acme-starter"]);
    plan(
        &server,
        SELLER,
        "starter",
        "starter",
        "price_starter",
        "per-quantity",
        "while_active",
    );
    let publisher = server.publish_token(SELLER, &[]);

    // v1, then the boundary E (a whole second), then v2.
    publish(&server, &publisher.secret, PACKAGE, V1);
    publish_hex(&server, &publisher.secret, V1);
    publish_crate(&server, &publisher.secret, V1);
    publish_gem(&server, &publisher.secret, V1);
    let e = now_ms() / 1000 + 1;
    let wait = e * 1000 + 30 - now_ms();
    std::thread::sleep(Duration::from_millis(
        u64::try_from(wait.max(0)).unwrap_or(0),
    ));
    publish(&server, &publisher.secret, PACKAGE, V2);
    publish_hex(&server, &publisher.secret, V2);
    publish_crate(&server, &publisher.secret, V2);
    publish_gem(&server, &publisher.secret, V2);

    let rows = rows();
    // Drive every subscription: provision it as active (or, for one that was never paid, its
    // buyer through another product), then bring it to the row's state.
    let mut subjects = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (rule_slug, price, _) in rules {
            let key = format!("t{i}-{rule_slug}");
            let (sub_id, customer) = (format!("sub_{key}"), format!("cus_{key}"));
            let email = format!("{key}@buyers.example");
            stripe.put_customer(&customer, &email, &key);
            let now = now();
            let mut sub = subscription(&sub_id, &customer, price, 3, row.status);
            (row.edit)(&mut sub, e, now);
            let never_paid = matches!(row.status, "incomplete" | "incomplete_expired");
            let starts_live = never_paid || row.status == "trialing";
            if never_paid {
                let starter = format!("{sub_id}_starter");
                stripe.put_subscription(subscription(
                    &starter,
                    &customer,
                    "price_starter",
                    1,
                    "active",
                ));
                applied(
                    &server,
                    WHSEC,
                    &event(
                        &format!("evt_{key}_starter"),
                        "customer.subscription.created",
                        now - 60,
                        subscription(&starter, &customer, "price_starter", 1, "active"),
                    ),
                );
            }
            if !starts_live {
                stripe.put_subscription(subscription(&sub_id, &customer, price, 3, "active"));
                applied(
                    &server,
                    WHSEC,
                    &event(
                        &format!("evt_{key}_created"),
                        "customer.subscription.created",
                        now - 40,
                        subscription(&sub_id, &customer, price, 3, "active"),
                    ),
                );
            }
            stripe.put_subscription(sub.clone());
            let announce = match (row.failed_at, row.status) {
                (Some(at), _) => event(
                    &format!("evt_{key}_failed"),
                    "invoice.payment_failed",
                    at(e, now),
                    invoice(&format!("in_{key}"), &customer, &email, &sub_id, false),
                ),
                (None, "canceled") => event(
                    &format!("evt_{key}_deleted"),
                    "customer.subscription.deleted",
                    now - 20,
                    sub,
                ),
                (None, _) if starts_live => event(
                    &format!("evt_{key}_created"),
                    "customer.subscription.created",
                    now - 20,
                    sub,
                ),
                (None, _) => event(
                    &format!("evt_{key}_updated"),
                    "customer.subscription.updated",
                    now - 20,
                    sub,
                ),
            };
            applied(&server, WHSEC, &announce);
            subjects.push((row, rule_slug, email));
        }
    }

    // Each org's token from its welcome mail, then what npm lists and downloads.
    let all_mail = mails(&server);
    let mut problems = Vec::new();
    for (row, rule_slug, email) in subjects {
        let label = format!("{} × {rule_slug}", row.name);
        let welcome: Vec<&ReadMail> = all_mail
            .iter()
            .filter(|m| m.to().contains(&email) && m.subject().contains("access"))
            .collect();
        assert_eq!(welcome.len(), 1, "{label}: one welcome mail");
        let token = token_in(welcome[0]);
        let expected: BTreeSet<String> = if rule_slug == "wa" {
            row.while_active
        } else {
            row.perpetual
        }
        .iter()
        .map(|v| (*v).to_owned())
        .collect();

        let full = packument(&server, PACKAGE, &token, false);
        let abbreviated = packument(&server, PACKAGE, &token, true);
        let listed = listed_versions(&full);
        if listed_versions(&abbreviated) != listed {
            problems.push(format!(
                "{label}: abbreviated lists {:?}, full lists {listed:?}",
                listed_versions(&abbreviated)
            ));
        }
        if full.status != 200 && !matches!(full.status, 403 | 404) {
            problems.push(format!(
                "{label}: packument {}: {}",
                full.status,
                full.text()
            ));
        }
        for v in [V1, V2] {
            let got = download(&server, PACKAGE, v, &token);
            let downloadable = got.status == 200;
            if !downloadable && !matches!(got.status, 403 | 404) {
                problems.push(format!(
                    "{label}: {v} tarball {}: {}",
                    got.status,
                    got.text()
                ));
            }
            if listed.contains(v) != downloadable {
                problems.push(format!(
                    "{label}: {v} listed={} but tarball {} ({})",
                    listed.contains(v),
                    got.status,
                    got.text().trim()
                ));
            }
            if listed.contains(v) {
                let url = &full.json()["versions"][v]["dist"]["tarball"];
                if url.as_str() != Some(tarball_url(&server, PACKAGE, v).as_str()) {
                    problems.push(format!("{label}: {v} dist.tarball {url}"));
                }
            }
        }
        if listed != expected {
            problems.push(format!(
                "{label}: lists {listed:?}, the policy says {expected:?}"
            ));
        }
        // The same for Hex (what mix and rebar3 resolve and fetch), Cargo's sparse index and the
        // RubyGems compact index.
        for (client, list, fetch) in CLIENTS {
            let listed = list(&server, &token);
            if listed != expected {
                problems.push(format!(
                    "{label}: {client} lists {listed:?}, the policy says {expected:?}"
                ));
            }
            for v in [V1, V2] {
                let status = fetch(&server, &token, v);
                if listed.contains(v) != (status == 200) {
                    problems.push(format!(
                        "{label}: {client} {v} listed={} but download {status}",
                        listed.contains(v)
                    ));
                }
            }
        }
        let notice = full
            .header("npm-notice")
            .is_some_and(|n| n.contains("payment"));
        if full.status == 200 && notice != row.notice {
            problems.push(format!(
                "{label}: npm-notice {:?}, expected one: {}",
                full.header("npm-notice"),
                row.notice
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

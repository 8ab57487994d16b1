//! 7: subscription state × rule × release date, in every ecosystem.
//!
//! Releases are published before the boundary instant E, exactly at E (moved there in the
//! database: the access rule keeps `published_at < cutoff`, so a release at the cutoff is the
//! one that tells `<` from `<=`), and after E. Each row brings a subscription to a state whose
//! end is E (or another instant), for both version rules, and then every listing of every
//! ecosystem must list exactly the allowed versions, every allowed version must download with
//! its published bytes, and everything else must be refused cleanly (`table/listings.rs`). One
//! row is then driven by each ecosystem's real client (`table/clients.rs`).
//!
//! Of the comparisons in `registry/src/access.rs`, two compare stored instants and are pinned
//! here: `published_at < cutoff` (the releases at E, against every end at E) and the never-live
//! grant's `end > start` (the row canceled the instant it started, whose window is [E, E)). The
//! others compare a grant's start or end with the request's `now`; they differ only in the one
//! millisecond where they are equal, which no request can be made to land on, so they are left
//! to the rule's unit tests.

mod clients;
mod decode;
mod fixtures;
mod listings;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate_billing::mail::eml::ReadMail;

use crate::fake_stripe::FakeStripe;
use crate::harness::{acme, applied, mails, packument, plan, server_for, token_in};
use crate::objects::{event, invoice, now, now_ms, subscription};
use crate::{DAY, PACKAGE, SELLER, WHSEC};
use fixtures::{Catalog, Eco, When};
use listings::{Check, newest};

/// One row: the subscription's state (set in the fake, then announced by `event`), and which
/// releases (by when they were published relative to E) each rule lets the org have.
struct Row {
    name: &'static str,
    status: &'static str,
    /// Edits the fake's subscription; arguments: the subscription, E, now (unix seconds).
    edit: fn(&mut Value, i64, i64),
    /// `invoice.payment_failed` created at this time (from E and now), else a subscription
    /// event announces the state.
    failed_at: Option<fn(i64, i64) -> i64>,
    while_active: &'static [When],
    perpetual: &'static [When],
    /// The grace warning shows.
    notice: bool,
}

const ALL: &[When] = &[When::Before, When::AtE, When::After];
/// What perpetual fallback keeps after an end at E: strictly before it.
const BEFORE_E: &[When] = &[When::Before];
const NONE: &[When] = &[];

/// The row whose perpetual-fallback org the real clients are driven with: it may have what was
/// published before E, not the release at E.
const CLIENT_ROW: &str = "canceled, ended at E";

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
            while_active: ALL,
            perpetual: ALL,
            notice: false,
        },
        Row {
            name: "active",
            status: "active",
            edit: same,
            failed_at: None,
            while_active: ALL,
            perpetual: ALL,
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
            while_active: ALL,
            perpetual: ALL,
            notice: false,
        },
        Row {
            name: "past_due within grace",
            status: "past_due",
            edit: same,
            failed_at: Some(|_, now| now - DAY),
            while_active: ALL,
            perpetual: ALL,
            notice: true,
        },
        Row {
            name: "past_due after grace (first failure 30 days ago)",
            status: "past_due",
            edit: same,
            failed_at: Some(|_, now| now - 30 * DAY),
            while_active: NONE,
            perpetual: NONE,
            notice: false,
        },
        Row {
            name: "past_due, grace ended at E",
            status: "past_due",
            edit: same,
            failed_at: Some(|e, _| e - 7 * DAY),
            while_active: NONE,
            perpetual: BEFORE_E,
            notice: false,
        },
        Row {
            name: "unpaid within grace",
            status: "unpaid",
            edit: same,
            failed_at: Some(|_, now| now - 2 * DAY),
            while_active: ALL,
            perpetual: ALL,
            notice: true,
        },
        Row {
            name: "unpaid, grace ended at E",
            status: "unpaid",
            edit: same,
            failed_at: Some(|e, _| e - 7 * DAY),
            while_active: NONE,
            perpetual: BEFORE_E,
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
            while_active: NONE,
            perpetual: BEFORE_E,
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
            while_active: NONE,
            perpetual: NONE,
            notice: false,
        },
        Row {
            name: "canceled, no ended_at: the item's period end E",
            status: "canceled",
            edit: |s, e, _| {
                s["items"]["data"][0]["current_period_end"] = json!(e);
            },
            failed_at: None,
            while_active: NONE,
            perpetual: BEFORE_E,
            notice: false,
        },
        Row {
            // Its window is [E, E): never live, so perpetual fallback keeps nothing (the rule's
            // `end > start`).
            name: "canceled the instant it started (E)",
            status: "canceled",
            edit: |s, e, _| {
                s["created"] = json!(e);
                s["start_date"] = json!(e);
                s["canceled_at"] = json!(e);
                s["ended_at"] = json!(e);
            },
            failed_at: None,
            while_active: NONE,
            perpetual: NONE,
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
            while_active: NONE,
            perpetual: NONE,
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
            while_active: NONE,
            perpetual: NONE,
            notice: false,
        },
        Row {
            name: "paused (ends when read)",
            status: "paused",
            edit: same,
            failed_at: None,
            while_active: NONE,
            perpetual: ALL,
            notice: false,
        },
    ]
}

/// For every subscription state × version rule × release date: every listing of npm, Cargo,
/// Hex and RubyGems lists exactly what the policy allows, which is exactly what downloads (with
/// the published bytes); the rest is refused cleanly. Then each real client, for one row, gets
/// the newest allowed version and is refused the one published at the cutoff.
#[test]
fn what_each_client_lists_equals_what_it_may_download_for_every_state_rule_and_release_date() {
    let started = Instant::now();
    let stripe = FakeStripe::start();
    let mut server = server_for(&stripe, &[]);
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

    // Releases before E, the ones to put at E, then E (a whole second), then releases after it.
    let mut catalog = Catalog(Vec::new());
    fixtures::publish_all(&server, &publisher.secret, When::Before, &mut catalog);
    fixtures::publish_all(&server, &publisher.secret, When::AtE, &mut catalog);
    let e = now_ms() / 1000 + 1;
    let wait = e * 1000 + 30 - now_ms();
    std::thread::sleep(Duration::from_millis(
        u64::try_from(wait.max(0)).unwrap_or(0),
    ));
    fixtures::publish_all(&server, &publisher.secret, When::After, &mut catalog);
    fixtures::move_to_boundary(&mut server, e * 1000);

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

    let driven = started.elapsed();

    // Each org's token from its welcome mail, then what every ecosystem lists and downloads.
    let all_mail = mails(&server);
    let mut problems = Vec::new();
    let mut client_token = None;
    for (row, rule_slug, email) in subjects {
        let label = format!("{} × {rule_slug}", row.name);
        let welcome: Vec<&ReadMail> = all_mail
            .iter()
            .filter(|m| m.to().contains(&email) && m.subject().contains("access"))
            .collect();
        assert_eq!(welcome.len(), 1, "{label}: one welcome mail");
        let token = token_in(welcome[0]);
        let allowed = if rule_slug == "wa" {
            row.while_active
        } else {
            row.perpetual
        };
        if row.name == CLIENT_ROW && rule_slug == "pf" {
            assert_eq!(allowed, BEFORE_E, "the client row keeps what was before E");
            client_token = Some(token.clone());
        }
        let mut check = Check {
            server: &server,
            token: &token,
            catalog: &catalog,
            label: &label,
            problems: &mut problems,
        };
        check.npm(&catalog.versions(Eco::Npm, allowed));
        check.cargo(&catalog.versions(Eco::Cargo, allowed));
        check.hex(&catalog.versions(Eco::Hex, allowed));
        check.gems(&catalog.versions(Eco::Gems, allowed));

        let full = packument(&server, PACKAGE, &token, false);
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
    let listed = started.elapsed();

    // The real clients, for the perpetual-fallback org whose license ended at E.
    let token = client_token.expect("the client row is in the table");
    let newest_of = |eco| newest(&catalog.versions(eco, BEFORE_E)).expect("a release before E");
    let at_e = |eco| {
        let at: BTreeSet<String> = catalog.versions(eco, &[When::AtE]);
        newest(&at).expect("a release at E")
    };
    let runs = [
        clients::npm(&server, &token, &newest_of(Eco::Npm), &at_e(Eco::Npm)),
        clients::cargo(&server, &token, &newest_of(Eco::Cargo), &at_e(Eco::Cargo)),
        clients::gems(&server, &token, &newest_of(Eco::Gems), &at_e(Eco::Gems)),
        clients::rebar3(&server, &token, &newest_of(Eco::Hex), &at_e(Eco::Hex)),
    ];
    for (client, found) in runs {
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("{CLIENT_ROW} × pf, real {client}: {p}")),
        );
    }
    eprintln!(
        "table: subscriptions driven in {driven:?}, listings checked by {listed:?}, clients done by {:?}",
        started.elapsed()
    );
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

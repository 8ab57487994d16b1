//! 1 + 2: checkout, provisioning, replays.

use serde_json::json;
use tollgate_billing::mail::eml::ReadMail;
use tollgate_billing::webhook::sign;

use crate::common::http::request;
use crate::fake_stripe::{FakeStripe, Recorded};
use crate::harness::{
    acme, applied, deliver, deliver_raw, download, listed_versions, mails, mails_to, org_slugs,
    org_tokens, packument, plan, publish, seats, server_for, token_in,
};
use crate::objects::{checkout_session, event, invoice, now, subscription, subscription_2017};
use crate::{PACKAGE, PLATFORM_KEY, SECRET_KEY, SELLER, WHSEC};

/// The buy link creates a subscription Checkout Session on the seller's Stripe (own keys or
/// Connect) and redirects to it; the completed session provisions an org with its admin seat,
/// an org token that works at once, and the welcome mail; replays and the other events about
/// the same purchase change nothing more; the Billing Portal link is made for the org's customer.
#[test]
fn checkout_provisions_once_and_connect_calls_carry_the_account() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[("TOLLGATE_STRIPE_SECRET_KEY", PLATFORM_KEY)]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    let publisher = server.publish_token(SELLER, &[]);
    publish(&server, &publisher.secret, PACKAGE, "1.0.0");

    // The buy link.
    let r = request(
        "GET",
        &format!("{}/{SELLER}/buy/pro-seat?quantity=5", server.url()),
        &[],
        b"",
    )
    .expect("GET the buy link");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("https://checkout.stripe.test/c/pay/cs_test_1")
    );
    let created = stripe.requests_to("POST", "/v1/checkout/sessions");
    assert_eq!(created.len(), 1, "{created:#?}");
    let c = &created[0];
    let buy_base = format!("{}/{SELLER}/buy/pro-seat", server.url());
    for (key, want) in [
        ("mode", "subscription"),
        ("line_items[0][price]", "price_pro_seat"),
        ("line_items[0][quantity]", "5"),
        ("metadata[tollgate_plan]", "pro-seat"),
        ("subscription_data[metadata][tollgate_plan]", "pro-seat"),
        ("metadata[tollgate_seller]", SELLER),
    ] {
        assert_eq!(c.field(key), Some(want), "{key} in {:#?}", c.form);
    }
    for key in ["success_url", "cancel_url"] {
        let url = c.field(key).unwrap_or_default();
        assert!(url.starts_with(&buy_base), "{key} = {url:?}");
    }
    assert_eq!(
        c.header("authorization"),
        Some(format!("Bearer {SECRET_KEY}").as_str())
    );
    assert_eq!(
        c.header("stripe-account"),
        None,
        "own keys: no Connect header"
    );

    // Stripe completes the checkout: the subscription exists, the session event arrives.
    let mut sub = subscription(
        "sub_1Pglobex",
        "cus_Globex01",
        "price_pro_seat",
        5,
        "active",
    );
    sub["metadata"] = json!({"tollgate_seller": SELLER, "tollgate_plan": "pro-seat"});
    stripe.put_subscription(sub.clone());
    let completed = event(
        "evt_1Pcheckout",
        "checkout.session.completed",
        now() - 5,
        checkout_session(
            "cs_test_1",
            "cus_Globex01",
            "sub_1Pglobex",
            "ops@globex.example",
            "Globex Corp",
        ),
    );
    applied(&server, WHSEC, &completed);
    assert_eq!(org_slugs(&server, SELLER), ["globex-corp"]);
    let seat_list = seats(&server, SELLER, "globex-corp");
    assert_eq!(seat_list.len(), 1, "{seat_list:#?}");
    assert_eq!(seat_list[0]["email"], "ops@globex.example");
    assert_eq!(seat_list[0]["role"], "admin");
    assert_eq!(seat_list[0]["active"], true);
    let tokens = org_tokens(&server, SELLER);
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    assert_eq!(tokens[0]["org_slug"], "globex-corp");

    let welcome = mails_to(&server, "ops@globex.example");
    assert_eq!(welcome.len(), 1, "one welcome mail");
    let mail = &welcome[0];
    assert!(mail.subject().contains("access"), "{}", mail.subject());
    let token = token_in(mail);
    let host = server.authority();
    for needle in [
        format!("{}/{SELLER}/", server.url()),
        format!("@acme:registry={}/{SELLER}/npm/", server.url()),
        format!("//{host}/{SELLER}/npm/:_authToken={token}"),
        "5 seats".to_owned(),
        "tollgate-license-v1.".to_owned(),
    ] {
        assert!(
            mail.body.contains(&needle),
            "welcome lacks {needle:?}:\n{}",
            mail.body
        );
    }
    assert!(
        token.contains(tokens[0]["id"].as_str().unwrap_or("?")),
        "the mailed token is the listed one"
    );
    // The token works at once.
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 200, "{}", p.text());
    assert!(listed_versions(&p).contains("1.0.0"));
    assert_eq!(p.header("npm-notice"), None);
    assert_eq!(download(&server, PACKAGE, "1.0.0", &token).status, 200);

    // 2. Replays: the same delivery again (same signature), a re-signed redelivery, and the
    // subscription's own events about the same purchase: 200, nothing more.
    let body = completed.to_string();
    let signature = sign(body.as_bytes(), WHSEC, now());
    for _ in 0..2 {
        let r = deliver_raw(&server, SELLER, body.as_bytes(), Some(&signature));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let again = applied(&server, WHSEC, &completed);
    assert!(again.contains("already"), "{again}");
    applied(
        &server,
        WHSEC,
        &event(
            "evt_1Psubcreated",
            "customer.subscription.created",
            now() - 6,
            sub.clone(),
        ),
    );
    applied(
        &server,
        WHSEC,
        &event(
            "evt_1Pinvoicepaid",
            "invoice.paid",
            now() - 4,
            invoice(
                "in_1Pglobex",
                "cus_Globex01",
                "ops@globex.example",
                "sub_1Pglobex",
                true,
            ),
        ),
    );
    assert_eq!(org_slugs(&server, SELLER), ["globex-corp"]);
    assert_eq!(org_tokens(&server, SELLER).len(), 1);
    assert_eq!(seats(&server, SELLER, "globex-corp").len(), 1);
    assert_eq!(mails(&server).len(), 1, "no second mail");

    // The Billing Portal link for the org's customer.
    let link = server.cli_json(&[
        "org",
        "billing-link",
        "--seller",
        SELLER,
        "--org",
        "globex-corp",
        "--public-url",
        server.url(),
    ]);
    assert_eq!(
        link["url"],
        "https://billing.stripe.test/p/session/bps_test_1"
    );
    let portal = stripe.requests_to("POST", "/v1/billing_portal/sessions");
    assert_eq!(portal.len(), 1);
    assert_eq!(portal[0].field("customer"), Some("cus_Globex01"));
    assert!(
        portal[0]
            .field("return_url")
            .is_some_and(|u| u.starts_with(server.url())),
        "{:#?}",
        portal[0].form
    );

    // Stripe Connect: another seller whose account is reached with the platform key and the
    // `Stripe-Account` header; it sells a legacy plan id, and the re-read subscription comes
    // back in the 2017 shape.
    server.seller("initech");
    server.product("initech", "kit", &["npm:initech-kit"]);
    server.cli(&[
        "seller",
        "stripe",
        "initech",
        "--connect-account",
        "acct_123",
        "--webhook-secret",
        "whsec_initech_connect",
    ]);
    plan(
        &server,
        "initech",
        "kit",
        "kit",
        "plan_kit_monthly",
        "per-quantity",
        "while_active",
    );
    let r = request(
        "GET",
        &format!("{}/initech/buy/kit?quantity=2", server.url()),
        &[],
        b"",
    )
    .expect("GET the Connect buy link");
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("https://checkout.stripe.test/c/pay/cs_test_2")
    );
    let created = stripe.requests_to("POST", "/v1/checkout/sessions");
    let c = created.last().expect("a second checkout");
    assert_eq!(c.header("stripe-account"), Some("acct_123"));
    assert_eq!(
        c.header("authorization"),
        Some(format!("Bearer {PLATFORM_KEY}").as_str())
    );
    assert_eq!(c.field("line_items[0][price]"), Some("plan_kit_monthly"));
    assert_eq!(c.field("line_items[0][quantity]"), Some("2"));
    assert_eq!(c.field("metadata[tollgate_plan]"), Some("kit"));

    stripe.put_subscription(subscription_2017(
        "sub_1Pumbrella",
        "cus_Umbrella1",
        "plan_kit_monthly",
        2,
        "active",
    ));
    stripe.put_customer("cus_Umbrella1", "it@umbrella.example", "Umbrella");
    let mut connect_event = event(
        "evt_1Pconnect",
        "customer.subscription.created",
        now() - 3,
        subscription_2017(
            "sub_1Pumbrella",
            "cus_Umbrella1",
            "plan_kit_monthly",
            2,
            "active",
        ),
    );
    // An event for another connected account is refused, and nothing is read for it.
    connect_event["account"] = json!("acct_999");
    let before = stripe.requests().len();
    let r = deliver(&server, "initech", "whsec_initech_connect", &connect_event);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        stripe.requests().len(),
        before,
        "nothing read for a refused event"
    );
    connect_event["account"] = json!("acct_123");
    let r = deliver(&server, "initech", "whsec_initech_connect", &connect_event);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(org_slugs(&server, "initech"), ["umbrella"]);
    let reads: Vec<Recorded> = stripe
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.method == "GET")
        .collect();
    assert!(
        reads
            .iter()
            .any(|r| r.path == "/v1/subscriptions/sub_1Pumbrella")
            && reads
                .iter()
                .any(|r| r.path == "/v1/customers/cus_Umbrella1"),
        "{reads:#?}"
    );
    for r in &reads {
        assert_eq!(r.header("stripe-account"), Some("acct_123"), "{r:?}");
    }
    // 2 seats from the 2017 shape: the admin and one more.
    let seat_add_initech = |email: &str| {
        server
            .try_cli(&[
                "seat", "add", "--seller", "initech", "--org", "umbrella", email,
            ])
            .status
            .success()
    };
    assert!(seat_add_initech("dev@umbrella.example"));
    assert!(!seat_add_initech("dev2@umbrella.example"));
}

/// Stripe sends `checkout.session.completed`, `customer.subscription.created` and `invoice.paid`
/// for one purchase at nearly the same moment, in parallel. Only one org, one token and one
/// welcome mail may come of it.
#[test]
fn concurrent_events_of_one_purchase_provision_once() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    let rounds = 4;
    for n in 0..rounds {
        let sub_id = format!("sub_race{n}");
        let customer = format!("cus_race{n}");
        let email = format!("ops{n}@race.example");
        stripe.put_subscription(subscription(
            &sub_id,
            &customer,
            "price_pro_seat",
            3,
            "active",
        ));
        stripe.put_customer(&customer, &email, &format!("Race {n}"));
        let events = [
            event(
                &format!("evt_race{n}_checkout"),
                "checkout.session.completed",
                now(),
                checkout_session(
                    &format!("cs_race{n}"),
                    &customer,
                    &sub_id,
                    &email,
                    &format!("Race {n}"),
                ),
            ),
            event(
                &format!("evt_race{n}_created"),
                "customer.subscription.created",
                now(),
                subscription(&sub_id, &customer, "price_pro_seat", 3, "active"),
            ),
            event(
                &format!("evt_race{n}_paid"),
                "invoice.paid",
                now(),
                invoice(&format!("in_race{n}"), &customer, &email, &sub_id, true),
            ),
        ];
        std::thread::scope(|s| {
            let handles: Vec<_> = events
                .iter()
                .map(|e| s.spawn(|| deliver(&server, SELLER, WHSEC, e)))
                .collect();
            for h in handles {
                let r = h.join().expect("delivery thread");
                assert_eq!(r.status, 200, "{}", r.text());
            }
        });
    }
    let slugs = org_slugs(&server, SELLER);
    let tokens = org_tokens(&server, SELLER);
    let all_mail = mails(&server);
    let mut problems = Vec::new();
    if slugs.len() != rounds || tokens.len() != rounds || all_mail.len() != rounds {
        problems.push(format!("orgs: {slugs:?}"));
    }
    if slugs.len() != rounds {
        problems.push(format!(
            "{} orgs for {rounds} customers: {slugs:?}",
            slugs.len()
        ));
    }
    if tokens.len() != rounds {
        problems.push(format!(
            "{} org tokens for {rounds} purchases: {:?}",
            tokens.len(),
            tokens.iter().map(|t| &t["org_slug"]).collect::<Vec<_>>()
        ));
    }
    if all_mail.len() != rounds {
        problems.push(format!(
            "{} welcome mails for {rounds} purchases: {:?}",
            all_mail.len(),
            all_mail.iter().map(ReadMail::to).collect::<Vec<_>>()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

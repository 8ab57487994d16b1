//! 3 + 4: out-of-order and refused deliveries.

use tollgate_billing::webhook::sign;

use crate::fake_stripe::FakeStripe;
use crate::harness::{
    acme, applied, deliver_raw, mails, org_slugs, org_tokens, seat_add, seats, server_for,
};
use crate::objects::{checkout_session, event, now, subscription, subscription_2017};
use crate::{SELLER, WHSEC};

/// An older `customer.subscription.updated` (3 seats) delivered after a newer one (5 seats):
/// the server re-reads the subscription, so the seat cap is what Stripe has now. The fake
/// answers in the 2017 shape (top-level `plan`/`quantity`).
#[test]
fn out_of_order_events_end_in_stripes_current_state() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("team", "plan_team_monthly", "per-quantity", "while_active")],
    );
    let sub_id = "sub_1Pinitech";
    stripe.put_customer("cus_Initech01", "admin@initech.example", "Initech");
    stripe.put_subscription(subscription_2017(
        sub_id,
        "cus_Initech01",
        "plan_team_monthly",
        5,
        "active",
    ));

    let newer = event(
        "evt_newer",
        "customer.subscription.updated",
        now() - 10,
        subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 5, "active"),
    );
    let older = event(
        "evt_older",
        "customer.subscription.updated",
        now() - 100,
        subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 3, "active"),
    );
    applied(&server, WHSEC, &newer);
    applied(&server, WHSEC, &older);
    assert_eq!(
        org_slugs(&server, SELLER),
        ["initech"],
        "provisioned from the customer"
    );
    assert!(
        !stripe
            .requests_to("GET", "/v1/customers/cus_Initech01")
            .is_empty(),
        "the admin's email comes from the customer"
    );
    // Cap 5: the admin and four more.
    for n in 1..=4 {
        seat_add(&server, "initech", &format!("dev{n}@initech.example"))
            .unwrap_or_else(|e| panic!("seat {n} of 5 refused: {e}"));
    }
    let err = seat_add(&server, "initech", "dev5@initech.example")
        .expect_err("a sixth seat over a quantity of 5");
    assert!(err.contains("seat"), "{err}");

    // Lowered to 2 seats (the object now without items: only top-level plan and quantity).
    // Nobody is cut off, but no new seat.
    let mut two = subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 2, "active");
    two.as_object_mut().expect("object").remove("items");
    stripe.put_subscription(two.clone());
    applied(
        &server,
        WHSEC,
        &event(
            "evt_lowered",
            "customer.subscription.updated",
            now() - 5,
            two,
        ),
    );
    // An even older event again: still the current state.
    applied(
        &server,
        WHSEC,
        &event(
            "evt_oldest",
            "customer.subscription.created",
            now() - 1000,
            subscription_2017(sub_id, "cus_Initech01", "plan_team_monthly", 9, "active"),
        ),
    );
    let active = seats(&server, SELLER, "initech")
        .iter()
        .filter(|s| s["active"] == true)
        .count();
    assert_eq!(active, 5, "lowering the quantity cuts nobody off");
    let err = seat_add(&server, "initech", "dev6@initech.example")
        .expect_err("no new seat over the lowered quantity");
    assert!(err.contains("seat"), "{err}");
    assert_eq!(org_slugs(&server, SELLER), ["initech"]);
    assert_eq!(org_tokens(&server, SELLER).len(), 1);
}

/// Forged, tampered, stale, unsigned and cross-seller deliveries get 400 and change nothing
/// (the server does not even call Stripe); the genuine event is applied afterwards, so none of
/// the refusals marked it as seen.
#[test]
fn forged_stale_and_cross_seller_events_are_refused() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    server.seller("other");
    server.cli(&[
        "seller",
        "stripe",
        "other",
        "--secret-key",
        "sk_test_other",
        "--webhook-secret",
        "whsec_other_seller",
    ]);
    stripe.put_subscription(subscription(
        "sub_1Phooli",
        "cus_Hooli001",
        "price_pro_seat",
        3,
        "active",
    ));
    let e = event(
        "evt_1Phooli",
        "checkout.session.completed",
        now() - 2,
        checkout_session(
            "cs_hooli",
            "cus_Hooli001",
            "sub_1Phooli",
            "it@hooli.example",
            "Hooli",
        ),
    );
    let body = e.to_string();
    let good = sign(body.as_bytes(), WHSEC, now());
    let tampered = body.replace("it@hooli.example", "evil@attacker.example");
    let cases: Vec<(&str, Vec<u8>, Option<String>, &str)> = vec![
        (
            "forged (unknown secret)",
            body.clone().into_bytes(),
            Some(sign(body.as_bytes(), "whsec_forger", now())),
            "does not match",
        ),
        (
            "tampered body",
            tampered.into_bytes(),
            Some(good.clone()),
            "does not match",
        ),
        (
            "stale (t = now - 600)",
            body.clone().into_bytes(),
            Some(sign(body.as_bytes(), WHSEC, now() - 600)),
            "old",
        ),
        (
            "signed with another seller's secret",
            body.clone().into_bytes(),
            Some(sign(body.as_bytes(), "whsec_other_seller", now())),
            "does not match",
        ),
        (
            "no signature",
            body.clone().into_bytes(),
            None,
            "Stripe-Signature",
        ),
        (
            "garbage signature",
            body.clone().into_bytes(),
            Some("t=abc".to_owned()),
            "malformed",
        ),
    ];
    for (name, payload, signature, says) in cases {
        let r = deliver_raw(&server, SELLER, &payload, signature.as_deref());
        assert_eq!(r.status, 400, "{name}: {}", r.text());
        assert!(r.text().contains(says), "{name}: {}", r.text());
    }
    // The other seller's endpoint refuses what was signed for acme.
    let r = deliver_raw(&server, "other", body.as_bytes(), Some(&good));
    assert_eq!(
        r.status,
        400,
        "acme's event at other's endpoint: {}",
        r.text()
    );

    assert!(
        stripe.requests().is_empty(),
        "refused events are not processed"
    );
    assert!(org_slugs(&server, SELLER).is_empty());
    assert!(org_slugs(&server, "other").is_empty());
    assert!(org_tokens(&server, SELLER).is_empty());
    assert!(mails(&server).is_empty());

    // The genuine delivery still applies.
    let r = deliver_raw(&server, SELLER, body.as_bytes(), Some(&good));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(org_slugs(&server, SELLER), ["hooli"]);
    assert_eq!(
        seats(&server, SELLER, "hooli")[0]["email"],
        "it@hooli.example"
    );
}

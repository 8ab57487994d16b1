//! 5: processing failures.

use serde_json::json;

use crate::fake_stripe::FakeStripe;
use crate::harness::{
    acme, applied, deliver, mails, mails_to, org_slugs, org_tokens, seat_add, seats, server_for,
};
use crate::objects::{checkout_session, event, now, subscription};
use crate::{DAY, SELLER, WHSEC};

/// When Stripe fails while an event is processed, the webhook answers 5xx (Stripe retries) and
/// nothing is applied; the retry after the outage applies the event once.
#[test]
fn a_failure_while_processing_answers_5xx_and_the_retry_applies() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    stripe.put_subscription(subscription(
        "sub_1Pacme1",
        "cus_Vandelay1",
        "price_pro_seat",
        3,
        "active",
    ));
    stripe.put_subscription(subscription(
        "sub_1Pacme2",
        "cus_Pied0001",
        "price_pro_seat",
        2,
        "active",
    ));
    stripe.put_customer("cus_Pied0001", "richard@piedpiper.example", "Pied Piper");

    // The subscription cannot be read.
    let checkout = event(
        "evt_1Pfail1",
        "checkout.session.completed",
        now() - 1,
        checkout_session(
            "cs_v",
            "cus_Vandelay1",
            "sub_1Pacme1",
            "art@vandelay.example",
            "Vandelay",
        ),
    );
    stripe.fail("/v1/subscriptions/");
    let r = deliver(&server, SELLER, WHSEC, &checkout);
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    // The subscription is read, then the customer cannot be: still nothing half-applied.
    stripe.recover();
    stripe.fail("/v1/customers/");
    let created = event(
        "evt_1Pfail2",
        "customer.subscription.created",
        now() - 1,
        subscription("sub_1Pacme2", "cus_Pied0001", "price_pro_seat", 2, "active"),
    );
    let r = deliver(&server, SELLER, WHSEC, &created);
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    assert!(
        !stripe
            .requests_to("GET", "/v1/subscriptions/sub_1Pacme2")
            .is_empty(),
        "the failure came after the subscription was read"
    );
    assert!(org_slugs(&server, SELLER).is_empty(), "no org on failure");
    assert!(
        org_tokens(&server, SELLER).is_empty(),
        "no token on failure"
    );
    assert!(mails(&server).is_empty(), "no mail on failure");

    // Stripe retries after the outage.
    stripe.recover();
    applied(&server, WHSEC, &checkout);
    applied(&server, WHSEC, &created);
    assert_eq!(org_slugs(&server, SELLER), ["pied-piper", "vandelay"]);
    assert_eq!(org_tokens(&server, SELLER).len(), 2);
    assert_eq!(mails_to(&server, "art@vandelay.example").len(), 1);
    assert_eq!(mails_to(&server, "richard@piedpiper.example").len(), 1);

    // A failure on an update of an existing subscription keeps the old state.
    stripe.edit_subscription("sub_1Pacme1", |s| {
        s["items"]["data"][0]["quantity"] = json!(1)
    });
    stripe.fail("/v1/subscriptions/");
    let lowered = event(
        "evt_1Pfail3",
        "customer.subscription.updated",
        now(),
        subscription(
            "sub_1Pacme1",
            "cus_Vandelay1",
            "price_pro_seat",
            1,
            "active",
        ),
    );
    let r = deliver(&server, SELLER, WHSEC, &lowered);
    assert!(r.status >= 500, "{} {}", r.status, r.text());
    seat_add(&server, "vandelay", "george@vandelay.example").expect("still 3 seats");
    stripe.recover();
    applied(&server, WHSEC, &lowered);
    seat_add(&server, "vandelay", "kramer@vandelay.example").expect_err("1 seat now");
}

/// Stripe announces a subscription while its first payment is still pending (`incomplete`, e.g.
/// waiting for 3-D Secure): the webhook answers 200 and provisions nothing; once Stripe has it
/// active, the next event provisions the org, its admin seat, token and welcome mail.
#[test]
fn a_subscription_first_seen_unpaid_provisions_once_it_is_paid() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[(
            "pro-seat",
            "price_pro_seat",
            "per-quantity",
            "perpetual_fallback",
        )],
    );
    let (sub_id, customer, email) = ("sub_1Pstark", "cus_Stark001", "tony@stark.example");
    stripe.put_customer(customer, email, "Stark Industries");
    for status in ["incomplete", "incomplete_expired", "canceled"] {
        let mut sub = subscription(sub_id, customer, "price_pro_seat", 2, status);
        if status == "canceled" {
            sub["ended_at"] = json!(now() - DAY);
        }
        stripe.put_subscription(sub.clone());
        applied(
            &server,
            WHSEC,
            &event(
                &format!("evt_unpaid_{status}"),
                "customer.subscription.created",
                now() - 9,
                sub,
            ),
        );
        assert!(
            org_slugs(&server, SELLER).is_empty(),
            "{status}: no org yet"
        );
        assert!(mails(&server).is_empty(), "{status}: no mail yet");
    }
    let sub = subscription(sub_id, customer, "price_pro_seat", 2, "active");
    stripe.put_subscription(sub.clone());
    applied(
        &server,
        WHSEC,
        &event("evt_paid", "customer.subscription.updated", now() - 1, sub),
    );
    assert_eq!(org_slugs(&server, SELLER), ["stark-industries"]);
    assert_eq!(
        seats(&server, SELLER, "stark-industries")[0]["email"],
        email
    );
    assert_eq!(org_tokens(&server, SELLER).len(), 1);
    assert_eq!(mails_to(&server, email).len(), 1);
}

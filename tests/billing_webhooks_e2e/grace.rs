//! 6: grace period.

use serde_json::json;

use crate::fake_stripe::FakeStripe;
use crate::harness::{acme, applied, download, mails_to, packument, publish, server_for, token_in};
use crate::objects::{checkout_session, event, invoice, invoice_2017, now, subscription};
use crate::{DAY, PACKAGE, SELLER, WHSEC};

/// A failed payment keeps access through the grace period with a warning in npm's output and a
/// mail to the org admin; a paid invoice clears the warning; the cancelled subscription ends
/// access with the reason.
#[test]
fn a_failed_payment_warns_through_grace_then_cancel_ends_access() {
    let stripe = FakeStripe::start();
    let server = server_for(&stripe, &[]);
    acme(
        &server,
        &[("pro-seat", "price_pro_seat", "per-quantity", "while_active")],
    );
    let publisher = server.publish_token(SELLER, &[]);
    publish(&server, &publisher.secret, PACKAGE, "1.0.0");
    let (sub_id, customer, email) = ("sub_1Pwayne", "cus_Wayne001", "bruce@wayne.example");
    stripe.put_subscription(subscription(
        sub_id,
        customer,
        "price_pro_seat",
        3,
        "active",
    ));
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w1",
            "checkout.session.completed",
            now() - 100,
            checkout_session("cs_w", customer, sub_id, email, "Wayne Enterprises"),
        ),
    );
    let token = token_in(&mails_to(&server, email)[0]);
    let p = packument(&server, PACKAGE, &token, true);
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.header("npm-notice"), None);

    // The renewal fails: Stripe marks the subscription past_due.
    stripe.edit_subscription(sub_id, |s| s["status"] = json!("past_due"));
    let failed_at = now() - 60;
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w2",
            "invoice.payment_failed",
            failed_at,
            invoice("in_w2", customer, email, sub_id, false),
        ),
    );
    for abbreviated in [false, true] {
        let p = packument(&server, PACKAGE, &token, abbreviated);
        assert_eq!(p.status, 200, "in grace: {}", p.text());
        let notice = p.header("npm-notice").unwrap_or_default();
        assert!(notice.contains("payment"), "npm-notice: {notice:?}");
    }
    assert_eq!(download(&server, PACKAGE, "1.0.0", &token).status, 200);
    let grace_end = chrono::DateTime::from_timestamp(failed_at + 7 * DAY, 0)
        .expect("date")
        .format("%Y-%m-%d")
        .to_string();
    let failed_mail = mails_to(&server, email)
        .into_iter()
        .find(|m| m.subject().contains("Payment failed"))
        .expect("a payment-failed mail to the org admin");
    assert!(
        failed_mail.body.contains(&grace_end),
        "{}",
        failed_mail.body
    );
    // Stripe's retry notice for the same failure: no second mail.
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w3",
            "customer.subscription.updated",
            now() - 50,
            subscription(sub_id, customer, "price_pro_seat", 3, "past_due"),
        ),
    );
    let failed_mails = mails_to(&server, email)
        .iter()
        .filter(|m| m.subject().contains("Payment failed"))
        .count();
    assert_eq!(failed_mails, 1);

    // The card is updated and the invoice paid (a 2017-shaped invoice): no more warning.
    stripe.edit_subscription(sub_id, |s| s["status"] = json!("active"));
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w4",
            "invoice.paid",
            now() - 40,
            invoice_2017("in_w2", customer, sub_id, true),
        ),
    );
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 200, "{}", p.text());
    assert_eq!(p.header("npm-notice"), None, "paid: no warning");

    // Cancelled, ended a minute ago.
    stripe.edit_subscription(sub_id, |s| {
        s["status"] = json!("canceled");
        s["canceled_at"] = json!(now() - 60);
        s["ended_at"] = json!(now() - 60);
    });
    applied(
        &server,
        WHSEC,
        &event(
            "evt_w5",
            "customer.subscription.deleted",
            now() - 30,
            subscription(sub_id, customer, "price_pro_seat", 3, "canceled"),
        ),
    );
    let p = packument(&server, PACKAGE, &token, false);
    assert_eq!(p.status, 403, "{}", p.text());
    let reason = p.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(reason.contains("ended"), "{reason}");
    assert_eq!(download(&server, PACKAGE, "1.0.0", &token).status, 403);
    assert!(
        mails_to(&server, email)
            .iter()
            .any(|m| m.subject().contains("ended")),
        "a license-ended mail"
    );
}

//! Stripe objects and events, in the shapes Stripe sends: the current API (prices and periods
//! on the items) and 2017-08-15 (top-level `plan` and `quantity`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::{DAY, SELLER};

pub(crate) fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("unix time fits i64")
}

pub(crate) fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis();
    i64::try_from(ms).expect("unix ms fits i64")
}

/// An event envelope around `object`.
pub(crate) fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2025-03-31.basil", "created": created,
        "livemode": false, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": kind, "data": {"object": object}
    })
}

/// A subscription in the current API shape: `price` and the billing period on each item, no
/// top-level `plan`, `quantity` or period. Started 30 days ago, renews in 28 days.
pub(crate) fn subscription(
    id: &str,
    customer: &str,
    price: &str,
    quantity: u32,
    status: &str,
) -> Value {
    let start = now() - 30 * DAY;
    let period_start = now() - 2 * DAY;
    let price = json!({
        "id": price, "object": "price", "active": true, "currency": "usd",
        "unit_amount": 1500, "type": "recurring", "product": "prod_acme_pro",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"}
    });
    let item = json!({
        "id": format!("si_{id}"), "object": "subscription_item", "created": start,
        "current_period_start": period_start, "current_period_end": period_start + 30 * DAY,
        "quantity": quantity, "subscription": id, "metadata": {}, "price": price
    });
    json!({
        "id": id, "object": "subscription", "status": status, "customer": customer,
        "created": start, "start_date": start, "billing_cycle_anchor": start,
        "cancel_at": null, "cancel_at_period_end": false, "canceled_at": null, "ended_at": null,
        "trial_start": null, "trial_end": null, "collection_method": "charge_automatically",
        "currency": "usd", "livemode": false, "metadata": {}, "latest_invoice": format!("in_{id}"),
        "items": {
            "object": "list", "has_more": false, "total_count": 1, "data": [item],
            "url": format!("/v1/subscription_items?subscription={id}")
        }
    })
}

/// A subscription as API version 2017-08-15 has it: top-level `plan`, `quantity`, period and
/// `start`, items carrying `plan`.
pub(crate) fn subscription_2017(
    id: &str,
    customer: &str,
    plan: &str,
    quantity: u32,
    status: &str,
) -> Value {
    let start = now() - 30 * DAY;
    let plan = json!({
        "id": plan, "object": "plan", "amount": 1500, "currency": "usd", "interval": "month",
        "interval_count": 1, "livemode": false, "metadata": {}, "nickname": null,
        "product": "prod_acme_pro", "trial_period_days": null
    });
    json!({
        "id": id, "object": "subscription", "status": status, "customer": customer,
        "application_fee_percent": null, "billing": "charge_automatically",
        "cancel_at_period_end": false, "canceled_at": null, "created": start,
        "current_period_start": now() - 2 * DAY, "current_period_end": now() + 28 * DAY,
        "discount": null, "ended_at": null, "livemode": false, "metadata": {},
        "plan": plan, "quantity": quantity, "start": start, "tax_percent": null,
        "trial_start": null, "trial_end": null,
        "items": {
            "object": "list", "has_more": false, "total_count": 1,
            "url": format!("/v1/subscription_items?subscription={id}"),
            "data": [{"id": format!("si_{id}"), "object": "subscription_item", "created": start,
                      "metadata": {}, "plan": plan, "quantity": quantity}]
        }
    })
}

/// A completed subscription Checkout Session.
pub(crate) fn checkout_session(
    session: &str,
    customer: &str,
    sub: &str,
    email: &str,
    name: &str,
) -> Value {
    json!({
        "id": session, "object": "checkout.session", "mode": "subscription",
        "status": "complete", "payment_status": "paid", "livemode": false,
        "customer": customer, "subscription": sub, "customer_email": null,
        "customer_details": {"email": email, "name": name, "phone": null, "address": null,
                             "tax_exempt": "none", "tax_ids": []},
        "amount_total": 7500, "currency": "usd", "created": now() - 60,
        "metadata": {"tollgate_seller": SELLER}
    })
}

/// An invoice of the current API shape: the subscription under `parent.subscription_details`.
pub(crate) fn invoice(id: &str, customer: &str, email: &str, sub: &str, paid: bool) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": customer, "customer_email": email,
        "status": if paid { "paid" } else { "open" }, "paid": paid, "attempted": true,
        "attempt_count": 1, "billing_reason": "subscription_cycle", "amount_due": 7500,
        "amount_paid": if paid { 7500 } else { 0 }, "currency": "usd", "livemode": false,
        "next_payment_attempt": if paid { Value::Null } else { json!(now() + 3 * DAY) },
        "parent": {"type": "subscription_details", "quote_details": null,
                   "subscription_details": {"metadata": {}, "subscription": sub}}
    })
}

/// An invoice of API 2017-08-15: top-level `subscription`.
pub(crate) fn invoice_2017(id: &str, customer: &str, sub: &str, paid: bool) -> Value {
    json!({
        "id": id, "object": "invoice", "customer": customer, "subscription": sub,
        "paid": paid, "closed": paid, "attempted": true, "attempt_count": 1,
        "billing": "charge_automatically", "amount_due": 7500, "currency": "usd",
        "livemode": false, "date": now()
    })
}

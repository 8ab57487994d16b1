//! Tests of `subscription`: reading each API shape (`shapes`), and the window policy (`window`).
//! The subscriptions they read, as each Stripe API version sends them, are here.

mod shapes;
mod window;

use super::*;
use serde_json::json;

const T0: i64 = 1_764_028_800; // 2025-11-25T00:00:00Z, start of the subscription
const DAY: i64 = 86_400;

/// What localstripe returns (API 2017-08-15): top-level `plan`, `quantity`, period.
fn localstripe_2017() -> Value {
    json!({
        "id": "sub_A1b2C3d4E5f6G7",
        "object": "subscription",
        "application_fee_percent": null,
        "billing_cycle_anchor": null,
        "cancel_at": null,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "created": T0,
        "current_period_end": T0 + 30 * DAY,
        "current_period_start": T0,
        "customer": "cus_Q1w2E3r4T5y6U7",
        "default_tax_rates": null,
        "discount": null,
        "ended_at": null,
        "items": {
            "object": "list",
            "data": [{
                "id": "si_H8i9J0k1L2m3N4",
                "object": "subscription_item",
                "created": T0,
                "livemode": false,
                "metadata": {},
                "plan": {"id": "plan_acme_pro", "object": "plan", "amount": 1500,
                         "currency": "usd", "interval": "month", "interval_count": 1},
                "quantity": 3,
                "tax_rates": []
            }],
            "has_more": false,
            "total_count": 1,
            "url": "/v1/subscription_items?subscription=sub_A1b2C3d4E5f6G7"
        },
        "latest_invoice": "in_1",
        "livemode": false,
        "metadata": {},
        "plan": {"id": "plan_acme_pro", "object": "plan", "amount": 1500,
                 "currency": "usd", "interval": "month", "interval_count": 1},
        "quantity": 3,
        "start_date": T0,
        "status": "active",
        "tax_percent": null,
        "trial_end": null,
        "trial_start": null
    })
}

/// Current Stripe (2025-03-31.basil and later): periods per item, `price` per item, no
/// top-level `plan`/`quantity`/`current_period_end`; customer expanded here.
fn current_2025() -> Value {
    json!({
        "id": "sub_1QxYyzAbCdEfGhIj",
        "object": "subscription",
        "billing_cycle_anchor": T0,
        "cancel_at": null,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "collection_method": "charge_automatically",
        "created": T0 - 60,
        "currency": "usd",
        "customer": {"id": "cus_RsTuVwXyZ01234", "object": "customer", "email": "a@b.example"},
        "ended_at": null,
        "items": {
            "object": "list",
            "data": [
                {"id": "si_1", "object": "subscription_item",
                 "current_period_start": T0, "current_period_end": T0 + 30 * DAY,
                 "price": {"id": "price_1QxYabAbCdEfGhIj", "object": "price", "unit_amount": 1500,
                           "unit_amount_decimal": "1500", "currency": "usd",
                           "recurring": {"interval": "month", "interval_count": 1,
                                         "usage_type": "licensed"}},
                 "quantity": 5},
                {"id": "si_2", "object": "subscription_item",
                 "current_period_start": T0, "current_period_end": T0 + 365 * DAY,
                 "price": {"id": "price_addon", "object": "price", "unit_amount": 99000,
                           "currency": "eur", "recurring": {"interval": "year"}},
                 "quantity": 2},
                {"id": "si_3", "object": "subscription_item",
                 "current_period_start": T0, "current_period_end": T0 + 30 * DAY,
                 "price": {"id": "price_1QxYabAbCdEfGhIj", "object": "price"},
                 "quantity": 1}
            ],
            "has_more": false,
            "total_count": 3
        },
        "livemode": false,
        "metadata": {"tollgate_org": "acme-buyer", "seats": 5, "note": null},
        "start_date": T0,
        "status": "trialing"
    })
}

//! Tests of `subscription`.

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

#[test]
fn reads_the_2017_localstripe_shape() {
    let s = Subscription::from_json(&localstripe_2017()).expect("2017 shape");
    assert_eq!(
        s,
        Subscription {
            id: "sub_A1b2C3d4E5f6G7".into(),
            customer: "cus_Q1w2E3r4T5y6U7".into(),
            status: Status::Active,
            quantity: 3,
            prices: vec!["plan_acme_pro".into()],
            start: T0,
            current_period_end: Some(T0 + 30 * DAY),
            cancel_at: None,
            canceled_at: None,
            ended_at: None,
            metadata: BTreeMap::new(),
            price: Price {
                unit_amount: Some(1500),
                currency: Some("usd".into()),
                interval: Some(Interval::Month),
            },
        }
    );
}

#[test]
fn reads_the_current_shape() {
    let s = Subscription::from_json(&current_2025()).expect("current shape");
    assert_eq!(s.id, "sub_1QxYyzAbCdEfGhIj");
    assert_eq!(s.customer, "cus_RsTuVwXyZ01234");
    assert_eq!(s.status, Status::Trialing);
    assert_eq!(s.quantity, 8);
    assert_eq!(s.prices, ["price_1QxYabAbCdEfGhIj", "price_addon"]);
    assert_eq!(s.start, T0);
    assert_eq!(s.current_period_end, Some(T0 + 365 * DAY));
    assert_eq!(
        s.metadata.get("tollgate_org").map(String::as_str),
        Some("acme-buyer")
    );
    assert_eq!(s.metadata.get("seats").map(String::as_str), Some("5"));
    assert!(!s.metadata.contains_key("note"));
    // The first item's price only, not the add-on's.
    assert_eq!(
        s.price,
        Price {
            unit_amount: Some(1500),
            currency: Some("usd".into()),
            interval: Some(Interval::Month),
        }
    );
}

/// `(unit_amount, currency, interval)` of a subscription's price, for compact checks.
fn price_of(s: &Subscription) -> (Option<i64>, Option<&str>, Option<Interval>) {
    (
        s.price.unit_amount,
        s.price.currency.as_deref(),
        s.price.interval,
    )
}

#[test]
fn price_variations_in_the_2017_shape() {
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = localstripe_2017();
        f(&mut v);
        Subscription::from_json(&v).expect("2017 shape")
    };
    let month = Some(Interval::Month);
    // No items: the top-level plan.
    let s = edit(&|v| {
        v.as_object_mut().expect("obj").remove("items");
        v["plan"]["amount"] = json!(2000);
    });
    assert_eq!(price_of(&s), (Some(2000), Some("usd"), month));
    // Quarterly: per one month, to the nearest minor unit.
    for (amount, count, per_month) in [(3000, 3, 1000), (500, 3, 167), (1000, 3, 333), (3, 2, 2)] {
        let s = edit(&|v| {
            v["items"]["data"][0]["plan"]["amount"] = json!(amount);
            v["items"]["data"][0]["plan"]["interval_count"] = json!(count);
        });
        assert_eq!(
            price_of(&s),
            (Some(per_month), Some("usd"), month),
            "{amount}/{count}"
        );
    }
    // Yearly, upper-case currency.
    let s = edit(&|v| {
        v["items"]["data"][0]["plan"]["interval"] = json!("year");
        v["items"]["data"][0]["plan"]["currency"] = json!("EUR");
    });
    assert_eq!(
        price_of(&s),
        (Some(1500), Some("eur"), Some(Interval::Year))
    );
    // Nothing we can read is an unknown part, never an error.
    let s = edit(&|v| {
        let plan = &mut v["items"]["data"][0]["plan"];
        plan["amount"] = json!(-5);
        plan["interval"] = json!("fortnight");
        plan["interval_count"] = json!(0);
        plan["currency"] = json!("");
    });
    assert_eq!(price_of(&s), (None, None, None));
    let s = edit(&|v| {
        let plan = v["items"]["data"][0]["plan"].as_object_mut().expect("obj");
        plan.remove("amount");
        plan.remove("currency");
        plan.remove("interval");
    });
    assert_eq!(price_of(&s), (None, None, None));
    // The item's plan as a bare id: unknown, even with a top-level plan.
    let s = edit(&|v| v["items"]["data"][0]["plan"] = json!("plan_acme_pro"));
    assert_eq!(s.prices, ["plan_acme_pro"]);
    assert_eq!(price_of(&s), (None, None, None));
}

#[test]
fn price_variations_in_the_current_shape() {
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = current_2025();
        f(&mut v);
        Subscription::from_json(&v).expect("current shape")
    };
    // Every 6 months: per month.
    let s = edit(&|v| {
        v["items"]["data"][0]["price"]["unit_amount"] = json!(6000);
        v["items"]["data"][0]["price"]["recurring"]["interval_count"] = json!(6);
    });
    assert_eq!(
        price_of(&s),
        (Some(1000), Some("usd"), Some(Interval::Month))
    );
    // Weekly and daily.
    for interval in [Interval::Week, Interval::Day] {
        let s = edit(&|v| {
            v["items"]["data"][0]["price"]["recurring"]["interval"] = json!(interval.as_str());
        });
        assert_eq!(s.price.interval, Some(interval));
    }
    // No currency on the price: the subscription's.
    let s = edit(&|v| {
        v["items"]["data"][0]["price"]
            .as_object_mut()
            .expect("obj")
            .remove("currency");
        v["currency"] = json!("gbp");
    });
    assert_eq!(s.price.currency.as_deref(), Some("gbp"));
    // A tiered price has no unit amount; a one-time price no interval.
    let s = edit(&|v| {
        let price = v["items"]["data"][0]["price"].as_object_mut().expect("obj");
        price.insert("unit_amount".into(), Value::Null);
        price.insert("billing_scheme".into(), json!("tiered"));
        price.insert("recurring".into(), Value::Null);
    });
    assert_eq!(price_of(&s), (None, Some("usd"), None));
    // A bare price id: the item's expanded plan, if any.
    let s = edit(&|v| {
        let item = &mut v["items"]["data"][0];
        item["price"] = json!("price_1QxYabAbCdEfGhIj");
        item["plan"] = json!({"id": "price_1QxYabAbCdEfGhIj", "object": "plan", "amount": 1200,
                              "currency": "usd", "interval": "year", "interval_count": 1});
    });
    assert_eq!(s.prices[0], "price_1QxYabAbCdEfGhIj");
    assert_eq!(
        price_of(&s),
        (Some(1200), Some("usd"), Some(Interval::Year))
    );
    // A bare price id and no plan: only the subscription's currency is known.
    let s = edit(&|v| v["items"]["data"][0]["price"] = json!("price_1QxYabAbCdEfGhIj"));
    assert_eq!(price_of(&s), (None, Some("usd"), None));
    // No items at all (and no top-level plan): unknown.
    let s = edit(&|v| {
        v.as_object_mut().expect("obj").remove("items");
        v.as_object_mut().expect("obj").remove("currency");
    });
    assert_eq!(s.price, Price::default());
}

#[test]
fn interval_round_trips() {
    for interval in Interval::ALL {
        assert_eq!(Interval::parse(interval.as_str()), Some(interval));
    }
    assert_eq!(Interval::parse("Month"), None);
    assert_eq!(Interval::parse(""), None);
}

#[test]
fn shape_variations() {
    type Check = fn(&Subscription) -> bool;
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = localstripe_2017();
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Value, Check)> = vec![
        (
            "no items: top-level plan and quantity",
            edit(&|v| {
                v.as_object_mut().expect("obj").remove("items");
            }),
            |s| s.prices == ["plan_acme_pro"] && s.quantity == 3,
        ),
        (
            "items without quantity: top-level quantity",
            edit(&|v| {
                v["items"]["data"][0]
                    .as_object_mut()
                    .expect("obj")
                    .remove("quantity");
                v["quantity"] = json!(7);
            }),
            |s| s.quantity == 7,
        ),
        (
            "no quantity anywhere: 1",
            edit(&|v| {
                v["items"]["data"][0]
                    .as_object_mut()
                    .expect("obj")
                    .remove("quantity");
                v["quantity"] = Value::Null;
            }),
            |s| s.quantity == 1,
        ),
        (
            "item price wins over item plan",
            edit(&|v| v["items"]["data"][0]["price"] = json!({"id": "price_x"})),
            |s| s.prices == ["price_x"],
        ),
        (
            "price as a bare id",
            edit(&|v| v["items"]["data"][0]["price"] = json!("price_y")),
            |s| s.prices == ["price_y"],
        ),
        (
            "no start_date: created",
            edit(&|v| {
                v["start_date"] = Value::Null;
                v["created"] = json!(T0 - 5);
            }),
            |s| s.start == T0 - 5,
        ),
        (
            "no period anywhere",
            edit(&|v| {
                v.as_object_mut().expect("obj").remove("current_period_end");
            }),
            |s| s.current_period_end.is_none(),
        ),
        (
            "float timestamps",
            edit(&|v| v["ended_at"] = json!(1_764_072_000.0)),
            |s| s.ended_at == Some(1_764_072_000),
        ),
        (
            "no `object` field is fine",
            edit(&|v| {
                v.as_object_mut().expect("obj").remove("object");
            }),
            |s| s.id == "sub_A1b2C3d4E5f6G7",
        ),
        (
            "items as a bare array",
            edit(&|v| v["items"] = json!([{"price": {"id": "price_z"}, "quantity": 4}])),
            |s| s.prices == ["price_z"] && s.quantity == 4,
        ),
        (
            "quantity zero stays zero",
            edit(&|v| v["items"]["data"][0]["quantity"] = json!(0)),
            |s| s.quantity == 0,
        ),
    ];
    for (name, v, check) in cases {
        let s = Subscription::from_json(&v).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(check(&s), "{name}: {s:?}");
    }
}

#[test]
fn refuses_what_it_cannot_read() {
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = current_2025();
        f(&mut v);
        v
    };
    let remove = |key: &'static str| {
        edit(&move |v: &mut Value| {
            v.as_object_mut().expect("obj").remove(key);
        })
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "not an object",
            json!("sub_1"),
            "a subscription must be a JSON object",
        ),
        (
            "another object type",
            edit(&|v| v["object"] = json!("invoice")),
            "expected a subscription, got a `invoice` object",
        ),
        ("no id", remove("id"), "the subscription has no `id`"),
        (
            "no customer",
            remove("customer"),
            "the subscription has no `customer`",
        ),
        (
            "expanded customer without id",
            edit(&|v| v["customer"] = json!({"object": "customer"})),
            "the subscription's expanded `customer` has no `id`",
        ),
        (
            "customer a number",
            edit(&|v| v["customer"] = json!(12)),
            "the subscription's `customer` is not an id",
        ),
        (
            "no status",
            remove("status"),
            "the subscription has no `status`",
        ),
        (
            "unknown status",
            edit(&|v| v["status"] = json!("frozen")),
            "unknown subscription status `frozen`",
        ),
        (
            "no start",
            edit(&|v| {
                let o = v.as_object_mut().expect("obj");
                o.remove("start_date");
                o.remove("created");
            }),
            "the subscription has neither `start_date` nor `created`",
        ),
        (
            "timestamp as text",
            edit(&|v| v["cancel_at"] = json!("2026-01-01")),
            "the subscription's `cancel_at` is not a unix time",
        ),
        (
            "negative quantity",
            edit(&|v| v["items"]["data"][0]["quantity"] = json!(-1)),
            "an item's `quantity` is not a whole number",
        ),
        (
            "quantity beyond u32",
            edit(&|v| v["items"]["data"][0]["quantity"] = json!(5_000_000_000_u64)),
            "the subscription's quantity",
        ),
        (
            "items not a list",
            edit(&|v| v["items"] = json!({"object": "list"})),
            "the subscription's `items` has no `data` list",
        ),
        (
            "metadata not an object",
            edit(&|v| v["metadata"] = json!("x")),
            "the subscription's `metadata` is not an object",
        ),
    ];
    for (name, v, want) in cases {
        let err = Subscription::from_json(&v).expect_err(name);
        assert!(err.starts_with(want), "{name}: {err}");
    }
}

#[test]
fn status_round_trips_and_rejects_unknown() {
    for status in Status::ALL {
        assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        assert_eq!(status.to_string(), status.as_str());
    }
    assert!("cancelled".parse::<Status>().is_err());
    assert!("Active".parse::<Status>().is_err());
    assert!("".parse::<Status>().is_err());
}

fn sub(status: Status) -> Subscription {
    Subscription {
        id: "sub_1".into(),
        customer: "cus_1".into(),
        status,
        quantity: 5,
        prices: vec!["price_1".into()],
        start: T0,
        current_period_end: Some(T0 + 30 * DAY),
        cancel_at: None,
        canceled_at: None,
        ended_at: None,
        metadata: BTreeMap::new(),
        price: Price::default(),
    }
}

#[test]
fn window_policy_table() {
    let ms = |secs: i64| secs * 1000;
    let now = ms(T0 + 10 * DAY); // 2025-12-05
    let start = ms(T0);
    let failed = ms(T0 + 8 * DAY); // 2025-12-03
    let with = |status: Status, f: &dyn Fn(&mut Subscription)| {
        let mut s = sub(status);
        f(&mut s);
        s
    };
    let none = |_: &mut Subscription| {};
    let future_cancel = |s: &mut Subscription| s.cancel_at = Some(T0 + 20 * DAY);
    let past_cancel = |s: &mut Subscription| s.cancel_at = Some(T0 + 5 * DAY);
    let grace_warn = |end: &str| {
        Some(format!(
            "payment for Acme Pro failed on 2025-12-03; access continues until {end} unless the payment succeeds"
        ))
    };

    // (name, subscription, grace days, first failed at, now, ends_at, warning)
    type Case = (
        String,
        Subscription,
        u32,
        Option<i64>,
        i64,
        Option<i64>,
        Option<String>,
    );
    let mut cases: Vec<Case> = Vec::new();
    for status in [Status::Trialing, Status::Active] {
        let n = status.as_str();
        cases.push((format!("{n}: live"), sub(status), 7, None, now, None, None));
        cases.push((
            format!("{n}: a past failure doesn't matter once paid"),
            sub(status),
            7,
            Some(failed),
            now,
            None,
            None,
        ));
        cases.push((
            format!("{n}: scheduled cancel"),
            with(status, &future_cancel),
            7,
            None,
            now,
            Some(ms(T0 + 20 * DAY)),
            None,
        ));
        cases.push((
            format!("{n}: cancel_at already passed is left to the deleted event"),
            with(status, &past_cancel),
            7,
            None,
            now,
            None,
            None,
        ));
    }
    for status in [Status::PastDue, Status::Unpaid] {
        let n = status.as_str();
        cases.push((
            format!("{n}: in grace"),
            sub(status),
            7,
            Some(failed),
            now,
            Some(failed + 7 * DAY * 1000),
            grace_warn("2025-12-10"),
        ));
        cases.push((
            format!("{n}: grace over"),
            sub(status),
            7,
            Some(failed),
            failed + 7 * DAY * 1000,
            Some(failed + 7 * DAY * 1000),
            None,
        ));
        cases.push((
            format!("{n}: failure time unknown: grace from now"),
            sub(status),
            3,
            None,
            failed,
            Some(failed + 3 * DAY * 1000),
            grace_warn("2025-12-06"),
        ));
        cases.push((
            format!("{n}: zero grace days"),
            sub(status),
            0,
            Some(failed),
            now,
            Some(failed),
            None,
        ));
        cases.push((
            format!("{n}: an earlier scheduled cancel wins"),
            with(status, &|s| s.cancel_at = Some(T0 + 12 * DAY)),
            7,
            Some(failed),
            now,
            Some(ms(T0 + 12 * DAY)),
            grace_warn("2025-12-07"),
        ));
        cases.push((
            format!("{n}: a later scheduled cancel doesn't extend grace"),
            with(status, &|s| s.cancel_at = Some(T0 + 40 * DAY)),
            7,
            Some(failed),
            now,
            Some(failed + 7 * DAY * 1000),
            grace_warn("2025-12-10"),
        ));
        cases.push((
            format!("{n}: failure before the start clamps to the start"),
            sub(status),
            1,
            Some(start - 5 * DAY * 1000),
            now,
            Some(start),
            None,
        ));
    }
    let canceled = |f: &dyn Fn(&mut Subscription)| with(Status::Canceled, f);
    cases.extend([
        (
            "canceled: ended_at first".to_string(),
            canceled(&|s| {
                s.ended_at = Some(T0 + 9 * DAY);
                s.canceled_at = Some(T0 + 2 * DAY);
            }),
            7,
            Some(failed),
            now,
            Some(ms(T0 + 9 * DAY)),
            None,
        ),
        (
            "canceled: then canceled_at".to_string(),
            canceled(&|s| s.canceled_at = Some(T0 + 2 * DAY)),
            7,
            None,
            now,
            Some(ms(T0 + 2 * DAY)),
            None,
        ),
        (
            "canceled: then the period end".to_string(),
            canceled(&none),
            7,
            None,
            now,
            Some(ms(T0 + 30 * DAY)),
            None,
        ),
        (
            "canceled: nothing known: now".to_string(),
            canceled(&|s| s.current_period_end = None),
            7,
            None,
            now,
            Some(now),
            None,
        ),
        (
            "canceled: a future cancel_at is not an end".to_string(),
            canceled(&|s| {
                s.current_period_end = None;
                future_cancel(s);
            }),
            7,
            None,
            now,
            Some(now),
            None,
        ),
        (
            "canceled: end before start clamps".to_string(),
            canceled(&|s| s.ended_at = Some(T0 - DAY)),
            7,
            None,
            now,
            Some(start),
            None,
        ),
        (
            "incomplete: never live".to_string(),
            sub(Status::Incomplete),
            7,
            None,
            now,
            Some(start),
            None,
        ),
        (
            "incomplete_expired: never live".to_string(),
            with(Status::IncompleteExpired, &future_cancel),
            7,
            Some(failed),
            now,
            Some(start),
            None,
        ),
        (
            "paused: ends now".to_string(),
            sub(Status::Paused),
            7,
            None,
            now,
            Some(now),
            None,
        ),
        (
            "paused: a scheduled cancel doesn't keep it live".to_string(),
            with(Status::Paused, &future_cancel),
            7,
            None,
            now,
            Some(now),
            None,
        ),
    ]);

    for status in Status::ALL {
        assert!(
            cases.iter().any(|c| c.1.status == status),
            "no case for {status}"
        );
    }
    for (name, s, grace, failed_at, now, ends_at, warning) in cases {
        let w = window(&s, "Acme Pro", grace, failed_at, now);
        assert_eq!(
            w,
            Window {
                starts_at: start,
                ends_at,
                warning
            },
            "{name}"
        );
        if let Some(end) = w.ends_at {
            assert!(end >= w.starts_at, "{name}: ends before it starts");
        }
    }
}

#[test]
fn warning_matches_the_documented_example() {
    // First failure 2026-11-25 10:30 UTC, 7 days of grace.
    let failed = 1_795_602_600_000;
    let w = window(
        &sub(Status::PastDue),
        "Acme Pro",
        7,
        Some(failed),
        failed + 1000,
    );
    assert_eq!(
        w.warning.as_deref(),
        Some(
            "payment for Acme Pro failed on 2026-11-25; access continues until 2026-12-02 unless the payment succeeds"
        )
    );
    assert_eq!(w.ends_at, Some(failed + 7 * 86_400_000));
}

#[test]
fn from_json_then_window_end_to_end() {
    // localstripe's cancel: status canceled with ended_at only.
    let mut v = localstripe_2017();
    v["status"] = json!("canceled");
    v["ended_at"] = json!(T0 + 3 * DAY);
    let s = Subscription::from_json(&v).expect("canceled");
    let w = window(&s, "Acme Pro", 7, None, (T0 + 4 * DAY) * 1000);
    assert_eq!(w.ends_at, Some((T0 + 3 * DAY) * 1000));

    // Current shape, trialing, with a scheduled cancel at the end of the period.
    let mut v = current_2025();
    v["cancel_at"] = json!(T0 + 30 * DAY);
    let s = Subscription::from_json(&v).expect("current");
    let w = window(&s, "Acme Pro", 7, None, T0 * 1000);
    assert_eq!(w.starts_at, T0 * 1000);
    assert_eq!(w.ends_at, Some((T0 + 30 * DAY) * 1000));
    assert_eq!(w.warning, None);
}

/// The edges of what is read: empty ids are no ids, a whole-number float time is read only below
/// 1e15 s, an `interval_count` of 0 is 1.
#[test]
fn empty_ids_huge_times_and_a_zero_interval_count() {
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = current_2025();
        f(&mut v);
        v
    };
    let refused: Vec<(&str, Value, &str)> = vec![
        (
            "empty id",
            edit(&|v| v["id"] = json!("")),
            "the subscription's `id` is not a non-empty string",
        ),
        (
            "empty customer",
            edit(&|v| v["customer"] = json!("")),
            "the subscription's `customer` is not an id",
        ),
        (
            "a float time of 1e15 s",
            edit(&|v| v["cancel_at"] = json!(1e15)),
            "the subscription's `cancel_at` is not a unix time",
        ),
        (
            "a float time beyond i64",
            edit(&|v| v["ended_at"] = json!(1e20)),
            "the subscription's `ended_at` is not a unix time",
        ),
    ];
    for (name, v, want) in refused {
        let err = Subscription::from_json(&v).expect_err(name);
        assert!(err.starts_with(want), "{name}: {err}");
    }
    let s = Subscription::from_json(&edit(&|v| v["cancel_at"] = json!(999_999_999_999_999.0)))
        .expect("just below 1e15");
    assert_eq!(s.cancel_at, Some(999_999_999_999_999));

    // An item whose price is an empty id, bare or expanded, names no price.
    for price in [json!(""), json!({"id": "", "object": "price"})] {
        let v = edit(&|v| {
            v["items"]["data"] = json!([{"price": price.clone(), "quantity": 1}]);
        });
        let s = Subscription::from_json(&v).expect("readable");
        assert!(s.prices.is_empty(), "{price}: {:?}", s.prices);
    }

    // `interval_count: 0` is one interval, not a division by zero.
    let mut v = localstripe_2017();
    v["items"]["data"][0]["plan"]["amount"] = json!(1200);
    v["items"]["data"][0]["plan"]["interval_count"] = json!(0);
    let s = Subscription::from_json(&v).expect("readable");
    assert_eq!(s.price.unit_amount, Some(1200));
}

/// A scheduled cancellation at exactly now is not in the future: an active subscription stays
/// live (Stripe's `customer.subscription.deleted` ends it); one a second later ends it then.
#[test]
fn a_cancel_at_exactly_now_is_not_scheduled() {
    let now = (T0 + 10 * DAY) * 1000;
    let mut s = sub(Status::Active);
    s.cancel_at = Some(T0 + 10 * DAY);
    assert_eq!(window(&s, "Acme Pro", 7, None, now).ends_at, None);
    s.cancel_at = Some(T0 + 10 * DAY + 1);
    assert_eq!(
        window(&s, "Acme Pro", 7, None, now).ends_at,
        Some(now + 1000)
    );
}

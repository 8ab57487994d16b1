//! Reading a subscription in each API shape, what varies between them, and what is refused.

use super::*;

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

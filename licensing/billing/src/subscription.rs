//! Reading a Stripe Subscription object, and the policy that turns its state into an entitlement
//! window.
//!
//! # Shapes
//!
//! [`Subscription::from_json`] reads both the shape localstripe sends (API 2017-08-15: top-level
//! `plan`, `quantity` and `current_period_end`, items carrying `plan`) and the current one (2025+:
//! items carrying `price` and their own `current_period_end`, no top-level `plan`/`quantity`). It
//! reads only what the policy needs, so a field Stripe adds later can't break it.
//!
//! # Policy
//!
//! [`window`] gives `[starts_at, ends_at)` in unix milliseconds; `starts_at` is the subscription's
//! start (`start_date`, else `created`).
//!
//! | status | ends_at | warning |
//! |---|---|---|
//! | `trialing`, `active` | none (live) — but a scheduled `cancel_at` still in the future ends it then | none |
//! | `past_due`, `unpaid` | grace end = (first failed payment, else now) + grace days; an earlier scheduled `cancel_at` wins | until the end has passed: "payment for P failed on D; access continues until E unless the payment succeeds" |
//! | `canceled` | `ended_at`, else `canceled_at`, else `current_period_end`, else now | none |
//! | `incomplete`, `incomplete_expired` | `starts_at`: never live (the first payment never succeeded) | none |
//! | `paused` | now | none |
//!
//! `ends_at` is never before `starts_at`. A `cancel_at` already in the past on a still active
//! subscription is ignored: Stripe flips the status to `canceled` at that moment and tells us with
//! `customer.subscription.deleted`, whose `ended_at` then ends the window. Dates in warnings are
//! `YYYY-MM-DD` in UTC. When a failed subscription becomes `active` again, the window is live again.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::Value;

const DAY_MS: i64 = 86_400_000;

/// A Stripe subscription status. An unknown status is an error rather than a guess, so that a
/// status Stripe adds later is noticed (the event fails and Stripe retries) instead of silently
/// granting or revoking access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Trialing,
    Active,
    PastDue,
    Unpaid,
    Canceled,
    Incomplete,
    IncompleteExpired,
    Paused,
}

impl Status {
    /// Every status, for table-driven tests and exhaustive listings.
    pub const ALL: [Status; 8] = [
        Status::Trialing,
        Status::Active,
        Status::PastDue,
        Status::Unpaid,
        Status::Canceled,
        Status::Incomplete,
        Status::IncompleteExpired,
        Status::Paused,
    ];

    /// Stripe's spelling, e.g. `past_due`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Trialing => "trialing",
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Unpaid => "unpaid",
            Status::Canceled => "canceled",
            Status::Incomplete => "incomplete",
            Status::IncompleteExpired => "incomplete_expired",
            Status::Paused => "paused",
        }
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown subscription status `{s}`"))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Tollgate needs from a Stripe Subscription, in either API shape. Times are unix seconds,
/// as Stripe sends them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// `sub_…`
    pub id: String,
    /// `cus_…` (also when Stripe sent the customer expanded).
    pub customer: String,
    pub status: Status,
    /// Seats: the sum of the items' quantities, else the top-level `quantity`, else 1.
    pub quantity: u32,
    /// Price (or legacy plan) ids, in item order without repeats: `items[].price.id`, else
    /// `items[].plan.id`, else the top-level `plan.id`. Real Stripe accepts a plan id as a price id,
    /// so a Tollgate plan maps either.
    pub prices: Vec<String>,
    /// `start_date`, else `created`.
    pub start: i64,
    /// Top-level (2017 shape), else the latest over the items (current shape).
    pub current_period_end: Option<i64>,
    /// A scheduled cancellation time.
    pub cancel_at: Option<i64>,
    /// When cancellation was requested.
    pub canceled_at: Option<i64>,
    /// When the subscription actually ended.
    pub ended_at: Option<i64>,
    /// The seller's (and our Checkout's) metadata; non-string values kept as their JSON text.
    pub metadata: BTreeMap<String, String>,
}

impl Subscription {
    /// Reads a Subscription object (an event's `data.object` or an API response).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        if !v.is_object() {
            return Err("a subscription must be a JSON object".to_string());
        }
        match v.get("object").and_then(Value::as_str) {
            None | Some("subscription") => {}
            Some(other) => return Err(format!("expected a subscription, got a `{other}` object")),
        }
        let id = required_id(v, "id")?;
        let customer = match v.get("customer") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(c @ Value::Object(_)) => required_id(c, "id")
                .map_err(|_| "the subscription's expanded `customer` has no `id`".to_string())?,
            Some(_) => return Err("the subscription's `customer` is not an id".to_string()),
            None => return Err("the subscription has no `customer`".to_string()),
        };
        let status: Status = match v.get("status") {
            Some(Value::String(s)) => s.parse()?,
            Some(_) => return Err("the subscription's `status` is not a string".to_string()),
            None => return Err("the subscription has no `status`".to_string()),
        };

        let items: &[Value] = match v.get("items") {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) => a,
            Some(list) => match list.get("data") {
                Some(Value::Array(a)) => a,
                _ => return Err("the subscription's `items` has no `data` list".to_string()),
            },
        };

        let mut item_quantity: Option<u64> = None;
        let mut prices: Vec<String> = Vec::new();
        let mut item_period_end: Option<i64> = None;
        for item in items {
            if let Some(q) = optional_u64(item, "quantity", "an item's")? {
                item_quantity = Some(item_quantity.unwrap_or(0).saturating_add(q));
            }
            let price = match object_id(item.get("price")) {
                Some(id) => Some(id),
                None => object_id(item.get("plan")),
            };
            if let Some(price) = price
                && !prices.contains(&price)
            {
                prices.push(price);
            }
            if let Some(end) = optional_time(item, "current_period_end", "an item's")? {
                item_period_end = Some(item_period_end.map_or(end, |e| e.max(end)));
            }
        }
        if prices.is_empty()
            && let Some(plan) = object_id(v.get("plan"))
        {
            prices.push(plan);
        }
        let quantity = match item_quantity {
            Some(q) => Some(q),
            None => optional_u64(v, "quantity", "the subscription's")?,
        }
        .unwrap_or(1);
        let quantity = u32::try_from(quantity)
            .map_err(|_| format!("the subscription's quantity {quantity} is too large"))?;

        let start = match optional_time(v, "start_date", "the subscription's")? {
            Some(t) => t,
            None => optional_time(v, "created", "the subscription's")?
                .ok_or("the subscription has neither `start_date` nor `created`")?,
        };
        let current_period_end = match optional_time(v, "current_period_end", "the subscription's")?
        {
            Some(t) => Some(t),
            None => item_period_end,
        };

        let mut metadata = BTreeMap::new();
        match v.get("metadata") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, value) in m {
                    let value = match value {
                        Value::String(s) => s.clone(),
                        Value::Null => continue,
                        other => other.to_string(),
                    };
                    metadata.insert(k.clone(), value);
                }
            }
            Some(_) => return Err("the subscription's `metadata` is not an object".to_string()),
        }

        Ok(Subscription {
            id,
            customer,
            status,
            quantity,
            prices,
            start,
            current_period_end,
            cancel_at: optional_time(v, "cancel_at", "the subscription's")?,
            canceled_at: optional_time(v, "canceled_at", "the subscription's")?,
            ended_at: optional_time(v, "ended_at", "the subscription's")?,
            metadata,
        })
    }
}

fn required_id(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(format!(
            "the subscription's `{key}` is not a non-empty string"
        )),
        None => Err(format!("the subscription has no `{key}`")),
    }
}

/// The id of an expanded object (`{"id": …}`) or a bare id string.
fn object_id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => match o.get("id") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// A unix time in seconds; absent or null is `None`, anything but a number is an error.
fn optional_time(v: &Value, key: &str, whose: &str) -> Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) => Ok(Some(t)),
            // Python servers occasionally emit `1764072000.0`; whole seconds are what is meant.
            None => match n.as_f64() {
                Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f.trunc() as i64)),
                _ => Err(format!("{whose} `{key}` is not a unix time: {n}")),
            },
        },
        Some(other) => Err(format!("{whose} `{key}` is not a unix time: {other}")),
    }
}

fn optional_u64(v: &Value, key: &str, whose: &str) -> Result<Option<u64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{whose} `{key}` is not a whole number ≥ 0: {n}")),
        Some(other) => Err(format!("{whose} `{key}` is not a number: {other}")),
    }
}

/// The entitlement a subscription gives: [starts_at, ends_at) in unix MILLISECONDS, and a warning
/// to show while in a grace period.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub starts_at: i64,
    /// `None`: no end known, live for as long as the subscription stays in good standing.
    pub ends_at: Option<i64>,
    /// Shown in each client's output while the window is still open but will close unless the
    /// buyer acts (a failed payment).
    pub warning: Option<String>,
}

/// Applies the policy in the module documentation to `sub`. `product` names the product in the
/// warning; `first_failed_at` (unix ms) is when the first payment of the current failure run
/// failed, if we know; `now_ms` is the clock.
pub fn window(
    sub: &Subscription,
    product: &str,
    grace_days: u32,
    first_failed_at: Option<i64>,
    now_ms: i64,
) -> Window {
    let starts_at = sub.start.saturating_mul(1000);
    let ms = |secs: i64| secs.saturating_mul(1000);
    let scheduled_cancel = sub.cancel_at.map(ms).filter(|&c| c > now_ms);

    let (ends_at, warning) = match sub.status {
        Status::Trialing | Status::Active => (scheduled_cancel, None),
        Status::PastDue | Status::Unpaid => {
            let failed_at = first_failed_at.unwrap_or(now_ms);
            let grace_end = failed_at.saturating_add(i64::from(grace_days).saturating_mul(DAY_MS));
            let end = scheduled_cancel.map_or(grace_end, |c| c.min(grace_end));
            let end = end.max(starts_at);
            let warning = (now_ms < end).then(|| {
                format!(
                    "payment for {product} failed on {}; access continues until {} unless the payment succeeds",
                    date(failed_at),
                    date(end)
                )
            });
            (Some(end), warning)
        }
        Status::Canceled => {
            let end = sub
                .ended_at
                .or(sub.canceled_at)
                .or(sub.current_period_end)
                .map_or(now_ms, ms);
            (Some(end), None)
        }
        Status::Incomplete | Status::IncompleteExpired => (Some(starts_at), None),
        Status::Paused => (Some(now_ms), None),
    };

    Window {
        starts_at,
        ends_at: ends_at.map(|e| e.max(starts_at)),
        warning,
    }
}

/// `YYYY-MM-DD` in UTC.
fn date(unix_ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(unix_ms) {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => format!("(unix ms {unix_ms})"),
    }
}

#[cfg(test)]
mod tests {
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
                     "price": {"id": "price_1QxYabAbCdEfGhIj", "object": "price", "unit_amount": 1500},
                     "quantity": 5},
                    {"id": "si_2", "object": "subscription_item",
                     "current_period_start": T0, "current_period_end": T0 + 365 * DAY,
                     "price": {"id": "price_addon", "object": "price"},
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
}

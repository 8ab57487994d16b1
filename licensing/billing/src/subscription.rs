//! Reading a Stripe Subscription object, and the policy that turns its state into an entitlement
//! window.
//!
//! # Shapes
//!
//! [`Subscription::from_json`] reads both the shape localstripe sends (API 2017-08-15: top-level
//! `plan`, `quantity` and `current_period_end`, items carrying `plan`) and the current one (2025+:
//! items carrying `price` and their own `current_period_end`, no top-level `plan`/`quantity`). It
//! reads only what the policy (and the dashboard's MRR) needs, so a field Stripe adds later can't
//! break it.
//!
//! # Price
//!
//! [`Subscription::price`] is the price of the first item (`items[0].price`, else
//! `items[0].plan`; without items the top-level `plan`): `unit_amount` (a plan's `amount`),
//! `currency` (else the subscription's own `currency`) and `recurring.interval` (a plan's
//! `interval`). An `interval_count` above 1 is folded into the amount, rounded to the nearest
//! minor unit, so the amount is always per ONE interval: 3000 every 3 months is 1000 a `month`.
//! Every part is optional and never an error: a price that is not expanded (a bare id), a tiered
//! price (no `unit_amount`), a negative or non-integer amount or an interval we don't know gives
//! `None` for that part. Other items' prices are not read (a subscription with add-ons reports
//! its first item's price only).
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

/// A recurring price's billing interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    Week,
    Month,
    Year,
}

impl Interval {
    /// Every interval.
    pub const ALL: [Interval; 4] = [
        Interval::Day,
        Interval::Week,
        Interval::Month,
        Interval::Year,
    ];

    /// Stripe's spelling (`day`, `week`, `month`, `year`), also what `subscriptions.price_interval`
    /// stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }

    /// Stripe's spelling back; `None` for anything else.
    pub fn parse(s: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// What one seat costs, as far as Stripe told us (see the module documentation, "Price"). All
/// parts are optional; `Price::default()` is "unknown".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Price {
    /// Minor units (e.g. cents) per seat per ONE `interval` (an `interval_count` is folded in).
    pub unit_amount: Option<i64>,
    /// Lower-case ISO 4217 code as Stripe sends it, e.g. `usd`.
    pub currency: Option<String>,
    pub interval: Option<Interval>,
}

impl Price {
    /// Reads a Price (`unit_amount`, `currency`, `recurring.{interval,interval_count}`) or a legacy
    /// Plan (`amount`, `currency`, `interval`, `interval_count`) object; anything else (a bare id,
    /// null) is an unknown price.
    fn from_json(v: &Value) -> Price {
        if !v.is_object() {
            return Price::default();
        }
        let recurring = v.get("recurring").filter(|r| r.is_object());
        let field = |key: &str| {
            recurring
                .and_then(|r| r.get(key))
                .filter(|x| !x.is_null())
                .or_else(|| v.get(key))
        };
        let amount = match v.get("unit_amount").filter(|x| !x.is_null()) {
            Some(a) => a.as_u64(),
            None => v.get("amount").and_then(Value::as_u64),
        };
        let count = field("interval_count")
            .and_then(Value::as_u64)
            .filter(|&c| c > 0)
            .unwrap_or(1);
        // Per one interval, to the nearest minor unit (halves up).
        let unit_amount = amount
            .map(|a| a / count + u64::from(a % count >= count.div_ceil(2)))
            .and_then(|a| i64::try_from(a).ok());
        Price {
            unit_amount,
            currency: currency(v.get("currency")),
            interval: field("interval")
                .and_then(Value::as_str)
                .and_then(Interval::parse),
        }
    }
}

/// A non-empty currency code, lower-cased.
fn currency(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_lowercase)
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
    /// The first item's price per seat and interval (see the module documentation, "Price").
    pub price: Price,
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
        let mut price = match items.first() {
            Some(item) => match item.get("price").filter(|p| p.is_object()) {
                Some(p) => Price::from_json(p),
                None => item
                    .get("plan")
                    .map_or_else(Price::default, Price::from_json),
            },
            None => v.get("plan").map_or_else(Price::default, Price::from_json),
        };
        if price.currency.is_none() {
            price.currency = currency(v.get("currency"));
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
            price,
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
mod tests;

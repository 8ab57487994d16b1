//! From a subscription's state and dates to the entitlement window and its warning.

use super::*;

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

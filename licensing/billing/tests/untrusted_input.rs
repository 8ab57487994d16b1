//! Property tests for what reaches the billing code from outside: the `Stripe-Signature` header
//! parser, the event envelope reader and the subscription reader (with the entitlement policy
//! applied to whatever it accepts), fed random input and real payloads mutated byte by byte and
//! node by node. Each must answer a value or an error, never panic, and never accept what it
//! must not (a signature that is not the right one, an event without its parts).
//!
//! 512 cases per property by default (a few seconds in all); `PROPTEST_CASES=100000 cargo test
//! -p tollgate-billing --release --test untrusted_input` runs them longer.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};
use tollgate_billing::subscription::{self, Subscription};
use tollgate_billing::webhook::{self, Event, Signature};

const SECRET: &str = "whsec_test_5f2b1c0e9a8d7c6b5a4f3e2d1c0b9a8f";
const NOW: i64 = 1_764_072_000;

/// Real payloads: localstripe's 2017 shapes and current Stripe's, Connect included.
const EVENTS: [&str; 4] = [
    include_str!("fixtures/event_localstripe_2017.json"),
    include_str!("fixtures/event_current_connect.json"),
    include_str!("fixtures/event_checkout_completed.json"),
    include_str!("fixtures/event_invoice_failed.json"),
];
const SUBSCRIPTION: &str = include_str!("fixtures/subscription_current.json");

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 512;
    }
    config
}

/// One byte-level edit, at a position chosen as a fraction of the current length.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, usize),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let interesting = prop::sample::select(b"{}[]\",:0123456789-.eE\\ntfu\x00\xff".to_vec());
    prop_oneof![
        (
            any::<Index>(),
            prop_oneof![any::<u8>(), interesting.clone()]
        )
            .prop_map(|(i, b)| Edit::Set(i, b)),
        (
            any::<Index>(),
            prop::collection::vec(prop_oneof![any::<u8>(), interesting], 1..16)
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), 1usize..256).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
    match edit {
        Edit::Set(i, b) => {
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
        }
        Edit::Insert(i, b) => {
            let at = at(i, bytes.len());
            bytes.splice(at..at, b.iter().copied());
        }
        Edit::Delete(i, n) => {
            let at = at(i, bytes.len()).min(bytes.len());
            let end = (at + n).min(bytes.len());
            bytes.drain(at..end);
        }
        Edit::Duplicate(i, n) => {
            let at = at(i, bytes.len()).min(bytes.len());
            let end = (at + n).min(bytes.len());
            let copy = bytes[at..end].to_vec();
            bytes.splice(end..end, copy);
        }
        Edit::Truncate(i) => {
            let at = at(i, bytes.len()).min(bytes.len());
            bytes.truncate(at);
        }
    }
}

/// A real event with 1 to 7 byte edits.
fn mutated_event() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(EVENTS.to_vec()),
        prop::collection::vec(edit(), 1..8),
    )
        .prop_map(|(event, edits)| {
            let mut bytes = event.as_bytes().to_vec();
            for e in &edits {
                apply(&mut bytes, e);
            }
            bytes
        })
}

/// Any bytes, or a mutated real event.
fn event_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2048),
        mutated_event(),
        mutated_event(),
    ]
}

/// Random JSON, with keys and strings a Stripe object has, so readers get past their first check.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "id",
            "object",
            "customer",
            "status",
            "items",
            "data",
            "price",
            "plan",
            "quantity",
            "start_date",
            "created",
            "current_period_end",
            "cancel_at",
            "canceled_at",
            "ended_at",
            "metadata",
            "unit_amount",
            "amount",
            "currency",
            "recurring",
            "interval",
            "interval_count",
            "type",
            "account",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1, NOW, 253_402_300_800])
            .prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "subscription",
            "active",
            "past_due",
            "unpaid",
            "canceled",
            "trialing",
            "paused",
            "incomplete",
            "sub_1",
            "cus_1",
            "price_1",
            "month",
            "year",
            "",
        ])
        .prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Replaces the node reached by following `path` (each step picks a child) with `new`.
fn replace_at(v: &mut Value, path: &[Index], new: Value) {
    let child = match v {
        Value::Object(m) if !m.is_empty() && !path.is_empty() => {
            let i = path[0].index(m.len());
            m.values_mut().nth(i)
        }
        Value::Array(a) if !a.is_empty() && !path.is_empty() => {
            let i = path[0].index(a.len());
            a.get_mut(i)
        }
        _ => None,
    };
    match child {
        Some(c) => replace_at(c, &path[1..], new),
        None => *v = new,
    }
}

/// A real subscription (or an event's object) with 1 to 3 nodes replaced by random JSON.
fn mutated_subscription() -> impl Strategy<Value = Value> {
    let bases: Vec<Value> = std::iter::once(SUBSCRIPTION)
        .chain(EVENTS)
        .map(|text| {
            let v: Value = serde_json::from_str(text).expect("fixture");
            match v.pointer("/data/object") {
                Some(o) => o.clone(),
                None => v,
            }
        })
        .collect();
    (
        prop::sample::select(bases),
        prop::collection::vec(
            (prop::collection::vec(any::<Index>(), 0..6), json_value()),
            1..4,
        ),
    )
        .prop_map(|(mut v, edits)| {
            for (path, new) in edits {
                replace_at(&mut v, &path, new);
            }
            v
        })
}

/// Signature headers: anything, header-shaped text, and real headers with edits.
fn header() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        (
            prop::sample::select(vec!["t", "v1", "v0", "", " t", "v1 ", "x"]),
            ".{0,70}"
        )
            .prop_map(|(k, v)| format!("{k}={v}")),
        ".{0,20}",
        any::<i64>().prop_map(|t| format!("t={t}")),
        "[0-9a-f]{64}".prop_map(|h| format!("v1={h}")),
    ];
    let real = (prop::sample::select(EVENTS.to_vec()), NOW - 400..NOW + 400)
        .prop_map(|(event, t)| webhook::sign(event.as_bytes(), SECRET, t));
    prop_oneof![
        any::<String>(),
        prop::collection::vec(part, 0..8).prop_map(|p| p.join(",")),
        (real.clone(), prop::collection::vec(edit(), 1..4)).prop_map(|(h, edits)| {
            let mut bytes = h.into_bytes();
            for e in &edits {
                apply(&mut bytes, e);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }),
        real,
    ]
}

proptest! {
    #![proptest_config(config())]

    /// The header parser answers for any text; a header verifies only if it carries the right
    /// MAC of this very body, with a timestamp in tolerance.
    #[test]
    fn signature_headers_never_panic_and_only_the_right_one_verifies(
        h in header(),
        event in prop::sample::select(EVENTS.to_vec()),
    ) {
        let parsed = Signature::parse(Some(&h));
        let verified = webhook::verify(event.as_bytes(), Some(&h), SECRET, NOW);
        if verified.is_ok() {
            prop_assert!(parsed.is_ok());
            let t = h
                .split(',')
                .find_map(|p| p.trim().strip_prefix("t="))
                .and_then(|t| t.trim().parse::<i64>().ok())
                .expect("a verified header has a timestamp");
            prop_assert!((NOW - t).abs() <= webhook::TOLERANCE_SECS);
            let right = webhook::sign(event.as_bytes(), SECRET, t);
            let mac = right.split_once(",v1=").expect("v1").1;
            prop_assert!(h.contains(mac), "{h} verified without the right MAC");
        }
    }

    /// Every byte of the body is covered: a changed body never verifies with the original's
    /// signature, the unchanged one always does.
    #[test]
    fn a_signature_covers_every_byte_of_the_body(body in mutated_event(), which in 0..EVENTS.len()) {
        let original = EVENTS[which].as_bytes();
        let h = webhook::sign(original, SECRET, NOW);
        let verified = webhook::verify(&body, Some(&h), SECRET, NOW);
        prop_assert_eq!(verified.is_ok(), body == original);
    }

    /// The envelope reader answers for any bytes; what it accepts has its parts.
    #[test]
    fn events_never_panic(bytes in event_bytes()) {
        if let Ok(event) = Event::parse(&bytes) {
            prop_assert!(!event.id.is_empty() && !event.kind.is_empty());
            prop_assert!(event.object.is_object());
            // What the service reads next: the object as a subscription.
            let _ = Subscription::from_json(&event.object);
        }
    }

    /// The subscription reader answers for any JSON; whatever it accepts, the policy turns into
    /// a window that never ends before it starts, for any clock and grace.
    #[test]
    fn subscriptions_never_panic_and_windows_stay_ordered(
        v in prop_oneof![json_value(), mutated_subscription(), mutated_subscription()],
        grace in any::<u32>(),
        failed in prop::option::of(any::<i64>()),
        now in prop_oneof![any::<i64>(), Just(NOW * 1000)],
    ) {
        if let Ok(sub) = Subscription::from_json(&v) {
            prop_assert!(!sub.id.is_empty() && !sub.customer.is_empty());
            let w = subscription::window(&sub, "Pro", grace, failed, now);
            prop_assert!(w.ends_at.is_none_or(|end| end >= w.starts_at), "{w:?}");
        }
    }
}

/// serde_json's default recursion limit (128, which we keep: no `disable_recursion_limit`)
/// admits 127 nested arrays or objects and refuses the 128th, so a deep body is an error, not a
/// stack overflow, at any depth.
#[test]
fn json_nesting_is_bounded_at_128() {
    let nested = |depth: usize| {
        format!(
            "{{\"id\":\"evt_1\",\"type\":\"x\",\"created\":1,\"data\":{{\"object\":{{\"deep\":{}{}}}}}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    // The envelope takes 3 levels (event, data, object): 124 more make 127, the most it reads.
    assert!(Event::parse(nested(124).as_bytes()).is_ok());
    for depth in [125, 200, 100_000, 1_000_000] {
        let err = Event::parse(nested(depth).as_bytes()).expect_err("too deep");
        assert!(err.contains("recursion limit exceeded"), "{depth}: {err}");
    }
    let objects = format!("{}{}", "{\"a\":".repeat(500_000), "}".repeat(500_000));
    let err = Event::parse(objects.as_bytes()).expect_err("too deep");
    assert!(err.contains("recursion limit exceeded"), "{err}");
}

/// Numbers and strings at the edges are errors or values, not panics.
#[test]
fn edge_values_are_read_or_refused() {
    for body in [
        r#"{"id":"evt_1","type":"x","created":1e400,"data":{"object":{}}}"#,
        r#"{"id":"evt_1","type":"x","created":-9223372036854775809,"data":{"object":{}}}"#,
        r#"{"id":"evt_1","type":"x","created":18446744073709551616,"data":{"object":{}}}"#,
        r#"{"id":"\ud800","type":"x","created":1,"data":{"object":{}}}"#,
        "\u{feff}{}",
        "",
        "null",
    ] {
        assert!(Event::parse(body.as_bytes()).is_err(), "{body}");
    }
    let sub = json!({"id": "sub_1", "customer": "cus_1", "status": "past_due",
        "start_date": i64::MAX, "cancel_at": i64::MIN,
        "items": {"data": [{"quantity": u64::MAX, "price": {"id": "p", "unit_amount": u64::MAX,
            "recurring": {"interval_count": u64::MAX}}}, {"quantity": u64::MAX}]}});
    let err = Subscription::from_json(&sub).expect_err("quantity overflows u32");
    assert!(err.contains("too large"), "{err}");
}

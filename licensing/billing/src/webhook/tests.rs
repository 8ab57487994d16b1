//! Stripe-Signature checks and event reading.

use super::*;

const SECRET: &str = "whsec_test_5f2b1c0e9a8d7c6b5a4f3e2d1c0b9a8f";
const NOW: i64 = 1_764_072_000; // 2025-11-25T12:00:00Z

/// What localstripe sends for a new subscription (2017-08-15 shapes, pretty-printed and
/// key-sorted as its `json.dumps(indent=2, sort_keys=True)` does).
const LOCALSTRIPE_EVENT: &str = r#"{
  "api_version": "2017-08-15",
  "created": 1764072000,
  "data": {
"object": {
  "cancel_at": null,
  "cancel_at_period_end": false,
  "canceled_at": null,
  "created": 1764072000,
  "current_period_end": 1766750400,
  "current_period_start": 1764072000,
  "customer": "cus_Q1w2E3r4T5y6U7",
  "ended_at": null,
  "id": "sub_A1b2C3d4E5f6G7",
  "items": {
    "data": [
      {
        "created": 1764072000,
        "id": "si_H8i9J0k1L2m3N4",
        "livemode": false,
        "metadata": {},
        "object": "subscription_item",
        "plan": {
          "amount": 1500,
          "currency": "usd",
          "id": "plan_acme_pro",
          "interval": "month",
          "object": "plan"
        },
        "quantity": 3,
        "tax_rates": []
      }
    ],
    "has_more": false,
    "object": "list",
    "total_count": 1,
    "url": "/v1/subscription_items?subscription=sub_A1b2C3d4E5f6G7"
  },
  "livemode": false,
  "metadata": {},
  "object": "subscription",
  "plan": {
    "amount": 1500,
    "currency": "usd",
    "id": "plan_acme_pro",
    "interval": "month",
    "object": "plan"
  },
  "quantity": 3,
  "start_date": 1764072000,
  "status": "active"
}
  },
  "id": "evt_Z9y8X7w6V5u4T3",
  "livemode": false,
  "object": "event",
  "type": "customer.subscription.created"
}"#;

/// A current-API (2025) Connect event: periods on the items, `price` instead of `plan`,
/// `previous_attributes`, `account`.
const CURRENT_EVENT: &str = r#"{"id":"evt_1QxYz2AbCdEfGhIj","object":"event","account":"acct_1PqRsTuVwXyZ0123","api_version":"2025-03-31.basil","created":1764072001,"data":{"object":{"id":"sub_1QxYyzAbCdEfGhIj","object":"subscription","cancel_at":null,"cancel_at_period_end":false,"canceled_at":null,"created":1764000000,"customer":"cus_RsTuVwXyZ01234","ended_at":null,"items":{"object":"list","data":[{"id":"si_RsTuVwXyZ01234","object":"subscription_item","current_period_end":1766592000,"current_period_start":1764000000,"price":{"id":"price_1QxYabAbCdEfGhIj","object":"price","unit_amount":1500},"quantity":5}],"has_more":false,"total_count":1},"metadata":{"tollgate_org":"acme-buyer"},"start_date":1764000000,"status":"active"},"previous_attributes":{"items":{"data":[{"quantity":3}]}}},"livemode":false,"pending_webhooks":1,"request":{"id":"req_abc","idempotency_key":null},"type":"customer.subscription.updated"}"#;

#[test]
fn a_signature_made_by_sign_verifies() {
    for body in [LOCALSTRIPE_EVENT, CURRENT_EVENT] {
        let header = sign(body.as_bytes(), SECRET, NOW);
        assert_eq!(verify(body.as_bytes(), Some(&header), SECRET, NOW), Ok(()));
    }
}

#[test]
fn matches_stripe_documented_construction() {
    // Independent of `sign`: HMAC-SHA256("whsec_…", "t.body") computed from the definition,
    // ipad/opad and all, so that sign and verify cannot agree on a shared mistake.
    let body = br#"{"id":"evt_1","object":"event"}"#;
    let t = 1_700_000_000_i64;
    let mut key = [0u8; 64];
    key[..SECRET.len()].copy_from_slice(SECRET.as_bytes());
    let inner: Vec<u8> = key
        .iter()
        .map(|b| b ^ 0x36)
        .chain(format!("{t}.").bytes())
        .chain(body.iter().copied())
        .collect();
    let inner_hash = <Sha256 as sha2::Digest>::digest(&inner);
    let outer: Vec<u8> = key
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner_hash.iter().copied())
        .collect();
    let expected = hex::encode(<Sha256 as sha2::Digest>::digest(&outer));
    assert_eq!(sign(body, SECRET, t), format!("t={t},v1={expected}"));
    let header = format!("t={t},v1={expected}");
    assert_eq!(verify(body, Some(&header), SECRET, t + 10), Ok(()));
}

#[test]
fn refusals() {
    let body = CURRENT_EVENT.as_bytes();
    let good = sign(body, SECRET, NOW);
    let good_sig = good.split_once(",v1=").expect("v1").1.to_string();
    let tampered = CURRENT_EVENT.replace("\"quantity\":5", "\"quantity\":50");
    // (name, body, header, secret, now, expected error)
    type Case = (
        &'static str,
        Vec<u8>,
        Option<String>,
        &'static str,
        i64,
        WebhookError,
    );
    let cases: Vec<Case> = vec![
        (
            "wrong secret (another seller's)",
            body.to_vec(),
            Some(good.clone()),
            "whsec_other_seller",
            NOW,
            WebhookError::BadSignature,
        ),
        (
            "tampered body",
            tampered.into_bytes(),
            Some(good.clone()),
            SECRET,
            NOW,
            WebhookError::BadSignature,
        ),
        (
            "timestamp changed after signing",
            body.to_vec(),
            Some(format!("t={},v1={good_sig}", NOW + 1)),
            SECRET,
            NOW,
            WebhookError::BadSignature,
        ),
        (
            "signature truncated",
            body.to_vec(),
            Some(format!("t={NOW},v1={}", &good_sig[..62])),
            SECRET,
            NOW,
            WebhookError::BadSignature,
        ),
        (
            "not hex",
            body.to_vec(),
            Some(format!("t={NOW},v1=zz{}", &good_sig[2..])),
            SECRET,
            NOW,
            WebhookError::BadSignature,
        ),
        (
            "only a v0 signature",
            body.to_vec(),
            Some(format!("t={NOW},v0={good_sig}")),
            SECRET,
            NOW,
            WebhookError::Malformed(
                "no v1 signature (only the v1 scheme, HMAC-SHA256, is accepted)".into(),
            ),
        ),
        (
            "stale: a replay 301 s later",
            body.to_vec(),
            Some(good.clone()),
            SECRET,
            NOW + 301,
            WebhookError::Stale { age_secs: 301 },
        ),
        (
            "from the future beyond tolerance",
            body.to_vec(),
            Some(good.clone()),
            SECRET,
            NOW - 301,
            WebhookError::Stale { age_secs: -301 },
        ),
        (
            "forged and stale: forged wins",
            body.to_vec(),
            Some(sign(body, "whsec_forger", NOW - 3600)),
            SECRET,
            NOW,
            WebhookError::BadSignature,
        ),
        (
            "missing header",
            body.to_vec(),
            None,
            SECRET,
            NOW,
            WebhookError::MissingHeader,
        ),
        (
            "empty header",
            body.to_vec(),
            Some("  ".into()),
            SECRET,
            NOW,
            WebhookError::MissingHeader,
        ),
        (
            "garbled header",
            body.to_vec(),
            Some("garbage".into()),
            SECRET,
            NOW,
            WebhookError::Malformed("`garbage` is not a key=value pair".into()),
        ),
        (
            "no timestamp",
            body.to_vec(),
            Some(format!("v1={good_sig}")),
            SECRET,
            NOW,
            WebhookError::Malformed("no timestamp (t=)".into()),
        ),
        (
            "timestamp not a number",
            body.to_vec(),
            Some(format!("t=yesterday,v1={good_sig}")),
            SECRET,
            NOW,
            WebhookError::Malformed("the timestamp `yesterday` is not a unix time".into()),
        ),
        (
            "two timestamps",
            body.to_vec(),
            Some(format!("t={NOW},t={NOW},v1={good_sig}")),
            SECRET,
            NOW,
            WebhookError::Malformed("more than one timestamp (t=)".into()),
        ),
    ];
    for (name, payload, header, secret, now, want) in cases {
        assert_eq!(
            verify(&payload, header.as_deref(), secret, now),
            Err(want),
            "{name}"
        );
    }
}

#[test]
fn tolerance_is_inclusive_in_both_directions() {
    let body = LOCALSTRIPE_EVENT.as_bytes();
    let header = sign(body, SECRET, NOW);
    for now in [NOW - TOLERANCE_SECS, NOW, NOW + 1, NOW + TOLERANCE_SECS] {
        assert_eq!(
            verify(body, Some(&header), SECRET, now),
            Ok(()),
            "now={now}"
        );
    }
    // Extreme timestamps must not overflow.
    let header = sign(body, SECRET, i64::MIN);
    assert!(matches!(
        verify(body, Some(&header), SECRET, i64::MAX),
        Err(WebhookError::Stale { .. })
    ));
}

#[test]
fn any_of_several_v1_values_may_match() {
    let body = CURRENT_EVENT.as_bytes();
    let good = sign(body, SECRET, NOW);
    let good_sig = good.split_once(",v1=").expect("v1").1;
    let old = sign(body, "whsec_old_rolled_secret", NOW);
    let old_sig = old.split_once(",v1=").expect("v1").1;
    let v0 = "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
    for header in [
        format!("t={NOW},v1={old_sig},v1={good_sig},v0={v0}"),
        format!("t={NOW},v1={good_sig},v1={old_sig}"),
        format!("v0={v0}, v1={good_sig} ,t={NOW}"),
        format!("t={NOW},v1=nothex,v1={good_sig},scheme2=abc"),
    ] {
        assert_eq!(verify(body, Some(&header), SECRET, NOW), Ok(()), "{header}");
    }
    let header = format!("t={NOW},v1={old_sig},v1={old_sig}");
    assert_eq!(
        verify(body, Some(&header), SECRET, NOW),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn messages_tell_the_seller_what_to_check() {
    assert!(
        WebhookError::BadSignature
            .to_string()
            .contains("--webhook-secret")
    );
    assert_eq!(
        WebhookError::Stale { age_secs: 3600 }.to_string(),
        "the event's timestamp is 3600 s old (more than 300 s): replayed or a clock problem"
    );
    assert!(
        WebhookError::Stale { age_secs: -900 }
            .to_string()
            .contains("900 s in the future")
    );
    let long = format!("t={}", "9".repeat(500));
    let err = verify(b"{}", Some(&long), SECRET, NOW).expect_err("must fail");
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn parses_a_localstripe_2017_event() {
    let e = Event::parse(LOCALSTRIPE_EVENT.as_bytes()).expect("parse");
    assert_eq!(e.id, "evt_Z9y8X7w6V5u4T3");
    assert_eq!(e.kind, "customer.subscription.created");
    assert_eq!(e.created, 1_764_072_000);
    assert_eq!(e.account, None);
    assert_eq!(e.object["id"], "sub_A1b2C3d4E5f6G7");
    assert_eq!(e.object["plan"]["id"], "plan_acme_pro");
}

#[test]
fn parses_a_current_connect_event() {
    let e = Event::parse(CURRENT_EVENT.as_bytes()).expect("parse");
    assert_eq!(e.id, "evt_1QxYz2AbCdEfGhIj");
    assert_eq!(e.kind, "customer.subscription.updated");
    assert_eq!(e.created, 1_764_072_001);
    assert_eq!(e.account.as_deref(), Some("acct_1PqRsTuVwXyZ0123"));
    assert_eq!(
        e.object["items"]["data"][0]["price"]["id"],
        "price_1QxYabAbCdEfGhIj"
    );
}

#[test]
fn parse_refuses_what_is_not_an_event() {
    let cases = [
        ("not json", "no `", "the event body is not JSON"),
        ("array", "[1]", "the event body is not a JSON object"),
        (
            "no id",
            r#"{"type":"x","created":1,"data":{"object":{}}}"#,
            "the event has no `id`",
        ),
        (
            "no type",
            r#"{"id":"evt_1","created":1,"data":{"object":{}}}"#,
            "the event has no `type`",
        ),
        (
            "created as text",
            r#"{"id":"evt_1","type":"x","created":"1","data":{"object":{}}}"#,
            "the event's `created` is not a unix time",
        ),
        (
            "no data.object",
            r#"{"id":"evt_1","type":"x","created":1,"data":{}}"#,
            "the event has no `data.object`",
        ),
        (
            "data.object a string",
            r#"{"id":"evt_1","type":"x","created":1,"data":{"object":"sub_1"}}"#,
            "the event's `data.object` is not an object",
        ),
        (
            "account a number",
            r#"{"id":"evt_1","type":"x","created":1,"account":7,"data":{"object":{}}}"#,
            "the event's `account` is not a string",
        ),
    ];
    for (name, body, want) in cases {
        let err = Event::parse(body.as_bytes()).expect_err(name);
        assert!(err.starts_with(want), "{name}: {err}");
    }
    // The minimum is enough; a null account is a direct (non-Connect) event.
    let e = Event::parse(
        br#"{"id":"evt_1","type":"ping","created":1,"account":null,"data":{"object":{}}}"#,
    )
    .expect("minimal");
    assert_eq!(e.account, None);
}

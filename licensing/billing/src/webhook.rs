//! Stripe webhook deliveries: checking the `Stripe-Signature` header against a seller's signing
//! secret, and reading the event envelope.
//!
//! Stripe (and localstripe) send `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`. Each
//! `v1` is the hex HMAC-SHA256, keyed with the whole `whsec_…` secret string, of
//! `"{t}.{raw body}"`. Several `v1` values appear while a secret is being rolled; any one may
//! match. `v0` and unknown schemes are ignored. The signature is checked before the timestamp (as
//! Stripe's own libraries do), so a forged request is reported as forged even when it is also old.
//!
//! Everything here is pure: the caller passes the clock, so tests and the HTTP handler agree.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far (seconds, either direction) an event's signed timestamp may be from our clock.
/// Stripe's libraries use the same default; it bounds how long a captured delivery can be replayed.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a webhook delivery was refused. Every message names something the seller can check.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WebhookError {
    #[error(
        "the request has no Stripe-Signature header: it was not sent by Stripe (or a proxy removed the header)"
    )]
    MissingHeader,
    #[error("the Stripe-Signature header is malformed: {0}")]
    Malformed(String),
    /// `age_secs` is our clock minus the signed timestamp: negative when it lies in the future.
    #[error("{}", stale_message(*age_secs))]
    Stale { age_secs: i64 },
    #[error(
        "the Stripe-Signature does not match this seller's webhook signing secret (check `tollgate seller stripe … --webhook-secret`)"
    )]
    BadSignature,
}

fn stale_message(age_secs: i64) -> String {
    if age_secs >= 0 {
        format!(
            "the event's timestamp is {age_secs} s old (more than {TOLERANCE_SECS} s): replayed or a clock problem"
        )
    } else {
        format!(
            "the event's timestamp is {} s in the future (more than {TOLERANCE_SECS} s): a clock problem on this server or the sender",
            age_secs.unsigned_abs()
        )
    }
}

/// A `Stripe-Signature` header read for its parts, before the body is looked at: the
/// timestamp as sent and the `v1` candidates. [`Signature::parse`] checks the shape alone, so a
/// request that cannot be Stripe's is refused before its body is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature<'a> {
    /// The timestamp exactly as sent: the signed text uses it as is.
    t_text: &'a str,
    t: i64,
    candidates: Vec<&'a str>,
}

impl<'a> Signature<'a> {
    /// Reads the header (`None` when the request had none).
    pub fn parse(header: Option<&'a str>) -> Result<Self, WebhookError> {
        let header = header
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(WebhookError::MissingHeader)?;
        let mut timestamp: Option<&str> = None;
        let mut candidates: Vec<&str> = Vec::new();
        for part in header.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (key, value) = part.split_once('=').ok_or_else(|| {
                WebhookError::Malformed(format!("`{}` is not a key=value pair", excerpt(part)))
            })?;
            match key.trim() {
                "t" if timestamp.is_none() => timestamp = Some(value.trim()),
                "t" => {
                    return Err(WebhookError::Malformed(
                        "more than one timestamp (t=)".to_string(),
                    ));
                }
                "v1" => candidates.push(value.trim()),
                _ => {} // v0 (test-mode legacy) and schemes added later
            }
        }
        let t_text =
            timestamp.ok_or_else(|| WebhookError::Malformed("no timestamp (t=)".to_string()))?;
        let t: i64 = t_text.parse().map_err(|_| {
            WebhookError::Malformed(format!(
                "the timestamp `{}` is not a unix time",
                excerpt(t_text)
            ))
        })?;
        if candidates.is_empty() {
            return Err(WebhookError::Malformed(
                "no v1 signature (only the v1 scheme, HMAC-SHA256, is accepted)".to_string(),
            ));
        }
        Ok(Self {
            t_text,
            t,
            candidates,
        })
    }

    /// Checks that `payload` was signed with `secret` at a time within [`TOLERANCE_SECS`] of
    /// `now_unix`.
    pub fn check(&self, payload: &[u8], secret: &str, now_unix: i64) -> Result<(), WebhookError> {
        let expected = mac(self.t_text, payload, secret);
        let mut matched = subtle::Choice::from(0u8);
        for candidate in &self.candidates {
            // A value that is not 32 bytes of hex cannot match; its length is no secret.
            if let Ok(bytes) = hex::decode(candidate)
                && bytes.len() == expected.len()
            {
                matched |= bytes.as_slice().ct_eq(expected.as_slice());
            }
        }
        if !bool::from(matched) {
            return Err(WebhookError::BadSignature);
        }
        let age_secs = now_unix.saturating_sub(self.t);
        if age_secs.saturating_abs() > TOLERANCE_SECS {
            return Err(WebhookError::Stale { age_secs });
        }
        Ok(())
    }
}

/// Checks that `payload` was signed with `secret` at a time within [`TOLERANCE_SECS`] of
/// `now_unix`. `header` is the `Stripe-Signature` value, `None` when the request had none.
pub fn verify(
    payload: &[u8],
    header: Option<&str>,
    secret: &str,
    now_unix: i64,
) -> Result<(), WebhookError> {
    Signature::parse(header)?.check(payload, secret, now_unix)
}

/// The `Stripe-Signature` header value Stripe would send for `payload` at unix time `t`
/// (`t=…,v1=…`). For tests and for the fake Stripe servers our end-to-end tests run.
pub fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    let signature = mac(&t.to_string(), payload, secret);
    format!("t={t},v1={}", hex::encode(signature))
}

fn mac(t: &str, payload: &[u8], secret: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

/// Header text quoted back in an error, cut short so a garbage header can't flood the log.
fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The parts of a Stripe Event envelope that every handler needs. The object itself stays JSON:
/// its shape depends on the event type and on the API version the sender uses (localstripe sends
/// 2017-08-15 shapes, current Stripe very different ones), so each handler reads what it needs.
#[derive(Debug, Clone)]
pub struct Event {
    /// `evt_…`: the idempotency key for processing.
    pub id: String,
    /// The event `type`, e.g. `customer.subscription.updated`.
    pub kind: String,
    /// Unix seconds when Stripe created the event.
    pub created: i64,
    /// The connected account (`acct_…`) for Stripe Connect events; `None` for direct ones.
    pub account: Option<String>,
    /// `data.object`: the subscription, invoice, checkout session… the event is about.
    pub object: Value,
}

impl Event {
    /// Reads an event body. Loose on purpose: only `id`, `type`, `created` and `data.object` are
    /// required, everything else (api_version, livemode, previous_attributes…) may be absent.
    pub fn parse(payload: &[u8]) -> Result<Event, String> {
        let v: Value = serde_json::from_slice(payload)
            .map_err(|e| format!("the event body is not JSON: {e}"))?;
        if !v.is_object() {
            return Err("the event body is not a JSON object".to_string());
        }
        let text = |key: &str| -> Result<String, String> {
            match v.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(_) => Err(format!("the event's `{key}` is not a non-empty string")),
                None => Err(format!("the event has no `{key}`")),
            }
        };
        let id = text("id")?;
        let kind = text("type")?;
        let created = v
            .get("created")
            .ok_or("the event has no `created`")?
            .as_i64()
            .ok_or("the event's `created` is not a unix time")?;
        let account = match v.get("account") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("the event's `account` is not a string".to_string()),
        };
        let object = match v.get("data").and_then(|d| d.get("object")) {
            Some(o @ Value::Object(_)) => o.clone(),
            Some(_) => return Err("the event's `data.object` is not an object".to_string()),
            None => return Err("the event has no `data.object`".to_string()),
        };
        Ok(Event {
            id,
            kind,
            created,
            account,
            object,
        })
    }
}

/// The events a seller's Stripe webhook endpoint (`/{seller}/stripe/webhook`) should send: what
/// `Billing::webhook` acts on. The CLI (`seller stripe`) and the settings page show this list.
pub const EVENTS: [&str; 6] = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
];

#[cfg(test)]
mod tests {
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
}

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
mod tests;

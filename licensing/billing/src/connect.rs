//! Stripe Connect onboarding through OAuth: the authorize link a seller opens (printed by
//! `tollgate seller stripe-connect-link`), and the callback that trades the code for the
//! seller's connected account id. The link's `state` is sealed with the installation's secret
//! key and expires, so only the link the CLI printed can connect a seller.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tollgate_registry::secret::SecretBox;

use crate::stripe::StripeError;

/// Stripe's OAuth host; `TOLLGATE_STRIPE_CONNECT_BASE` replaces it in tests.
pub const DEFAULT_BASE: &str = "https://connect.stripe.com";
/// How long a printed link stays valid.
pub const LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The OAuth authorize URL for `seller`.
pub fn authorize_url(base: &str, client_id: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "{}/oauth/authorize?response_type=code&scope=read_write&client_id={}&redirect_uri={}&state={}",
        base.trim_end_matches('/'),
        encode(client_id),
        encode(redirect_uri),
        encode(state)
    )
}

/// A `state` naming `seller`, valid until `expires_ms`.
pub fn seal_state(secrets: &SecretBox, seller: &str, expires_ms: i64) -> String {
    secrets.seal(format!("{seller}\n{expires_ms}").as_bytes())
}

/// The seller a `state` names, if it is ours and not expired.
pub fn open_state(secrets: &SecretBox, state: &str, now_ms: i64) -> Result<String, String> {
    let bytes = secrets
        .open(state)
        .map_err(|_| "this Stripe Connect link is not one this server made".to_owned())?;
    let text = String::from_utf8(bytes).map_err(|_| "a damaged Connect link".to_owned())?;
    let (seller, expires) = text
        .split_once('\n')
        .ok_or_else(|| "a damaged Connect link".to_owned())?;
    let expires: i64 = expires
        .parse()
        .map_err(|_| "a damaged Connect link".to_owned())?;
    if now_ms > expires {
        return Err("this Stripe Connect link has expired; print a new one with `tollgate seller stripe-connect-link`".into());
    }
    Ok(seller.to_owned())
}

/// Trades an authorization `code` for the connected account id (`stripe_user_id`).
pub async fn exchange(base: &str, platform_key: &str, code: &str) -> Result<String, StripeError> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let body = format!("grant_type=authorization_code&code={}", encode(code));
    let request = hyper::Request::post(format!("{}/oauth/token", base.trim_end_matches('/')))
        .header("authorization", format!("Bearer {platform_key}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| StripeError::Config(format!("cannot build the OAuth request: {e}")))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| StripeError::Unavailable(format!("Stripe Connect OAuth: {e}")))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| StripeError::Unavailable(format!("Stripe Connect OAuth: {e}")))?
        .to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(account) = v.get("stripe_user_id").and_then(Value::as_str) {
        return Ok(account.to_owned());
    }
    let why = v
        .get("error_description")
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("no stripe_user_id in the answer");
    if status.is_server_error() {
        Err(StripeError::Unavailable(format!(
            "Stripe Connect OAuth: {why}"
        )))
    } else {
        Err(StripeError::Config(format!(
            "Stripe refused the connection: {why}"
        )))
    }
}

/// Percent-encoding for a query or form value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_name_their_seller_and_expire() {
        let secrets = SecretBox::new(&[7; 32]);
        let state = seal_state(&secrets, "acme", 1_000);
        assert_eq!(open_state(&secrets, &state, 999).as_deref(), Ok("acme"));
        assert!(open_state(&secrets, &state, 1_001).is_err());
        assert!(open_state(&SecretBox::new(&[8; 32]), &state, 0).is_err());
        assert!(open_state(&secrets, "v1:garbage", 0).is_err());
    }

    #[test]
    fn the_link_carries_client_redirect_and_state() {
        let url = authorize_url(
            DEFAULT_BASE,
            "ca_123",
            "https://pkg.example.com/stripe/connect/oauth",
            "v1:a+b/c=",
        );
        assert!(url.starts_with(
            "https://connect.stripe.com/oauth/authorize?response_type=code&scope=read_write"
        ));
        assert!(url.contains("client_id=ca_123"));
        assert!(
            url.contains("redirect_uri=https%3A%2F%2Fpkg.example.com%2Fstripe%2Fconnect%2Foauth")
        );
        assert!(url.contains("state=v1%3Aa%2Bb%2Fc%3D"));
    }
}

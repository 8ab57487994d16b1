//! Stripe Connect onboarding through OAuth: the authorize URL the seller's settings page sends
//! the signed-in seller to, and the trade of Stripe's `code` for the connected account id.
//!
//! # The `state`
//!
//! Whoever completes an OAuth flow with a seller's `state` binds that seller to the Stripe
//! account they log in with, so a state is worth as much as the seller's billing. It is
//! therefore:
//! - random (256 bits) and made only for a signed-in seller pressing "Connect with Stripe";
//! - stored as its SHA-256 in the database (`stripe_connect_states`) and in that seller's
//!   session: the return from Stripe is accepted only in the same session, signed in as the same
//!   seller, so a link seen by someone else (a log, a shoulder, a shared screen) is useless;
//! - used once (one `UPDATE … WHERE used_at IS NULL`), and valid for [`STATE_TTL_MS`].
//!
//! No printed link exists any more: an OAuth link that works without the seller's session is
//! exactly what let anyone holding it re-bind the seller (issue 16, row 6).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tollgate_registry::db::StripeConnection;
use tollgate_registry::domain::Seller;
use tollgate_registry::ids::SellerId;
use tollgate_registry::time::Timestamp;

use crate::service::{Billing, BillingError};
use crate::stripe::StripeError;

/// Stripe's OAuth host; `TOLLGATE_STRIPE_CONNECT_BASE` replaces it in tests.
pub const DEFAULT_BASE: &str = "https://connect.stripe.com";
/// How long a state is accepted after the seller pressed Connect: long enough to create a
/// Stripe account on the way (Stripe's forms), short enough that a forgotten tab expires.
pub const STATE_TTL_MS: i64 = 2 * 60 * 60 * 1000;
/// The session key holding the hash of the state the session's seller was sent off with.
pub const SESSION_KEY: &str = "stripe_connect_state";
/// The path Stripe sends the seller back to (registered as the platform's redirect URI).
pub const RETURN_PATH: &str = "/stripe/connect/oauth";
/// Stripe's token answer is a few hundred bytes; anything far larger is not one.
const MAX_TOKEN_REPLY: usize = 64 * 1024;
/// How long the code trade may take before the seller is told to try again.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh state: the text sent to Stripe, and its hash (what the database and the session keep).
pub fn new_state() -> (String, String) {
    let bytes: [u8; 32] = rand::random();
    let state = URL_SAFE_NO_PAD.encode(bytes);
    let hash = state_hash(&state);
    (state, hash)
}

/// The SHA-256 (hex) under which a state is stored.
pub fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// The OAuth authorize URL.
pub fn authorize_url(base: &str, client_id: &str, redirect_uri: &str, state: &str) -> String {
    format!(
        "{}/oauth/authorize?response_type=code&scope=read_write&client_id={}&redirect_uri={}&state={}",
        base.trim_end_matches('/'),
        encode(client_id),
        encode(redirect_uri),
        encode(state)
    )
}

/// Why a return from Stripe's OAuth was refused. Each says what the seller can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "this Stripe Connect link is not one this server made (or it expired long ago); \
         press Connect with Stripe on your dashboard's settings page"
    )]
    Unknown,
    #[error(
        "Stripe sent you back, but this browser is not signed in as the seller who pressed \
         Connect with Stripe; sign in to your dashboard and press it there"
    )]
    NotSignedIn,
    #[error(
        "this Stripe Connect link was started by another seller's sign-in, not this one; \
         nothing was changed"
    )]
    OtherSeller,
    #[error(
        "this Stripe Connect link was started in another browser session (or replaced by a \
         newer one); press Connect with Stripe again on your settings page"
    )]
    OtherSession,
    #[error(
        "this Stripe Connect link was already used; nothing was changed. To connect again, \
         press Connect with Stripe on your settings page"
    )]
    Used,
    #[error(
        "this Stripe Connect link has expired; press Connect with Stripe again on your \
         settings page"
    )]
    Expired,
}

/// Why finishing Connect onboarding failed: refused (the state), or billing failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<tollgate_registry::Error> for ConnectError {
    fn from(e: tollgate_registry::Error) -> Self {
        Self::Billing(e.into())
    }
}

impl From<StripeError> for ConnectError {
    fn from(e: StripeError) -> Self {
        Self::Billing(e.into())
    }
}

/// Where the settings page sends the seller, and the hash its session must keep.
#[derive(Debug, Clone)]
pub struct Started {
    pub authorize_url: String,
    pub state_hash: String,
}

impl Billing {
    /// The Connect client id and platform key, if this server offers Connect onboarding.
    fn connect_settings(&self) -> Option<(&str, &str)> {
        Some((
            self.config.connect_client_id.as_deref()?,
            self.config.platform_key.as_deref()?,
        ))
    }

    /// Whether "Connect with Stripe" can work on this server.
    pub fn connect_available(&self) -> bool {
        self.connect_settings().is_some()
    }

    /// Starts Connect onboarding for the signed-in `seller`: a fresh state, stored by hash;
    /// the caller keeps [`Started::state_hash`] in the seller's session and redirects to
    /// [`Started::authorize_url`].
    pub async fn connect_start(&self, seller: &Seller) -> Result<Started, BillingError> {
        let (client_id, _) = self.connect_settings().ok_or_else(|| {
            BillingError::BadRequest(
                "this server does not offer Stripe Connect: its operator sets \
                 TOLLGATE_STRIPE_CONNECT_CLIENT_ID and TOLLGATE_STRIPE_SECRET_KEY"
                    .into(),
            )
        })?;
        let (state, state_hash) = new_state();
        let expires = Timestamp(Timestamp::now().0 + STATE_TTL_MS);
        self.registry
            .issue_connect_state(seller.id, &state_hash, expires)
            .await?;
        let base = self.config.connect_base.as_deref().unwrap_or(DEFAULT_BASE);
        let redirect = format!("{}{RETURN_PATH}", self.config.public_url);
        tracing::info!(seller = %seller.slug, "stripe connect onboarding started");
        Ok(Started {
            authorize_url: authorize_url(base, client_id, &redirect, &state),
            state_hash,
        })
    }

    /// `GET /stripe/connect/oauth?code&state`: the end of Connect onboarding. `signed_in` is the
    /// seller the request's session is signed in as, `bound` the state hash that session keeps.
    /// The state is used (once) only if all agree; then the code is traded for the connected
    /// account, which is stored. Returns the seller and its account.
    pub async fn connect_finish(
        &self,
        signed_in: Option<SellerId>,
        bound: Option<&str>,
        state: &str,
        code: &str,
    ) -> Result<(Arc<Seller>, String), ConnectError> {
        let db = &self.registry;
        let hash = state_hash(state);
        let now = Timestamp::now();
        let issued = db.connect_state(&hash).await?.ok_or(Refusal::Unknown)?;
        let me = signed_in.ok_or(Refusal::NotSignedIn)?;
        if issued.seller != me {
            return Err(Refusal::OtherSeller.into());
        }
        if issued.used_at.is_some() {
            return Err(Refusal::Used.into());
        }
        if now >= issued.expires_at {
            return Err(Refusal::Expired.into());
        }
        if !bound.is_some_and(|b| bool::from(b.as_bytes().ct_eq(hash.as_bytes()))) {
            return Err(Refusal::OtherSession.into());
        }
        if !db.use_connect_state(me, &hash, now).await? {
            // Another request with the same state won the one UPDATE.
            return Err(Refusal::Used.into());
        }
        let seller = self.registry.seller(&issued.seller_slug).await?;
        let (_, platform) = self.connect_settings().ok_or_else(|| {
            BillingError::BadRequest("this server no longer offers Stripe Connect".into())
        })?;
        let base = self.config.connect_base.as_deref().unwrap_or(DEFAULT_BASE);
        let account = exchange(base, platform, code).await?;
        if let Some(other) = db.seller_by_stripe_account(&account).await?
            && other != seller.slug
        {
            return Err(BillingError::BadRequest(format!(
                "Stripe account {account} is already connected to another seller on this server"
            ))
            .into());
        }
        // A Connect seller's events arrive at the platform's endpoint: no signing secret of
        // its own is needed. One it had set up for its own endpoint (own keys before) stays.
        let webhook_secret = db
            .stripe_connection(seller.id)
            .await?
            .and_then(|c| c.webhook_secret);
        db.set_stripe_connection(
            seller.id,
            &StripeConnection {
                secret_key: None,
                account_id: Some(account.clone()),
                webhook_secret,
            },
        )
        .await?;
        tracing::info!(seller = %seller.slug, %account, "stripe connect account linked");
        Ok((seller, account))
    }
}

/// Trades an authorization `code` for the connected account id (`stripe_user_id`).
pub async fn exchange(base: &str, platform_key: &str, code: &str) -> Result<String, StripeError> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange_now(base, platform_key, code))
        .await
        .map_err(|_| StripeError::Unavailable("Stripe Connect OAuth did not answer".into()))?
}

async fn exchange_now(base: &str, platform_key: &str, code: &str) -> Result<String, StripeError> {
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
    let bytes = Limited::new(response.into_body(), MAX_TOKEN_REPLY)
        .collect()
        .await
        .map_err(|e| StripeError::Unavailable(format!("Stripe Connect OAuth: {e}")))?
        .to_bytes();
    read_token_reply(status.is_server_error(), &bytes)
}

/// The account id in Stripe's token answer, or why there is none.
fn read_token_reply(server_error: bool, bytes: &[u8]) -> Result<String, StripeError> {
    let v: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    if let Some(account) = v.get("stripe_user_id").and_then(Value::as_str) {
        return if account.starts_with("acct_") && account.len() <= 255 {
            Ok(account.to_owned())
        } else {
            Err(StripeError::Unavailable(
                "Stripe Connect OAuth answered an account id that is not one".into(),
            ))
        };
    }
    let why = v
        .get("error_description")
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("no stripe_user_id in the answer");
    let why: String = why.chars().take(300).collect();
    if server_error {
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
    fn states_are_random_and_stored_by_hash() {
        let (a, hash_a) = new_state();
        let (b, _) = new_state();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "{a}");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(hash_a, state_hash(&a));
        assert_eq!(hash_a.len(), 64);
        assert_ne!(hash_a, a);
    }

    #[test]
    fn the_link_carries_client_redirect_and_state() {
        let url = authorize_url(
            DEFAULT_BASE,
            "ca_123",
            "https://pkg.example.com/stripe/connect/oauth",
            "a+b/c=",
        );
        assert!(url.starts_with(
            "https://connect.stripe.com/oauth/authorize?response_type=code&scope=read_write"
        ));
        assert!(url.contains("client_id=ca_123"));
        assert!(
            url.contains("redirect_uri=https%3A%2F%2Fpkg.example.com%2Fstripe%2Fconnect%2Foauth")
        );
        assert!(url.contains("state=a%2Bb%2Fc%3D"));
    }

    #[test]
    fn token_replies() {
        assert_eq!(
            read_token_reply(
                false,
                br#"{"stripe_user_id":"acct_1","scope":"read_write"}"#
            )
            .expect("account"),
            "acct_1"
        );
        let refused = read_token_reply(
            false,
            br#"{"error":"invalid_grant","error_description":"Authorization code expired"}"#,
        )
        .expect_err("refused");
        assert!(
            matches!(&refused, StripeError::Config(m) if m.contains("code expired")),
            "{refused}"
        );
        assert!(matches!(
            read_token_reply(true, b"<html>bad gateway</html>"),
            Err(StripeError::Unavailable(_))
        ));
        assert!(matches!(
            read_token_reply(false, br#"{"stripe_user_id":"<script>"}"#),
            Err(StripeError::Unavailable(_))
        ));
    }
}

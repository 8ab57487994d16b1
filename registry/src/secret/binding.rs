//! What a sealed value is and whose.

use crate::ids::SellerId;

/// What a sealed value is and whose: the associated data it is sealed with, so that it opens
/// only where it was stored. One constructor per kind of stored secret, so the names are made
/// in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding(pub(super) String);

impl Binding {
    /// The seller's own Stripe secret key (`seller_stripe.secret_key`).
    pub fn stripe_secret_key(seller: SellerId) -> Self {
        Self(format!("stripe-secret-key:seller:{seller}"))
    }

    /// The signing secret of the seller's own webhook endpoint (`seller_stripe.webhook_secret`).
    pub fn stripe_webhook_secret(seller: SellerId) -> Self {
        Self(format!("stripe-webhook-secret:seller:{seller}"))
    }

    /// The private half of the seller's key pair for `purpose` (`seller_keys.secret`).
    pub fn seller_key(purpose: &str, seller: SellerId) -> Self {
        Self(format!("seller-key:{purpose}:seller:{seller}"))
    }

    /// A short-lived token handed to a client rather than stored in a row (the sign-in page's
    /// anonymous CSRF token): bound to its purpose, so nothing else sealed opens as one.
    pub fn token(purpose: &str) -> Self {
        Self(format!("token:{purpose}"))
    }

    /// The associated data as text (for tests and logs: it is no secret).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

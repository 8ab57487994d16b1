//! Stripe's side of licensing: subscriptions applied to an org's entitlement and seat cap,
//! completed checkouts, and the webhook events applied (each once). Each write drops this
//! server's caches before it returns.

use super::Registry;
use crate::Result;
use crate::db::{Checkout, SubscriptionRecord, SubscriptionState};
use crate::domain::NewToken;
use crate::ids::{OrgId, SellerId};

impl Registry {
    pub async fn subscription(
        &self,
        seller: SellerId,
        stripe_id: &str,
    ) -> Result<Option<SubscriptionRecord>> {
        self.db().subscription(seller, stripe_id).await
    }

    /// Has this webhook event been applied already?
    pub async fn event_seen(&self, seller: SellerId, event_id: &str) -> Result<bool> {
        self.db().event_seen(seller, event_id).await
    }

    /// Records an event that changes nothing else; `false` if it was recorded before.
    pub async fn record_event(&self, seller: SellerId, event: (&str, &str)) -> Result<bool> {
        let new = self.db().record_event(seller, event).await?;
        self.catch_up().await;
        Ok(new)
    }

    /// Applies a subscription's state to `org` (entitlement, seat cap) in one step; `false`
    /// when `event` was applied before.
    pub async fn apply_subscription(
        &self,
        seller: SellerId,
        event: Option<(&str, &str)>,
        org: OrgId,
        state: &SubscriptionState,
    ) -> Result<bool> {
        let applied = self
            .db()
            .apply_subscription(seller, event, org, state)
            .await?;
        self.catch_up().await;
        Ok(applied)
    }

    /// A completed checkout: the paying org (made if new), its admin seat, an org token for a
    /// new org, the subscription. `None` when the event was applied before.
    pub async fn complete_checkout(
        &self,
        seller: SellerId,
        event: (&str, &str),
        new_org: (&str, &str),
        admin_email: &str,
        token: &NewToken,
        state: &SubscriptionState,
    ) -> Result<Option<Checkout>> {
        let done = self
            .db()
            .complete_checkout(seller, event, new_org, admin_email, token, state)
            .await?;
        self.catch_up().await;
        Ok(done)
    }
}

//! Sellers: creating them, their signing keys, their Stripe connection and the Connect
//! onboarding state, and the download log the CLI prints.

use super::Registry;
use crate::Result;
use crate::db::{ConnectState, StoredKey, StripeConnection};
use crate::domain::{DownloadEvent, Seller};
use crate::ids::SellerId;
use crate::time::Timestamp;

impl Registry {
    pub async fn create_seller(&self, slug: &str, name: &str, email: &str) -> Result<Seller> {
        let seller = self.db().create_seller(slug, name, email).await?;
        self.catch_up().await;
        Ok(seller)
    }

    /// Every seller, by slug.
    pub async fn sellers(&self) -> Result<Vec<Seller>> {
        self.db().sellers().await
    }

    /// The seller's stored key for `purpose` (sealed), if one was made.
    pub async fn seller_key(&self, seller: SellerId, purpose: &str) -> Result<Option<StoredKey>> {
        self.db().seller_key(seller, purpose).await
    }

    /// Stores the seller's key for `purpose` unless one exists; returns the one that is stored
    /// (the first writer wins a race).
    pub async fn insert_seller_key(
        &self,
        seller: SellerId,
        purpose: &str,
        key: &StoredKey,
    ) -> Result<StoredKey> {
        let stored = self.db().insert_seller_key(seller, purpose, key).await?;
        self.catch_up().await;
        Ok(stored)
    }

    pub async fn stripe_connection(&self, seller: SellerId) -> Result<Option<StripeConnection>> {
        self.db().stripe_connection(seller).await
    }

    /// Connects (or re-connects) the seller's Stripe: keys sealed by the caller.
    pub async fn set_stripe_connection(
        &self,
        seller: SellerId,
        connection: &StripeConnection,
    ) -> Result<()> {
        self.db().set_stripe_connection(seller, connection).await?;
        self.catch_up().await;
        Ok(())
    }

    /// Forgets the webhook secret `sealed` (if it is still the stored one).
    pub async fn clear_webhook_secret(&self, seller: SellerId, sealed: &str) -> Result<bool> {
        let cleared = self.db().clear_webhook_secret(seller, sealed).await?;
        self.catch_up().await;
        Ok(cleared)
    }

    /// The slug of the seller connected as Stripe account `account`, if any.
    pub async fn seller_by_stripe_account(&self, account: &str) -> Result<Option<String>> {
        self.db().seller_by_stripe_account(account).await
    }

    /// Remembers a Connect onboarding `state` issued to the seller's signed-in session.
    pub async fn issue_connect_state(
        &self,
        seller: SellerId,
        state_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.db()
            .issue_connect_state(seller, state_hash, expires_at)
            .await?;
        self.catch_up().await;
        Ok(())
    }

    pub async fn connect_state(&self, state_hash: &str) -> Result<Option<ConnectState>> {
        self.db().connect_state(state_hash).await
    }

    /// Uses a Connect onboarding state once; `false` if it was used, expired or another's.
    pub async fn use_connect_state(
        &self,
        seller: SellerId,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let used = self.db().use_connect_state(seller, state_hash, now).await?;
        self.catch_up().await;
        Ok(used)
    }

    /// The seller's newest downloads, at most `limit`.
    pub async fn downloads(&self, seller: SellerId, limit: i64) -> Result<Vec<DownloadEvent>> {
        self.db().downloads(seller, limit).await
    }
}

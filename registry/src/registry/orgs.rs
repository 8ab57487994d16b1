//! Orgs (a seller's customers) and what they may use: grants of products, the seat cap.

use super::Registry;
use crate::Result;
use crate::domain::{Entitlement, Org, VersionRule};
use crate::ids::{OrgId, ProductId, SellerId};
use crate::time::Timestamp;

impl Registry {
    pub async fn create_org(&self, seller: SellerId, slug: &str, name: &str) -> Result<Org> {
        let org = self.db().create_org(seller, slug, name).await?;
        self.catch_up().await;
        Ok(org)
    }

    pub async fn org(&self, seller: SellerId, slug: &str) -> Result<Org> {
        self.db().org(seller, slug).await
    }

    pub async fn orgs(&self, seller: SellerId) -> Result<Vec<Org>> {
        self.db().orgs(seller).await
    }

    /// Grants `product` to `org` from `starts_at` (until `ends_at`, or until ended); the org's
    /// tokens see it as soon as this returns.
    pub async fn grant(
        &self,
        org: OrgId,
        product: ProductId,
        starts_at: Timestamp,
        ends_at: Option<Timestamp>,
        rule: VersionRule,
        source: &str,
    ) -> Result<Entitlement> {
        let granted = self
            .db()
            .grant(org, product, starts_at, ends_at, rule, source)
            .await?;
        self.catch_up().await;
        Ok(granted)
    }

    /// Ends the org's open grants of `product` at `at`; how many were ended.
    pub async fn end_grants(&self, org: OrgId, product: ProductId, at: Timestamp) -> Result<u64> {
        let ended = self.db().end_grants(org, product, at).await?;
        self.catch_up().await;
        Ok(ended)
    }

    pub async fn entitlements(&self, org: OrgId) -> Result<Vec<Entitlement>> {
        self.db().entitlements(org).await
    }

    /// How many seats the org may hold (`None`: no cap).
    pub async fn seat_cap(&self, org: OrgId) -> Result<Option<i64>> {
        self.db().seat_cap(org).await
    }

    /// The Stripe customer the org pays as, if any.
    pub async fn org_customer(&self, org: OrgId) -> Result<Option<String>> {
        self.db().org_customer(org).await
    }

    /// The org that pays as Stripe customer `customer`, if any.
    pub async fn org_by_customer(&self, seller: SellerId, customer: &str) -> Result<Option<Org>> {
        self.db().org_by_customer(seller, customer).await
    }
}

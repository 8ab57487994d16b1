//! Products (named sets of packages) and the plans that sell them through Stripe.

use super::Registry;
use crate::Result;
use crate::domain::{PackageRef, Plan, Product, SeatMode, VersionRule};
use crate::ids::{ProductId, SellerId};

impl Registry {
    pub async fn create_product(
        &self,
        seller: SellerId,
        slug: &str,
        name: &str,
        packages: &[PackageRef],
    ) -> Result<Product> {
        let product = self
            .db()
            .create_product(seller, slug, name, packages)
            .await?;
        self.catch_up().await;
        Ok(product)
    }

    pub async fn product(&self, seller: SellerId, slug: &str) -> Result<Product> {
        self.db().product(seller, slug).await
    }

    pub async fn products(&self, seller: SellerId) -> Result<Vec<Product>> {
        self.db().products(seller).await
    }

    /// A plan: Stripe price `stripe_price` sells `product` with these seats, rule and grace.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_plan(
        &self,
        seller: SellerId,
        slug: &str,
        product: ProductId,
        stripe_price: &str,
        seats: SeatMode,
        rule: VersionRule,
        grace_days: u32,
    ) -> Result<Plan> {
        let plan = self
            .db()
            .create_plan(seller, slug, product, stripe_price, seats, rule, grace_days)
            .await?;
        self.catch_up().await;
        Ok(plan)
    }

    pub async fn plan(&self, seller: SellerId, slug: &str) -> Result<Plan> {
        self.db().plan(seller, slug).await
    }

    /// The seller's plan selling Stripe price `price`, if any.
    pub async fn plan_by_price(&self, seller: SellerId, price: &str) -> Result<Option<Plan>> {
        self.db().plan_by_price(seller, price).await
    }

    pub async fn plans(&self, seller: SellerId) -> Result<Vec<Plan>> {
        self.db().plans(seller).await
    }
}

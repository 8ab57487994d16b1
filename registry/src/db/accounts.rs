//! Sellers, products, orgs and entitlements (seats are in `seats`).

use sqlx::FromRow;

use super::pool::{Db, Tx, log_change, not_found};
use crate::change::Change;
use crate::domain::{Entitlement, Org, PackageRef, Product, Seller, VersionRule};
use crate::ids::{EntitlementId, OrgId, ProductId, SellerId};
use crate::time::Timestamp;
use crate::{Error, Result};

#[derive(FromRow)]
struct SellerRow {
    id: i64,
    slug: String,
    name: String,
    email: String,
    created_at: i64,
}

impl From<SellerRow> for Seller {
    fn from(r: SellerRow) -> Self {
        Seller {
            id: SellerId(r.id),
            slug: r.slug,
            name: r.name,
            email: r.email,
            created_at: Timestamp(r.created_at),
        }
    }
}

#[derive(FromRow)]
struct OrgRow {
    id: i64,
    seller_id: i64,
    slug: String,
    name: String,
}

impl From<OrgRow> for Org {
    fn from(r: OrgRow) -> Self {
        Org {
            id: OrgId(r.id),
            seller_id: SellerId(r.seller_id),
            slug: r.slug,
            name: r.name,
        }
    }
}

#[derive(FromRow)]
struct EntitlementRow {
    id: i64,
    org_id: i64,
    product_id: i64,
    starts_at: i64,
    ends_at: Option<i64>,
    rule: String,
    source: String,
}

impl TryFrom<EntitlementRow> for Entitlement {
    type Error = Error;
    fn try_from(r: EntitlementRow) -> Result<Self> {
        Ok(Entitlement {
            id: EntitlementId(r.id),
            org_id: OrgId(r.org_id),
            product_id: ProductId(r.product_id),
            starts_at: Timestamp(r.starts_at),
            ends_at: r.ends_at.map(Timestamp),
            rule: r.rule.parse::<VersionRule>().map_err(Error::Invalid)?,
            source: r.source,
        })
    }
}

impl Db {
    pub async fn create_seller(&self, slug: &str, name: &str, email: &str) -> Result<Seller> {
        let row: SellerRow = sqlx::query_as(
            "INSERT INTO sellers (slug, name, email, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, slug, name, email, created_at",
        )
        .bind(slug)
        .bind(name)
        .bind(email)
        .bind(Timestamp::now().0)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| Error::from_db(e, || format!("seller `{slug}` already exists")))?;
        Ok(row.into())
    }

    pub async fn seller(&self, slug: &str) -> Result<Seller> {
        let row: SellerRow =
            sqlx::query_as("SELECT id, slug, name, email, created_at FROM sellers WHERE slug = $1")
                .bind(slug)
                .fetch_one(&self.pool)
                .await
                .map_err(not_found(format!("seller `{slug}`")))?;
        Ok(row.into())
    }

    pub async fn sellers(&self) -> Result<Vec<Seller>> {
        let rows: Vec<SellerRow> =
            sqlx::query_as("SELECT id, slug, name, email, created_at FROM sellers ORDER BY slug")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn create_product(
        &self,
        seller: SellerId,
        slug: &str,
        name: &str,
        packages: &[PackageRef],
    ) -> Result<Product> {
        let mut tx = self.write().await?;
        let now = Timestamp::now().0;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO products (seller_id, slug, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(seller.0)
        .bind(slug)
        .bind(name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| Error::from_db(e, || format!("product `{slug}` already exists")))?;
        for package in packages {
            let package_id = ensure_package(&mut tx, seller, package, now).await?;
            sqlx::query(
                "INSERT INTO product_packages (product_id, package_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(package_id)
            .execute(&mut *tx)
            .await?;
        }
        log_change(&mut tx, self.backend, Change::All).await?;
        tx.commit().await?;
        self.product(seller, slug).await
    }

    pub async fn product(&self, seller: SellerId, slug: &str) -> Result<Product> {
        let (id, name): (i64, String) =
            sqlx::query_as("SELECT id, name FROM products WHERE seller_id = $1 AND slug = $2")
                .bind(seller.0)
                .bind(slug)
                .fetch_one(&self.pool)
                .await
                .map_err(not_found(format!("product `{slug}`")))?;
        let packages: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.ecosystem, p.name FROM product_packages pp JOIN packages p ON p.id = pp.package_id
             WHERE pp.product_id = $1 ORDER BY p.ecosystem, p.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Product {
            id: ProductId(id),
            seller_id: seller,
            slug: slug.to_owned(),
            name,
            packages: packages
                .into_iter()
                .map(|(eco, name)| {
                    Ok(PackageRef {
                        ecosystem: eco.parse().map_err(Error::Invalid)?,
                        name,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    pub async fn products(&self, seller: SellerId) -> Result<Vec<Product>> {
        let slugs: Vec<String> =
            sqlx::query_scalar("SELECT slug FROM products WHERE seller_id = $1 ORDER BY slug")
                .bind(seller.0)
                .fetch_all(&self.pool)
                .await?;
        let mut products = Vec::with_capacity(slugs.len());
        for slug in slugs {
            products.push(self.product(seller, &slug).await?);
        }
        Ok(products)
    }

    pub async fn create_org(&self, seller: SellerId, slug: &str, name: &str) -> Result<Org> {
        let row: OrgRow = sqlx::query_as(
            "INSERT INTO orgs (seller_id, slug, name, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, seller_id, slug, name",
        )
        .bind(seller.0)
        .bind(slug)
        .bind(name)
        .bind(Timestamp::now().0)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| Error::from_db(e, || format!("org `{slug}` already exists")))?;
        Ok(row.into())
    }

    pub async fn org(&self, seller: SellerId, slug: &str) -> Result<Org> {
        let row: OrgRow = sqlx::query_as(
            "SELECT id, seller_id, slug, name FROM orgs WHERE seller_id = $1 AND slug = $2",
        )
        .bind(seller.0)
        .bind(slug)
        .fetch_one(&self.pool)
        .await
        .map_err(not_found(format!("org `{slug}`")))?;
        Ok(row.into())
    }

    pub async fn orgs(&self, seller: SellerId) -> Result<Vec<Org>> {
        let rows: Vec<OrgRow> = sqlx::query_as(
            "SELECT id, seller_id, slug, name FROM orgs WHERE seller_id = $1 ORDER BY slug",
        )
        .bind(seller.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn grant(
        &self,
        org: OrgId,
        product: ProductId,
        starts_at: Timestamp,
        ends_at: Option<Timestamp>,
        rule: VersionRule,
        source: &str,
    ) -> Result<Entitlement> {
        let mut tx = self.write().await?;
        // Only an org and a product of the same seller: nothing crosses sellers.
        let row: Option<EntitlementRow> = sqlx::query_as(
            "INSERT INTO entitlements (org_id, product_id, starts_at, ends_at, rule, source, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE EXISTS (SELECT 1 FROM orgs o JOIN products p ON p.seller_id = o.seller_id
                           WHERE o.id = $1 AND p.id = $2)
             RETURNING id, org_id, product_id, starts_at, ends_at, rule, source",
        )
        .bind(org.0)
        .bind(product.0)
        .bind(starts_at.0)
        .bind(ends_at.map(|t| t.0))
        .bind(rule.as_str())
        .bind(source)
        .bind(Timestamp::now().0)
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or_else(|| {
            Error::Invalid("the org and the product belong to different sellers".into())
        })?;
        log_change(&mut tx, self.backend, Change::Org(org)).await?;
        tx.commit().await?;
        row.try_into()
    }

    pub async fn end_grants(&self, org: OrgId, product: ProductId, at: Timestamp) -> Result<u64> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE entitlements SET ends_at = $1
             WHERE org_id = $2 AND product_id = $3 AND (ends_at IS NULL OR ends_at > $4)",
        )
        .bind(at.0)
        .bind(org.0)
        .bind(product.0)
        .bind(at.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done > 0 {
            log_change(&mut tx, self.backend, Change::Org(org)).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    pub async fn entitlements(&self, org: OrgId) -> Result<Vec<Entitlement>> {
        let rows: Vec<EntitlementRow> = sqlx::query_as(
            "SELECT id, org_id, product_id, starts_at, ends_at, rule, source FROM entitlements
             WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

/// The package row for `package`, created if it does not exist yet.
pub(super) async fn ensure_package(
    tx: &mut Tx,
    seller: SellerId,
    package: &PackageRef,
    now: i64,
) -> Result<i64> {
    sqlx::query(
        "INSERT INTO packages (seller_id, ecosystem, name, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(seller.0)
    .bind(package.ecosystem.as_str())
    .bind(&package.name)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT id FROM packages WHERE seller_id = $1 AND ecosystem = $2 AND name = $3",
    )
    .bind(seller.0)
    .bind(package.ecosystem.as_str())
    .bind(&package.name)
    .fetch_one(&mut **tx)
    .await?)
}

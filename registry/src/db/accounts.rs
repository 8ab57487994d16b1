//! Sellers, products, orgs, entitlements and seats.

use sqlx::FromRow;

use super::{Db, Tx, log_change, not_found};
use crate::change::Change;
use crate::domain::{Entitlement, Org, PackageRef, Product, Seat, Seller, VersionRule};
use crate::ids::{EntitlementId, OrgId, ProductId, SeatId, SellerId};
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

/// Flags are 0/1 integers on both databases (see `db`).
#[derive(FromRow)]
struct SeatRow {
    id: i64,
    org_id: i64,
    email: String,
    role: String,
    active: i64,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<SeatRow> for Seat {
    fn from(r: SeatRow) -> Self {
        Seat {
            id: SeatId(r.id),
            org_id: OrgId(r.org_id),
            email: r.email,
            role: r.role,
            active: r.active != 0,
            created_at: Timestamp(r.created_at),
            revoked_at: r.revoked_at.map(Timestamp),
        }
    }
}

const SEAT_COLUMNS: &str = "id, org_id, email, role, active, created_at, revoked_at";

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

    /// Gives `email` a seat (or re-activates its revoked one), within the org's seat cap: one
    /// atomic step, so concurrent claims never exceed the cap.
    pub async fn add_seat(&self, org: OrgId, email: &str, role: &str) -> Result<Seat> {
        let mut tx = self.write().await?;
        let seat = claim_seat(&mut tx, self.backend, org, email, role).await?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        Ok(seat)
    }

    pub async fn revoke_seat(&self, org: OrgId, email: &str, at: Timestamp) -> Result<Seat> {
        let mut tx = self.write().await?;
        let row: SeatRow = sqlx::query_as(&format!(
            "UPDATE seats SET active = 0, revoked_at = COALESCE(revoked_at, $1) WHERE org_id = $2 AND email = $3
             RETURNING {SEAT_COLUMNS}"
        ))
        .bind(at.0)
        .bind(org.0)
        .bind(email)
        .fetch_one(&mut *tx)
        .await
        .map_err(not_found(format!("seat `{email}`")))?;
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE seat_id = $2 AND revoked_at IS NULL")
            .bind(at.0)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        Ok(row.into())
    }

    pub async fn seats(&self, org: OrgId) -> Result<Vec<Seat>> {
        let rows: Vec<SeatRow> = sqlx::query_as(&format!(
            "SELECT {SEAT_COLUMNS} FROM seats WHERE org_id = $1 ORDER BY email"
        ))
        .bind(org.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
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

/// Claims a seat inside the caller's transaction. The org row is locked first (PostgreSQL:
/// `FOR UPDATE`; SQLite writers are serialised already), then the active seats are counted
/// against `orgs.seat_cap`. A seat that is active already is returned as it is.
pub(super) async fn claim_seat(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
) -> Result<Seat> {
    let lock = match backend {
        super::Backend::Postgres => "SELECT seat_cap FROM orgs WHERE id = $1 FOR UPDATE",
        super::Backend::Sqlite => "SELECT seat_cap FROM orgs WHERE id = $1",
    };
    let cap: Option<i64> = sqlx::query_scalar(lock)
        .bind(org.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("org {org}")))?;
    let existing: Option<SeatRow> = sqlx::query_as(&format!(
        "SELECT {SEAT_COLUMNS} FROM seats WHERE org_id = $1 AND email = $2"
    ))
    .bind(org.0)
    .bind(email)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(seat) = existing.as_ref().filter(|s| s.active != 0) {
        if seat.role != role {
            sqlx::query("UPDATE seats SET role = $1 WHERE id = $2")
                .bind(role)
                .bind(seat.id)
                .execute(&mut **tx)
                .await?;
        }
        let mut seat: Seat = existing
            .map(Into::into)
            .ok_or_else(|| Error::NotFound(email.into()))?;
        seat.role = role.to_owned();
        return Ok(seat);
    }
    if let Some(cap) = cap {
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM seats WHERE org_id = $1 AND active = 1")
                .bind(org.0)
                .fetch_one(&mut **tx)
                .await?;
        if active >= cap {
            return Err(Error::Conflict(format!(
                "all {cap} paid seat(s) of this org are in use ({active} active); revoke a seat or buy more before adding {email}"
            )));
        }
    }
    let row: SeatRow = sqlx::query_as(&format!(
        "INSERT INTO seats (org_id, email, role, active, created_at) VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (org_id, email) DO UPDATE SET active = 1, revoked_at = NULL, role = excluded.role
         RETURNING {SEAT_COLUMNS}"
    ))
    .bind(org.0)
    .bind(email)
    .bind(role)
    .bind(Timestamp::now().0)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.into())
}

impl Db {
    /// One seat by id (a signed-in member's, checked on every request).
    pub async fn seat(&self, seat: SeatId) -> Result<Option<Seat>> {
        let row: Option<SeatRow> =
            sqlx::query_as(&format!("SELECT {SEAT_COLUMNS} FROM seats WHERE id = $1"))
                .bind(seat.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Into::into))
    }

    /// Active seats of the seller's orgs held by `email` (any letter case), with their org.
    pub async fn seats_by_email(&self, seller: SellerId, email: &str) -> Result<Vec<(Org, Seat)>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            seat: SeatRow,
            org_slug: String,
            org_name: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.id, s.org_id, s.email, s.role, s.active, s.created_at, s.revoked_at,
                o.slug AS org_slug, o.name AS org_name
         FROM seats s JOIN orgs o ON o.id = s.org_id
         WHERE o.seller_id = $1 AND lower(s.email) = lower($2) AND s.active = 1
         ORDER BY o.slug",
        )
        .bind(seller.0)
        .bind(email)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let seat: Seat = r.seat.into();
                let org = Org {
                    id: seat.org_id,
                    seller_id: seller,
                    slug: r.org_slug,
                    name: r.org_name,
                };
                (org, seat)
            })
            .collect())
    }
}

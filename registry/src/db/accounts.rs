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
    /// atomic step, so concurrent claims never exceed the cap. An active seat takes `role`.
    pub async fn add_seat(&self, org: OrgId, email: &str, role: &str) -> Result<Seat> {
        let mut tx = self.write().await?;
        let seat = claim_seat(&mut tx, self.backend, org, email, role).await?;
        log_change(&mut tx, self.backend, Change::Tokens).await?;
        tx.commit().await?;
        Ok(seat)
    }

    /// Revokes `email`'s seat (any letter case) and its tokens. Invites to the address that are
    /// still pending are withdrawn with it: an older invite must not bring the seat back.
    pub async fn revoke_seat(&self, org: OrgId, email: &str, at: Timestamp) -> Result<Seat> {
        let email = normalized_email(email);
        let email = email.as_str();
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
        sqlx::query(
            "DELETE FROM web_links
             WHERE org_id = $1 AND email = $2 AND purpose = 'invite' AND used_at IS NULL",
        )
        .bind(org.0)
        .bind(email)
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

/// An address as seats, invites and sign-in links store and compare it: trimmed, ASCII letters
/// lower-cased, so that `Bob@x.test` and `bob@x.test` are one person with one seat. ASCII only,
/// as SQLite's `lower()` is (migration `0006_seat_emails` folded the stored ones the same way
/// on both databases).
pub(super) fn normalized_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

/// What a claim does to a seat that is active already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ActiveSeat {
    /// Gives it the claimed role: the operator's `seat add`, a purchase making its buyer admin.
    TakesRole,
    /// Leaves it as it is: an invite accepted after the address got its seat another way (an
    /// old invite for a member must not demote someone made admin since).
    Kept,
}

/// Claims a seat inside the caller's transaction (see [`claim`]); a seat that is active already
/// takes `role`.
pub(super) async fn claim_seat(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
) -> Result<Seat> {
    claim(tx, backend, org, email, role, ActiveSeat::TakesRole).await
}

/// Claims a seat for an accepted invite inside the caller's transaction (see [`claim`]); a
/// seat that is active already is returned as it is, its role untouched.
pub(super) async fn claim_invited_seat(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
) -> Result<Seat> {
    claim(tx, backend, org, email, role, ActiveSeat::Kept).await
}

/// Claims a seat for `email` (normalized, [`normalized_email`]). The org row is locked first
/// (PostgreSQL: `FOR UPDATE`; SQLite writers are serialised already), then the active seats are
/// counted against `orgs.seat_cap`. A seat that is active already is not counted again.
async fn claim(
    tx: &mut Tx,
    backend: super::Backend,
    org: OrgId,
    email: &str,
    role: &str,
    active_seat: ActiveSeat,
) -> Result<Seat> {
    let email = normalized_email(email);
    let email = email.as_str();
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
        if active_seat == ActiveSeat::Kept {
            return existing
                .map(Into::into)
                .ok_or_else(|| Error::NotFound(email.into()));
        }
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
        let email = normalized_email(email);
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
         WHERE o.seller_id = $1 AND s.email = $2 AND s.active = 1
         ORDER BY o.slug",
        )
        .bind(seller.0)
        .bind(&email)
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

#[cfg(test)]
mod tests {
    //! Seat addresses without letter case, on both databases (PostgreSQL when
    //! `TOLLGATE_TEST_POSTGRES_URL` is set): migration `0006_seat_emails` on the duplicates that
    //! earlier versions stored, then claims, invites and revokes in any case.

    use sqlx::Connection;
    use sqlx::postgres::PgConnection;

    use super::*;
    use crate::db::{LinkPurpose, NewLink};
    use crate::domain::{Ecosystem, NewRelease};

    async fn sql(db: &Db, text: &str) {
        sqlx::raw_sql(text)
            .execute(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }

    async fn count(db: &Db, query: &str) -> i64 {
        sqlx::query_scalar(query)
            .fetch_one(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"))
    }

    fn invite(seller: &Seller, org: &Org, id: &str, email: &str) -> NewLink {
        NewLink {
            id: id.into(),
            secret_hash: "0".repeat(64),
            purpose: LinkPurpose::Invite,
            seller: seller.id,
            org: Some(org.id),
            email: email.into(),
            role: Some("member".into()),
            expires_at: Timestamp(Timestamp::now().0 + 3_600_000),
        }
    }

    async fn seat_emails(db: Db) {
        // Undo 0006 and store what it meets in a database of an earlier version.
        sql(
            &db,
            "DROP INDEX seats_org_folded_email; DELETE FROM _sqlx_migrations WHERE version = 6",
        )
        .await;
        let acme = db
            .create_seller("acme", "Acme", "boss@acme.test")
            .await
            .expect("seller");
        let globex = db
            .create_org(acme.id, "globex", "Globex")
            .await
            .expect("org");
        let initech = db
            .create_org(acme.id, "initech", "Initech")
            .await
            .expect("org");
        let release = db
            .publish_release(
                &NewRelease {
                    seller_id: acme.id,
                    ecosystem: Ecosystem::Npm,
                    package: "widget".into(),
                    version: "1.0.0".into(),
                    blob_sha256: "a".repeat(64),
                    size: 1,
                    metadata: serde_json::json!({}),
                    dist_tags: Vec::new(),
                },
                Timestamp::now(),
            )
            .await
            .expect("release");
        let (g, i) = (globex.id.0, initech.id.0);
        sql(
            &db,
            &format!(
                "INSERT INTO seats (id, org_id, email, role, active, created_at, revoked_at) VALUES
                 (101, {g}, 'Bob@Globex.test', 'member', 1, 1, NULL),
                 (102, {g}, 'bob@globex.test', 'admin', 1, 2, NULL),
                 (103, {g}, 'BOB@globex.test', 'member', 0, 3, 9),
                 (104, {g}, 'Ann@Globex.test', 'admin', 0, 4, 9),
                 (105, {g}, 'ann@globex.test', 'member', 0, 5, 8),
                 (106, {g}, 'Cy@Globex.test', 'admin', 0, 6, 9),
                 (107, {g}, 'cy@globex.test', 'member', 1, 7, NULL),
                 (108, {i}, 'bob@globex.test', 'member', 1, 8, NULL);
                 INSERT INTO tokens (id, secret_hash, kind, seller_id, org_id, seat_id, created_at)
                 VALUES ('t1', 'h', 'seat', {s}, {g}, 102, 1), ('t2', 'h', 'seat', {s}, {g}, 103, 1),
                        ('t3', 'h', 'seat', {s}, {i}, 108, 1);
                 INSERT INTO download_events (release_id, org_id, seat_id, token_id, at)
                 VALUES ({r}, {g}, 102, 't1', 1);",
                s = acme.id.0,
                r = release.id.0,
            ),
        )
        .await;
        db.create_link(&invite(&acme, &globex, "l1", "Dan@Globex.test"))
            .await
            .expect("link");
        sql(&db, "UPDATE web_links SET email = 'Dan@Globex.test'").await;

        db.migrate().await.expect("0006 over duplicates");

        let seats: Vec<(i64, String, String, bool, Option<Timestamp>)> = db
            .seats(globex.id)
            .await
            .expect("seats")
            .into_iter()
            .map(|s| (s.id.0, s.email, s.role, s.active, s.revoked_at))
            .collect();
        assert_eq!(
            seats,
            vec![
                // Both revoked: the oldest stays, as it was.
                (
                    104,
                    "ann@globex.test".into(),
                    "admin".into(),
                    false,
                    Some(Timestamp(9))
                ),
                // One of them an active admin: an active admin.
                (101, "bob@globex.test".into(), "admin".into(), true, None),
                // A revoked admin and an active member: an active member.
                (106, "cy@globex.test".into(), "member".into(), true, None),
            ]
        );
        let initech_seats = db.seats(initech.id).await.expect("seats");
        assert_eq!(initech_seats.len(), 1, "another org's seat is its own");
        assert_eq!(initech_seats[0].id.0, 108);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM tokens WHERE seat_id = 101").await,
            2,
            "the merged seat holds its duplicates' tokens"
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM download_events WHERE seat_id = 101"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM web_links WHERE email = 'dan@globex.test'"
            )
            .await,
            1
        );

        // From now on: one seat per address whatever its case, in every front door.
        let again = db
            .add_seat(globex.id, " BOB@globex.TEST ", "admin")
            .await
            .expect("claim");
        assert_eq!(again.id.0, 101);
        let err = sqlx::raw_sql(&format!(
            "INSERT INTO seats (org_id, email, role, active, created_at)
             VALUES ({g}, 'BOB@GLOBEX.TEST', 'member', 1, 1)"
        ))
        .execute(&db.pool)
        .await;
        assert!(
            err.is_err(),
            "the index refuses a second seat for one address"
        );
        let held = db
            .seats_by_email(acme.id, "BoB@GlObEx.TeSt")
            .await
            .expect("seats by email");
        assert_eq!(held.len(), 2, "{held:?}");

        // An old invite accepted later leaves an active seat as it is: no demoted admin.
        db.create_link(&invite(&acme, &globex, "l2", "Bob@globex.test"))
            .await
            .expect("link");
        let used = db.use_link("l2", Timestamp::now()).await.expect("accept");
        let seat = used.seat.expect("the seat");
        assert_eq!((seat.id.0, seat.role.as_str()), (101, "admin"));
        assert_eq!(
            db.seat(SeatId(101))
                .await
                .expect("seat")
                .expect("seat")
                .role,
            "admin"
        );
        // The operator still sets roles on purpose.
        let set = db
            .add_seat(globex.id, "bob@globex.test", "member")
            .await
            .expect("claim");
        assert_eq!(set.role, "member");
        assert_eq!(
            db.seat(SeatId(101))
                .await
                .expect("seat")
                .expect("seat")
                .role,
            "member",
            "the new role is stored, not only answered"
        );

        // Revoking in any case withdraws pending invites to the address: none brings it back.
        db.create_link(&invite(&acme, &globex, "l3", "CY@globex.test"))
            .await
            .expect("link");
        let revoked = db
            .revoke_seat(globex.id, "Cy@GLOBEX.test", Timestamp::now())
            .await
            .expect("revoke");
        assert_eq!(revoked.id.0, 106);
        assert!(db.use_link("l3", Timestamp::now()).await.is_err());
        assert!(
            !db.seat(SeatId(106))
                .await
                .expect("seat")
                .expect("seat")
                .active
        );
    }

    #[tokio::test]
    async fn seat_emails_on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tollgate.db");
        let db = Db::connect(path.to_str().expect("UTF-8 path"))
            .await
            .expect("open");
        seat_emails(db).await;
    }

    #[tokio::test]
    async fn seat_emails_on_postgres() {
        let Some(admin_url) = tollgate_testkit::POSTGRES.url() else {
            return;
        };
        let name = format!("tg_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let db = Db::connect(&format!("{base}/{name}")).await.expect("open");
        let outcome = tokio::spawn(seat_emails(db)).await;
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

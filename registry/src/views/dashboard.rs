//! What the dashboard pages read: a seller's figures, customers, packages, recent releases and
//! the little the live updates need (the download audit is in `audit`). Read-only, and every method runs a
//! fixed number of queries (at most two) whatever the amount of data: per-org and per-package
//! figures come from correlated subqueries or one grouped query, never a query per row.
//!
//! Counts and sums are cast to BIGINT: PostgreSQL's SUM over BIGINT is NUMERIC, which sqlx's
//! `Any` driver cannot decode, and flags computed with CASE would be INTEGER there.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::FromRow;

use super::handle::Views;
use crate::Result;
use crate::domain::Org;
use crate::ids::{OrgId, PackageId, SellerId};
use crate::time::Timestamp;

const DAY_MS: i64 = 86_400_000;
/// "In use" and "downloads" on the pages mean the last 30 days.
const RECENT_DAYS: i64 = 30;

/// "The last 30 days" as the figures count them: the UTC days `first..=today` (30 of them,
/// today included), read from the per-day rollup.
fn recent_days(now: Timestamp) -> (i64, i64) {
    let today = now.0.div_euclid(DAY_MS);
    (today - RECENT_DAYS + 1, today)
}
/// Subscription statuses that still bring money in (`past_due`: Stripe is retrying).
const PAYING_STATUSES: &str = "('active', 'trialing', 'past_due')";

/// The figures at the top of a seller's dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct SellerFigures {
    /// Orgs with a live entitlement now (started, and not ended).
    pub active_orgs: i64,
    /// The sum of the seat caps of the orgs that have one.
    pub paid_seats: i64,
    /// Active seats across the seller's orgs.
    pub used_seats: i64,
    /// Orgs with a live entitlement and no seat cap.
    pub unlimited_orgs: i64,
    /// Monthly recurring revenue per currency, in minor units per month, sorted by currency:
    /// paying subscriptions' `unit_amount × quantity` brought to a month (year ÷ 12,
    /// week × 52 ÷ 12, day × 365 ÷ 12, rounded once per currency). Subscriptions whose price
    /// Stripe has not reported yet are left out.
    pub mrr: Vec<(String, i64)>,
}

/// One org on the customers page.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub org: Org,
    /// The plan slug of the org's newest subscription (none for hand-made grants).
    pub plan: Option<String>,
    /// That subscription's Stripe status.
    pub status: Option<String>,
    /// Active seats.
    pub seats_used: i64,
    /// The seat cap (`None`: no cap).
    pub seats_paid: Option<i64>,
    /// Has a live entitlement now.
    pub live: bool,
    /// `package@version` downloaded by the org in the last 30 days, distinct, sorted.
    pub versions_in_use: Vec<String>,
    /// The org's last download ever.
    pub last_download: Option<Timestamp>,
    /// The org's downloads in the last 30 days.
    pub downloads_30d: i64,
}

/// One package on the packages page.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSummary {
    pub id: PackageId,
    pub ecosystem: String,
    pub name: String,
    /// Live releases (reverted ones are not counted; yanked ones are).
    pub releases: i64,
    /// The version of the most recently published live release.
    pub latest: Option<String>,
    pub last_published: Option<Timestamp>,
    pub downloads_30d: i64,
}

/// A release in the "recently published" list.
#[derive(Debug, Clone, Serialize)]
pub struct RecentRelease {
    pub ecosystem: String,
    pub package: String,
    pub version: String,
    pub published_at: Timestamp,
    pub yanked: bool,
    pub retired: bool,
}

#[derive(FromRow)]
struct CustomerRow {
    id: i64,
    seller_id: i64,
    slug: String,
    name: String,
    seat_cap: Option<i64>,
    plan: Option<String>,
    status: Option<String>,
    seats_used: i64,
    live: i64,
    last_download: Option<i64>,
}

#[derive(FromRow)]
struct PackageRow {
    id: i64,
    ecosystem: String,
    name: String,
    releases: i64,
    latest: Option<String>,
    last_published: Option<i64>,
}

#[derive(FromRow)]
struct RecentRow {
    ecosystem: String,
    package: String,
    version: String,
    published_at: i64,
    yanked: i64,
    retired: i64,
}

/// `1` when the org (`alias.id`) has an entitlement live at `$param`, else `0`.
fn live_entitlement(alias: &str, param: &str) -> String {
    format!(
        "CAST(CASE WHEN EXISTS (SELECT 1 FROM entitlements e WHERE e.org_id = {alias}.id
           AND e.starts_at <= {param} AND (e.ends_at IS NULL OR e.ends_at > {param}))
         THEN 1 ELSE 0 END AS BIGINT)"
    )
}

/// Active seats of the org `alias.id`.
fn active_seats(alias: &str) -> String {
    format!(
        "CAST((SELECT COUNT(*) FROM seats s WHERE s.org_id = {alias}.id AND s.active = 1) AS BIGINT)"
    )
}

impl Views {
    /// The seller's dashboard figures at `now` (two queries: orgs and seats, then revenue).
    pub async fn seller_figures(&self, seller: SellerId, now: Timestamp) -> Result<SellerFigures> {
        let (active_orgs, paid_seats, used_seats, unlimited_orgs): (i64, i64, i64, i64) =
            sqlx::query_as(&format!(
                "SELECT CAST(COALESCE(SUM(o.live), 0) AS BIGINT),
                        CAST(COALESCE(SUM(o.seat_cap), 0) AS BIGINT),
                        CAST(COALESCE(SUM(o.seats), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN o.live = 1 AND o.seat_cap IS NULL
                                          THEN 1 ELSE 0 END), 0) AS BIGINT)
                 FROM (SELECT org.seat_cap, {live} AS live, {seats} AS seats
                       FROM orgs org WHERE org.seller_id = $1) o",
                live = live_entitlement("org", "$2"),
                seats = active_seats("org"),
            ))
            .bind(seller.0)
            .bind(now.0)
            .fetch_one(&self.0.pool)
            .await?;
        let sums: Vec<(String, Option<String>, i64)> = sqlx::query_as(&format!(
            "SELECT currency, price_interval, CAST(SUM(unit_amount * quantity) AS BIGINT)
             FROM subscriptions
             WHERE seller_id = $1 AND status IN {PAYING_STATUSES}
               AND unit_amount IS NOT NULL AND currency IS NOT NULL
             GROUP BY currency, price_interval"
        ))
        .bind(seller.0)
        .fetch_all(&self.0.pool)
        .await?;
        Ok(SellerFigures {
            active_orgs,
            paid_seats,
            used_seats,
            unlimited_orgs,
            mrr: monthly(sums),
        })
    }

    /// Downloads of the seller's packages per UTC day, for the `days` days ending with the day
    /// of `now`, oldest first: exactly `days` entries (`YYYY-MM-DD`, count), days without
    /// downloads included as 0. With `org`, only that org's downloads.
    pub async fn downloads_per_day(
        &self,
        seller: SellerId,
        org: Option<OrgId>,
        days: u32,
        now: Timestamp,
    ) -> Result<Vec<(String, i64)>> {
        if days == 0 {
            return Ok(Vec::new());
        }
        let today = now.0.div_euclid(DAY_MS);
        let first = today - i64::from(days) + 1;
        let org_clause = if org.is_some() {
            " AND org_id = $4"
        } else {
            ""
        };
        // From the per-day rollup (kept by a trigger on download_events): at most
        // days × orgs × releases rows, however many events there are.
        let sql = format!(
            "SELECT day, CAST(SUM(downloads) AS BIGINT) FROM download_days
             WHERE seller_id = $1 AND day >= $2 AND day <= $3{org_clause}
             GROUP BY day"
        );
        let mut query = sqlx::query_as::<_, (i64, i64)>(&sql)
            .bind(seller.0)
            .bind(first)
            .bind(today);
        if let Some(org) = org {
            query = query.bind(org.0);
        }
        let counts: HashMap<i64, i64> = query.fetch_all(&self.0.pool).await?.into_iter().collect();
        Ok((first..=today)
            .map(|day| {
                (
                    Timestamp(day * DAY_MS).date(),
                    counts.get(&day).copied().unwrap_or(0),
                )
            })
            .collect())
    }

    /// The seller's orgs with their plan, seats, state and recent downloads, ordered by slug.
    /// Two queries for any number of orgs: the orgs with their per-org figures, then the last
    /// 30 days' downloads grouped by org and release.
    pub async fn customers(&self, seller: SellerId, now: Timestamp) -> Result<Vec<Customer>> {
        let rows: Vec<CustomerRow> = sqlx::query_as(&format!(
            "SELECT o.id, o.seller_id, o.slug, o.name, o.seat_cap,
                    (SELECT pl.slug FROM subscriptions s JOIN plans pl ON pl.id = s.plan_id
                     WHERE s.org_id = o.id ORDER BY s.id DESC LIMIT 1) AS plan,
                    (SELECT s.status FROM subscriptions s
                     WHERE s.org_id = o.id ORDER BY s.id DESC LIMIT 1) AS status,
                    {seats} AS seats_used,
                    {live} AS live,
                    (SELECT MAX(d.at) FROM download_events d WHERE d.org_id = o.id) AS last_download
             FROM orgs o WHERE o.seller_id = $1 ORDER BY o.slug",
            seats = active_seats("o"),
            live = live_entitlement("o", "$2"),
        ))
        .bind(seller.0)
        .bind(now.0)
        .fetch_all(&self.0.pool)
        .await?;
        let (first, today) = recent_days(now);
        let recent: Vec<(i64, String, String, i64)> = sqlx::query_as(
            // Grouped first, named after: the join touches one row per (org, release).
            "SELECT x.org_id, p.name, r.version, x.downloads FROM (
               SELECT org_id, release_id, CAST(SUM(downloads) AS BIGINT) AS downloads
               FROM download_days
               WHERE seller_id = $1 AND org_id <> 0 AND day >= $2 AND day <= $3
               GROUP BY org_id, release_id) x
             JOIN releases r ON r.id = x.release_id
             JOIN packages p ON p.id = r.package_id",
        )
        .bind(seller.0)
        .bind(first)
        .bind(today)
        .fetch_all(&self.0.pool)
        .await?;
        let mut usage: HashMap<i64, (Vec<String>, i64)> = HashMap::new();
        for (org, package, version, count) in recent {
            let entry = usage.entry(org).or_default();
            entry.0.push(format!("{package}@{version}"));
            entry.1 += count;
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let (mut versions_in_use, downloads_30d) = usage.remove(&r.id).unwrap_or_default();
                versions_in_use.sort();
                versions_in_use.dedup();
                Customer {
                    org: Org {
                        id: OrgId(r.id),
                        seller_id: SellerId(r.seller_id),
                        slug: r.slug,
                        name: r.name,
                    },
                    plan: r.plan,
                    status: r.status,
                    seats_used: r.seats_used,
                    seats_paid: r.seat_cap,
                    live: r.live != 0,
                    versions_in_use,
                    last_download: r.last_download.map(Timestamp),
                    downloads_30d,
                }
            })
            .collect())
    }

    /// The seller's packages with their live releases and last 30 days' downloads, ordered by
    /// ecosystem and name (two queries).
    pub async fn package_summaries(
        &self,
        seller: SellerId,
        now: Timestamp,
    ) -> Result<Vec<PackageSummary>> {
        let rows: Vec<PackageRow> = sqlx::query_as(
            "SELECT p.id, p.ecosystem, p.name,
                    CAST((SELECT COUNT(*) FROM releases r
                          WHERE r.package_id = p.id AND r.reverted_at IS NULL) AS BIGINT) AS releases,
                    (SELECT r.version FROM releases r WHERE r.package_id = p.id AND r.reverted_at IS NULL
                     ORDER BY r.published_at DESC, r.id DESC LIMIT 1) AS latest,
                    (SELECT MAX(r.published_at) FROM releases r
                     WHERE r.package_id = p.id AND r.reverted_at IS NULL) AS last_published
             FROM packages p WHERE p.seller_id = $1 ORDER BY p.ecosystem, p.name",
        )
        .bind(seller.0)
        .fetch_all(&self.0.pool)
        .await?;
        let (first, today) = recent_days(now);
        let downloads: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
            "SELECT r.package_id, CAST(SUM(x.downloads) AS BIGINT) FROM (
               SELECT release_id, SUM(downloads) AS downloads FROM download_days
               WHERE seller_id = $1 AND day >= $2 AND day <= $3
               GROUP BY release_id) x
             JOIN releases r ON r.id = x.release_id
             GROUP BY r.package_id",
        )
        .bind(seller.0)
        .bind(first)
        .bind(today)
        .fetch_all(&self.0.pool)
        .await?
        .into_iter()
        .collect();
        Ok(rows
            .into_iter()
            .map(|r| PackageSummary {
                downloads_30d: downloads.get(&r.id).copied().unwrap_or(0),
                id: PackageId(r.id),
                ecosystem: r.ecosystem,
                name: r.name,
                releases: r.releases,
                latest: r.latest,
                last_published: r.last_published.map(Timestamp),
            })
            .collect())
    }

    /// The seller's `limit` most recently published live (not reverted) releases, newest first.
    pub async fn recent_releases(
        &self,
        seller: SellerId,
        limit: i64,
    ) -> Result<Vec<RecentRelease>> {
        let rows: Vec<RecentRow> = sqlx::query_as(
            "SELECT p.ecosystem, p.name AS package, r.version, r.published_at, r.yanked,
                    CAST(CASE WHEN r.retired IS NULL THEN 0 ELSE 1 END AS BIGINT) AS retired
             FROM releases r JOIN packages p ON p.id = r.package_id
             WHERE p.seller_id = $1 AND r.reverted_at IS NULL
             ORDER BY r.published_at DESC, r.id DESC LIMIT $2",
        )
        .bind(seller.0)
        .bind(limit.max(0))
        .fetch_all(&self.0.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RecentRelease {
                ecosystem: r.ecosystem,
                package: r.package,
                version: r.version,
                published_at: Timestamp(r.published_at),
                yanked: r.yanked != 0,
                retired: r.retired != 0,
            })
            .collect())
    }

    /// The org's active seats.
    pub async fn org_seats_used(&self, org: OrgId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM seats WHERE org_id = $1 AND active = 1",
        )
        .bind(org.0)
        .fetch_one(&self.0.pool)
        .await?)
    }

    /// The seller of a package (live updates: whose dashboard a publish concerns).
    pub async fn package_seller(&self, package: PackageId) -> Result<Option<SellerId>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT seller_id FROM packages WHERE id = $1")
            .bind(package.0)
            .fetch_optional(&self.0.pool)
            .await?;
        Ok(id.map(SellerId))
    }

    /// The seller of an org (live updates: whose dashboard a seat or grant change concerns).
    pub async fn org_seller(&self, org: OrgId) -> Result<Option<SellerId>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT seller_id FROM orgs WHERE id = $1")
            .bind(org.0)
            .fetch_optional(&self.0.pool)
            .await?;
        Ok(id.map(SellerId))
    }

    /// The newest download event's id (0 when there is none): where live updates start.
    pub async fn download_watermark(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM download_events")
                .fetch_one(&self.0.pool)
                .await?,
        )
    }

    /// The distinct (seller, org) pairs of the download events after id `after` (live updates:
    /// whose pages to refresh), sorted.
    pub async fn download_activity_since(
        &self,
        after: i64,
    ) -> Result<Vec<(SellerId, Option<OrgId>)>> {
        let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
            "SELECT DISTINCT seller_id, org_id FROM download_events
             WHERE id > $1 AND seller_id IS NOT NULL",
        )
        .bind(after)
        .fetch_all(&self.0.pool)
        .await?;
        let mut pairs: Vec<_> = rows
            .into_iter()
            .map(|(seller, org)| (SellerId(seller), org.map(OrgId)))
            .collect();
        // In Rust: the databases put NULL at opposite ends.
        pairs.sort();
        Ok(pairs)
    }
}

/// Per-currency sums per billing interval → minor units per month, sorted by currency. Each
/// currency's total is taken in twelfths of a month-amount and divided (rounding half up) once,
/// so that many small yearly prices do not each lose a fraction. Unknown intervals are skipped.
fn monthly(sums: Vec<(String, Option<String>, i64)>) -> Vec<(String, i64)> {
    let mut twelfths: BTreeMap<String, i128> = BTreeMap::new();
    for (currency, interval, sum) in sums {
        let per_year = match interval.as_deref() {
            Some("month") => 12,
            Some("year") => 1,
            Some("week") => 52,
            Some("day") => 365,
            _ => continue,
        };
        *twelfths.entry(currency).or_default() += i128::from(sum) * per_year;
    }
    twelfths
        .into_iter()
        .map(|(currency, t)| {
            let month = (t + 6).div_euclid(12);
            (currency, i64::try_from(month).unwrap_or(i64::MAX))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_brought_to_a_month() {
        let sums = vec![
            ("usd".to_owned(), Some("month".to_owned()), 1000),
            ("usd".to_owned(), Some("year".to_owned()), 12_000),
            ("eur".to_owned(), Some("week".to_owned()), 300),
            ("eur".to_owned(), Some("day".to_owned()), 12),
            ("eur".to_owned(), Some("fortnight".to_owned()), 999),
            ("gbp".to_owned(), None, 5),
        ];
        // eur: 300 × 52 / 12 = 1300, 12 × 365 / 12 = 365.
        assert_eq!(
            monthly(sums),
            vec![("eur".to_owned(), 1665), ("usd".to_owned(), 2000)]
        );
        // 1000 a year is 83.33… a month.
        assert_eq!(
            monthly(vec![("usd".into(), Some("year".into()), 1000)]),
            vec![("usd".to_owned(), 83)]
        );
    }
}

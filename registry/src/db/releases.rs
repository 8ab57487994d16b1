//! Packages, releases, dist-tags and download events.

use sqlx::FromRow;

use super::accounts::ensure_package;
use super::pool::{Db, log_change};
use crate::change::Change;
use crate::domain::{
    DownloadEvent, Ecosystem, Grant, NewRelease, PackageRef, PackageState, Release, Retirement,
};
use crate::ids::{OrgId, PackageId, ReleaseId, SeatId, SellerId, TokenId};
use crate::time::Timestamp;
use crate::{Error, Result};

#[derive(FromRow)]
struct ReleaseRow {
    id: i64,
    version: String,
    blob_sha256: String,
    size: i64,
    published_at: i64,
    yanked: i64,
    retired: Option<String>,
}

impl From<ReleaseRow> for Release {
    fn from(r: ReleaseRow) -> Self {
        Release {
            // Written only by `set_retired` from a `Retirement`; unreadable text means none.
            retired: r.retired.and_then(|t| serde_json::from_str(&t).ok()),
            id: ReleaseId(r.id),
            version: r.version,
            blob_sha256: r.blob_sha256,
            size: r.size,
            published_at: Timestamp(r.published_at),
            yanked: r.yanked != 0,
        }
    }
}

const RELEASE_COLUMNS: &str = "id, version, blob_sha256, size, published_at, yanked, retired";

#[derive(FromRow)]
struct GrantRow {
    product: String,
    org: String,
    starts_at: i64,
    ends_at: Option<i64>,
    rule: String,
    warning: Option<String>,
}

#[derive(FromRow)]
struct DownloadRow {
    release_id: i64,
    package: String,
    version: String,
    org_id: Option<i64>,
    seat_id: Option<i64>,
    token_id: String,
    at: i64,
    client_ip: Option<String>,
}

impl Db {
    pub async fn package_state(
        &self,
        seller: SellerId,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Option<PackageState>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, created_at FROM packages WHERE seller_id = $1 AND ecosystem = $2 AND name = $3",
        )
        .bind(seller.0)
        .bind(ecosystem.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, created_at)) = row else {
            return Ok(None);
        };
        let releases: Vec<ReleaseRow> = sqlx::query_as(&format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE package_id = $1 AND reverted_at IS NULL ORDER BY published_at, id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let dist_tags: Vec<(String, String)> =
            sqlx::query_as("SELECT tag, version FROM dist_tags WHERE package_id = $1 ORDER BY tag")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(PackageState {
            id: PackageId(id),
            seller_id: seller,
            ecosystem,
            name: name.to_owned(),
            created_at: Timestamp(created_at),
            releases: releases.into_iter().map(Into::into).collect(),
            dist_tags,
        }))
    }

    pub async fn grants_for(&self, org: OrgId, package: PackageId) -> Result<Vec<Grant>> {
        let rows: Vec<GrantRow> = sqlx::query_as(
            "SELECT p.name AS product, o.name AS org, e.starts_at, e.ends_at, e.rule, e.warning
             FROM entitlements e
             JOIN products p ON p.id = e.product_id
             JOIN orgs o ON o.id = e.org_id
             JOIN product_packages pp ON pp.product_id = e.product_id
             WHERE e.org_id = $1 AND pp.package_id = $2",
        )
        .bind(org.0)
        .bind(package.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Grant {
                    product: r.product,
                    org: r.org,
                    starts_at: Timestamp(r.starts_at),
                    ends_at: r.ends_at.map(Timestamp),
                    rule: r.rule.parse().map_err(Error::Invalid)?,
                    warning: r.warning,
                })
            })
            .collect()
    }

    pub async fn publish_release(&self, release: &NewRelease, at: Timestamp) -> Result<Release> {
        self.publish_release_replacing(release, at, None).await
    }

    /// Publishes `release`; with `replace_since`, a release of the same version published at or
    /// after that instant is reverted in the same transaction (Hex's `replace=true`). An older
    /// one stays, and the insert is refused as a duplicate.
    pub async fn publish_release_replacing(
        &self,
        release: &NewRelease,
        at: Timestamp,
        replace_since: Option<Timestamp>,
    ) -> Result<Release> {
        let metadata =
            serde_json::to_string(&release.metadata).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.write().await?;
        let package = PackageRef {
            ecosystem: release.ecosystem,
            name: release.package.clone(),
        };
        let package_id = ensure_package(&mut tx, release.seller_id, &package, at.0).await?;
        if let Some(since) = replace_since {
            mark_reverted(&mut tx, package_id, &release.version, since, at).await?;
        }
        let row: ReleaseRow = sqlx::query_as(&format!(
            "INSERT INTO releases (package_id, version, blob_sha256, size, metadata, published_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {RELEASE_COLUMNS}"
        ))
        .bind(package_id)
        .bind(&release.version)
        .bind(&release.blob_sha256)
        .bind(release.size)
        .bind(metadata)
        .bind(at.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            Error::from_db(e, || {
                format!(
                    "cannot publish over previously published version {}",
                    release.version
                )
            })
        })?;
        for (tag, version) in &release.dist_tags {
            upsert_tag(&mut tx, package_id, tag, version).await?;
        }
        log_change(
            &mut tx,
            self.backend,
            Change::Package(PackageId(package_id)),
        )
        .await?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The ecosystem metadata of every release of `package` (what listings are rendered from).
    pub async fn release_metadata(
        &self,
        package: PackageId,
    ) -> Result<Vec<(ReleaseId, serde_json::Value)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, metadata FROM releases WHERE package_id = $1 AND reverted_at IS NULL ORDER BY id")
                .bind(package.0)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(id, text)| {
                let value = serde_json::from_str(&text)
                    .map_err(|e| Error::Invalid(format!("stored metadata of release {id}: {e}")))?;
                Ok((ReleaseId(id), value))
            })
            .collect()
    }

    /// Every blob some release points at (for `tollgate gc`).
    pub async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT DISTINCT blob_sha256 FROM releases")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Marks a release yanked (or not); `Error::NotFound` if the version does not exist.
    /// The bytes stay: existing lockfiles keep building.
    pub async fn set_yanked(&self, package: PackageId, version: &str, yanked: bool) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE releases SET yanked = $1
             WHERE package_id = $2 AND version = $3 AND reverted_at IS NULL",
        )
        .bind(i64::from(yanked))
        .bind(package.0)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(Error::NotFound(format!("version {version}")));
        }
        log_change(&mut tx, self.backend, Change::Package(package)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reverts a release published at or after `since`: it disappears from every listing and
    /// its version may be published again. `NotFound` if there is no such live release,
    /// `Conflict` if it is older than `since`.
    pub async fn revert_release(
        &self,
        package: PackageId,
        version: &str,
        since: Timestamp,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        if mark_reverted(&mut tx, package.0, version, since, at).await? == 0 {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM releases WHERE package_id = $1 AND version = $2 AND reverted_at IS NULL",
            )
            .bind(package.0)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match exists {
                Some(_) => Error::Conflict(format!(
                    "version {version} was published too long ago to be reverted; retire it instead"
                )),
                None => Error::NotFound(format!("version {version}")),
            });
        }
        sqlx::query("DELETE FROM dist_tags WHERE package_id = $1 AND version = $2")
            .bind(package.0)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        log_change(&mut tx, self.backend, Change::Package(package)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Retires a release (or, with `None`, un-retires it). `NotFound` if it does not exist.
    pub async fn set_retired(
        &self,
        package: PackageId,
        version: &str,
        retirement: Option<&Retirement>,
    ) -> Result<()> {
        let text = retirement
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE releases SET retired = $1
             WHERE package_id = $2 AND version = $3 AND reverted_at IS NULL",
        )
        .bind(text)
        .bind(package.0)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(Error::NotFound(format!("version {version}")));
        }
        log_change(&mut tx, self.backend, Change::Package(package)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The names of a seller's packages in one ecosystem (search, name-collision checks).
    pub async fn package_names(
        &self,
        seller: SellerId,
        ecosystem: Ecosystem,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM packages WHERE seller_id = $1 AND ecosystem = $2 ORDER BY name",
        )
        .bind(seller.0)
        .bind(ecosystem.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn set_dist_tag(&self, package: PackageId, tag: &str, version: &str) -> Result<()> {
        let mut tx = self.write().await?;
        upsert_tag(&mut tx, package.0, tag, version).await?;
        log_change(&mut tx, self.backend, Change::Package(package)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_dist_tag(&self, package: PackageId, tag: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let removed = sqlx::query("DELETE FROM dist_tags WHERE package_id = $1 AND tag = $2")
            .bind(package.0)
            .bind(tag)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        log_change(&mut tx, self.backend, Change::Package(package)).await?;
        tx.commit().await?;
        Ok(removed)
    }

    pub async fn record_download(&self, event: &DownloadEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO download_events (release_id, org_id, seat_id, token_id, at, client_ip, seller_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event.release_id.0)
        .bind(event.org_id.map(|o| o.0))
        .bind(event.seat_id.map(|s| s.0))
        .bind(&event.token_id.0)
        .bind(event.at.0)
        .bind(&event.client_ip)
        .bind(event.seller_id.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn downloads(&self, seller: SellerId, limit: i64) -> Result<Vec<DownloadEvent>> {
        let rows: Vec<DownloadRow> = sqlx::query_as(
            "SELECT d.release_id, p.name AS package, r.version, d.org_id, d.seat_id, d.token_id, d.at, d.client_ip
             FROM download_events d
             JOIN releases r ON r.id = d.release_id
             JOIN packages p ON p.id = r.package_id
             WHERE p.seller_id = $1
             ORDER BY d.at DESC, d.id DESC LIMIT $2",
        )
        .bind(seller.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DownloadEvent {
                seller_id: seller,
                release_id: ReleaseId(r.release_id),
                package: r.package,
                version: r.version,
                org_id: r.org_id.map(OrgId),
                seat_id: r.seat_id.map(SeatId),
                token_id: TokenId(r.token_id),
                at: Timestamp(r.at),
                client_ip: r.client_ip,
            })
            .collect())
    }
}

async fn upsert_tag(
    tx: &mut super::pool::Tx,
    package: i64,
    tag: &str,
    version: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dist_tags (package_id, tag, version) VALUES ($1, $2, $3)
         ON CONFLICT (package_id, tag) DO UPDATE SET version = excluded.version",
    )
    .bind(package)
    .bind(tag)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Moves a live release published at or after `since` out of the way: its version becomes a
/// string no client can request (it has a space) and `reverted_at` is set. Returns the rows moved.
async fn mark_reverted(
    tx: &mut super::pool::Tx,
    package_id: i64,
    version: &str,
    since: Timestamp,
    at: Timestamp,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE releases SET version = version || ' (reverted ' || id || ')', reverted_at = $1
         WHERE package_id = $2 AND version = $3 AND reverted_at IS NULL AND published_at >= $4",
    )
    .bind(at.0)
    .bind(package_id)
    .bind(version)
    .bind(since.0)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

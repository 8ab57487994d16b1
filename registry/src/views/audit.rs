//! The download audit: a seller's download events, filtered (org, package, version, time) and
//! paged by id, for the audit pages and their CSV export. One query, built from the filter.

use serde::Serialize;
use sqlx::FromRow;

use super::handle::Views;
use crate::Result;
use crate::ids::{OrgId, SellerId};
use crate::time::Timestamp;

/// The audit page size when the filter asks for none, and the most one page may hold.
const AUDIT_DEFAULT_LIMIT: i64 = 100;
const AUDIT_MAX_LIMIT: i64 = 1000;

/// Which download events the audit shows; every field narrows, `limit` bounds the page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditFilter {
    pub org: Option<OrgId>,
    /// Exact (stored, normalised) package name, in any ecosystem.
    pub package: Option<String>,
    pub version: Option<String>,
    /// Inclusive.
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub to: Option<Timestamp>,
    /// Paging: only events with an id below this one (the last id of the previous page).
    pub before: Option<i64>,
    /// Page size; 0 or less means 100, and at most 1000 are returned.
    pub limit: i64,
}

/// One download event in the audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// The event id (pass the last one as [`AuditFilter::before`] for the next page).
    pub id: i64,
    pub at: Timestamp,
    pub ecosystem: String,
    pub package: String,
    pub version: String,
    /// The org's slug (`None`: a seller's own token).
    pub org: Option<String>,
    /// The seat's email, for seat tokens.
    pub seat: Option<String>,
    pub token_id: String,
    pub client_ip: Option<String>,
}

#[derive(FromRow)]
struct AuditDbRow {
    id: i64,
    at: i64,
    ecosystem: String,
    package: String,
    version: String,
    org: Option<String>,
    seat: Option<String>,
    token_id: String,
    client_ip: Option<String>,
}

/// A value bound to a query built from optional filters.
enum Bind {
    Int(i64),
    Text(String),
}

impl Views {
    /// The seller's download events matching `filter`, newest first (one query). Only the
    /// seller's own events, whatever the filter says.
    pub async fn download_audit(
        &self,
        seller: SellerId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRow>> {
        let mut sql = String::from(
            "SELECT d.id, d.at, p.ecosystem, p.name AS package, r.version,
                    o.slug AS org, s.email AS seat, d.token_id, d.client_ip
             FROM download_events d
             JOIN releases r ON r.id = d.release_id
             JOIN packages p ON p.id = r.package_id
             LEFT JOIN orgs o ON o.id = d.org_id
             LEFT JOIN seats s ON s.id = d.seat_id
             WHERE d.seller_id = $1 AND p.seller_id = $1",
        );
        let mut binds = Vec::new();
        let mut narrow = |column: &str, op: &str, value: Bind| {
            binds.push(value);
            sql.push_str(&format!(" AND {column} {op} ${}", binds.len() + 1));
        };
        if let Some(org) = filter.org {
            narrow("d.org_id", "=", Bind::Int(org.0));
        }
        if let Some(package) = &filter.package {
            narrow("p.name", "=", Bind::Text(package.clone()));
        }
        if let Some(version) = &filter.version {
            narrow("r.version", "=", Bind::Text(version.clone()));
        }
        if let Some(from) = filter.from {
            narrow("d.at", ">=", Bind::Int(from.0));
        }
        if let Some(to) = filter.to {
            narrow("d.at", "<", Bind::Int(to.0));
        }
        if let Some(before) = filter.before {
            narrow("d.id", "<", Bind::Int(before));
        }
        let limit = if filter.limit <= 0 {
            AUDIT_DEFAULT_LIMIT
        } else {
            filter.limit.min(AUDIT_MAX_LIMIT)
        };
        binds.push(Bind::Int(limit));
        sql.push_str(&format!(" ORDER BY d.id DESC LIMIT ${}", binds.len() + 1));
        let mut query = sqlx::query_as::<_, AuditDbRow>(&sql).bind(seller.0);
        for value in binds {
            query = match value {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(&self.0.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditRow {
                id: r.id,
                at: Timestamp(r.at),
                ecosystem: r.ecosystem,
                package: r.package,
                version: r.version,
                org: r.org,
                seat: r.seat,
                token_id: r.token_id,
                client_ip: r.client_ip,
            })
            .collect())
    }
}

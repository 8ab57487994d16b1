//! What a request may have changed, read straight from the test app's SQLite file: every table
//! as rows of text (`column=value, …`), plus the mail sink and the requests the fake Stripe got.
//! Two snapshots differ exactly when something was written, mailed or asked of Stripe, so "a
//! refused form changed nothing" is one comparison that no new table or form escapes.

use std::collections::BTreeMap;
use std::path::Path;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

use crate::app::TestApp;

/// Tables a refused request may write: its own session's row (tower-sessions saves the
/// session it loaded; a revoked seat's session is deleted).
const MAY_CHANGE_ON_REFUSAL: &[&str] = &["web_sessions"];

/// Every row of every table (but [`MAY_CHANGE_ON_REFUSAL`] and sqlx's own), with the count of
/// identical rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    tables: BTreeMap<String, BTreeMap<String, usize>>,
}

/// A connection of its own to the app's database file.
pub async fn connect(path: &Path, read_only: bool) -> SqliteConnection {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqliteConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

impl TestApp {
    /// The database file of the app.
    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("tollgate.db")
    }

    /// Reads everything a request could change (see the module's doc).
    pub async fn snapshot(&self) -> Snapshot {
        let mut conn = connect(&self.db_path(), true).await;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
        )
        .fetch_all(&mut conn)
        .await
        .expect("list the tables");
        assert!(
            names.iter().any(|n| n == "seats") && names.iter().any(|n| n == "tokens"),
            "the snapshot found no seats or tokens table in {names:?}"
        );
        let mut tables = BTreeMap::new();
        for table in names {
            if MAY_CHANGE_ON_REFUSAL.contains(&table.as_str()) {
                continue;
            }
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                    .bind(&table)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("the columns of {table}: {e}"));
            let row = columns
                .iter()
                .map(|c| format!("'{c}=' || quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || ', ' || ");
            let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {row} FROM \"{table}\""))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("read {table}: {e}"));
            tables.insert(table, counted(rows));
        }
        conn.close().await.expect("close the snapshot's connection");
        let mail = self
            .mail()
            .iter()
            .map(|m| format!("to {:?}: {:?}", m.to(), m.subject()))
            .collect();
        tables.insert("(mail sink)".into(), counted(mail));
        if let Some(stripe) = &self.stripe {
            let calls = stripe
                .calls()
                .into_iter()
                .map(|c| format!("{} {} {}", c.method, c.path, c.body))
                .collect();
            tables.insert("(fake Stripe's requests)".into(), counted(calls));
        }
        Snapshot { tables }
    }
}

fn counted(rows: Vec<String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in rows {
        *counts.entry(r).or_default() += 1;
    }
    counts
}

impl Snapshot {
    /// What changed from `self` to `after`, table by table (`-` gone, `+` new); `None` if
    /// nothing did.
    pub fn changes(&self, after: &Snapshot) -> Option<String> {
        let empty = BTreeMap::new();
        let mut out = Vec::new();
        let names: std::collections::BTreeSet<&String> =
            self.tables.keys().chain(after.tables.keys()).collect();
        for name in names {
            let old = self.tables.get(name).unwrap_or(&empty);
            let new = after.tables.get(name).unwrap_or(&empty);
            let mut lines = Vec::new();
            for (row, n) in old {
                for _ in new.get(row).copied().unwrap_or(0)..*n {
                    lines.push(format!("  - {row}"));
                }
            }
            for (row, n) in new {
                for _ in old.get(row).copied().unwrap_or(0)..*n {
                    lines.push(format!("  + {row}"));
                }
            }
            if !lines.is_empty() {
                out.push(format!("{name}:\n{}", lines.join("\n")));
            }
        }
        (!out.is_empty()).then(|| out.join("\n"))
    }
}

impl TestApp {
    /// Makes `org` pay as Stripe customer `customer` (what a completed checkout records; no
    /// other way sets it on an existing org).
    pub async fn set_org_customer(&self, seller: &str, org: &str, customer: &str) {
        let org = self.org(seller, org).await;
        let mut conn = connect(&self.db_path(), false).await;
        let done = sqlx::query("UPDATE orgs SET stripe_customer = $1 WHERE id = $2")
            .bind(customer)
            .bind(org.id.0)
            .execute(&mut conn)
            .await
            .expect("set the org's Stripe customer");
        assert_eq!(done.rows_affected(), 1, "no org {} to update", org.slug);
        conn.close().await.expect("close");
        assert_eq!(
            self.db().org_customer(org.id).await.expect("read it back"),
            Some(customer.to_owned())
        );
    }
}

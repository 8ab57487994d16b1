//! Conformance suite for the database port ([`Db`](crate::db::Db)) and the pages' read models
//! ([`Views`](crate::views::Views)), inside the crate because the port is private to it: every test body
//! is written once, as an `async fn(&Db)`, and [`conformance!`] runs it on SQLite (a temporary
//! file, always) and on PostgreSQL (a fresh database per test, when `TOLLGATE_TEST_POSTGRES_URL`
//! is set; skipped with a printed note otherwise). A test `NAME` runs as `NAME::sqlite` and
//! `NAME::postgres`, so `cargo test -p tollgate-registry --lib conformance::` selects the suite
//! and `… postgres` one backend. (Modules
//! rather than `NAME_sqlite` names: gluing identifiers would need the `paste` crate for no other
//! gain.)
//!
//! The bodies live in topic modules (`accounts`, `releases`, `tokens`, `changes`,
//! `concurrency`); [`conformance!`] names each as `topic::NAME`, but the generated tests stay at
//! this module as `NAME::sqlite` and `NAME::postgres`. Fixtures are built through the port
//! itself with the small builders in `fixtures`, never SQL dumps.

mod accounts;
mod assertions;
mod billing;
mod changes;
mod concurrency;
mod dashboard;
mod fixtures;
mod last_use;
mod page_lists;
mod releases;
mod revisions;
mod tokens;

use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// Harness: one body, two backends.

/// Generates, for each test body `topic::NAME`, a module `NAME` with `sqlite` and `postgres`
/// tests that run `topic::NAME`.
macro_rules! conformance {
    ($($topic:ident :: $name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                crate::db::conformance::harness::on_sqlite(|db| async move { super::$topic::$name(&db).await })
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                crate::db::conformance::harness::on_postgres(|db| async move { super::$topic::$name(&db).await })
                    .await;
            }
        }
    )*};
}

conformance!(
    accounts::sellers_are_created_listed_and_unique,
    accounts::products_create_their_packages_once,
    accounts::orgs_are_per_seller,
    releases::publish_records_the_release,
    releases::publish_never_overwrites_a_version,
    releases::dist_tags_are_set_moved_and_removed,
    releases::releases_are_listed_in_publication_order,
    releases::release_metadata_is_returned_as_stored,
    releases::packages_are_separate_per_seller_and_ecosystem,
    accounts::grants_for_see_only_that_org_and_package,
    accounts::end_grants_ends_only_open_grants,
    tokens::revoking_a_seat_revokes_its_tokens,
    tokens::tokens_round_trip_and_filter_by_seller,
    tokens::bot_tokens_keep_their_label_and_scope,
    last_use::last_uses_are_written_in_batches_and_only_move_forward,
    changes::every_visible_write_logs_its_change,
    changes::changes_are_read_in_seq_order,
    changes::prune_changes_deletes_only_old_rows,
    changes::a_follower_sees_every_committed_change,
    releases::downloads_are_listed_newest_first_per_seller,
    concurrency::concurrent_publishes_of_distinct_versions_all_succeed,
    concurrency::concurrent_publishes_of_one_version_yield_one_winner,
    revisions::revert_frees_the_version_only_within_the_window,
    revisions::replace_swaps_a_recent_release_in_one_step,
    revisions::retirement_is_set_and_cleared,
    revisions::seller_keys_keep_the_first_one_stored,
    billing::plans_and_stripe_connections_round_trip,
    billing::connect_states_are_used_once,
    billing::a_subscription_drives_one_entitlement_and_the_seat_cap,
    billing::a_checkout_creates_the_org_admin_and_token_once,
    billing::concurrent_seat_claims_never_exceed_the_cap,
    dashboard::seller_figures_count_live_orgs_seats_and_mrr,
    dashboard::downloads_per_day_are_zero_filled_utc_days,
    dashboard::customers_show_plan_seats_state_and_recent_use,
    page_lists::download_audit_filters_pages_and_isolates_sellers,
    page_lists::package_summaries_count_live_releases_and_recent_downloads,
    page_lists::recent_releases_are_live_newest_first,
    page_lists::live_update_lookups_follow_sellers_and_new_downloads,
);

mod harness {
    use std::any::Any;
    use std::future::Future;
    use std::time::Duration;

    use crate::db::{Backend, Db};
    use sqlx::Connection;
    use sqlx::postgres::PgConnection;

    pub const POSTGRES_URL_VAR: &str = "TOLLGATE_TEST_POSTGRES_URL";

    /// A hung test (a lost lock, a pool that never frees) fails instead of hanging CI.
    const TEST_TIMEOUT: Duration = Duration::from_secs(120);

    type Outcome = Result<(), Box<dyn Any + Send>>;

    pub async fn on_sqlite<F, Fut>(body: F)
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let dir = tempfile::Builder::new()
            .prefix("tollgate-db-")
            .tempdir()
            .expect("create temp dir");
        let path = dir.path().join("tollgate.db");
        let db = Db::connect(path.to_str().expect("temp path is UTF-8"))
            .await
            .expect("open SQLite database");
        assert_eq!(db.backend(), Backend::Sqlite);
        let outcome = run(db, body).await;
        drop(dir);
        finish(outcome);
    }

    pub async fn on_postgres<F, Fut>(body: F)
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Some(admin_url) = tollgate_testkit::POSTGRES.url() else {
            return;
        };
        let name = format!("tg_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let outcome = match Db::connect(&with_database(&admin_url, &name)).await {
            Ok(db) => {
                assert_eq!(db.backend(), Backend::Postgres);
                run(db, body).await
            }
            Err(e) => Err(failure(format!("open PostgreSQL database {name}: {e}"))),
        };
        // Best effort: FORCE closes the pool's connections that are still shutting down.
        if let Err(e) = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
        {
            eprintln!("could not drop test database {name}: {e}");
        }
        let _ = admin.close().await;
        finish(outcome);
    }

    /// Runs the body on its own task, so that a failing assertion still lets the caller clean up.
    async fn run<F, Fut>(db: Db, body: F) -> Outcome
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut task = tokio::spawn(body(db));
        match tokio::time::timeout(TEST_TIMEOUT, &mut task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) if e.is_panic() => Err(e.into_panic()),
            Ok(Err(e)) => Err(failure(format!("test task failed: {e}"))),
            Err(_) => {
                task.abort();
                Err(failure(format!("test timed out after {TEST_TIMEOUT:?}")))
            }
        }
    }

    fn failure(message: String) -> Box<dyn Any + Send> {
        Box::new(message)
    }

    fn finish(outcome: Outcome) {
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    /// `url` naming database `name` instead of the one it names (query string kept).
    pub fn with_database(url: &str, name: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let (scheme, rest) = base
            .split_once("://")
            .unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} should be a postgres:// URL"));
        let authority = rest
            .split_once('/')
            .map_or(rest, |(authority, _)| authority);
        match query {
            Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
            None => format!("{scheme}://{authority}/{name}"),
        }
    }

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database("postgres://pg@127.0.0.1:5432/postgres", "tg_1"),
            "postgres://pg@127.0.0.1:5432/tg_1"
        );
        assert_eq!(
            with_database("postgresql://pg:pw@db/app?sslmode=disable", "tg_2"),
            "postgresql://pg:pw@db/tg_2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://pg@db", "tg_3"),
            "postgres://pg@db/tg_3"
        );
    }
}

/// The two migration folders must stay twins: same file names, so both databases go through the
/// same versions (STYLE.md: "Migrations … with identical names").
#[test]
fn migration_folders_have_the_same_file_names() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(backend))
            .unwrap_or_else(|e| panic!("read migrations/{backend}: {e}"))
            .map(|entry| {
                entry
                    .expect("read migrations entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8 migration name")
            })
            .collect()
    };
    let sqlite = names("sqlite");
    let postgres = names("postgres");
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres differ"
    );
}

//! Conformance suite for the database port ([`Db`]): every test body is written once, as an
//! `async fn(&Db)`, and [`conformance!`] runs it on SQLite (a temporary file, always) and on
//! PostgreSQL (a fresh database per test, when `TOLLGATE_TEST_POSTGRES_URL` is set; skipped with a
//! printed note otherwise). A test `NAME` runs as `NAME::sqlite` and `NAME::postgres`, so
//! `cargo test --test db_conformance postgres` selects one backend. (Modules rather than
//! `NAME_sqlite` names: gluing identifiers would need the `paste` crate for no other gain.)
//!
//! Fixtures are built through the port itself with the small builders below, never SQL dumps.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tollgate_registry::Error;
use tollgate_registry::change::Change;
use tollgate_registry::db::Db;
use tollgate_registry::domain::{
    DownloadEvent, Ecosystem, Entitlement, NewRelease, NewToken, Org, PackageRef, Product, Release,
    Seat, Seller, TokenKind, VersionRule,
};
use tollgate_registry::ids::{PackageId, ReleaseId, TokenId};
use tollgate_registry::time::Timestamp;

// ---------------------------------------------------------------------------------------------
// Harness: one body, two backends.

/// Generates, for each test body `NAME`, a module `NAME` with `sqlite` and `postgres` tests.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                crate::harness::on_sqlite(|db| async move { super::$name(&db).await }).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                crate::harness::on_postgres(|db| async move { super::$name(&db).await }).await;
            }
        }
    )*};
}

conformance!(
    sellers_are_created_listed_and_unique,
    products_create_their_packages_once,
    orgs_are_per_seller,
    publish_records_the_release,
    publish_never_overwrites_a_version,
    dist_tags_are_set_moved_and_removed,
    releases_are_listed_in_publication_order,
    release_metadata_is_returned_as_stored,
    packages_are_separate_per_seller_and_ecosystem,
    grants_for_see_only_that_org_and_package,
    end_grants_ends_only_open_grants,
    revoking_a_seat_revokes_its_tokens,
    tokens_round_trip_and_filter_by_seller,
    every_visible_write_logs_its_change,
    changes_are_read_in_seq_order,
    prune_changes_deletes_only_old_rows,
    a_follower_sees_every_committed_change,
    downloads_are_listed_newest_first_per_seller,
    concurrent_publishes_of_distinct_versions_all_succeed,
    concurrent_publishes_of_one_version_yield_one_winner,
);

mod harness {
    use std::any::Any;
    use std::future::Future;
    use std::time::Duration;

    use sqlx::Connection;
    use sqlx::postgres::PgConnection;
    use tollgate_registry::db::{Backend, Db};

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
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("skipped: {POSTGRES_URL_VAR} is not set");
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

// ---------------------------------------------------------------------------------------------
// Fixtures: builders over the port.

/// A fixed point in time (2026-09) plus `ms`, so tests choose the order of events.
fn at(ms: i64) -> Timestamp {
    Timestamp(1_790_000_000_000 + ms)
}

fn sha(seed: &str) -> String {
    hex::encode(Sha256::digest(seed.as_bytes()))
}

fn npm(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm,
        name: name.to_owned(),
    }
}

fn cargo(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Cargo,
        name: name.to_owned(),
    }
}

async fn seller(db: &Db, slug: &str) -> Seller {
    db.create_seller(
        slug,
        &format!("{slug} Ltd"),
        &format!("billing@{slug}.test"),
    )
    .await
    .expect("create seller")
}

async fn product(db: &Db, seller: &Seller, slug: &str, packages: &[PackageRef]) -> Product {
    db.create_product(seller.id, slug, &format!("{slug} plan"), packages)
        .await
        .expect("create product")
}

async fn org(db: &Db, seller: &Seller, slug: &str) -> Org {
    db.create_org(seller.id, slug, &format!("{slug} GmbH"))
        .await
        .expect("create org")
}

/// An open `while_active` entitlement from `at(0)`.
async fn grant(db: &Db, org: &Org, product: &Product) -> Entitlement {
    db.grant(
        org.id,
        product.id,
        at(0),
        None,
        VersionRule::WhileActive,
        "manual",
    )
    .await
    .expect("grant")
}

async fn seat(db: &Db, org: &Org, email: &str) -> Seat {
    db.add_seat(org.id, email, "member")
        .await
        .expect("add seat")
}

async fn package_id(db: &Db, seller: &Seller, package: &PackageRef) -> PackageId {
    db.package_state(seller.id, package.ecosystem, &package.name)
        .await
        .expect("package state")
        .unwrap_or_else(|| panic!("package {package} should exist"))
        .id
}

/// A release of an npm package with a blob digest derived from its name and version, small
/// metadata and no dist-tags unless asked.
struct ReleaseBuilder(NewRelease);

fn release(seller: &Seller, package: &str, version: &str) -> ReleaseBuilder {
    ReleaseBuilder(NewRelease {
        seller_id: seller.id,
        ecosystem: Ecosystem::Npm,
        package: package.to_owned(),
        version: version.to_owned(),
        blob_sha256: sha(&format!("{package}@{version}")),
        size: 1024 + version.len() as i64,
        metadata: serde_json::json!({ "name": package, "version": version }),
        dist_tags: Vec::new(),
    })
}

impl ReleaseBuilder {
    fn ecosystem(mut self, ecosystem: Ecosystem) -> Self {
        self.0.ecosystem = ecosystem;
        self
    }

    fn blob(mut self, seed: &str) -> Self {
        self.0.blob_sha256 = sha(seed);
        self
    }

    fn size(mut self, size: i64) -> Self {
        self.0.size = size;
        self
    }

    fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.0.metadata = metadata;
        self
    }

    fn tag(mut self, tag: &str) -> Self {
        let version = self.0.version.clone();
        self.0.dist_tags.push((tag.to_owned(), version));
        self
    }

    fn build(self) -> NewRelease {
        self.0
    }

    async fn try_publish(self, db: &Db, when: Timestamp) -> tollgate_registry::Result<Release> {
        db.publish_release(&self.0, when).await
    }

    async fn publish(self, db: &Db, when: Timestamp) -> Release {
        let what = format!("{}@{}", self.0.package, self.0.version);
        self.try_publish(db, when)
            .await
            .unwrap_or_else(|e| panic!("publish {what}: {e}"))
    }
}

/// A token row: a publish token of `seller` unless made an org or seat token.
struct TokenBuilder(NewToken);

fn token(id: &str, seller: &Seller) -> TokenBuilder {
    TokenBuilder(NewToken {
        id: TokenId(id.to_owned()),
        secret_hash: sha(&format!("secret of {id}")),
        kind: TokenKind::Publish,
        seller_id: seller.id,
        org_id: None,
        seat_id: None,
        packages: Vec::new(),
    })
}

impl TokenBuilder {
    fn org(mut self, org: &Org) -> Self {
        self.0.kind = TokenKind::Org;
        self.0.org_id = Some(org.id);
        self
    }

    fn seat(mut self, seat: &Seat) -> Self {
        self.0.kind = TokenKind::Seat;
        self.0.org_id = Some(seat.org_id);
        self.0.seat_id = Some(seat.id);
        self
    }

    fn packages(mut self, packages: &[PackageRef]) -> Self {
        self.0.packages = packages.to_vec();
        self
    }

    async fn create(self, db: &Db) -> TokenId {
        db.create_token(&self.0).await.expect("create token");
        self.0.id
    }
}

fn download(release: &Release, org: &Org, token: &str, when: Timestamp) -> DownloadEvent {
    DownloadEvent {
        release_id: release.id,
        package: String::new(),
        version: String::new(),
        org_id: Some(org.id),
        seat_id: None,
        token_id: TokenId(token.to_owned()),
        at: when,
        client_ip: Some("192.0.2.7".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Assertions.

#[track_caller]
fn assert_conflict<T: Debug>(result: tollgate_registry::Result<T>, expected: &str) {
    match result {
        Err(Error::Conflict(text)) => assert_eq!(text, expected),
        other => panic!("expected Conflict({expected:?}), got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found<T: Debug>(result: tollgate_registry::Result<T>, expected: &str) {
    match result {
        Err(e @ Error::NotFound(_)) => assert_eq!(e.to_string(), expected),
        other => panic!("expected NotFound ({expected:?}), got {other:?}"),
    }
}

/// Runs `write` and returns its output with the changes it appended to the change log.
async fn logged<T>(db: &Db, write: impl Future<Output = T>) -> (T, Vec<Change>) {
    let before = db.last_change().await.expect("last change");
    let output = write.await;
    let changes = db
        .changes_since(before, 100)
        .await
        .expect("changes since")
        .into_iter()
        .map(|(_, change)| change)
        .collect();
    (output, changes)
}

async fn all_seqs(db: &Db) -> Vec<i64> {
    db.changes_since(0, 10_000)
        .await
        .expect("changes since 0")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect()
}

fn versions(releases: &[Release]) -> Vec<&str> {
    releases.iter().map(|r| r.version.as_str()).collect()
}

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(tag, version)| ((*tag).to_owned(), (*version).to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sellers, products, orgs.

async fn sellers_are_created_listed_and_unique(db: &Db) {
    let zeta = seller(db, "zeta").await;
    let acme = db
        .create_seller("acme", "Acme Corp", "billing@acme.test")
        .await
        .expect("create acme");
    assert_eq!(
        (acme.slug.as_str(), acme.name.as_str(), acme.email.as_str()),
        ("acme", "Acme Corp", "billing@acme.test")
    );
    assert_ne!(acme.id, zeta.id);
    assert!(acme.created_at.0 > 0, "created_at is set");

    let found = db.seller("acme").await.expect("look up acme");
    assert_eq!(found.id, acme.id);
    assert_eq!(found.name, "Acme Corp");
    assert_eq!(found.email, "billing@acme.test");
    assert_eq!(found.created_at, acme.created_at);

    let listed: Vec<String> = db
        .sellers()
        .await
        .expect("list sellers")
        .into_iter()
        .map(|s| s.slug)
        .collect();
    assert_eq!(listed, ["acme", "zeta"], "sellers are listed by slug");

    assert_conflict(
        db.create_seller("acme", "Other", "x@other.test").await,
        "seller `acme` already exists",
    );
    assert_not_found(db.seller("nobody").await, "seller `nobody` not found");
    assert_eq!(db.sellers().await.expect("list sellers").len(), 2);
}

async fn products_create_their_packages_once(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let ui = npm("@acme/ui");

    assert!(
        db.package_state(acme.id, Ecosystem::Npm, "@acme/ui")
            .await
            .expect("package state")
            .is_none(),
        "no package before a product names it"
    );

    let pro = db
        .create_product(
            acme.id,
            "pro",
            "Acme Pro",
            &[ui.clone(), cargo("acme-core"), npm("@acme/icons")],
        )
        .await
        .expect("create pro");
    assert_eq!(pro.slug, "pro");
    assert_eq!(pro.name, "Acme Pro");
    assert_eq!(pro.seller_id, acme.id);
    assert_eq!(
        pro.packages,
        [cargo("acme-core"), npm("@acme/icons"), ui.clone()],
        "packages are listed by ecosystem, then name"
    );

    // A second product sharing `@acme/ui` reuses its package row.
    let ui_id = package_id(db, &acme, &ui).await;
    let team = product(db, &acme, "team", &[ui.clone(), npm("@acme/charts")]).await;
    assert_eq!(team.packages, [npm("@acme/charts"), ui.clone()]);
    assert_eq!(package_id(db, &acme, &ui).await, ui_id);

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("@acme/ui exists");
    assert_eq!(state.id, ui_id);
    assert_eq!(state.seller_id, acme.id);
    assert_eq!(state.ecosystem, Ecosystem::Npm);
    assert_eq!(state.name, "@acme/ui");
    assert!(state.releases.is_empty(), "no releases yet");
    assert!(state.dist_tags.is_empty(), "no tags yet");
    let core = db
        .package_state(acme.id, Ecosystem::Cargo, "acme-core")
        .await
        .expect("package state");
    assert!(core.is_some(), "cargo:acme-core was created");

    let found = db.product(acme.id, "pro").await.expect("look up pro");
    assert_eq!(found.id, pro.id);
    assert_eq!(found.packages, pro.packages);
    let listed: Vec<String> = db
        .products(acme.id)
        .await
        .expect("list products")
        .into_iter()
        .map(|p| p.slug)
        .collect();
    assert_eq!(listed, ["pro", "team"]);

    // A failed create leaves nothing behind, not even the packages it named.
    assert_conflict(
        db.create_product(acme.id, "pro", "Again", &[npm("@acme/ghost")])
            .await,
        "product `pro` already exists",
    );
    assert!(
        db.package_state(acme.id, Ecosystem::Npm, "@acme/ghost")
            .await
            .expect("package state")
            .is_none(),
        "a failed create_product must not create packages"
    );

    // Slugs are per seller.
    let theirs = product(db, &other, "pro", std::slice::from_ref(&ui)).await;
    assert_ne!(theirs.id, pro.id);
    assert_ne!(package_id(db, &other, &ui).await, ui_id);
    assert_eq!(db.products(other.id).await.expect("list").len(), 1);
    assert_not_found(
        db.product(acme.id, "gold").await,
        "product `gold` not found",
    );
}

async fn orgs_are_per_seller(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let initech = db
        .create_org(acme.id, "initech", "Initech")
        .await
        .expect("create org");
    assert_eq!(initech.seller_id, acme.id);
    assert_eq!(
        (initech.slug.as_str(), initech.name.as_str()),
        ("initech", "Initech")
    );
    org(db, &acme, "globex").await;

    let found = db.org(acme.id, "initech").await.expect("look up org");
    assert_eq!(found.id, initech.id);
    assert_eq!(found.name, "Initech");

    assert_conflict(
        db.create_org(acme.id, "initech", "Initech again").await,
        "org `initech` already exists",
    );
    let theirs = org(db, &other, "initech").await;
    assert_ne!(theirs.id, initech.id);

    let listed: Vec<String> = db
        .orgs(acme.id)
        .await
        .expect("list orgs")
        .into_iter()
        .map(|o| o.slug)
        .collect();
    assert_eq!(listed, ["globex", "initech"]);
    assert_eq!(db.orgs(other.id).await.expect("list orgs").len(), 1);
    assert_not_found(db.org(other.id, "globex").await, "org `globex` not found");
}

// ---------------------------------------------------------------------------------------------
// Releases and tags.

async fn publish_records_the_release(db: &Db) {
    let acme = seller(db, "acme").await;
    let new = release(&acme, "@acme/ui", "1.2.3")
        .blob("ui 1.2.3 tarball")
        .size(4096)
        .tag("latest")
        .build();
    let published = db.publish_release(&new, at(1_000)).await.expect("publish");
    assert_eq!(published.version, "1.2.3");
    assert_eq!(published.blob_sha256, sha("ui 1.2.3 tarball"));
    assert_eq!(published.size, 4096);
    assert_eq!(published.published_at, at(1_000));
    assert!(!published.yanked);

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("publishing creates the package");
    assert_eq!(state.releases.len(), 1);
    let stored = state.release("1.2.3").expect("release is listed");
    assert_eq!(stored.id, published.id);
    assert_eq!(stored.blob_sha256, published.blob_sha256);
    assert_eq!(stored.size, 4096);
    assert_eq!(stored.published_at, at(1_000));
    assert_eq!(state.dist_tags, tags(&[("latest", "1.2.3")]));
}

async fn publish_never_overwrites_a_version(db: &Db) {
    let acme = seller(db, "acme").await;
    let first = release(&acme, "@acme/ui", "1.0.0")
        .blob("first bytes")
        .tag("latest")
        .publish(db, at(0))
        .await;
    let (second, changes) = logged(
        db,
        release(&acme, "@acme/ui", "1.0.0")
            .blob("second bytes")
            .tag("beta")
            .try_publish(db, at(5_000)),
    )
    .await;
    assert_conflict(
        second,
        "cannot publish over previously published version 1.0.0",
    );
    assert_eq!(changes, [], "a refused publish logs no change");

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("package exists");
    assert_eq!(state.releases.len(), 1);
    let kept = state.release("1.0.0").expect("1.0.0 is listed");
    assert_eq!(kept.id, first.id);
    assert_eq!(
        kept.blob_sha256,
        sha("first bytes"),
        "the blob is unchanged"
    );
    assert_eq!(kept.published_at, at(0));
    assert_eq!(
        state.dist_tags,
        tags(&[("latest", "1.0.0")]),
        "the refused publish's tags are not applied"
    );
}

async fn dist_tags_are_set_moved_and_removed(db: &Db) {
    let acme = seller(db, "acme").await;
    release(&acme, "ui", "1.0.0")
        .tag("latest")
        .publish(db, at(0))
        .await;
    release(&acme, "ui", "2.0.0-rc.1")
        .tag("next")
        .tag("beta")
        .publish(db, at(1))
        .await;
    let id = package_id(db, &acme, &npm("ui")).await;
    let state = |db: &Db| {
        let db = db.clone();
        async move {
            db.package_state(acme.id, Ecosystem::Npm, "ui")
                .await
                .expect("package state")
                .expect("package exists")
                .dist_tags
        }
    };
    assert_eq!(
        state(db).await,
        tags(&[
            ("beta", "2.0.0-rc.1"),
            ("latest", "1.0.0"),
            ("next", "2.0.0-rc.1")
        ]),
        "tags are listed by name"
    );

    // Publishing with an existing tag moves it.
    release(&acme, "ui", "1.1.0")
        .tag("latest")
        .publish(db, at(2))
        .await;
    db.set_dist_tag(id, "stable", "1.0.0")
        .await
        .expect("set stable");
    db.set_dist_tag(id, "next", "1.1.0")
        .await
        .expect("move next");
    assert_eq!(
        state(db).await,
        tags(&[
            ("beta", "2.0.0-rc.1"),
            ("latest", "1.1.0"),
            ("next", "1.1.0"),
            ("stable", "1.0.0")
        ])
    );

    assert!(db.remove_dist_tag(id, "beta").await.expect("remove beta"));
    assert!(
        !db.remove_dist_tag(id, "beta").await.expect("remove again"),
        "removing a missing tag reports false"
    );
    assert_eq!(
        state(db).await,
        tags(&[("latest", "1.1.0"), ("next", "1.1.0"), ("stable", "1.0.0")])
    );
}

async fn releases_are_listed_in_publication_order(db: &Db) {
    let acme = seller(db, "acme").await;
    // Publication order, not version order; equal times keep the order of the writes.
    for (version, when) in [
        ("2.0.0", 100),
        ("1.0.1", 200),
        ("1.5.0", 300),
        ("0.9.0", 300),
        ("3.0.0-beta.1", 400),
    ] {
        release(&acme, "ui", version).publish(db, at(when)).await;
    }
    let state = db
        .package_state(acme.id, Ecosystem::Npm, "ui")
        .await
        .expect("package state")
        .expect("package exists");
    assert_eq!(
        versions(&state.releases),
        ["2.0.0", "1.0.1", "1.5.0", "0.9.0", "3.0.0-beta.1"]
    );
    let times: Vec<i64> = state.releases.iter().map(|r| r.published_at.0).collect();
    assert_eq!(times, [100, 200, 300, 300, 400].map(|ms| at(ms).0));
}

async fn release_metadata_is_returned_as_stored(db: &Db) {
    let acme = seller(db, "acme").await;
    let rich = serde_json::json!({
        "name": "@acme/ui",
        "version": "1.0.0",
        "description": "Grüße — 日本語 \"quoted\" \\ back\nslash",
        "dependencies": { "react": "^18.2.0", "left-pad": "1.3.0" },
        "bin": null,
        "files": ["dist/", "README.md"],
        "numbers": { "int": 42, "negative": -7, "big": 18_446_744_073_709_551_615u64, "float": 0.1 },
        "nested": { "a": { "b": { "c": [true, false, {}] } } },
    });
    let first = release(&acme, "@acme/ui", "1.0.0")
        .metadata(rich.clone())
        .publish(db, at(0))
        .await;
    let plain = serde_json::json!({ "name": "@acme/ui", "version": "1.1.0" });
    let second = release(&acme, "@acme/ui", "1.1.0")
        .metadata(plain.clone())
        .publish(db, at(1))
        .await;
    release(&acme, "@acme/other", "1.0.0")
        .publish(db, at(2))
        .await;

    let id = package_id(db, &acme, &npm("@acme/ui")).await;
    let mut stored: Vec<(ReleaseId, serde_json::Value)> =
        db.release_metadata(id).await.expect("release metadata");
    stored.sort_by_key(|(id, _)| *id);
    assert_eq!(stored, [(first.id, rich), (second.id, plain)]);
}

async fn packages_are_separate_per_seller_and_ecosystem(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let mine = release(&acme, "widget", "1.0.0")
        .blob("acme npm")
        .publish(db, at(0))
        .await;
    // Same name and version elsewhere: no conflict, separate packages.
    let theirs = release(&other, "widget", "1.0.0")
        .blob("other npm")
        .publish(db, at(1))
        .await;
    let crate_ = release(&acme, "widget", "1.0.0")
        .ecosystem(Ecosystem::Cargo)
        .blob("acme cargo")
        .publish(db, at(2))
        .await;
    assert_ne!(mine.id, theirs.id);
    assert_ne!(mine.id, crate_.id);

    let npm_acme = package_id(db, &acme, &npm("widget")).await;
    let npm_other = package_id(db, &other, &npm("widget")).await;
    let cargo_acme = package_id(db, &acme, &cargo("widget")).await;
    assert_eq!(
        [npm_acme, npm_other, cargo_acme]
            .into_iter()
            .collect::<BTreeSet<_>>()
            .len(),
        3,
        "three distinct packages"
    );
    for (owner, ecosystem, blob) in [
        (&acme, Ecosystem::Npm, "acme npm"),
        (&other, Ecosystem::Npm, "other npm"),
        (&acme, Ecosystem::Cargo, "acme cargo"),
    ] {
        let state = db
            .package_state(owner.id, ecosystem, "widget")
            .await
            .expect("package state")
            .expect("package exists");
        assert_eq!(state.releases.len(), 1, "{} {ecosystem}", owner.slug);
        assert_eq!(state.releases[0].blob_sha256, sha(blob));
    }
    assert!(
        db.package_state(other.id, Ecosystem::Cargo, "widget")
            .await
            .expect("package state")
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// Entitlements.

async fn grants_for_see_only_that_org_and_package(db: &Db) {
    let acme = seller(db, "acme").await;
    let pro = product(db, &acme, "pro", &[npm("ui"), npm("icons")]).await;
    let charts = product(db, &acme, "charts", &[npm("charts")]).await;
    let legacy = product(db, &acme, "legacy", &[npm("ui")]).await;
    let initech = org(db, &acme, "initech").await;
    let globex = org(db, &acme, "globex").await;

    let e = db
        .grant(
            initech.id,
            pro.id,
            at(10),
            Some(at(20)),
            VersionRule::PerpetualFallback,
            "stripe:sub_123",
        )
        .await
        .expect("grant");
    assert_eq!(e.org_id, initech.id);
    assert_eq!(e.product_id, pro.id);
    assert_eq!(e.starts_at, at(10));
    assert_eq!(e.ends_at, Some(at(20)));
    assert_eq!(e.rule, VersionRule::PerpetualFallback);
    assert_eq!(e.source, "stripe:sub_123");
    grant(db, &initech, &legacy).await;
    grant(db, &initech, &charts).await;
    grant(db, &globex, &charts).await;

    let ui = package_id(db, &acme, &npm("ui")).await;
    let icons = package_id(db, &acme, &npm("icons")).await;
    let charts_pkg = package_id(db, &acme, &npm("charts")).await;

    let mut grants = db.grants_for(initech.id, ui).await.expect("grants for ui");
    grants.sort_by(|a, b| a.product.cmp(&b.product));
    assert_eq!(grants.len(), 2, "{grants:?}");
    assert_eq!(grants[0].product, "legacy plan");
    assert_eq!(grants[0].org, "initech GmbH");
    assert_eq!(grants[0].starts_at, at(0));
    assert_eq!(grants[0].ends_at, None);
    assert_eq!(grants[0].rule, VersionRule::WhileActive);
    assert_eq!(grants[1].product, "pro plan");
    assert_eq!(grants[1].starts_at, at(10));
    assert_eq!(grants[1].ends_at, Some(at(20)));
    assert_eq!(grants[1].rule, VersionRule::PerpetualFallback);

    let icon_grants = db.grants_for(initech.id, icons).await.expect("grants");
    assert_eq!(
        icon_grants
            .iter()
            .map(|g| g.product.as_str())
            .collect::<Vec<_>>(),
        ["pro plan"]
    );
    // globex holds only `charts`, which does not contain `ui`.
    assert!(
        db.grants_for(globex.id, ui)
            .await
            .expect("grants")
            .is_empty(),
        "another org's grants must not leak"
    );
    let globex_charts = db.grants_for(globex.id, charts_pkg).await.expect("grants");
    assert_eq!(globex_charts.len(), 1);
    assert_eq!(globex_charts[0].org, "globex GmbH");

    let listed: Vec<_> = db
        .entitlements(initech.id)
        .await
        .expect("entitlements")
        .into_iter()
        .map(|e| e.product_id)
        .collect();
    assert_eq!(listed, [pro.id, legacy.id, charts.id], "in grant order");
    assert_eq!(db.entitlements(globex.id).await.expect("list").len(), 1);
}

async fn end_grants_ends_only_open_grants(db: &Db) {
    let acme = seller(db, "acme").await;
    let pro = product(db, &acme, "pro", &[npm("ui")]).await;
    let other = product(db, &acme, "other", &[npm("ui")]).await;
    let initech = org(db, &acme, "initech").await;
    let globex = org(db, &acme, "globex").await;
    let rule = VersionRule::WhileActive;

    let open = grant(db, &initech, &pro).await;
    let ended = db
        .grant(initech.id, pro.id, at(0), Some(at(500)), rule, "old")
        .await
        .expect("grant");
    let ending_later = db
        .grant(initech.id, pro.id, at(0), Some(at(9_000)), rule, "term")
        .await
        .expect("grant");
    let other_product = grant(db, &initech, &other).await;
    let other_org = grant(db, &globex, &pro).await;

    let (count, changes) = logged(db, db.end_grants(initech.id, pro.id, at(1_000))).await;
    assert_eq!(
        count.expect("end grants"),
        2,
        "the open and the later-ending grant"
    );
    assert_eq!(changes, [Change::Org(initech.id)]);

    let ends = |list: Vec<Entitlement>| -> Vec<_> {
        list.into_iter().map(|e| (e.id, e.ends_at)).collect()
    };
    assert_eq!(
        ends(db.entitlements(initech.id).await.expect("entitlements")),
        [
            (open.id, Some(at(1_000))),
            (ended.id, Some(at(500))),
            (ending_later.id, Some(at(1_000))),
            (other_product.id, None),
        ]
    );
    assert_eq!(
        ends(db.entitlements(globex.id).await.expect("entitlements")),
        [(other_org.id, None)]
    );
    assert_eq!(
        db.end_grants(initech.id, pro.id, at(2_000))
            .await
            .expect("end again"),
        0,
        "nothing left to end"
    );
}

// ---------------------------------------------------------------------------------------------
// Seats and tokens.

async fn revoking_a_seat_revokes_its_tokens(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let globex = org(db, &acme, "globex").await;
    let bob = db
        .add_seat(initech.id, "bob@initech.test", "member")
        .await
        .expect("add bob");
    assert!(bob.active);
    assert_eq!(bob.org_id, initech.id);
    assert_eq!(bob.role, "member");
    assert_eq!(bob.revoked_at, None);
    let alice = seat(db, &initech, "alice@initech.test").await;
    seat(db, &globex, "carol@globex.test").await;
    let emails = |seats: Vec<Seat>| -> Vec<String> { seats.into_iter().map(|s| s.email).collect() };
    assert_eq!(
        emails(db.seats(initech.id).await.expect("seats")),
        ["alice@initech.test", "bob@initech.test"]
    );

    let bob_laptop = token("tg_bob1", &acme).seat(&bob).create(db).await;
    let bob_ci = token("tg_bob2", &acme).seat(&bob).create(db).await;
    let bob_old = token("tg_bob0", &acme).seat(&bob).create(db).await;
    db.revoke_token(&bob_old, at(100))
        .await
        .expect("revoke old");
    let alice_token = token("tg_alice", &acme).seat(&alice).create(db).await;
    let org_token = token("tg_org", &acme).org(&initech).create(db).await;

    let (revoked, changes) = logged(
        db,
        db.revoke_seat(initech.id, "bob@initech.test", at(1_000)),
    )
    .await;
    let revoked = revoked.expect("revoke bob");
    assert_eq!(changes, [Change::Tokens]);
    assert_eq!(revoked.id, bob.id);
    assert!(!revoked.active);
    assert_eq!(revoked.revoked_at, Some(at(1_000)));

    let lookup = |id: TokenId| {
        let db = db.clone();
        async move {
            db.token(&id.0)
                .await
                .expect("token lookup")
                .unwrap_or_else(|| panic!("token {id} exists"))
        }
    };
    for id in [&bob_laptop, &bob_ci] {
        let t = lookup(id.clone()).await;
        assert_eq!(t.revoked_at, Some(at(1_000)), "{id} dies with its seat");
        assert!(!t.seat_active, "{id}");
    }
    assert_eq!(
        lookup(bob_old.clone()).await.revoked_at,
        Some(at(100)),
        "an earlier revocation keeps its time"
    );
    for id in [&alice_token, &org_token] {
        let t = lookup(id.clone()).await;
        assert_eq!(t.revoked_at, None, "{id} is untouched");
        assert!(t.seat_active, "{id}");
    }
    let seats = db.seats(initech.id).await.expect("seats");
    assert!(
        seats
            .iter()
            .any(|s| s.email == "alice@initech.test" && s.active)
    );
    assert!(
        seats
            .iter()
            .any(|s| s.email == "bob@initech.test" && !s.active)
    );

    // Re-adding the seat re-activates it; its old tokens stay dead.
    let back = db
        .add_seat(initech.id, "bob@initech.test", "admin")
        .await
        .expect("re-add bob");
    assert_eq!(back.id, bob.id);
    assert!(back.active);
    assert_eq!(back.revoked_at, None);
    assert_eq!(back.role, "admin");
    let t = lookup(bob_laptop.clone()).await;
    assert_eq!(t.revoked_at, Some(at(1_000)), "old tokens stay revoked");
    assert!(t.seat_active, "the seat itself is active again");

    assert_not_found(
        db.revoke_seat(initech.id, "nobody@initech.test", at(2_000))
            .await,
        "seat `nobody@initech.test` not found",
    );
    assert_not_found(
        db.revoke_seat(globex.id, "alice@initech.test", at(2_000))
            .await,
        "seat `alice@initech.test` not found",
    );
    assert!(lookup(alice_token).await.revoked_at.is_none());
}

async fn tokens_round_trip_and_filter_by_seller(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let initech = org(db, &acme, "initech").await;
    let bob = seat(db, &initech, "bob@initech.test").await;

    let scope = [npm("@acme/ui"), cargo("acme-core")];
    let publish = token("tg_a_publish", &acme)
        .packages(&scope)
        .create(db)
        .await;
    let seat_token = token("tg_b_seat", &acme).seat(&bob).create(db).await;
    let org_token = token("tg_c_org", &acme).org(&initech).create(db).await;
    let foreign = token("tg_d_other", &other).create(db).await;

    let p = db
        .token(&publish.0)
        .await
        .expect("lookup")
        .expect("publish token exists");
    assert_eq!(p.id, publish);
    assert_eq!(p.kind, TokenKind::Publish);
    assert_eq!(p.secret_hash, sha("secret of tg_a_publish"));
    assert_eq!(p.seller_id, acme.id);
    assert_eq!(p.seller_slug, "acme");
    assert_eq!((p.org_id, p.org_slug.as_deref()), (None, None));
    assert_eq!((p.seat_id, p.seat_email.as_deref()), (None, None));
    assert!(p.seat_active, "a token without a seat counts as active");
    assert_eq!(p.packages, scope, "package scope round-trips");
    assert_eq!(p.revoked_at, None);
    assert!(p.created_at.0 > 0);

    let s = db
        .token(&seat_token.0)
        .await
        .expect("lookup")
        .expect("seat token exists");
    assert_eq!(s.kind, TokenKind::Seat);
    assert_eq!(s.org_id, Some(initech.id));
    assert_eq!(s.org_slug.as_deref(), Some("initech"));
    assert_eq!(s.seat_id, Some(bob.id));
    assert_eq!(s.seat_email.as_deref(), Some("bob@initech.test"));
    assert!(s.seat_active);
    assert!(s.packages.is_empty());

    let o = db
        .token(&org_token.0)
        .await
        .expect("lookup")
        .expect("org token exists");
    assert_eq!(o.kind, TokenKind::Org);
    assert_eq!(o.org_slug.as_deref(), Some("initech"));
    assert_eq!(o.seat_id, None);

    assert!(db.token("tg_missing").await.expect("lookup").is_none());

    let ids = |list: Vec<tollgate_registry::domain::TokenRecord>| -> Vec<String> {
        list.into_iter().map(|t| t.id.0).collect()
    };
    assert_eq!(
        ids(db.tokens(Some(acme.id)).await.expect("acme tokens")),
        ["tg_a_publish", "tg_b_seat", "tg_c_org"]
    );
    assert_eq!(
        ids(db.tokens(Some(other.id)).await.expect("other tokens")),
        ["tg_d_other"]
    );
    assert_eq!(
        ids(db.tokens(None).await.expect("all tokens"))
            .into_iter()
            .collect::<BTreeSet<_>>(),
        ["tg_a_publish", "tg_b_seat", "tg_c_org", "tg_d_other"]
            .map(String::from)
            .into(),
    );

    let revoked = db
        .revoke_token(&org_token, at(1_000))
        .await
        .expect("revoke");
    assert_eq!(revoked.id, org_token);
    assert_eq!(revoked.revoked_at, Some(at(1_000)));
    let again = db
        .revoke_token(&org_token, at(2_000))
        .await
        .expect("revoke again");
    assert_eq!(
        again.revoked_at,
        Some(at(1_000)),
        "revoking twice keeps the first time"
    );
    let others = db.tokens(Some(acme.id)).await.expect("tokens");
    assert_eq!(
        others
            .iter()
            .filter(|t| t.revoked_at.is_some())
            .map(|t| t.id.0.as_str())
            .collect::<Vec<_>>(),
        ["tg_c_org"],
        "only that token is revoked"
    );
    assert!(
        db.token(&foreign.0)
            .await
            .expect("lookup")
            .expect("exists")
            .revoked_at
            .is_none()
    );
    assert_not_found(
        db.revoke_token(&TokenId("tg_missing".into()), at(3_000))
            .await,
        "token `tg_missing` not found",
    );
}

// ---------------------------------------------------------------------------------------------
// The change log.

async fn every_visible_write_logs_its_change(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;

    let (pro, changes) = logged(db, db.create_product(acme.id, "pro", "Pro", &[npm("ui")])).await;
    let pro = pro.expect("create product");
    assert_eq!(changes, [Change::All], "create_product");

    let (_, changes) = logged(db, release(&acme, "ui", "1.0.0").publish(db, at(0))).await;
    let ui = package_id(db, &acme, &npm("ui")).await;
    assert_eq!(changes, [Change::Package(ui)], "publish_release");

    // A publish that creates its package logs that new package.
    let (_, changes) = logged(db, release(&acme, "solo", "1.0.0").publish(db, at(1))).await;
    let solo = package_id(db, &acme, &npm("solo")).await;
    assert_eq!(changes, [Change::Package(solo)], "publish of a new package");

    let (r, changes) = logged(db, db.set_dist_tag(ui, "beta", "1.0.0")).await;
    r.expect("set tag");
    assert_eq!(changes, [Change::Package(ui)], "set_dist_tag");

    let (r, changes) = logged(db, db.remove_dist_tag(ui, "beta")).await;
    assert!(r.expect("remove tag"));
    assert_eq!(changes, [Change::Package(ui)], "remove_dist_tag");

    let (_, changes) = logged(db, grant(db, &initech, &pro)).await;
    assert_eq!(changes, [Change::Org(initech.id)], "grant");

    let (r, changes) = logged(db, db.end_grants(initech.id, pro.id, at(5))).await;
    assert_eq!(r.expect("end grants"), 1);
    assert_eq!(changes, [Change::Org(initech.id)], "end_grants");

    let (bob, changes) = logged(db, seat(db, &initech, "bob@initech.test")).await;
    assert_eq!(changes, [Change::Tokens], "add_seat");

    let (t, changes) = logged(db, token("tg_bob", &acme).seat(&bob).create(db)).await;
    assert_eq!(changes, [Change::Tokens], "create_token");

    let (r, changes) = logged(db, db.revoke_token(&t, at(6))).await;
    r.expect("revoke token");
    assert_eq!(changes, [Change::Tokens], "revoke_token");

    let (r, changes) = logged(db, db.revoke_seat(initech.id, "bob@initech.test", at(7))).await;
    r.expect("revoke seat");
    assert_eq!(changes, [Change::Tokens], "revoke_seat");

    // Downloads are the hot path and change nothing anyone sees: no cache may be dropped.
    let v1 = db
        .package_state(acme.id, Ecosystem::Npm, "ui")
        .await
        .expect("state")
        .expect("exists")
        .releases[0]
        .clone();
    let (r, changes) = logged(
        db,
        db.record_download(&download(&v1, &initech, "tg_bob", at(8))),
    )
    .await;
    r.expect("record download");
    assert_eq!(changes, [], "record_download");
}

async fn changes_are_read_in_seq_order(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let before = db.last_change().await.expect("last change");

    let pro = product(db, &acme, "pro", &[npm("ui")]).await;
    let ui = package_id(db, &acme, &npm("ui")).await;
    release(&acme, "ui", "1.0.0").publish(db, at(0)).await;
    grant(db, &initech, &pro).await;
    seat(db, &initech, "bob@initech.test").await;
    db.set_dist_tag(ui, "beta", "1.0.0").await.expect("tag");

    let rows = db.changes_since(before, 100).await.expect("changes");
    let changes: Vec<Change> = rows.iter().map(|(_, c)| *c).collect();
    assert_eq!(
        changes,
        [
            Change::All,
            Change::Package(ui),
            Change::Org(initech.id),
            Change::Tokens,
            Change::Package(ui),
        ]
    );
    let seqs: Vec<i64> = rows.iter().map(|(seq, _)| *seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seqs increase: {seqs:?}"
    );
    assert!(seqs[0] > before);
    assert_eq!(db.last_change().await.expect("last"), seqs[4]);

    // `limit` keeps the oldest; reading on from the last one read gives the rest.
    let page = db.changes_since(before, 2).await.expect("first page");
    assert_eq!(page, rows[..2]);
    let rest = db.changes_since(page[1].0, 100).await.expect("rest");
    assert_eq!(rest, rows[2..]);
    assert!(
        db.changes_since(seqs[4], 100)
            .await
            .expect("none")
            .is_empty()
    );
}

async fn prune_changes_deletes_only_old_rows(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    product(db, &acme, "pro", &[npm("ui")]).await;
    seat(db, &initech, "a@initech.test").await;
    let old = all_seqs(db).await;
    assert_eq!(old.len(), 2);

    // Change-log times are wall-clock milliseconds: leave a gap on both sides of the cut.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cut = Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    seat(db, &initech, "b@initech.test").await;
    seat(db, &initech, "c@initech.test").await;
    let all = all_seqs(db).await;
    let recent = all[old.len()..].to_vec();

    assert_eq!(db.prune_changes(cut).await.expect("prune"), 2);
    assert_eq!(all_seqs(db).await, recent, "only the old rows are gone");
    assert_eq!(db.last_change().await.expect("last"), recent[1]);
    assert_eq!(
        db.prune_changes(cut).await.expect("prune again"),
        0,
        "nothing older is left"
    );

    // Even with every row pruned, later changes get higher seqs (followers hold old cursors).
    assert_eq!(
        db.prune_changes(Timestamp(Timestamp::now().0 + 1_000))
            .await
            .expect("prune all"),
        2
    );
    seat(db, &initech, "d@initech.test").await;
    let after = all_seqs(db).await;
    assert_eq!(after.len(), 1);
    assert!(
        after[0] > recent[1],
        "seq {} reused after pruning",
        after[0]
    );
}

/// A follower reads the log the way `Registry::catch_up` does: `changes_since(cursor)`, then the
/// cursor moves to the last seq read. It must see every change eventually, even while many
/// writers commit at once; a seq that becomes visible after a higher one was read is lost.
async fn a_follower_sees_every_committed_change(db: &Db) {
    const WRITERS: usize = 16;
    const WRITES_EACH: usize = 25;
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let start = db.last_change().await.expect("last change");

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = tokio::spawn({
        let db = db.clone();
        let done = done.clone();
        async move {
            let mut cursor = start;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                for (seq, _) in db.changes_since(cursor, 1_000).await.expect("follow") {
                    seen.push(seq);
                    cursor = seq;
                }
                if finished {
                    return seen;
                }
            }
        }
    });
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            let org = initech.id;
            tokio::spawn(async move {
                for i in 0..WRITES_EACH {
                    db.add_seat(org, &format!("w{w}-{i}@initech.test"), "member")
                        .await
                        .expect("add seat");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer task");
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let seen = follower.await.expect("follower task");

    let all: Vec<i64> = db
        .changes_since(start, 10_000)
        .await
        .expect("all changes")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    assert_eq!(all.len(), WRITERS * WRITES_EACH);
    let missed: Vec<i64> = all
        .iter()
        .copied()
        .filter(|seq| !seen.contains(seq))
        .collect();
    assert!(
        missed.is_empty(),
        "the follower never saw {} of {} changes (seqs {missed:?}): they committed after a \
         higher seq was read",
        missed.len(),
        all.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Downloads.

async fn downloads_are_listed_newest_first_per_seller(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let initech = org(db, &acme, "initech").await;
    let bob = seat(db, &initech, "bob@initech.test").await;
    let globex = org(db, &other, "globex").await;
    let v1 = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let v2 = release(&acme, "@acme/ui", "2.0.0").publish(db, at(1)).await;
    let core = release(&acme, "core", "0.1.0")
        .ecosystem(Ecosystem::Cargo)
        .publish(db, at(2))
        .await;
    let theirs = release(&other, "@other/x", "9.9.9")
        .publish(db, at(3))
        .await;

    let mut by_seat = download(&v2, &initech, "tg_bob", at(300));
    by_seat.seat_id = Some(bob.id);
    by_seat.client_ip = None;
    for event in [
        download(&v1, &initech, "tg_org", at(100)),
        by_seat,
        download(&core, &initech, "tg_org", at(200)),
        download(&v1, &initech, "tg_org", at(300)),
        download(&theirs, &globex, "tg_globex", at(400)),
    ] {
        db.record_download(&event).await.expect("record download");
    }

    let listed = db.downloads(acme.id, 10).await.expect("downloads");
    let summary: Vec<_> = listed
        .iter()
        .map(|d| (d.package.as_str(), d.version.as_str(), d.at))
        .collect();
    assert_eq!(
        summary,
        [
            // Same time: the later record first.
            ("@acme/ui", "1.0.0", at(300)),
            ("@acme/ui", "2.0.0", at(300)),
            ("core", "0.1.0", at(200)),
            ("@acme/ui", "1.0.0", at(100)),
        ],
        "newest first, package and version joined, no other seller's"
    );
    let seat_download = &listed[1];
    assert_eq!(seat_download.release_id, v2.id);
    assert_eq!(seat_download.org_id, Some(initech.id));
    assert_eq!(seat_download.seat_id, Some(bob.id));
    assert_eq!(seat_download.token_id, TokenId("tg_bob".into()));
    assert_eq!(seat_download.client_ip, None);
    assert_eq!(listed[0].client_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(listed[0].seat_id, None);

    let newest_two = db.downloads(acme.id, 2).await.expect("downloads");
    assert_eq!(
        newest_two.iter().map(|d| d.release_id).collect::<Vec<_>>(),
        [v1.id, v2.id]
    );
    let theirs_listed = db.downloads(other.id, 10).await.expect("downloads");
    assert_eq!(theirs_listed.len(), 1);
    assert_eq!(theirs_listed[0].package, "@other/x");
    assert_eq!(theirs_listed[0].org_id, Some(globex.id));
}

// ---------------------------------------------------------------------------------------------
// Concurrency.

async fn concurrent_publishes_of_distinct_versions_all_succeed(db: &Db) {
    const N: usize = 20;
    let acme = seller(db, "acme").await;
    let before = db.last_change().await.expect("last change");
    // The package does not exist yet: the publishers also race to create it.
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let db = db.clone();
            let new = release(&acme, "@acme/ui", &format!("1.0.{i}"))
                .tag("latest")
                .build();
            tokio::spawn(async move { db.publish_release(&new, at(i as i64)).await })
        })
        .collect();
    let mut failures = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        if let Err(e) = task.await.expect("publish task") {
            failures.push(format!("1.0.{i}: {e}"));
        }
    }
    assert!(failures.is_empty(), "failed publishes: {failures:#?}");

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("package exists");
    let expected: Vec<String> = (0..N).map(|i| format!("1.0.{i}")).collect();
    assert_eq!(versions(&state.releases), expected);
    assert_eq!(state.dist_tags.len(), 1, "one latest tag");
    assert!(expected.contains(&state.dist_tags[0].1));
    let changes = db.changes_since(before, 100).await.expect("changes");
    assert_eq!(changes.len(), N);
    assert!(changes.iter().all(|(_, c)| *c == Change::Package(state.id)));
}

async fn concurrent_publishes_of_one_version_yield_one_winner(db: &Db) {
    const N: usize = 10;
    let acme = seller(db, "acme").await;
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let db = db.clone();
            let new = release(&acme, "@acme/ui", "1.0.0")
                .blob(&format!("contender {i}"))
                .build();
            tokio::spawn(async move { db.publish_release(&new, at(i as i64)).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut unexpected = Vec::new();
    for task in tasks {
        match task.await.expect("publish task") {
            Ok(release) => winners.push(release),
            Err(Error::Conflict(text)) => assert_eq!(
                text,
                "cannot publish over previously published version 1.0.0"
            ),
            Err(e) => unexpected.push(e.to_string()),
        }
    }
    assert!(unexpected.is_empty(), "not a Conflict: {unexpected:#?}");
    assert_eq!(winners.len(), 1, "exactly one publish wins");

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("package exists");
    assert_eq!(state.releases.len(), 1);
    assert_eq!(state.releases[0].id, winners[0].id);
    assert_eq!(state.releases[0].blob_sha256, winners[0].blob_sha256);
}

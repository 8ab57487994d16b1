//! The download audit, on the dashboard and on an org's page, as HTML and CSV: each shows only
//! its own downloads, whatever the filters ask for.

use axum::http::StatusCode;
use tollgate_registry::domain::Ecosystem;
use tollgate_registry::registry::Caller;

use crate::app::TestApp;

/// The address each org downloads from (the audit shows it): globex, hooli, initech.
const GLOBEX_IP: &str = "198.51.100.11";
const HOOLI_IP: &str = "198.51.100.22";
/// The token with public id `id` as an authenticated caller.
async fn caller_of(app: &TestApp, id: &str) -> Caller {
    let record = app.db().token(id).await.expect("token").expect("stored");
    Caller(std::sync::Arc::new(record))
}

const INITECH_IP: &str = "198.51.100.33";

async fn download(app: &TestApp, seller: &str, package: &str, org: &str, ip: &str) {
    let s = app.seller(seller).await;
    let o = app.db().org(s.id, org).await.expect("org");
    let state = app
        .db()
        .package_state(s.id, Ecosystem::Npm, package)
        .await
        .expect("state")
        .expect("package");
    let token = app.org_token(seller, org).await;
    // The org token's download, recorded as the protocols record one.
    let caller = caller_of(app, &token).await;
    assert_eq!((caller.0.org_id, caller.0.seat_id), (Some(o.id), None));
    app.db()
        .record_download(
            &caller,
            Ecosystem::Npm,
            &state.releases[0],
            package,
            Some(ip.to_owned()),
        )
        .await;
}

async fn app() -> TestApp {
    let app = TestApp::new()
        .with_seller("acme")
        .with_seller("umbrella")
        .with_org("acme", "globex")
        .with_org("acme", "hooli")
        .with_org("umbrella", "initech")
        .with_seat("globex", "admin@globex.test", true)
        .with_package("acme", "acme-secret-widget")
        .with_package("umbrella", "umbrella-hidden-lib")
        .build()
        .await;
    download(&app, "acme", "acme-secret-widget", "globex", GLOBEX_IP).await;
    download(&app, "acme", "acme-secret-widget", "hooli", HOOLI_IP).await;
    download(
        &app,
        "umbrella",
        "umbrella-hidden-lib",
        "initech",
        INITECH_IP,
    )
    .await;
    app
}

#[tokio::test]
async fn the_sellers_audit_shows_its_own_downloads_only() {
    let app = app().await;
    let mut seller = app.sign_in_seller("acme").await;
    for path in ["/acme/dashboard/downloads", "/acme/dashboard/downloads.csv"] {
        let res = seller.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
        assert!(
            res.body.contains(GLOBEX_IP),
            "{path}: globex's download is missing"
        );
        assert!(
            res.body.contains(HOOLI_IP),
            "{path}: hooli's download is missing"
        );
        assert!(
            !res.body.contains(INITECH_IP),
            "{path}: shows another seller's download"
        );
    }
    for path in [
        "/acme/dashboard/downloads?package=umbrella-hidden-lib",
        "/acme/dashboard/downloads.csv?package=umbrella-hidden-lib",
    ] {
        let res = seller.get(path).await;
        assert!(
            !res.body.contains(INITECH_IP) && !res.body.contains("initech"),
            "{path}: shows another seller's download: {res:?}"
        );
    }
    let res = seller.get("/acme/dashboard/downloads?org=globex").await;
    assert!(
        res.body.contains(GLOBEX_IP) && !res.body.contains(HOOLI_IP),
        "{res:?}"
    );
}

#[tokio::test]
async fn an_orgs_audit_shows_its_own_downloads_whatever_the_query() {
    let app = app().await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    for path in [
        "/acme/org/globex/downloads",
        "/acme/org/globex/downloads.csv",
        "/acme/org/globex/downloads?org=hooli",
        "/acme/org/globex/downloads.csv?org=hooli",
    ] {
        let res = admin.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {res:?}");
        assert!(
            res.body.contains(GLOBEX_IP),
            "{path}: its own download is missing"
        );
        assert!(
            !res.body.contains(HOOLI_IP),
            "{path}: shows hooli's download"
        );
        assert!(
            !res.body.contains(INITECH_IP),
            "{path}: shows initech's download"
        );
    }
}

/// A seat's address is chosen by the org (an invite), and the seller opens the CSV in a
/// spreadsheet: a field starting with `=`, `+`, `-` or `@` would run as a formula there.
#[tokio::test]
async fn the_csv_export_does_not_start_a_field_with_a_formula() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat(
            "globex",
            "=HYPERLINK(\"http://evil.test\")@evil.test",
            false,
        )
        .with_package("acme", "acme-secret-widget")
        .build()
        .await;
    let seat = app
        .seat(
            "acme",
            "globex",
            "=HYPERLINK(\"http://evil.test\")@evil.test",
        )
        .await;
    let org = app.org("acme", "globex").await;
    let acme = app.seller("acme").await;
    let state = app
        .db()
        .package_state(acme.id, Ecosystem::Npm, "acme-secret-widget")
        .await
        .expect("state")
        .expect("package");
    let token = app.seat_token("acme", "globex", &seat).await;
    let caller = caller_of(&app, &token).await;
    assert_eq!(
        (caller.0.org_id, caller.0.seat_id),
        (Some(org.id), Some(seat.id))
    );
    app.db()
        .record_download(
            &caller,
            Ecosystem::Npm,
            &state.releases[0],
            "acme-secret-widget",
            None,
        )
        .await;
    let mut seller = app.sign_in_seller("acme").await;
    let res = seller.get("/acme/dashboard/downloads.csv").await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    for line in res.body.lines().skip(1) {
        for field in line.split(',') {
            let field = field.trim_start_matches('"');
            assert!(
                !field.starts_with(['=', '+', '-', '@']),
                "a field a spreadsheet runs as a formula: {line}"
            );
        }
    }
}

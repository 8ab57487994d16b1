//! The customers page with a thousand orgs: every one is listed, and no other seller's.

use axum::http::StatusCode;

use crate::app::TestApp;

#[tokio::test]
async fn the_customers_page_lists_a_thousand_orgs() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_seller("umbrella")
        .with_org("umbrella", "initech")
        .build()
        .await;
    let acme = app.seller("acme").await;
    for i in 1..=1000 {
        app.db()
            .create_org(
                acme.id,
                &format!("org-{i:04}"),
                &format!("Customer number {i}"),
            )
            .await
            .expect("create org");
    }
    let mut c = app.sign_in_seller("acme").await;
    let res = c.get("/acme/dashboard/customers").await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    for i in [1, 2, 500, 999, 1000] {
        let name = format!("Customer number {i}<");
        assert!(res.body.contains(&name), "org {i} is missing");
    }
    let rows = res.body.matches("Customer number ").count();
    // Each line names its org at least once (a title attribute may name it again).
    assert!(rows >= 1000, "{rows} mentions of 1000 orgs");
    assert!(
        !res.body.contains("initech"),
        "another seller's org is listed"
    );
}

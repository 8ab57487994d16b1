//! Object-level authorization: a visitor allowed on a route is still refused another owner's
//! thing named in its path (another seller's token or package, another org's seat, token or
//! invite, another member's token), and the thing is left as it was.

use axum::http::StatusCode;
use tollgate_registry::domain::Ecosystem;
use tollgate_registry::time::Timestamp;

use crate::app::{Client, Resp};
use crate::routes::{Scenario, scenario};

fn refused(what: &str, res: &Resp, failures: &mut Vec<String>) {
    if !matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN) {
        failures.push(format!("{what}: wanted 404 or 403, got {res:?}"));
    }
}

/// GETs the confirmation page and POSTs the form of `path`, expecting both refused.
async fn try_both(s: &Scenario, c: &mut Client<'_>, path: &str, failures: &mut Vec<String>) {
    let page = c.get(path).await;
    refused(&format!("GET {path}"), &page, failures);
    let form = c.post_with_csrf("acme", path, &[]).await;
    refused(&format!("POST {path}"), &form, failures);
    let _ = s;
}

async fn token_revoked(s: &Scenario, id: &str) -> bool {
    s.app
        .db()
        .token(id)
        .await
        .expect("token")
        .expect("the token exists")
        .revoked_at
        .is_some()
}

#[tokio::test]
async fn a_seller_cannot_reach_another_sellers_tokens_packages_or_orgs() {
    let s = scenario().await;
    let mut acme = s.app.sign_in_seller("acme").await;
    let mut failures = Vec::new();
    let theirs = s.param("{umbrella-publish-token}").to_owned();
    try_both(
        &s,
        &mut acme,
        &format!("/acme/dashboard/tokens/{theirs}/revoke"),
        &mut failures,
    )
    .await;
    // An org's token is not a publish token, even of the same seller.
    let org_token = s.param("{org-token}").to_owned();
    try_both(
        &s,
        &mut acme,
        &format!("/acme/dashboard/tokens/{org_token}/revoke"),
        &mut failures,
    )
    .await;
    let package = "/acme/dashboard/packages/npm/umbrella-hidden-lib";
    let page = acme.get(package).await;
    refused(&format!("GET {package}"), &page, &mut failures);
    let yank = acme
        .post_with_csrf("acme", package, &[("action", "yank"), ("version", "1.0.0")])
        .await;
    refused(&format!("POST {package}"), &yank, &mut failures);
    for audit in [
        "/acme/dashboard/downloads?org=initech",
        "/acme/dashboard/downloads.csv?org=initech",
    ] {
        let res = acme.get(audit).await;
        if res.status == StatusCode::OK || res.body.contains("initech Corporation") {
            failures.push(format!(
                "GET {audit} filters by another seller's org: {res:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        !token_revoked(&s, &theirs).await,
        "umbrella's token was revoked"
    );
    assert!(
        !token_revoked(&s, &org_token).await,
        "globex's token was revoked"
    );
    let umbrella = s.app.seller("umbrella").await;
    let state = s
        .app
        .db()
        .package_state(umbrella.id, Ecosystem::Npm, "umbrella-hidden-lib")
        .await
        .expect("state")
        .expect("package");
    assert!(
        state.releases.iter().all(|r| !r.yanked),
        "umbrella's release was yanked"
    );
}

#[tokio::test]
async fn an_org_admin_cannot_reach_another_orgs_seats_tokens_or_invites() {
    let s = scenario().await;
    let mut admin = s
        .app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let mut failures = Vec::new();
    let seat = s.param("{hooli-seat}").to_owned();
    try_both(
        &s,
        &mut admin,
        &format!("/acme/org/globex/seats/{seat}/revoke"),
        &mut failures,
    )
    .await;
    for token in ["{hooli-org-token}", "{hooli-admin-token}", "{my-token}"] {
        // Another org's CI token, another org's personal token, and a member's personal token
        // (not a CI token: the org's tokens page does not reach it).
        let id = s.param(token).to_owned();
        try_both(
            &s,
            &mut admin,
            &format!("/acme/org/globex/tokens/{id}/revoke"),
            &mut failures,
        )
        .await;
    }
    let invite = s.param("{hooli-invite}").to_owned();
    let res = admin
        .post_with_csrf(
            "acme",
            &format!("/acme/org/globex/invites/{invite}/cancel"),
            &[],
        )
        .await;
    refused("cancelling hooli's invite", &res, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let hooli = s.app.org("acme", "hooli").await;
    let seats = s.app.db().seats(hooli.id).await.expect("seats");
    assert!(seats.iter().all(|s| s.active), "hooli's seat was revoked");
    for token in ["{hooli-org-token}", "{hooli-admin-token}", "{my-token}"] {
        assert!(
            !token_revoked(&s, s.param(token)).await,
            "{token} was revoked"
        );
    }
    let pending = s
        .app
        .db()
        .pending_invites(hooli.id, Timestamp::now())
        .await
        .expect("invites");
    assert_eq!(pending.len(), 1, "hooli's invite was cancelled");
}

#[tokio::test]
async fn a_member_cannot_revoke_another_members_token() {
    let s = scenario().await;
    let mut dev = s
        .app
        .sign_in_member("acme", "globex", "dev@globex.test")
        .await;
    let mut failures = Vec::new();
    for token in ["{ops-token}", "{hooli-admin-token}", "{org-token}"] {
        let id = s.param(token).to_owned();
        try_both(
            &s,
            &mut dev,
            &format!("/acme/org/globex/my-tokens/{id}/revoke"),
            &mut failures,
        )
        .await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for token in ["{ops-token}", "{hooli-admin-token}", "{org-token}"] {
        assert!(
            !token_revoked(&s, s.param(token)).await,
            "{token} was revoked"
        );
    }
    // The test could fail: the member's own token is revoked by the same request.
    let own = s.param("{my-token}").to_owned();
    let res = dev
        .post_with_csrf(
            "acme",
            &format!("/acme/org/globex/my-tokens/{own}/revoke"),
            &[],
        )
        .await;
    assert!(res.status.is_redirection(), "{res:?}");
    assert!(
        token_revoked(&s, &own).await,
        "the member's own token was not revoked"
    );
}

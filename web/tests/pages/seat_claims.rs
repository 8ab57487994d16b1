//! Seats through the pages: one seat per address whatever its letter case, an old invite that
//! never changes a seat taken since, and an address mail cannot reach refused as a form error.

use axum::http::StatusCode;
use tollgate_registry::time::Timestamp;

use crate::app::{Client, TestApp};

async fn app() -> TestApp {
    TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .build()
        .await
}

/// Invites `email` from the admin's page and returns the path of the mailed link.
async fn invite(app: &TestApp, admin: &mut Client<'_>, email: &str) -> String {
    let res = admin
        .post_with_csrf("acme", "/acme/org/globex/invite", &[("email", email)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
    let wanted = email.trim().to_ascii_lowercase();
    let link = app
        .mail()
        .iter()
        .filter(|m| m.to().contains(&wanted))
        .flat_map(|m| m.links())
        .find(|l| l.contains("/acme/invite/"))
        .expect("an invite link")
        .to_owned();
    app.path_of(&link)
}

#[tokio::test]
async fn an_old_invite_accepted_later_does_not_demote_an_admin() {
    let app = app().await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let link = invite(&app, &mut admin, "bob@globex.test").await;
    // Meanwhile Bob got his seat another way and was made an admin (`tollgate seat add --admin`).
    let org = app.org("acme", "globex").await;
    app.db()
        .add_seat(org.id, "Bob@Globex.test", "admin")
        .await
        .expect("seat");
    let mut bob = app.anonymous();
    let res = bob.get(&link).await;
    assert_eq!(res.location(), Some("/acme/org/globex"), "{res:?}");
    let seat = app.seat("acme", "globex", "bob@globex.test").await;
    assert_eq!(seat.role, "admin", "the old member invite demoted an admin");
    assert!(seat.active);
    // He is signed in as the admin he is.
    let tokens = bob.get("/acme/org/globex/tokens").await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    let seats = app.db().seats(org.id).await.expect("seats");
    assert_eq!(seats.len(), 2, "one seat for Bob: {seats:?}");
}

#[tokio::test]
async fn one_address_holds_one_seat_whatever_its_case() {
    let app = app().await;
    let org = app.org("acme", "globex").await;
    // A seat added as typed (the CLI, a Stripe checkout) ...
    app.db()
        .add_seat(org.id, "Dev@Globex.TEST", "member")
        .await
        .expect("seat");
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    // ... is the same person invited in another case,
    let res = admin
        .post_with_csrf(
            "acme",
            "/acme/org/globex/invite",
            &[("email", "dev@globex.test")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
    assert!(res.body.contains("holds a seat"), "{res:?}");
    // ... signs in in any case,
    let res = app
        .anonymous()
        .post_with_csrf("acme", "/acme/login", &[("email", "DEV@globex.test")])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let link = app
        .mail()
        .iter()
        .flat_map(|m| m.links())
        .find(|l| l.contains("/acme/login/"))
        .expect("a sign-in link")
        .to_owned();
    let res = app.anonymous().get(&app.path_of(&link)).await;
    assert_eq!(res.location(), Some("/acme/org/globex"), "{res:?}");
    // ... and is revoked in any case, with no second seat left behind.
    app.db()
        .revoke_seat(org.id, "dEv@gLoBeX.test", Timestamp::now())
        .await
        .expect("revoke");
    let seats = app.db().seats(org.id).await.expect("seats");
    let dev: Vec<_> = seats
        .iter()
        .filter(|s| s.email.eq_ignore_ascii_case("dev@globex.test"))
        .collect();
    assert_eq!(dev.len(), 1, "{seats:?}");
    assert_eq!(dev[0].email, "dev@globex.test", "stored folded");
    assert!(!dev[0].active);
}

#[tokio::test]
async fn revoking_a_seat_withdraws_its_pending_invite() {
    let app = app().await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let link = invite(&app, &mut admin, "eve@globex.test").await;
    let org = app.org("acme", "globex").await;
    app.db()
        .add_seat(org.id, "eve@globex.test", "member")
        .await
        .expect("seat");
    app.db()
        .revoke_seat(org.id, "eve@globex.test", Timestamp::now())
        .await
        .expect("revoke");
    let res = app.anonymous().get(&link).await;
    assert!(res.status.is_client_error(), "{res:?}");
    let seat = app.seat("acme", "globex", "eve@globex.test").await;
    assert!(!seat.active, "the old invite brought a revoked seat back");
}

#[tokio::test]
async fn an_invite_to_an_address_mail_cannot_reach_is_a_form_error() {
    let app = app().await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let org = app.org("acme", "globex").await;
    for bad in [
        "ann<x>@globex.test",
        "ann@globex..test",
        "ann@@globex.test",
        "ann(x)@globex.test",
        "\"ann\"@globex.test,bob@globex.test",
    ] {
        let res = admin
            .post_with_csrf("acme", "/acme/org/globex/invite", &[("email", bad)])
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}: {res:?}");
        assert!(
            res.body.contains("is not an e-mail address"),
            "{bad}: {res:?}"
        );
    }
    let pending = app
        .db()
        .pending_invites(org.id, Timestamp::now())
        .await
        .expect("invites");
    assert!(pending.is_empty(), "{pending:?}");
    assert!(app.mail().is_empty(), "no mail for a refused address");
    // The sign-in form refuses them the same way (not a failed send).
    let res = app
        .anonymous()
        .post_with_csrf("acme", "/acme/login", &[("email", "ann<x>@globex.test")])
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
}

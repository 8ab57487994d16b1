//! The session cookie: its attributes, a new id at sign-in, the end of a session at sign-out
//! and when the member's seat is revoked.

use axum::http::StatusCode;
use tollgate_registry::time::Timestamp;

use crate::app::TestApp;

fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn the_cookie_is_http_only_lax_site_wide_and_not_secure_over_http() {
    let app = TestApp::new().with_seller("acme").build().await;
    let link = app.seller_link("acme").await;
    let res = app.anonymous().get(&app.path_of(&link)).await;
    let set = res
        .session_set_cookie()
        .expect("a session cookie at sign-in");
    let attrs = attributes(&set);
    assert!(attrs.contains(&"httponly".into()), "{set}");
    assert!(attrs.contains(&"samesite=lax".into()), "{set}");
    assert!(attrs.contains(&"path=/".into()), "{set}");
    assert!(!attrs.contains(&"secure".into()), "{set}");
}

#[tokio::test]
async fn the_cookie_is_secure_behind_https() {
    let app = TestApp::new()
        .public_url("https://tollgate.test")
        .with_seller("acme")
        .build()
        .await;
    let link = app.seller_link("acme").await;
    assert!(
        link.starts_with("https://tollgate.test/acme/login/"),
        "{link}"
    );
    let res = app.anonymous().get(&app.path_of(&link)).await;
    let set = res
        .session_set_cookie()
        .expect("a session cookie at sign-in");
    let attrs = attributes(&set);
    assert!(attrs.contains(&"secure".into()), "{set}");
    assert!(attrs.contains(&"httponly".into()), "{set}");
    assert!(attrs.contains(&"samesite=lax".into()), "{set}");
}

#[tokio::test]
async fn signing_in_gives_the_session_a_new_id() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "dev@globex.test", false)
        .build()
        .await;
    // Each browser holds a session already (an attacker could have planted their own), signed
    // in as the other of the two.
    for (link, to, before_as) in [
        (app.seller_link("acme").await, "/acme/dashboard", "member"),
        (
            app.member_link("acme", "globex", "dev@globex.test").await,
            "/acme/org/globex",
            "seller",
        ),
    ] {
        let mut c = if before_as == "member" {
            app.sign_in_member("acme", "globex", "dev@globex.test")
                .await
        } else {
            app.sign_in_seller("acme").await
        };
        let csrf_before = c.csrf("acme").await;
        let before = c.cookie.clone().expect("signed in before");
        let res = c.get(&app.path_of(&link)).await;
        assert_eq!(res.location(), Some(to), "{res:?}");
        let after = c.cookie.clone().expect("a session after sign-in");
        assert_ne!(before, after, "the session id is rotated at sign-in");
        assert_eq!(c.get(to).await.status, StatusCode::OK);
        // The id from before sign-in (which an attacker could have planted) is not signed in.
        let mut planted = app.anonymous();
        planted.cookie = Some(before);
        let page = planted.get(to).await;
        assert!(
            page.is_sign_in_redirect("acme"),
            "the old id is not signed in: {page:?}"
        );
        // And the form token is renewed with it.
        let csrf_after = c.csrf("acme").await;
        assert_ne!(csrf_before, csrf_after, "a new CSRF token at sign-in");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "dev@globex.test", false)
        .build()
        .await;
    let mut seller = app.sign_in_seller("acme").await;
    let member = app
        .sign_in_member("acme", "globex", "dev@globex.test")
        .await;
    for (mut c, page) in [(seller, "/acme/dashboard"), (member, "/acme/org/globex")] {
        let old = c.cookie.clone().expect("signed in");
        // Without the form's token, signing out is refused and the session goes on.
        let refused = c.post("/acme/logout", &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
        let res = c.post_with_csrf("acme", "/acme/logout", &[]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
        assert_eq!(res.location(), Some("/acme/login"));
        assert!(c.cookie.is_none(), "the cookie is removed: {res:?}");
        let mut replay = app.anonymous();
        replay.cookie = Some(old);
        let after = replay.get(page).await;
        assert!(
            after.is_sign_in_redirect("acme"),
            "the old cookie no longer signs in: {after:?}"
        );
    }
    // Signing out one session leaves the others alone.
    seller = app.sign_in_seller("acme").await;
    let other = app.sign_in_seller("acme").await;
    let mut other = other;
    other.post_with_csrf("acme", "/acme/logout", &[]).await;
    assert_eq!(seller.get("/acme/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_seat_is_sent_to_sign_in_at_its_next_request() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .with_seat("globex", "dev@globex.test", false)
        .build()
        .await;
    let mut dev = app
        .sign_in_member("acme", "globex", "dev@globex.test")
        .await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let before = dev.get("/acme/org/globex/setup").await;
    assert_eq!(before.status, StatusCode::OK, "{before:?}");
    let org = app.org("acme", "globex").await;
    app.db()
        .revoke_seat(org.id, "dev@globex.test", Timestamp::now())
        .await
        .expect("revoke");
    let after = dev.get("/acme/org/globex/setup").await;
    assert!(after.is_sign_in_redirect("acme"), "{after:?}");
    // The session ended with the seat: adding the seat again does not bring it back.
    app.db()
        .add_seat(org.id, "dev@globex.test", "member")
        .await
        .expect("seat again");
    let later = dev.get("/acme/org/globex/setup").await;
    assert!(later.is_sign_in_redirect("acme"), "{later:?}");
    // The other seat's session goes on.
    let admin_page = admin.get("/acme/org/globex/setup").await;
    assert_eq!(admin_page.status, StatusCode::OK, "{admin_page:?}");
}

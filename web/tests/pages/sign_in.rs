//! One-time sign-in links: printed by the CLI or mailed from the sign-in form, good once, only
//! under their own seller, and at most five mailed per address in fifteen minutes.

use axum::http::StatusCode;

use crate::app::{TestApp, seller_email};

async fn app() -> TestApp {
    TestApp::new()
        .with_seller("acme")
        .with_seller("umbrella")
        .with_org("acme", "globex")
        .with_seat("globex", "dev@globex.test", false)
        .build()
        .await
}

#[tokio::test]
async fn a_printed_seller_link_signs_in_with_a_plain_get_once() {
    let app = app().await;
    let link = app.seller_link("acme").await;
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
    assert_eq!(res.location(), Some("/acme/dashboard"));
    let page = c.get("/acme/dashboard").await;
    assert_eq!(page.status, StatusCode::OK, "signed in: {page:?}");

    let mut again = app.anonymous();
    let res = again.get(&app.path_of(&link)).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "second use: {res:?}");
    assert!(res.body.contains("used already"), "{res:?}");
    let page = again.get("/acme/dashboard").await;
    assert!(
        page.is_sign_in_redirect("acme"),
        "a refused link signs nobody in: {page:?}"
    );
}

#[tokio::test]
async fn a_printed_member_link_signs_in_to_the_org() {
    let app = app().await;
    let link = app.member_link("acme", "globex", "dev@globex.test").await;
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
    assert_eq!(res.location(), Some("/acme/org/globex"));
    assert!(c.cookie.is_some(), "a session cookie was set");
    let again = app.anonymous().get(&app.path_of(&link)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "second use: {again:?}");
}

#[tokio::test]
async fn a_link_of_one_seller_is_refused_under_another() {
    let app = app().await;
    let link = app.seller_link("acme").await;
    let path = app.path_of(&link).replacen("/acme/", "/umbrella/", 1);
    let mut c = app.anonymous();
    let res = c.get(&path).await;
    assert!(
        matches!(res.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{res:?}"
    );
    let page = c.get("/umbrella/dashboard").await;
    assert!(page.is_sign_in_redirect("umbrella"), "{page:?}");
    let page = c.get("/acme/dashboard").await;
    assert!(page.is_sign_in_redirect("acme"), "{page:?}");
    // Refused without being spent: the link still works under its own seller.
    let res = app.anonymous().get(&app.path_of(&link)).await;
    assert_eq!(res.location(), Some("/acme/dashboard"), "{res:?}");
}

#[tokio::test]
async fn a_tampered_secret_is_refused() {
    let app = app().await;
    let link = app.seller_link("acme").await;
    let path = app.path_of(&link);
    let last = path.chars().last().expect("a secret");
    let swapped = if last == '0' { '1' } else { '0' };
    let tampered = format!("{}{swapped}", &path[..path.len() - 1]);
    for bad in [
        tampered.as_str(),
        "/acme/login/tg_nothing_here",
        "/acme/login/x",
    ] {
        let mut c = app.anonymous();
        let res = c.get(bad).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{bad}: {res:?}");
        let page = c.get("/acme/dashboard").await;
        assert!(page.is_sign_in_redirect("acme"), "{bad}: {page:?}");
    }
    let res = app.anonymous().get(&path).await;
    assert_eq!(res.location(), Some("/acme/dashboard"), "{res:?}");
}

/// Asks for a link from the sign-in form and returns the answer.
async fn request_link(app: &TestApp, seller: &str, email: &str) -> crate::app::Resp {
    let mut c = app.anonymous();
    c.post_with_csrf(seller, &format!("/{seller}/login"), &[("email", email)])
        .await
}

#[tokio::test]
async fn the_form_mails_the_seller_a_link_that_signs_in() {
    let app = app().await;
    let res = request_link(&app, "acme", &seller_email("acme")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert!(res.body.contains("boss@acme.test"), "{res:?}");
    let mail = app.mail();
    assert_eq!(mail.len(), 1, "one mail");
    assert!(
        mail[0].to().contains("boss@acme.test"),
        "{:?}",
        mail[0].headers
    );
    let link = mail[0]
        .links()
        .into_iter()
        .find(|l| l.contains("/acme/login/"))
        .expect("a sign-in link in the mail")
        .to_owned();
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.location(), Some("/acme/dashboard"), "{res:?}");
    assert_eq!(c.get("/acme/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_form_mails_a_seat_holder_a_link_to_the_org() {
    let app = app().await;
    // Addresses are matched whatever their case.
    let res = request_link(&app, "acme", " Dev@Globex.test ").await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    let mail = app.mail();
    assert_eq!(mail.len(), 1, "one mail");
    assert!(mail[0].to().contains("dev@globex.test"));
    let link = mail[0].links()[0].to_owned();
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.location(), Some("/acme/org/globex"), "{res:?}");
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_page_and_no_mail() {
    let app = app().await;
    let known = request_link(&app, "acme", "dev@globex.test").await;
    let unknown = request_link(&app, "acme", "stranger@nowhere.test").await;
    // The seller of another shop is a stranger here too.
    let other = request_link(&app, "acme", &seller_email("umbrella")).await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(unknown.status, StatusCode::OK, "{unknown:?}");
    assert_eq!(other.status, StatusCode::OK, "{other:?}");
    let strip = |body: &str, email: &str| {
        // The page names the address and carries its session's token: the rest is the same.
        let body = body.replace(email, "ADDRESS");
        match body.find("name=\"csrf\"") {
            Some(at) => body[..at].to_owned(),
            None => body,
        }
    };
    assert_eq!(
        strip(&known.body, "dev@globex.test"),
        strip(&unknown.body, "stranger@nowhere.test")
    );
    let mail = app.mail();
    assert_eq!(mail.len(), 1, "only the seat holder got mail: {:?}", mail);
    assert!(mail[0].to().contains("dev@globex.test"));
}

#[tokio::test]
async fn the_sixth_request_for_one_address_in_fifteen_minutes_is_refused() {
    let app = app().await;
    for i in 1..=5 {
        let res = request_link(&app, "acme", "dev@globex.test").await;
        assert_eq!(res.status, StatusCode::OK, "request {i}: {res:?}");
    }
    let res = request_link(&app, "acme", "DEV@globex.test").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{res:?}");
    assert_eq!(app.mail().len(), 5, "the refused request mails nothing");
    // Another address is not held back.
    let res = request_link(&app, "acme", &seller_email("acme")).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    // Unknown addresses count too (no one learns which addresses exist from the limit).
    for _ in 1..=5 {
        request_link(&app, "acme", "stranger@nowhere.test").await;
    }
    let res = request_link(&app, "acme", "stranger@nowhere.test").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{res:?}");
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = app().await;
    let acme = app.seller("acme").await;
    let link = tollgate_web::links::issue(
        app.db(),
        &app.public_url,
        tollgate_registry::db::LinkPurpose::Seller,
        &acme,
        None,
        &acme.email,
        std::time::Duration::ZERO,
    )
    .await
    .expect("issue");
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{res:?}");
    assert!(c.get("/acme/dashboard").await.is_sign_in_redirect("acme"));
}

#[tokio::test]
async fn a_member_link_is_refused_once_the_seat_is_revoked() {
    let app = app().await;
    let link = app.member_link("acme", "globex", "dev@globex.test").await;
    let org = app.org("acme", "globex").await;
    app.db()
        .revoke_seat(
            org.id,
            "dev@globex.test",
            tollgate_registry::time::Timestamp::now(),
        )
        .await
        .expect("revoke");
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert!(c.get("/acme/org/globex").await.is_sign_in_redirect("acme"));
    // No mail for an address whose seat is gone.
    let res = request_link(&app, "acme", "dev@globex.test").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(app.mail().is_empty(), "a revoked seat was mailed a link");
}

#[tokio::test]
async fn links_work_only_on_their_own_route() {
    let app = app().await;
    let acme = app.seller("acme").await;
    let org = app.org("acme", "globex").await;
    let invite = tollgate_web::links::issue(
        app.db(),
        &app.public_url,
        tollgate_registry::db::LinkPurpose::Invite,
        &acme,
        Some(&org),
        "new@globex.test",
        tollgate_web::links::INVITE,
    )
    .await
    .expect("invite");
    let sign_in = app.seller_link("acme").await;
    // An invite is not a sign-in link, nor a sign-in link an invite.
    let swapped = [
        app.path_of(&invite).replace("/invite/", "/login/"),
        app.path_of(&sign_in).replace("/login/", "/invite/"),
    ];
    for path in &swapped {
        let mut c = app.anonymous();
        let res = c.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {res:?}");
        assert!(c.get("/acme/dashboard").await.is_sign_in_redirect("acme"));
        assert!(c.get("/acme/org/globex").await.is_sign_in_redirect("acme"));
    }
    // Both still work where they belong.
    let res = app.anonymous().get(&app.path_of(&invite)).await;
    assert_eq!(res.location(), Some("/acme/org/globex"), "{res:?}");
    let res = app.anonymous().get(&app.path_of(&sign_in)).await;
    assert_eq!(res.location(), Some("/acme/dashboard"), "{res:?}");
}

#[tokio::test]
async fn an_unknown_seller_has_no_sign_in_page() {
    let app = app().await;
    let res = app.anonymous().get("/nobody/login").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
    let res = app.anonymous().get("/nobody/dashboard").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{res:?}");
}

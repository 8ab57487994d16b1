//! Forms followed through to what they change: an invite taken up from its mail, a seat revoked
//! after its confirmation page, a token's secret shown once.

use axum::http::{StatusCode, header};

use crate::app::TestApp;

async fn app() -> TestApp {
    TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .with_seat("globex", "ops@globex.test", false)
        .build()
        .await
}

#[tokio::test]
async fn an_invite_mailed_from_the_page_gives_a_seat_once() {
    let app = app().await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let res = admin
        .post_with_csrf(
            "acme",
            "/acme/org/globex/invite",
            &[("email", "Newcomer@Globex.test")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
    let page = admin.get("/acme/org/globex").await;
    assert!(page.body.contains("newcomer@globex.test"), "{page:?}");
    let org = app.org("acme", "globex").await;
    let seats = app.db().seats(org.id).await.expect("seats");
    assert!(
        !seats.iter().any(|s| s.email == "newcomer@globex.test"),
        "the seat is taken when the invite is accepted, not before"
    );
    let mail = app.mail();
    let invite = mail
        .iter()
        .find(|m| m.to().contains("newcomer@globex.test"))
        .expect("an invite mail");
    let link = invite
        .links()
        .into_iter()
        .find(|l| l.contains("/acme/invite/"))
        .expect("an invite link")
        .to_owned();
    // Inviting the same address twice is refused while the first invite is pending.
    let again = admin
        .post_with_csrf(
            "acme",
            "/acme/org/globex/invite",
            &[("email", "newcomer@globex.test")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");

    let mut newcomer = app.anonymous();
    let res = newcomer.get(&app.path_of(&link)).await;
    assert_eq!(res.location(), Some("/acme/org/globex"), "{res:?}");
    let page = newcomer.get("/acme/org/globex").await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let seat = app.seat("acme", "globex", "newcomer@globex.test").await;
    assert!(seat.active);
    assert_eq!(seat.role, "member", "an invite gives a plain seat");
    let refused = newcomer.get("/acme/org/globex/tokens").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    let twice = app.anonymous().get(&app.path_of(&link)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{twice:?}");
}

#[tokio::test]
async fn revoking_a_seat_confirms_first_then_ends_its_tokens_and_session() {
    let app = app().await;
    let ops = app.seat("acme", "globex", "ops@globex.test").await;
    let token = app.seat_token("acme", "globex", &ops).await;
    let mut ops_session = app
        .sign_in_member("acme", "globex", "ops@globex.test")
        .await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let path = format!("/acme/org/globex/seats/{}/revoke", ops.id.0);
    let confirm = admin.get(&path).await;
    assert_eq!(confirm.status, StatusCode::OK, "{confirm:?}");
    assert!(confirm.body.contains("ops@globex.test"), "{confirm:?}");
    assert!(
        confirm.body.contains(&format!("action=\"{path}\"")),
        "the confirmation page posts to the revoke form: {confirm:?}"
    );
    assert!(
        app.seat("acme", "globex", "ops@globex.test").await.active,
        "the confirmation page (a GET) revoked the seat"
    );
    let res = admin.post_with_csrf("acme", &path, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
    assert!(!app.seat("acme", "globex", "ops@globex.test").await.active);
    let record = app
        .db()
        .token(&token)
        .await
        .expect("token")
        .expect("the token exists");
    assert!(
        !record.seat_active || record.revoked_at.is_some(),
        "the seat's token still works: {record:?}"
    );
    let after = ops_session.get("/acme/org/globex").await;
    assert!(after.is_sign_in_redirect("acme"), "{after:?}");
    let told = app
        .mail()
        .into_iter()
        .any(|m| m.to().contains("ops@globex.test") && m.subject().contains("removed"));
    assert!(told, "the person is told by mail");
    // The last admin's seat cannot be revoked (no one would manage the org).
    let admin_seat = app.seat("acme", "globex", "admin@globex.test").await;
    let last = admin
        .post_with_csrf(
            "acme",
            &format!("/acme/org/globex/seats/{}/revoke", admin_seat.id.0),
            &[],
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{last:?}");
}

/// The first `tg_…` token secret in `body`.
fn secret_in(body: &str) -> Option<String> {
    let at = body.find("tg_")?;
    let end = body[at..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(body.len(), |e| at + e);
    Some(body[at..end].to_owned())
}

#[tokio::test]
async fn a_new_tokens_secret_is_shown_once() {
    let app = app().await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let mut seller = app.sign_in_seller("acme").await;
    for (as_seller, create, list) in [
        (false, "/acme/org/globex/tokens", "/acme/org/globex/tokens"),
        (false, "/acme/org/globex/my-tokens", "/acme/org/globex"),
        (true, "/acme/dashboard/tokens", "/acme/dashboard/tokens"),
    ] {
        let c = if as_seller { &mut seller } else { &mut admin };
        let res = c.post_with_csrf("acme", create, &[("packages", "")]).await;
        assert_eq!(res.status, StatusCode::OK, "{create}: {res:?}");
        let secret = secret_in(&res.body).unwrap_or_else(|| panic!("{create}: no secret shown"));
        assert!(
            secret.len() > 40,
            "{create}: {secret} is not a whole secret"
        );
        let page = c.get(list).await;
        assert_eq!(page.status, StatusCode::OK, "{list}: {page:?}");
        let (_, rest) = secret.split_at(3);
        let hidden = rest.split_once('_').map_or(rest, |(_, s)| s);
        assert!(
            !page.body.contains(hidden),
            "{list} shows the secret of a token made earlier"
        );
        assert!(
            res.headers
                .get(header::CACHE_CONTROL)
                .is_some_and(|v| v == "no-store"),
            "{create}: a page with a secret may be cached"
        );
    }
}

/// "A plain member sees only their own token and setup": not the colleagues' addresses, which
/// the admin does see.
#[tokio::test]
async fn a_plain_member_sees_only_their_own_seat() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .with_seat("globex", "ops@globex.test", false)
        .with_seat("globex", "dev@globex.test", false)
        .build()
        .await;
    let mut member = app
        .sign_in_member("acme", "globex", "ops@globex.test")
        .await;
    let page = member.get("/acme/org/globex").await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(page.body.contains("ops@globex.test"), "{}", page.body);
    for other in ["admin@globex.test", "dev@globex.test"] {
        assert!(!page.body.contains(other), "a member sees {other}");
    }
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let page = admin.get("/acme/org/globex").await;
    assert!(page.body.contains("dev@globex.test"), "{}", page.body);
}

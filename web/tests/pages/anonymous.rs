//! Visitors who are not signed in store nothing on the server: no session row for any page, any
//! link (good or bad) or the sign-in form, however many come. The sign-in form is protected by
//! an anonymous token held in a cookie and in the form (double submit) instead; a session row is
//! made only when someone signs in.

use axum::http::{Method, StatusCode};
use tollgate_registry::time::Timestamp;
use tollgate_web::csrf;

use crate::app::{Client, Resp, TestApp, seller_email};
use crate::routes::{scenario, table};

/// How many times each anonymous request is made.
const ROUNDS: usize = 20;

async fn sessions(app: &TestApp) -> i64 {
    app.db()
        .sessions()
        .live_sessions(Timestamp::now())
        .await
        .expect("count sessions")
}

/// Fails on a response that sets the session cookie (nothing to store: nothing to set).
fn no_session_cookie(what: &str, res: &Resp, failures: &mut Vec<String>) {
    if let Some(set) = res.session_set_cookie() {
        failures.push(format!("{what} set {set}"));
    }
}

#[tokio::test]
async fn anonymous_visits_store_no_session() {
    let s = scenario().await;
    let app = &s.app;
    let mut pages: Vec<String> = table()
        .iter()
        .filter(|r| r.method == Method::GET)
        .map(|r| s.path(r))
        .collect();
    pages.extend(
        [
            "/acme/login",
            "/acme/login/tg_0123456789abcdef_nothing",
            "/acme/login/x",
            "/acme/invite/tg_0123456789abcdef_nothing",
            "/nobody/login",
            "/nobody/dashboard",
            "/_tollgate/app.css",
        ]
        .map(str::to_owned),
    );
    let forms: Vec<String> = table()
        .iter()
        .filter(|r| r.method == Method::POST)
        .map(|r| s.path(r))
        .chain(["/acme/login".to_owned(), "/acme/logout".to_owned()])
        .collect();
    let mut failures = Vec::new();
    // One browser that keeps its cookies, and a new visitor every time.
    let mut browser = app.anonymous();
    for round in 0..ROUNDS {
        for page in &pages {
            let res = browser.get(page).await;
            no_session_cookie(&format!("GET {page}"), &res, &mut failures);
            let res = app.anonymous().get(page).await;
            no_session_cookie(&format!("GET {page} (new visitor)"), &res, &mut failures);
        }
        for form in &forms {
            // Without a token, and with a valid anonymous one: refused or sent to sign in.
            let res = app.anonymous().post(form, &[("csrf", "x")]).await;
            no_session_cookie(&format!("POST {form}"), &res, &mut failures);
            let res = browser
                .post_with_csrf("acme", form, &[("email", "x@y.test")])
                .await;
            no_session_cookie(&format!("POST {form} with a token"), &res, &mut failures);
        }
        // The sign-in form itself, for strangers and (once: it mails) for the seller.
        let stranger = format!("stranger{round}@nowhere.test");
        let mut c = app.anonymous();
        let res = c
            .post_with_csrf("acme", "/acme/login", &[("email", &stranger)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{res:?}");
        no_session_cookie("the sign-in form", &res, &mut failures);
    }
    let res = app
        .anonymous()
        .post_with_csrf("acme", "/acme/login", &[("email", &seller_email("acme"))])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    no_session_cookie("the seller's sign-in form", &res, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(sessions(app).await, 0, "anonymous visits stored sessions");

    // Signing in (the link the form mailed) stores the one session.
    let link = app
        .mail()
        .iter()
        .flat_map(|m| m.links())
        .find(|l| l.contains("/acme/login/"))
        .expect("the mailed sign-in link")
        .to_owned();
    let mut c = app.anonymous();
    let res = c.get(&app.path_of(&link)).await;
    assert_eq!(res.location(), Some("/acme/dashboard"), "{res:?}");
    assert!(c.cookie.is_some(), "a session cookie at sign-in");
    assert_eq!(sessions(app).await, 1);
}

#[tokio::test]
async fn the_sign_in_form_carries_its_token_in_a_cookie() {
    let app = TestApp::new().with_seller("acme").build().await;
    let mut c = app.anonymous();
    let page = c.get("/acme/login").await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(page.session_set_cookie().is_none(), "{page:?}");
    let set = page.set_cookie(csrf::COOKIE).expect("the form's cookie");
    let attrs: Vec<String> = set
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for want in ["httponly", "samesite=lax", "path=/"] {
        assert!(attrs.contains(&want.to_owned()), "{want}: {set}");
    }
    assert!(!attrs.contains(&"secure".to_owned()), "{set}");
    let token = page.csrf().expect("a token in the form");
    assert_eq!(c.csrf_cookie.as_deref(), Some(token.as_str()));
    // The same browser keeps its token (another tab's form still works).
    let again = c.get("/acme/login").await;
    assert_eq!(again.csrf().as_deref(), Some(token.as_str()));
    assert!(again.set_cookie(csrf::COOKIE).is_none(), "{again:?}");
    // Another browser gets another token.
    let other = app.anonymous().get("/acme/login").await;
    assert_ne!(other.csrf().as_deref(), Some(token.as_str()));

    let secure = TestApp::new()
        .public_url("https://tollgate.test")
        .with_seller("acme")
        .build()
        .await;
    let page = secure.anonymous().get("/acme/login").await;
    let set = page.set_cookie(csrf::COOKIE).expect("the form's cookie");
    assert!(set.to_ascii_lowercase().contains("; secure"), "{set}");
}

/// POSTs the sign-in form for the seller with `field` as its token and `cookie` as its cookie.
async fn sign_in_form(c: &mut Client<'_>, field: Option<&str>, cookie: Option<&str>) -> Resp {
    c.csrf_cookie = cookie.map(str::to_owned);
    let email = seller_email("acme");
    let mut form = vec![("email", email.as_str())];
    if let Some(f) = field {
        form.push(("csrf", f));
    }
    c.post("/acme/login", &form).await
}

#[tokio::test]
async fn an_anonymous_form_needs_both_halves_of_its_token() {
    let app = TestApp::new().with_seller("acme").build().await;
    let mine = app.anonymous().csrf("acme").await;
    let theirs = app.anonymous().csrf("acme").await;
    let made_up = "v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (what, field, cookie) in [
        ("the field alone", Some(mine.as_str()), None),
        ("the cookie alone", None, Some(mine.as_str())),
        (
            "two different tokens",
            Some(mine.as_str()),
            Some(theirs.as_str()),
        ),
        ("a made-up pair", Some(made_up), Some(made_up)),
        ("an empty pair", Some(""), Some("")),
    ] {
        let res = sign_in_form(&mut app.anonymous(), field, cookie).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {res:?}");
        assert!(res.body.contains("reload the page"), "{what}: {res:?}");
    }
    assert!(app.mail().is_empty(), "a refused form mailed a link");
    // The right pair goes through (else this test could not fail).
    let res = sign_in_form(&mut app.anonymous(), Some(&mine), Some(&mine)).await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert_eq!(app.mail().len(), 1);
    assert_eq!(sessions(&app).await, 0);
}

/// A sibling site can plant a cookie: an anonymous pair it made must not pass a signed-in form.
#[tokio::test]
async fn a_signed_in_session_takes_only_its_own_token() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .build()
        .await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let planted = app.anonymous().csrf("acme").await;
    admin.csrf_cookie = Some(planted.clone());
    let res = admin
        .post(
            "/acme/org/globex/invite",
            &[("csrf", &planted), ("email", "eve@globex.test")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    let org = app.org("acme", "globex").await;
    let pending = app
        .db()
        .pending_invites(org.id, Timestamp::now())
        .await
        .expect("invites");
    assert!(pending.is_empty(), "{pending:?}");
    // Signed in, the sign-in page shows the session's own token, which works.
    let res = admin
        .post_with_csrf(
            "acme",
            "/acme/org/globex/invite",
            &[("email", "eve@globex.test")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{res:?}");
}

//! CSRF: every POST without the session's token, or with another, is refused with 403 before
//! it does anything; with the right token it goes through to the handler.

use axum::http::{Method, StatusCode};

use crate::app::Client;
use crate::routes::{May, Route, Scenario, scenario, table};

/// A visitor allowed to use `route` in the scenario.
async fn allowed_client<'a>(s: &'a Scenario, route: &Route) -> Client<'a> {
    match route.may {
        May::Seller => s.app.sign_in_seller("acme").await,
        May::Admin => {
            s.app
                .sign_in_member("acme", "globex", "admin@globex.test")
                .await
        }
        May::Member | May::TokenOwner => {
            s.app
                .sign_in_member("acme", "globex", "dev@globex.test")
                .await
        }
    }
}

fn posts() -> Vec<Route> {
    let posts: Vec<Route> = table()
        .into_iter()
        .filter(|r| r.method == Method::POST)
        .collect();
    assert!(posts.len() >= 5, "the table has too few forms");
    posts
}

#[tokio::test]
async fn every_form_without_the_token_is_refused() {
    let mut failures = Vec::new();
    for route in posts() {
        let s = scenario().await;
        let mut c = allowed_client(&s, &route).await;
        let path = s.path(&route);
        let missing = c.post(&path, route.form).await;
        if missing.status != StatusCode::FORBIDDEN {
            failures.push(format!("POST {path} without csrf: {missing:?}"));
        }
        let mut wrong_fields = vec![("csrf", "0".repeat(64))];
        wrong_fields.extend(route.form.iter().map(|(k, v)| (*k, v.to_string())));
        let wrong: Vec<(&str, &str)> = wrong_fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = c.post(&path, &wrong).await;
        if res.status != StatusCode::FORBIDDEN {
            failures.push(format!("POST {path} with a wrong csrf: {res:?}"));
        }
        // Another session's token is a wrong one too.
        let mut other = s.app.anonymous();
        let theirs = other.csrf("acme").await;
        let mut stolen = vec![("csrf", theirs.as_str())];
        stolen.extend_from_slice(route.form);
        let res = c.post(&path, &stolen).await;
        if res.status != StatusCode::FORBIDDEN {
            failures.push(format!("POST {path} with another session's csrf: {res:?}"));
        }
        // Refused requests changed nothing: the right token now goes through.
        let res = c.post_with_csrf("acme", &path, route.form).await;
        if res.status == StatusCode::FORBIDDEN || res.is_sign_in_redirect("acme") {
            failures.push(format!("POST {path} with the right csrf: {res:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_form_without_a_session_is_refused() {
    let s = scenario().await;
    let mut failures = Vec::new();
    for route in posts() {
        let path = s.path(&route);
        let mut fields = vec![("csrf", "0".repeat(64))];
        fields.extend(route.form.iter().map(|(k, v)| (*k, v.to_string())));
        let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = s.app.anonymous().post(&path, &form).await;
        if res.status != StatusCode::FORBIDDEN {
            failures.push(format!("POST {path} with no session: {res:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn the_sign_in_and_sign_out_forms_need_the_token_too() {
    let s = scenario().await;
    let mut c = s.app.anonymous();
    c.csrf("acme").await;
    let res = c.post("/acme/login", &[("email", "boss@acme.test")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert!(s.app.mail().is_empty(), "a refused form mails nothing");
    let mut seller = s.app.sign_in_seller("acme").await;
    let res = seller.post("/acme/logout", &[("csrf", "nope")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert_eq!(seller.get("/acme/dashboard").await.status, StatusCode::OK);
}

/// A refused yank leaves the release alone (the check runs before the handler).
#[tokio::test]
async fn a_refused_form_changes_nothing() {
    let s = scenario().await;
    let mut seller = s.app.sign_in_seller("acme").await;
    let path = "/acme/dashboard/packages/npm/acme-secret-widget";
    // The confirmation page (a GET) only asks.
    let confirm = seller
        .get(&format!("{path}?action=yank&version=1.0.0"))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{confirm:?}");
    assert!(confirm.body.contains("method=\"post\""), "{confirm:?}");
    let res = seller
        .post(path, &[("action", "yank"), ("version", "1.0.0")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    let acme = s.app.seller("acme").await;
    let state = s
        .app
        .db()
        .package_state(
            acme.id,
            tollgate_registry::domain::Ecosystem::Npm,
            "acme-secret-widget",
        )
        .await
        .expect("state")
        .expect("the package");
    assert!(
        state.releases.iter().all(|r| !r.yanked),
        "a refused form yanked the release"
    );
    let ok = seller
        .post_with_csrf("acme", path, &[("action", "yank"), ("version", "1.0.0")])
        .await;
    assert!(
        ok.status.is_redirection() || ok.status.is_success(),
        "{ok:?}"
    );
    let state = s
        .app
        .db()
        .package_state(
            acme.id,
            tollgate_registry::domain::Ecosystem::Npm,
            "acme-secret-widget",
        )
        .await
        .expect("state")
        .expect("the package");
    assert!(
        state.releases.iter().any(|r| r.yanked),
        "the right token yanks (else this test could not fail)"
    );
}

/// A session's token is its own: another signed-in session's, even the same seller's, is
/// refused, and so is an empty one.
#[tokio::test]
async fn another_sessions_token_is_refused() {
    let s = scenario().await;
    let mut one = s.app.sign_in_seller("acme").await;
    let mut two = s.app.sign_in_seller("acme").await;
    let mine = one.csrf("acme").await;
    let theirs = two.csrf("acme").await;
    assert_ne!(mine, theirs, "two sessions, one token");
    for wrong in [theirs.as_str(), ""] {
        let res = one.post("/acme/logout", &[("csrf", wrong)]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{wrong:?}: {res:?}");
        assert_eq!(one.get("/acme/dashboard").await.status, StatusCode::OK);
    }
    let res = one.post("/acme/logout", &[("csrf", mine.as_str())]).await;
    assert!(res.status.is_redirection(), "{res:?}");
    assert!(
        one.get("/acme/dashboard").await.is_sign_in_redirect("acme"),
        "signed out with its own token (else this test could not fail)"
    );
}

/// Not signed in: the form's token must be the one its own cookie holds (another visitor's
/// token, valid as it is, does not pass), and one this installation sealed.
#[tokio::test]
async fn an_anonymous_form_needs_the_token_its_cookie_holds() {
    let s = scenario().await;
    let mut c = s.app.anonymous();
    let mine = c.csrf("acme").await;
    let theirs = s.app.anonymous().csrf("acme").await;
    assert_ne!(mine, theirs, "two visitors, one token");
    let sign_in = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("email", "boss@acme.test".into()),
        ]
    };
    let form = sign_in(&theirs);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = c.post("/acme/login", &fields).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    // A cookie and a field that agree, made up rather than sealed here.
    let mut forger = s.app.anonymous();
    forger.csrf_cookie = Some("made-up".into());
    let form = sign_in("made-up");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = forger.post("/acme/login", &fields).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert!(s.app.mail().is_empty(), "a refused form mails nothing");

    let form = sign_in(&mine);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = c.post("/acme/login", &fields).await;
    assert_ne!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert_eq!(
        s.app.mail().len(),
        1,
        "its own token passes (else this test could not fail)"
    );
}

/// A form is read up to 256 KiB; a bigger body is refused as too large before anything runs.
#[tokio::test]
async fn a_form_is_read_up_to_its_size_limit() {
    let s = scenario().await;
    let mut seller = s.app.sign_in_seller("acme").await;
    let csrf = seller.csrf("acme").await;
    let fits = "x".repeat(250 * 1024);
    let res = seller
        .post(
            "/acme/logout",
            &[("csrf", csrf.as_str()), ("pad", fits.as_str())],
        )
        .await;
    assert!(res.status.is_redirection(), "250 KiB: {res:?}");

    let mut seller = s.app.sign_in_seller("acme").await;
    let csrf = seller.csrf("acme").await;
    let too_big = "x".repeat(256 * 1024);
    let res = seller
        .post(
            "/acme/logout",
            &[("csrf", csrf.as_str()), ("pad", too_big.as_str())],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{res:?}");
    assert!(res.body.contains("too large"), "{res:?}");
    assert_eq!(seller.get("/acme/dashboard").await.status, StatusCode::OK);
}

/// A signed-in session is checked against its own token only: its pages' forms carry it, it is
/// given no anonymous cookie, and an anonymous pair (a cookie planted by a sibling site, with its
/// token in the field), valid as it is, does not pass for it.
#[tokio::test]
async fn a_signed_in_session_passes_only_with_its_own_token() {
    let s = scenario().await;
    let mut seller = s.app.sign_in_seller("acme").await;
    let own = seller.csrf("acme").await;
    assert_eq!(
        seller.csrf_cookie, None,
        "an anonymous cookie for a session"
    );
    let dashboard = seller.get("/acme/dashboard").await;
    assert_eq!(
        dashboard.csrf().as_deref(),
        Some(own.as_str()),
        "the page's forms carry the session's token"
    );
    let mut visitor = s.app.anonymous();
    let planted = visitor.csrf("acme").await;
    seller.csrf_cookie = visitor.csrf_cookie.clone();
    assert!(seller.csrf_cookie.is_some());
    let res = seller
        .post("/acme/logout", &[("csrf", planted.as_str())])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{res:?}");
    assert_eq!(seller.get("/acme/dashboard").await.status, StatusCode::OK);
    let res = seller.post("/acme/logout", &[("csrf", own.as_str())]).await;
    assert!(res.status.is_redirection(), "{res:?}");
}

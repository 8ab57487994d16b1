//! The org admin: signs in with a printed link, revokes a member's seat through the confirmation
//! page; the real `npm install` with that seat's token then fails, another seat's still works.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::Browser;
use crate::common::{Server, http};
use crate::npm::Npm;
use crate::{PRODUCT, SELLER, UI_PRO, main_page, publish_to_docs, screenshot_dir};

const ORG: &str = "globex";
const ADMIN: &str = "admin@globex.example";
const ONE: &str = "one@globex.example";
const TWO: &str = "two@globex.example";

/// Marks the revoke control of `email` on the members page (a link or button saying "Revoke"
/// that carries `data-email`, or sits inside an element carrying it) so that WebDriver can click
/// it; false when there is none.
fn mark_revoke_control(browser: &Browser, email: &str) -> bool {
    let script = format!(
        "var want = {email}; \
         var hits = Array.from(document.querySelectorAll('[data-email]')) \
           .filter(function (e) {{ return e.getAttribute('data-email') === want; }}); \
         var controls = []; \
         hits.forEach(function (e) {{ \
           if (e.matches('a, button')) controls.push(e); \
           e.querySelectorAll('a, button').forEach(function (c) {{ controls.push(c); }}); \
         }}); \
         var c = controls.find(function (c) {{ return /revoke/i.test(c.innerText || c.value || ''); }}); \
         if (!c) return false; \
         c.setAttribute('data-e2e', 'revoke'); \
         return true;",
        email = Value::from(email)
    );
    browser.js(&script).as_bool() == Some(true)
}

/// Polls the npm metadata of the package with `token` until it is refused (401/403); returns
/// how long after `since` that was.
fn refused_after(server: &Server, token: &str, since: Instant) -> Duration {
    let url = format!(
        "{}/{SELLER}/npm/{}",
        server.url(),
        crate::common::npm_escape(UI_PRO)
    );
    let auth = format!("Bearer {token}");
    loop {
        let r = http::request("GET", &url, &[("authorization", &auth)], b"")
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        if r.status == 401 || r.status == 403 {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "the revoked seat's token still gets {} after 10 s",
            r.status
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn org_admin_revokes_a_seat_and_its_npm_install_fails() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let server = Server::start();
    server.seller(SELLER);
    server.product(SELLER, PRODUCT, &[&format!("npm:{UI_PRO}")]);
    let publish = server.publish_token(SELLER, &[]);
    Npm::new(&server, SELLER, &publish.secret).publish(UI_PRO, "1.0.0");

    server.org(SELLER, ORG);
    server.grant(SELLER, ORG, PRODUCT, &[]);
    server.cli(&[
        "seat", "add", "--seller", SELLER, "--org", ORG, ADMIN, "--admin",
    ]);
    for member in [ONE, TWO] {
        server.cli(&["seat", "add", "--seller", SELLER, "--org", ORG, member]);
    }
    let one = server.token(SELLER, &["--org", ORG, "--seat", ONE]);
    let two = server.token(SELLER, &["--org", ORG, "--seat", TWO]);
    let (npm_one, npm_two) = (
        Npm::new(&server, SELLER, &one.secret),
        Npm::new(&server, SELLER, &two.secret),
    );
    let spec = format!("{UI_PRO}@^1");
    for (who, npm) in [(ONE, &npm_one), (TWO, &npm_two)] {
        let run = npm.install_fresh("before", &spec);
        assert!(
            run.success,
            "{who}'s seat token could not install before any revoke:\n{}",
            run.output()
        );
    }

    // The admin signs in with the link the CLI prints.
    let link = server.cli_json(&[
        "org",
        "login-link",
        "--seller",
        SELLER,
        "--org",
        ORG,
        ADMIN,
        "--public-url",
        server.url(),
    ]);
    let link = link["link"].as_str().expect("login-link JSON has `link`");
    browser.goto(link);
    let members = format!("/{SELLER}/org/{ORG}");
    assert_eq!(browser.path(), members, "where the printed link led");
    let page = browser.text("main").unwrap_or_default();
    for email in [ADMIN, ONE, TWO] {
        assert!(page.contains(email), "{email} missing from:\n{page}");
    }
    let shot = main_page(&browser, &server, &members, "org-members");
    publish_to_docs(&shot);

    // Revoke member one: the control, then the confirmation page's button.
    assert!(
        mark_revoke_control(&browser, ONE),
        "no revoke control for {ONE} (an element with data-email=\"{ONE}\") on:\n{}",
        browser.text("main").unwrap_or_default()
    );
    browser.click("[data-e2e=revoke]");
    let confirm = browser.text("main").unwrap_or_default();
    assert!(
        confirm.contains(ONE),
        "the confirmation page does not name {ONE}:\n{confirm}"
    );
    let shot = browser.screenshot(&screenshot_dir(), "org-revoke-confirm");
    eprintln!("screenshot: {}", shot.display());
    browser.click("#confirm-revoke");
    let revoked_at = Instant::now();
    let refused = refused_after(&server, &one.secret, revoked_at);
    eprintln!(
        "REVOKE: the seat token is refused {} ms after the confirmation page's answer",
        refused.as_millis()
    );
    assert!(
        refused <= Duration::from_secs(1),
        "the revoked seat's token still worked {} ms after the revoke",
        refused.as_millis()
    );
    assert_eq!(browser.path(), members, "where confirming the revoke led");
    let row = browser
        .js(&format!(
            "var r = Array.from(document.querySelectorAll('tr[data-email]')) \
               .find(function (r) {{ return r.getAttribute('data-email') === {}; }}); \
             return r ? r.innerText : null;",
            Value::from(ONE)
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        row.to_lowercase().contains("revoked"),
        "the row of {ONE} does not say it is revoked: {row:?}"
    );
    assert!(
        !mark_revoke_control(&browser, ONE),
        "{ONE} can still be revoked after the revoke:\n{}",
        browser.text("main").unwrap_or_default()
    );
    assert!(
        mark_revoke_control(&browser, TWO),
        "{TWO} lost their revoke control:\n{}",
        browser.text("main").unwrap_or_default()
    );
    let shot = browser.screenshot(&screenshot_dir(), "org-members-after-revoke");
    eprintln!("screenshot: {}", shot.display());

    let run = npm_one.install_fresh("after", &spec);
    eprintln!(
        "npm install with the revoked seat's token, {} ms after the revoke:\n{}",
        revoked_at.elapsed().as_millis(),
        run.output()
    );
    assert!(!run.success, "the revoked seat still installs");
    let out = run.output();
    assert!(
        (out.contains("E401") || out.contains("E403")) && out.contains("revoked"),
        "npm's error does not say the seat was revoked:\n{out}"
    );
    let run = npm_two.install_fresh("after", &spec);
    assert!(
        run.success,
        "the other seat's token stopped working:\n{}",
        run.output()
    );

    for (page, name) in [
        ("tokens", "org-tokens"),
        ("setup", "org-setup"),
        ("downloads", "org-downloads"),
    ] {
        main_page(&browser, &server, &format!("{members}/{page}"), name);
    }

    // At phone width the seats page still fits: wide tables scroll inside their box, the page
    // itself does not scroll sideways.
    browser.resize(390, 844);
    main_page(&browser, &server, &members, "org-members-phone");
    let overflow = browser
        .js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
    assert!(
        overflow.as_i64().is_some_and(|px| px <= 0),
        "at 390 px the seats page scrolls sideways by {overflow} px"
    );
}

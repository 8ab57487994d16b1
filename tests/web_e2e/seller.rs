//! The seller: signs in by mail, watches a release and a download appear live, then looks at
//! every dashboard page.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::Browser;
use crate::common::Server;
use crate::npm::Npm;
use crate::{PRODUCT, SELLER, UI_PRO, main_page, publish_to_docs, settle_live, sign_in_by_mail};

/// How long after its cause a live update may take to show.
const LIVE_LIMIT: Duration = Duration::from_secs(10);

/// What a live region must come to read.
#[derive(Clone, Copy)]
enum Shows<'a> {
    /// Its text includes this (a row among others).
    Includes(&'a str),
    /// Its text, trimmed, is exactly this (a figure).
    Exactly(&'a str),
}

/// Polls the open page until `region` shows what it must, checking that the page never
/// reloaded (the `window.__noReload` marker set before is still there). Returns when it was
/// seen.
fn wait_live(browser: &Browser, region: &str, shows: Shows, limit: Duration) -> Instant {
    let (test, what) = match shows {
        Shows::Includes(needle) => (
            format!("e.innerText.includes({})", Value::from(needle)),
            format!("{needle:?} to appear in {region} without a reload"),
        ),
        Shows::Exactly(text) => (
            format!("e.innerText.trim() === {}", Value::from(text)),
            format!("{region} to read exactly {text:?} without a reload"),
        ),
    };
    let script = format!(
        "if (window.__noReload !== 1) return 'reloaded'; \
         var e = document.querySelector({region}); \
         return e && {test} ? 'seen' : null;",
        region = Value::from(region),
    );
    let (v, _) = browser.wait_for(&what, limit, &script);
    let seen = Instant::now();
    assert_eq!(
        v.as_str(),
        Some("seen"),
        "the page reloaded instead of updating {region} in place"
    );
    seen
}

/// Milliseconds from `from` to `to`, negative when `to` came first.
fn ms(from: Instant, to: Instant) -> i128 {
    if to >= from {
        (to - from).as_millis() as i128
    } else {
        -((from - to).as_millis() as i128)
    }
}

#[test]
fn seller_signs_in_by_mail_and_sees_a_release_and_a_download_appear_live() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let server = Server::start();
    server.seller(SELLER);
    server.product(SELLER, PRODUCT, &[&format!("npm:{UI_PRO}")]);
    let email = format!("owner@{SELLER}.example");

    sign_in_by_mail(&browser, &server, SELLER, &email);
    assert_eq!(browser.path(), format!("/{SELLER}/dashboard"));
    assert_eq!(browser.text("main h1").as_deref(), Some("Overview"));
    let releases = browser.text("#releases").unwrap_or_default();
    assert!(
        !releases.contains("1.4.2"),
        "a release shows before any publish:\n{releases}"
    );

    // Keep the page open; a reload would drop this marker.
    settle_live(&browser);
    browser.js("window.__noReload = 1; return true;");

    let publish = server.publish_token(SELLER, &[]);
    let seller_npm = Npm::new(&server, SELLER, &publish.secret);
    let started = Instant::now();
    let publishing = thread::spawn(move || {
        let run = seller_npm.publish(UI_PRO, "1.4.2");
        (run, Instant::now(), seller_npm)
    });
    let seen = wait_live(
        &browser,
        "#releases",
        Shows::Includes("1.4.2"),
        LIVE_LIMIT + Duration::from_secs(60),
    );
    let (run, published, seller_npm) = publishing.join().expect("npm publish thread");
    eprintln!("npm publish said:\n{}", run.output());
    let after = ms(published, seen);
    eprintln!(
        "LIVE: release 1.4.2 shown {} ms after `npm publish` started, {after} ms after it \
         returned (negative: before npm had exited)",
        ms(started, seen)
    );
    assert!(
        after <= LIVE_LIMIT.as_millis() as i128,
        "the release took {after} ms to appear"
    );
    let row = browser.text("#releases").unwrap_or_default();
    assert!(row.contains(UI_PRO) && row.contains("npm"), "{row}");

    // A buyer installs it: the downloads figure on the same open page ticks up.
    server.org(SELLER, "globex");
    server.grant(SELLER, "globex", PRODUCT, &[]);
    let buyer = server.org_token(SELLER, "globex");
    let before = browser.text("#downloads-30d").unwrap_or_default();
    assert_eq!(before.trim(), "0", "downloads before any install");
    let buyer_npm = Npm::new(&server, SELLER, &buyer.secret);
    let run = buyer_npm.install_fresh("app", &format!("{UI_PRO}@^1"));
    assert!(run.success, "npm install failed:\n{}", run.output());
    let installed = Instant::now();
    let seen = wait_live(&browser, "#downloads-30d", Shows::Exactly("1"), LIVE_LIMIT);
    eprintln!(
        "LIVE: download shown {} ms after `npm install` returned",
        ms(installed, seen)
    );
    // One install is one download, recorded once: the figure read "1" at some moment, and the
    // database holds exactly that event (a second record of it would show as "2" later).
    let downloads = server.downloads(SELLER);
    let [download] = &downloads[..] else {
        panic!(
            "one `npm install` recorded {} downloads, wanted exactly 1: {downloads:#?}",
            downloads.len()
        );
    };
    assert!(
        download["package"] == UI_PRO
            && download["version"] == "1.4.2"
            && download["token_id"] == buyer.id.as_str()
            && !download["org_id"].is_null(),
        "the download is not {UI_PRO}@1.4.2 by globex's token {}: {download}",
        buyer.id
    );
    let figure = browser.text("#downloads-30d").unwrap_or_default();
    assert_eq!(
        figure.trim(),
        "1",
        "the overview's 30-day downloads after one install"
    );

    let overview = browser.screenshot(&crate::screenshot_dir(), "seller-overview");
    eprintln!("screenshot: {}", overview.display());
    publish_to_docs(&overview);

    // The packages page is live too: the next release shows as the latest one.
    main_page(
        &browser,
        &server,
        &format!("/{SELLER}/dashboard/packages"),
        "seller-packages",
    );
    settle_live(&browser);
    browser.js("window.__noReload = 1; return true;");
    seller_npm.publish(UI_PRO, "1.5.0");
    let published = Instant::now();
    let seen = wait_live(&browser, "#packages", Shows::Includes("1.5.0"), LIVE_LIMIT);
    eprintln!(
        "LIVE: release 1.5.0 shown on the packages page {} ms after `npm publish` returned",
        ms(published, seen)
    );
    let shot = browser.screenshot(&crate::screenshot_dir(), "seller-packages");
    eprintln!("screenshot: {}", shot.display());

    for (page, name) in [
        ("customers", "seller-customers"),
        ("downloads", "seller-downloads"),
        ("plans", "seller-plans"),
        ("tokens", "seller-tokens"),
        ("settings", "seller-settings"),
    ] {
        main_page(
            &browser,
            &server,
            &format!("/{SELLER}/dashboard/{page}"),
            name,
        );
        if page == "downloads" {
            // The audit lists that one download, once.
            let rows = browser.js(
                "return Array.from(document.querySelectorAll('#audit tbody tr')) \
                   .map(function (r) { return r.innerText; });",
            );
            let rows: Vec<&str> = rows
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let [row] = &rows[..] else {
                panic!(
                    "the downloads page lists {} rows after one install, wanted 1: {rows:#?}",
                    rows.len()
                );
            };
            assert!(
                row.contains(UI_PRO)
                    && row.contains("1.4.2")
                    && row.contains("globex")
                    && row.contains(&buyer.id),
                "the download's row is not {UI_PRO} 1.4.2 by globex's token {}: {row:?}",
                buyer.id
            );
        }
    }
}

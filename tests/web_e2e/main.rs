//! Browser end-to-end: the real `tollgate` binary, headless Chromium through chromedriver, and
//! the real `npm` CLI.
//!
//! - `seller`: a seller signs in through the magic link found in the mail sink, keeps the
//!   overview open, publishes with `npm publish`, and sees the release (then a download) appear
//!   without a reload; then every dashboard page is screenshotted.
//! - `org`: an org admin signs in with a printed link, revokes a member's seat through the
//!   confirmation page, and the real `npm install` with that seat's token fails while another
//!   seat's token still installs; then every org page is screenshotted.
//!
//! Screenshots go to `target/web-screenshots/` (or `$CARGO_TARGET_DIR/web-screenshots/`); the
//! two the README shows are copied to `docs/screenshots/` when missing there, or always with
//! `TOLLGATE_UPDATE_SCREENSHOTS=1`. Without chromedriver the tests are skipped, unless `CI` is
//! set, where they fail (`tollgate-testkit`).

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod npm;
mod org;
mod seller;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use browser::Browser;
use common::Server;
use tollgate_billing::mail::eml;

pub(crate) const SELLER: &str = "acme";
pub(crate) const PRODUCT: &str = "ui";
pub(crate) const UI_PRO: &str = "@acme/ui-pro";

/// `target/web-screenshots/`, from `CARGO_TARGET_DIR` if set, else the workspace's `target/`.
pub(crate) fn screenshot_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |t| root.join(t));
    target.join("web-screenshots")
}

/// Copies a screenshot the README shows to `docs/screenshots/NAME.png` if that file is missing,
/// or always with `TOLLGATE_UPDATE_SCREENSHOTS=1`.
pub(crate) fn publish_to_docs(shot: &Path) {
    let name = shot.file_name().expect("screenshot file name");
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    let dest = docs.join(name);
    let update = std::env::var("TOLLGATE_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1");
    if update || !dest.exists() {
        std::fs::create_dir_all(&docs).expect("create docs/screenshots");
        std::fs::copy(shot, &dest)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", shot.display(), dest.display()));
        eprintln!("README screenshot written: {}", dest.display());
    }
}

/// Opens one of the main pages at `path`, checks that a person sees that page (its nav entry is
/// the current one, no error), and saves a screenshot `name.png`.
pub(crate) fn main_page(browser: &Browser, server: &Server, path: &str, name: &str) -> PathBuf {
    browser.goto(&format!("{}{path}", server.url()));
    let error = browser.text("p.error");
    assert!(
        error.is_none(),
        "{path} shows an error: {error:?}\n{}",
        browser.text("body").unwrap_or_default()
    );
    let current = browser.js(
        "var a = document.querySelector('nav a[aria-current=page]'); \
         return a ? new URL(a.href).pathname : null;",
    );
    assert_eq!(
        current.as_str(),
        Some(path),
        "on {path} the navigation does not mark the page as the current one; the page shows:\n{}",
        browser.text("body").unwrap_or_default()
    );
    let shot = browser.screenshot(&screenshot_dir(), name);
    eprintln!("screenshot: {}", shot.display());
    shot
}

/// Signs `email` in to `seller`'s pages the way a person does: the login form, then the link in
/// the mail that arrives in the server's mail sink (`<data>/mail/`).
pub(crate) fn sign_in_by_mail(browser: &Browser, server: &Server, seller: &str, email: &str) {
    browser.goto(&format!("{}/{seller}/login", server.url()));
    browser.type_into("input[name=email]", email);
    browser.click("form[action$='/login'] button[type=submit]");
    let answer = browser.text("main").unwrap_or_default();
    assert!(
        answer.contains(email) && answer.contains("sign-in link"),
        "after asking for a link the page says:\n{answer}"
    );

    let dir = server.data_dir().join("mail");
    let start = Instant::now();
    let link = loop {
        let mails =
            eml::read_dir(&dir).unwrap_or_else(|e| panic!("read mail sink {}: {e}", dir.display()));
        let found = mails
            .iter()
            .rev()
            .filter(|m| m.to().contains(email))
            .flat_map(|m| m.links())
            .find(|l| l.contains(&format!("/{seller}/login/")))
            .map(str::to_owned);
        if let Some(link) = found {
            break link;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no sign-in link for {email} in {} after 10 s ({} mails there)",
            dir.display(),
            mails.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    eprintln!("sign-in link from the mail sink: {link}");
    browser.goto(&link);
}

/// How long `live.js` may take to open the page's event stream: it connects right after the
/// page loads, well within a second; the margin is for a busy two-core machine.
pub(crate) const LIVE_CONNECT_LIMIT: Duration = Duration::from_secs(10);

/// Waits until `live.js` says the page's event stream is open (`data-live-connected` on
/// `<body>`); fails naming the page and its stream if it does not open within
/// [`LIVE_CONNECT_LIMIT`]: a page that does not follow changes cannot show one live.
pub(crate) fn settle_live(browser: &Browser) {
    let stream = browser.js("return document.body.getAttribute('data-live-events');");
    let Some(stream) = stream.as_str().filter(|s| !s.is_empty()).map(str::to_owned) else {
        panic!(
            "{} has no live event stream (no data-live-events on <body>)",
            browser.path()
        );
    };
    browser.wait_for(
        &format!(
            "the live event stream {stream} to open (live.js sets data-live-connected on <body>)"
        ),
        LIVE_CONNECT_LIMIT,
        "return document.body.hasAttribute('data-live-connected');",
    );
}

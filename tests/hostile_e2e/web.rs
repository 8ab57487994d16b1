//! Row 8 and the suspected seat items, through the pages of the real server as a browser uses
//! them (cookies, the form's CSRF field, links from the mail sink):
//! - 200 anonymous `GET /acme/login` stored 200 seven-day sessions;
//! - an old invite accepted later reset an active seat's role (demoting an admin);
//! - seat addresses compared case-sensitively (two seats for one person);
//! - an invite to an address the mailer cannot parse answered 500.

use std::time::{Duration, Instant};

use tollgate_billing::mail::eml;

use crate::common::Server;
pub use crate::common::browser::{SESSION, Visitor, set_cookies};
use crate::common::http::request;
use crate::{Cast, ORG, SEAT_EMAIL, SELLER, assert_alive, said};

const ADMIN: &str = "admin@globex.example";

impl<'a> Visitor<'a> {
    /// Signs in the seat holder `email` of `globex` with a printed one-time link.
    pub fn member(server: &'a Server, email: &str) -> Self {
        Visitor::signed_in(server, &member_link(server, email))
    }
}

/// A printed one-time sign-in link for the seat holder `email` of `globex`.
pub fn member_link(server: &Server, email: &str) -> String {
    let v = server.cli_json(&[
        "org",
        "login-link",
        "--seller",
        SELLER,
        "--org",
        ORG,
        email,
        "--public-url",
        server.url(),
    ]);
    v["link"].as_str().expect("a link").to_owned()
}

/// A printed one-time sign-in link for the seller's dashboard.
pub fn seller_link(server: &Server) -> String {
    let v = server.cli_json(&["seller", "login-link", SELLER, "--public-url", server.url()]);
    v["link"].as_str().expect("a link").to_owned()
}

/// The newest link containing `part` in a mail to `to` in the server's mail sink, waiting up to
/// 10 s for it (mail is written as the request ends).
pub fn mailed_link(server: &Server, to: &str, part: &str) -> String {
    let dir = server.data_dir().join("mail");
    let started = Instant::now();
    loop {
        let found = eml::read_dir(&dir)
            .unwrap_or_default()
            .iter()
            .rev()
            .filter(|m| m.to().contains(to))
            .flat_map(|m| m.links())
            .find(|l| l.contains(part))
            .map(str::to_owned);
        if let Some(link) = found {
            return link;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no mail to {to} with a link to {part} in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Mails in the sink addressed to an address containing `to`.
fn mails_to(server: &Server, to: &str) -> usize {
    eml::read_dir(&server.data_dir().join("mail"))
        .unwrap_or_default()
        .iter()
        .filter(|m| m.to().contains(to))
        .count()
}

/// Rows of `web_sessions` in the server's database.
pub fn session_rows(server: &Server) -> i64 {
    use sqlx::Connection;
    let url = server.database_url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM web_sessions")
            .fetch_one(&mut conn)
            .await
            .expect("count sessions");
        let _ = conn.close().await;
        n
    })
}

/// The org's seats held by `email` in any letter case: (stored address, role, active).
fn seats_of(server: &Server, email: &str) -> Vec<(String, String, bool)> {
    let all = server.cli_json(&["seat", "list", "--seller", SELLER, "--org", ORG]);
    all.as_array()
        .expect("seat list prints an array")
        .iter()
        .filter(|s| {
            s["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .map(|s| {
            (
                s["email"].as_str().unwrap_or_default().to_owned(),
                s["role"].as_str().unwrap_or_default().to_owned(),
                s["active"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

fn with_admin(server: &Server) {
    let _ = Cast::new(server);
    server.cli(&[
        "seat", "add", "--seller", SELLER, "--org", ORG, ADMIN, "--admin",
    ]);
}

const ORG_PAGE: &str = "/acme/org/globex";
const INVITE: &str = "/acme/org/globex/invite";

#[test]
fn row8_anonymous_pages_store_no_session() {
    let server = Server::start();
    let _cast = Cast::new(&server);
    let before = session_rows(&server);
    for i in 0..200 {
        let res = request("GET", &format!("{}/acme/login", server.url()), &[], b"")
            .expect("the sign-in page");
        assert_eq!(res.status, 200, "{}", said(&res));
        let session = set_cookies(&res).into_iter().find(|(k, _, _)| k == SESSION);
        assert!(
            session.is_none(),
            "anonymous request {i} got a session: {session:?}"
        );
    }
    for path in [
        "/acme/dashboard",
        ORG_PAGE,
        "/acme/dashboard/tokens",
        "/acme/login/tg_0123456789abcdef_00",
        "/acme/invite/tg_0123456789abcdef_00",
        "/nobody/login",
    ] {
        let res = request("GET", &format!("{}{path}", server.url()), &[], b"").expect(path);
        let session = set_cookies(&res).into_iter().find(|(k, _, _)| k == SESSION);
        assert!(
            session.is_none(),
            "anonymous {path} got a session: {session:?}"
        );
    }
    assert_eq!(
        session_rows(&server),
        before,
        "anonymous pages stored sessions"
    );
    // The form still works without a session, and signing in does store one (so the count
    // above can see a session when there is one).
    let mut visitor = Visitor::new(&server);
    let res = visitor.submit("/acme/login", "/acme/login", &[("email", SEAT_EMAIL)]);
    assert_eq!(res.status, 200, "asking for a sign-in link: {}", said(&res));
    assert_eq!(
        session_rows(&server),
        before,
        "asking for a link stored a session"
    );
    let link = mailed_link(&server, SEAT_EMAIL, "/acme/login/");
    let res = visitor.get(&link);
    assert_eq!(res.status, 303, "the mailed link: {}", said(&res));
    assert_eq!(
        session_rows(&server),
        before + 1,
        "signing in stores one session"
    );
    assert_alive(&server, "200 anonymous sign-in pages");
}

#[test]
fn an_old_invite_accepted_later_does_not_demote_an_admin() {
    let server = Server::start();
    with_admin(&server);
    let mut admin = Visitor::member(&server, ADMIN);
    let res = admin.submit(ORG_PAGE, INVITE, &[("email", "bob@globex.example")]);
    assert_eq!(res.status, 303, "the invite: {}", said(&res));
    let link = mailed_link(&server, "bob@globex.example", "/acme/invite/");
    // Meanwhile Bob got his seat another way, as an admin.
    server.cli(&[
        "seat",
        "add",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "bob@globex.example",
        "--admin",
    ]);
    let res = Visitor::new(&server).get(&link);
    assert!(res.status < 500, "accepting the old invite: {}", said(&res));
    let bob = seats_of(&server, "bob@globex.example");
    assert_eq!(bob.len(), 1, "one seat for Bob: {bob:?}");
    assert_eq!(
        bob[0].1, "admin",
        "the old member invite demoted an admin: {bob:?}"
    );
    assert!(bob[0].2, "Bob's seat is no longer active: {bob:?}");
    assert_alive(&server, "an old invite accepted later");
}

#[test]
fn seat_addresses_ignore_letter_case() {
    let server = Server::start();
    with_admin(&server);
    let mut admin = Visitor::member(&server, ADMIN);
    // The holder of a seat, invited in other letters: refused.
    let res = admin.submit(ORG_PAGE, INVITE, &[("email", "DEV@Globex.Example")]);
    assert_eq!(
        res.status,
        409,
        "inviting a seat holder again: {}",
        said(&res)
    );
    assert!(res.text().contains("holds a seat"), "{}", said(&res));
    // An invite accepted after the seat was added in other letters: still one seat.
    let res = admin.submit(ORG_PAGE, INVITE, &[("email", "erin@globex.example")]);
    assert_eq!(res.status, 303, "the invite: {}", said(&res));
    let link = mailed_link(&server, "erin@globex.example", "/acme/invite/");
    server.cli(&[
        "seat",
        "add",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "Erin@Globex.Example",
    ]);
    let res = Visitor::new(&server).get(&link);
    assert!(res.status < 500, "accepting the invite: {}", said(&res));
    let erin = seats_of(&server, "erin@globex.example");
    assert_eq!(erin.len(), 1, "one seat for Erin: {erin:?}");
    // A seat added again in capitals is the same seat.
    server.cli(&[
        "seat",
        "add",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "DEV@GLOBEX.EXAMPLE",
    ]);
    let dev = seats_of(&server, SEAT_EMAIL);
    assert_eq!(dev.len(), 1, "one seat for {SEAT_EMAIL}: {dev:?}");
    // And the holder signs in whatever letters they type.
    let mut visitor = Visitor::new(&server);
    let res = visitor.submit(
        "/acme/login",
        "/acme/login",
        &[("email", "Dev@GLOBEX.example")],
    );
    assert_eq!(res.status, 200, "{}", said(&res));
    let link = mailed_link(&server, SEAT_EMAIL, "/acme/login/");
    let res = visitor.get(&link);
    assert_eq!(res.header("location"), Some(ORG_PAGE), "{}", said(&res));
    assert_alive(&server, "seat addresses in other letters");
}

#[test]
fn an_invite_to_an_address_mail_cannot_parse_is_a_form_error() {
    let server = Server::start();
    with_admin(&server);
    let mut admin = Visitor::member(&server, ADMIN);
    for bad in [
        "ann<x>@globex.example",
        "ann@globex..example",
        "ann(x)@globex.example",
        "\"ann\"@globex.example,bob@globex.example",
    ] {
        let res = admin.submit(ORG_PAGE, INVITE, &[("email", bad)]);
        assert_eq!(res.status, 400, "inviting {bad}: {}", said(&res));
        assert!(
            res.text().contains("not an e-mail address"),
            "inviting {bad}: {}",
            said(&res)
        );
    }
    assert_eq!(
        mails_to(&server, "ann"),
        0,
        "a mail went to a refused address"
    );
    let res = Visitor::new(&server).submit(
        "/acme/login",
        "/acme/login",
        &[("email", "ann<x>@globex.example")],
    );
    assert_eq!(res.status, 400, "asking a link for ann<x>: {}", said(&res));
    assert_alive(&server, "invites to unparsable addresses");
}

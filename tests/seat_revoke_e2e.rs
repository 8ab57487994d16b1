//! A seat revoked on the org page is refused on the very next request (issue 17): the page calls
//! the core's `revoke_seat`, which ends the seat's tokens and drops the server's token cache
//! before it answers, so nothing waits for the change-log poll. The real server, a signed-in
//! admin (session cookie and the form's CSRF field), then one npm packument request with the
//! seat's token. Runs on SQLite, and on PostgreSQL + S3 with `TOLLGATE_E2E_BACKEND=postgres-s3`.

mod common;

use common::browser::Visitor;
use common::http::{Response, request};
use common::{Server, fake_tgz, npm_escape, npm_publish_body};

const SELLER: &str = "acme";
const ORG: &str = "globex";
const PKG: &str = "@acme/ui-pro";
const ADMIN: &str = "admin@globex.example";
const MEMBER: &str = "member@globex.example";

/// Signs `email` in to the org's pages with a printed one-time link.
fn member<'a>(server: &'a Server, email: &str) -> Visitor<'a> {
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
    Visitor::signed_in(server, v["link"].as_str().expect("a sign-in link"))
}

fn packument(server: &Server, token: &str) -> Response {
    let url = format!("{}/{SELLER}/npm/{}", server.url(), npm_escape(PKG));
    let auth = format!("Bearer {token}");
    request("GET", &url, &[("authorization", &auth)], b"").expect("GET packument")
}

#[test]
fn a_seat_revoked_on_the_org_page_is_refused_on_the_next_request() {
    let server = Server::start();
    server.seller(SELLER);
    server.product(SELLER, "ui", &[&format!("npm:{PKG}")]);
    server.org(SELLER, ORG);
    server.grant(SELLER, ORG, "ui", &[]);
    server.cli(&[
        "seat", "add", "--seller", SELLER, "--org", ORG, ADMIN, "--admin",
    ]);
    server.cli(&["seat", "add", "--seller", SELLER, "--org", ORG, MEMBER]);
    let publisher = server.publish_token(SELLER, &[]);
    let url = format!("{}/{SELLER}/npm/{}", server.url(), npm_escape(PKG));
    let auth = format!("Bearer {}", publisher.secret);
    let body = npm_publish_body(PKG, "1.0.0", &fake_tgz(7, 2048));
    let published = request(
        "PUT",
        &url,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .expect("PUT publish");
    assert_eq!(published.status, 201, "publish: {}", published.text());
    let seat_token = server.token(SELLER, &["--org", ORG, "--seat", MEMBER]);
    let other_seat = server.token(SELLER, &["--org", ORG, "--seat", ADMIN]);

    // The server has the seat's token in its cache now.
    let before = packument(&server, &seat_token.secret);
    assert_eq!(before.status, 200, "before the revoke: {}", before.text());

    let seats = server.cli_json(&["seat", "list", "--seller", SELLER, "--org", ORG]);
    let seat_id = seats
        .as_array()
        .expect("seat list is an array")
        .iter()
        .find(|s| s["email"] == MEMBER)
        .and_then(|s| s["id"].as_i64())
        .unwrap_or_else(|| panic!("no seat {MEMBER} in {seats}"));
    let mut admin = member(&server, ADMIN);
    let page = format!("/{SELLER}/org/{ORG}/seats/{seat_id}/revoke");
    let revoked = admin.submit(&page, &page, &[]);
    assert_eq!(revoked.status, 303, "the revoke POST: {}", revoked.text());

    // The very next request, no waiting: refused, and for the seat's revoke.
    let after = packument(&server, &seat_token.secret);
    assert_eq!(
        after.status,
        401,
        "the revoked seat's token on the next request: {}",
        after.text()
    );
    assert!(
        after
            .text()
            .contains(&format!("the seat of {MEMBER} was revoked")),
        "the refusal should name the revoked seat: {}",
        after.text()
    );
    // Only that seat: the admin's own token still reads.
    let still = packument(&server, &other_seat.secret);
    assert_eq!(still.status, 200, "another seat's token: {}", still.text());
}

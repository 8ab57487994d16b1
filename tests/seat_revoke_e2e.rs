//! A seat revoked on the org page is refused on the very next request (issue 17): the page calls
//! the core's `revoke_seat`, which ends the seat's tokens and drops the server's token cache
//! before it answers, so nothing waits for the change-log poll. The real server, a signed-in
//! admin (session cookie and the form's CSRF field), then one npm packument request with the
//! seat's token. Runs on SQLite, and on PostgreSQL + S3 with `TOLLGATE_E2E_BACKEND=postgres-s3`.

mod common;

use common::http::{Response, request};
use common::{Server, fake_tgz, npm_escape, npm_publish_body};

const SELLER: &str = "acme";
const ORG: &str = "globex";
const PKG: &str = "@acme/ui-pro";
const ADMIN: &str = "admin@globex.example";
const MEMBER: &str = "member@globex.example";

/// A browser: a cookie jar, and requests to one server.
struct Visitor<'a> {
    server: &'a Server,
    jar: Vec<(String, String)>,
}

impl<'a> Visitor<'a> {
    /// Signs `email` in to the org's pages with a printed one-time link.
    fn member(server: &'a Server, email: &str) -> Self {
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
        let link = v["link"].as_str().expect("a sign-in link").to_owned();
        let mut visitor = Visitor {
            server,
            jar: Vec::new(),
        };
        let res = visitor.send("GET", &link, &[], b"");
        assert_eq!(res.status, 303, "the sign-in link: {}", res.text());
        assert!(
            !visitor.jar.is_empty(),
            "signed in without a session cookie"
        );
        visitor
    }

    /// Opens `page`, takes its form's CSRF field and posts it back to the same path.
    fn confirm(&mut self, page: &str) -> Response {
        let form = self.send("GET", page, &[], b"");
        assert_eq!(form.status, 200, "{page}: {}", form.text());
        let body = format!("csrf={}", encode(&csrf_field(&form)));
        self.send(
            "POST",
            page,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let url = if target.starts_with("http://") {
            target.to_owned()
        } else {
            format!("{}{target}", self.server.url())
        };
        let cookie = self
            .jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut all = headers.to_vec();
        if !cookie.is_empty() {
            all.push(("cookie", &cookie));
        }
        let res = request(method, &url, &all, body)
            .unwrap_or_else(|e| panic!("{method} {target}: no answer ({e})"));
        for (name, value) in res
            .headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next()?.trim().split_once('='))
        {
            self.jar.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.jar.push((name.to_owned(), value.to_owned()));
            }
        }
        res
    }
}

fn csrf_field(page: &Response) -> String {
    let body = page.text();
    let at = body
        .find("name=\"csrf\"")
        .unwrap_or_else(|| panic!("the page has no csrf field:\n{body}"));
    let rest = &body[at..];
    let v = rest.find("value=\"").expect("the csrf value") + "value=\"".len();
    let end = rest[v..].find('"').expect("the end of the csrf value");
    rest[v..v + end].to_owned()
}

/// `application/x-www-form-urlencoded`: everything but unreserved characters escaped.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
    let mut admin = Visitor::member(&server, ADMIN);
    let revoked = admin.confirm(&format!("/{SELLER}/org/{ORG}/seats/{seat_id}/revoke"));
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
        after.text().contains("revoked"),
        "the refusal should say the seat was revoked: {}",
        after.text()
    );
    // Only that seat: the admin's own token still reads.
    let still = packument(&server, &other_seat.secret);
    assert_eq!(still.status, 200, "another seat's token: {}", still.text());
}

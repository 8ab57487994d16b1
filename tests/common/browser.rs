//! A browser for the end-to-end tests: a cookie jar, requests to one server, and forms posted
//! with the page's CSRF field, as the dashboard and org pages are used.

use super::Server;
use super::http::{Response, request};

/// The session cookie's name (`tollgate_web::SESSION_COOKIE`).
pub const SESSION: &str = "tollgate_session";

/// A browser: a cookie jar, and requests to one server.
pub struct Visitor<'a> {
    server: &'a Server,
    jar: Vec<(String, String)>,
}

impl<'a> Visitor<'a> {
    pub fn new(server: &'a Server) -> Self {
        Visitor {
            server,
            jar: Vec::new(),
        }
    }

    /// Follows a printed one-time sign-in `link`: it must answer 303 and leave a session.
    pub fn signed_in(server: &'a Server, link: &str) -> Self {
        let mut v = Visitor::new(server);
        let res = v.get(link);
        assert_eq!(res.status, 303, "the sign-in link: {}", res.text());
        assert!(v.cookie(SESSION).is_some(), "signed in without a session");
        v
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `GET` a path or a full URL.
    pub fn get(&mut self, target: &str) -> Response {
        self.send("GET", target, &[], b"")
    }

    /// Opens `page`, takes its form's CSRF field, and posts `fields` with it to `action`.
    pub fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let form = self.get(page);
        assert_eq!(form.status, 200, "{page}: {}", form.text());
        let csrf = csrf_field(&form);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let body = all
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            "POST",
            action,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    }

    pub fn send(
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
        for (name, value, gone) in set_cookies(&res) {
            self.jar.retain(|(k, _)| *k != name);
            if !gone {
                self.jar.push((name, value));
            }
        }
        res
    }
}

/// The cookies `res` sets: (name, value, whether it is a removal).
pub fn set_cookies(res: &Response) -> Vec<(String, String, bool)> {
    res.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| {
            let mut parts = v.split(';');
            let (name, value) = parts.next()?.trim().split_once('=')?;
            let gone =
                value.is_empty() || parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            Some((name.to_owned(), value.to_owned(), gone))
        })
        .collect()
}

pub fn csrf_field(page: &Response) -> String {
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
pub fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

//! Row 4: names from the URL are checked against their ecosystem's rules before any lookup or
//! cache entry. The issue asked for `a-1-1-…(30 000 times)….gemspec.rz` three times: every
//! name-version split was a query and a cached "not found" (3.5 s each, RSS 22 MB to 2.67 GB).

use std::thread;

use crate::common::Server;
use crate::common::http::{Response, request};
use crate::{Cast, Watch, Who, assert_alive, assert_answer, said};

/// `a-1-1-…-1` with `n` times `-1`: a file name with `n` places to split name from version.
fn splittable(n: usize) -> String {
    format!("a{}", "-1".repeat(n))
}

fn get(server: &Server, path: &str, auth: &str) -> Response {
    request(
        "GET",
        &format!("{}{path}", server.url()),
        &[("authorization", auth)],
        b"",
    )
    .unwrap_or_else(|e| {
        let shown: String = path.chars().take(80).collect();
        panic!("GET {shown}…: no answer ({e})")
    })
}

#[test]
fn row4_a_gemspec_file_name_with_30_000_splits_is_refused_at_once() {
    let server = Server::start();
    let cast = Cast::new(&server);
    let watch = Watch::start(&server);
    let quick = format!(
        "/acme/gems/quick/Marshal.4.8/{}.gemspec.rz",
        splittable(30_000)
    );
    let download = format!("/acme/gems/gems/{}.gem", splittable(30_000));
    let attacks: Vec<_> = [&quick, &quick, &quick, &download]
        .into_iter()
        .map(|path| {
            let (url, path, auth) = (
                server.url().to_owned(),
                path.clone(),
                cast.org.secret.clone(),
            );
            thread::spawn(move || {
                request(
                    "GET",
                    &format!("{url}{path}"),
                    &[("authorization", &auth)],
                    b"",
                )
            })
        })
        .collect();
    for attack in attacks {
        let res = attack
            .join()
            .expect("attack thread")
            .unwrap_or_else(|e| panic!("no answer to a 30 000-split file name: {e}"));
        assert_answer(&res, 404, "not found", "a file name with 30 000 splits");
    }
    // And as every other kind of caller: a name no gem can have is not found for anyone.
    for who in Who::ALL {
        let auth = cast.auth(who, false);
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let res = request("GET", &format!("{}{quick}", server.url()), &headers, b"")
            .unwrap_or_else(|e| panic!("no answer to a 30 000-split file name from {who:?}: {e}"));
        let what = format!("a file name with 30 000 splits from {who:?}");
        assert_answer(&res, 404, "not found", &what);
    }
    watch.check("gemspec requests with 30 000 splits each");
    assert_alive(&server, "gemspec requests with 30 000 splits each");
}

/// Whether a 400 or 404 says why, in a few words every protocol here uses.
fn says_why(res: &Response) -> bool {
    let text = res.text().to_lowercase();
    match res.status {
        404 => text.contains("not found") || text.contains("no registry named"),
        400 => text.contains("utf-8") || text.contains("invalid"),
        _ => false,
    }
}

#[test]
fn long_and_garbage_names_are_4xx_in_every_protocol() {
    let server = Server::start();
    let cast = Cast::new(&server);
    let long = "x".repeat(30_000);
    let garbage = [
        long.clone(),
        "%00%ff%fe".to_owned(),
        "..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "%E2%98%83".repeat(2_000),
        "-".repeat(25_000),
        splittable(12_000),
    ];
    let bearer = format!("Bearer {}", cast.org.secret);
    let raw = cast.org.secret.clone();
    let watch = Watch::start(&server);
    for name in &garbage {
        let short: String = name.chars().take(30).collect();
        let paths = [
            (format!("/acme/npm/{name}"), &bearer),
            (format!("/acme/npm/@acme%2f{name}"), &bearer),
            (format!("/acme/npm/{name}/-/{name}-1.0.0.tgz"), &bearer),
            (format!("/acme/cargo/index/{name}"), &raw),
            (format!("/acme/cargo/index/xx/yy/{name}"), &raw),
            (
                format!("/acme/cargo/api/v1/crates/{name}/1.0.0/download"),
                &raw,
            ),
            (format!("/acme/hex/packages/{name}"), &raw),
            (format!("/acme/hex/tarballs/{name}-1.0.0.tar"), &raw),
            (format!("/acme/gems/info/{name}"), &raw),
            (format!("/acme/gems/gems/{name}.gem"), &raw),
            (
                format!("/acme/gems/quick/Marshal.4.8/{name}.gemspec.rz"),
                &raw,
            ),
            // An over-long or garbage seller slug.
            (format!("/{name}/npm/x"), &bearer),
            (format!("/{name}/cargo/index/config.json"), &raw),
            (format!("/{name}/gems/info/x"), &raw),
            (format!("/{name}/hex/names"), &raw),
            (format!("/{name}/login"), &raw),
        ];
        for (path, auth) in &paths {
            let res = get(&server, path, auth);
            let shown = path.replace(name.as_str(), &format!("<{short}…>"));
            assert!(
                matches!(res.status, 400 | 404),
                "GET {shown}: expected 404 or 400, got {}: {}",
                res.status,
                said(&res).chars().take(300).collect::<String>()
            );
            assert!(
                says_why(&res),
                "GET {shown}: a {} that does not say why: {}",
                res.status,
                said(&res).chars().take(300).collect::<String>()
            );
        }
    }
    // A URI longer than the HTTP layer parses at all (64 KiB): refused there, not a 5xx.
    let res = get(
        &server,
        &format!("/acme/npm/{}", "x".repeat(100_000)),
        &bearer,
    );
    assert!(
        matches!(res.status, 400 | 404 | 414),
        "a 100 KB URI: expected 414, 404 or 400, got {}",
        res.status
    );
    watch.check("long and garbage names");
    assert_alive(&server, "long and garbage names");
}

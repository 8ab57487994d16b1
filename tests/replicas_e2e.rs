//! Two servers on one database and store, as behind a load balancer: a change made through one
//! (or through the CLI) is seen by the other within a second. Runs on whatever backend the run
//! uses (`TOLLGATE_E2E_BACKEND`): SQLite + files by default, PostgreSQL + S3 in CI's second pass.

mod common;

use std::time::{Duration, Instant};

use common::http::request;
use common::{Server, fake_tgz, npm_escape, npm_publish_body};

const LIMIT: Duration = Duration::from_secs(1);
const PKG: &str = "@acme/ui-pro";

fn packument(server: &Server, token: &str) -> common::http::Response {
    let url = format!("{}/acme/npm/{}", server.url(), npm_escape(PKG));
    let auth = format!("Bearer {token}");
    request("GET", &url, &[("authorization", &auth)], &[]).expect("GET packument")
}

fn publish(server: &Server, token: &str, version: &str) {
    let url = format!("{}/acme/npm/{}", server.url(), npm_escape(PKG));
    let auth = format!("Bearer {token}");
    let body = npm_publish_body(PKG, version, &fake_tgz(version.len() as u64, 2048));
    let r = request(
        "PUT",
        &url,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .expect("PUT publish");
    assert_eq!(r.status, 201, "publish {version}: {}", r.text());
}

/// Polls `check` every 5 ms until it holds; returns how long that took (panics after `LIMIT`).
fn within_limit(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if check() {
            return start.elapsed();
        }
        assert!(start.elapsed() < LIMIT, "{what}: not seen within {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn publishes_and_revocations_reach_the_other_replica_within_a_second() {
    let a = Server::start();
    let b = a.replica();
    a.seller("acme");
    a.product("acme", "ui", &["npm:@acme/ui-pro"]);
    a.org("acme", "buyer");
    a.grant("acme", "buyer", "ui", &[]);
    a.cli(&[
        "seat",
        "add",
        "--seller",
        "acme",
        "--org",
        "buyer",
        "dev@buyer.example",
    ]);
    let seat = a.token("acme", &["--org", "buyer", "--seat", "dev@buyer.example"]);
    let publisher = a.publish_token("acme", &[]);

    publish(&a, &publisher.secret, "1.0.0");
    let seen = within_limit("1.0.0 on the replica", || {
        let r = packument(&b, &seat.secret);
        r.status == 200 && r.json()["versions"].get("1.0.0").is_some()
    });
    eprintln!("publish on A listed by B after {seen:?}");

    // B has now cached the packument; a publish through A must still show up on B.
    publish(&a, &publisher.secret, "1.1.0");
    let seen = within_limit("1.1.0 on the replica", || {
        packument(&b, &seat.secret).json()["versions"]
            .get("1.1.0")
            .is_some()
    });
    eprintln!("second publish on A listed by B after {seen:?}");

    // Both replicas have the seat token cached as valid; revoke it through the CLI.
    assert_eq!(packument(&a, &seat.secret).status, 200);
    assert_eq!(packument(&b, &seat.secret).status, 200);
    // One clock, started as the revoke is issued, for both replicas: each must refuse within
    // `LIMIT` of it. They are watched while the CLI runs; once it has returned, the very next
    // request is refused on both (the CLI waits for the servers to apply its change).
    let refused = |server: &Server| {
        let r = packument(server, &seat.secret);
        r.status == 401 && r.text().contains("revoked")
    };
    let revoked = Instant::now();
    let mut refused_after: [Option<Duration>; 2] = [None, None];
    let cli_done = std::thread::scope(|scope| {
        let cli = scope.spawn(|| {
            a.cli(&[
                "seat",
                "revoke",
                "--seller",
                "acme",
                "--org",
                "buyer",
                "dev@buyer.example",
            ]);
            revoked.elapsed()
        });
        while refused_after.iter().any(Option::is_none) && revoked.elapsed() < LIMIT * 10 {
            for (i, server) in [&a, &b].into_iter().enumerate() {
                if refused_after[i].is_none() && refused(server) {
                    refused_after[i] = Some(revoked.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        cli.join().expect("the revoke CLI")
    });
    eprintln!(
        "revoke: refused by A after {:?}, by B after {:?}; the CLI returned after {cli_done:?}",
        refused_after[0], refused_after[1]
    );
    for (name, after) in ["A", "B"].into_iter().zip(refused_after) {
        assert!(
            after.is_some_and(|t| t < LIMIT),
            "replica {name} refused the revoked seat only after {after:?} (None = never), \
             not within {LIMIT:?} of the revoke"
        );
    }
    assert!(
        refused(&a) && refused(&b),
        "a replica served the seat again after the revoke CLI returned"
    );
    assert!(
        cli_done < LIMIT,
        "`tollgate seat revoke` took {cli_done:?}: the revoke is not done within {LIMIT:?}"
    );

    // Ending the grant through the CLI: both replicas refuse with the reason.
    let org = a.org_token("acme", "buyer");
    assert_eq!(packument(&b, &org.secret).status, 200);
    a.grant_end("acme", "buyer", "ui");
    within_limit("the ended grant", || {
        let r = packument(&b, &org.secret);
        r.status == 403 && r.text().contains("ended on")
    });
}

/// A seller's dashboard open on replica B hears of a publish made through replica A: the live
/// events follow the shared change log, not the process that took the write.
#[test]
fn a_dashboard_on_one_replica_hears_a_publish_on_the_other() {
    use std::io::{BufRead, BufReader, Write};

    let a = Server::start();
    let b = a.replica();
    a.seller("acme");
    let token = a.publish_token("acme", &[]);

    // Sign in on B with a printed one-time link; keep its session cookie.
    let link = a.cli_json(&["seller", "login-link", "acme", "--public-url", b.url()])["link"]
        .as_str()
        .expect("a link")
        .to_owned();
    let signed_in = request("GET", &link, &[], &[]).expect("follow the link");
    assert_eq!(signed_in.status, 303, "{signed_in:?}");
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();

    // B's event stream, read line by line.
    let mut stream = std::net::TcpStream::connect(b.authority()).expect("connect to B");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "GET /acme/dashboard/live HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
        b.authority()
    )
    .expect("request the stream");
    let mut lines = BufReader::new(stream.try_clone().expect("clone")).lines();
    let status = lines.next().expect("a status line").expect("read");
    assert!(status.contains(" 200 "), "{status}");
    // The headers are sent before any event: the stream is open once they are read.
    for line in lines.by_ref() {
        if line.expect("read").is_empty() {
            break;
        }
    }

    let started = Instant::now();
    publish(&a, &token.secret, "1.0.0");
    let heard = lines
        .map_while(Result::ok)
        .find(|l| l.contains("data: releases"))
        .map(|_| started.elapsed());
    let heard = heard.expect("B's dashboard stream got no `releases` event");
    assert!(heard < LIMIT, "heard after {heard:?}");
    eprintln!("B's dashboard heard A's publish after {heard:?}");
}

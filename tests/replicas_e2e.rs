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
    a.cli(&[
        "seat",
        "revoke",
        "--seller",
        "acme",
        "--org",
        "buyer",
        "dev@buyer.example",
    ]);
    for (name, server) in [("A", &a), ("B", &b)] {
        let refused = within_limit("the revoke", || {
            let r = packument(server, &seat.secret);
            r.status == 401 && r.text().contains("revoked")
        });
        eprintln!("revoke refused by {name} after {refused:?}");
    }

    // Ending the grant through the CLI: both replicas refuse with the reason.
    let org = a.org_token("acme", "buyer");
    assert_eq!(packument(&b, &org.secret).status, 200);
    a.grant_end("acme", "buyer", "ui");
    within_limit("the ended grant", || {
        let r = packument(&b, &org.secret);
        r.status == 403 && r.text().contains("ended on")
    });
}

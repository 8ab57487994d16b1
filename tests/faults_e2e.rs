//! Faults: unreachable backends at start are a clear error naming the variable; a database that
//! goes away while serving turns requests into 503s, and the server recovers by itself.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::http::request;
use common::{
    CLIENT_TIMEOUT, Server, fake_tgz, npm_escape, npm_publish_body, run_with_timeout,
    tollgate_command,
};

fn start_fails_with(env: &[(&str, &str)], needles: &[&str]) {
    let data = tempfile::tempdir().expect("tempdir");
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let mut cmd = tollgate_command(data.path(), &env);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    let run = run_with_timeout(cmd, Duration::from_secs(60));
    assert!(
        !run.success,
        "serve started on an unreachable backend:\n{}",
        run.output()
    );
    for n in needles {
        assert!(
            run.stderr.contains(n),
            "stderr lacks {n:?}:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn unreachable_database_at_start_names_the_variable_and_address() {
    start_fails_with(
        &[(
            "TOLLGATE_DATABASE_URL",
            "postgres://tollgate:s3cret@127.0.0.1:1/tollgate",
        )],
        &["TOLLGATE_DATABASE_URL", "127.0.0.1:1", "tollgate:***@"],
    );
}

#[test]
fn unreachable_store_at_start_names_the_variable_and_address() {
    start_fails_with(
        &[
            ("TOLLGATE_STORE", "s3://missing-bucket/p"),
            ("TOLLGATE_S3_ENDPOINT", "http://127.0.0.1:1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
        &["TOLLGATE_STORE", "127.0.0.1:1"],
    );
}

/// A PostgreSQL cluster of this test's own, so it can be stopped and started again.
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

impl Cluster {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres")
    }

    fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(Self::script());
        cmd.arg("start").arg(dir.path().join("pg"));
        let run = run_with_timeout(cmd, CLIENT_TIMEOUT);
        assert!(run.success, "scripts/postgres start: {}", run.output());
        let url = run
            .stdout
            .trim()
            .strip_prefix("export TOLLGATE_TEST_POSTGRES_URL=")
            .expect("the URL line")
            .to_owned();
        Cluster { dir, url }
    }

    fn run(&self, what: &str) {
        let mut cmd = Command::new(Self::script());
        cmd.arg(what).arg(self.dir.path().join("pg"));
        let run = run_with_timeout(cmd, CLIENT_TIMEOUT);
        assert!(run.success, "scripts/postgres {what}: {}", run.output());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.run("stop");
    }
}

#[test]
fn database_outage_answers_503_and_recovers() {
    if tollgate_testkit::POSTGRES.url().is_none() {
        return;
    }
    let cluster = Cluster::start();
    let server = Server::start_on(vec![
        ("TOLLGATE_DATABASE_URL".into(), cluster.url.clone()),
        ("TOLLGATE_SECRET_KEY".into(), common::TEST_SECRET_KEY.into()),
    ]);
    server.seller("acme");
    server.product("acme", "ui", &["npm:@acme/a", "npm:@acme/b"]);
    let publisher = server.publish_token("acme", &[]);
    let auth = format!("Bearer {}", publisher.secret);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let url = |name: &str| format!("{}/acme/npm/{}", server.url(), npm_escape(name));
    for name in ["@acme/a", "@acme/b"] {
        let body = npm_publish_body(name, "1.0.0", &fake_tgz(7, 1024));
        let r = request("PUT", &url(name), &headers, &body).expect("publish");
        assert_eq!(r.status, 201, "{}", r.text());
    }
    assert_eq!(
        request("GET", &url("@acme/a"), &headers, &[])
            .expect("GET")
            .status,
        200
    );
    let ready = format!("{}/readyz", server.url());
    assert_eq!(
        request("GET", &ready, &[], &[]).expect("readyz").status,
        200
    );

    cluster.run("stop");
    // Something not cached yet needs the database: a clear 503, and the process keeps running.
    let r = request("GET", &url("@acme/b"), &headers, &[]).expect("GET during outage");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("unavailable"), "{}", r.text());
    assert_eq!(
        request("GET", &ready, &[], &[]).expect("readyz").status,
        503
    );
    let health = format!("{}/healthz", server.url());
    assert_eq!(
        request("GET", &health, &[], &[]).expect("healthz").status,
        200
    );

    cluster.run("resume");
    let start = Instant::now();
    loop {
        let r = request("GET", &url("@acme/b"), &headers, &[]).expect("GET after outage");
        if r.status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no recovery: {} {}",
            r.status,
            r.text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "recovered {:?} after the database came back",
        start.elapsed()
    );
    assert_eq!(
        request("GET", &ready, &[], &[]).expect("readyz").status,
        200
    );
}

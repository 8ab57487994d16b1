//! Shared harness for the end-to-end tests: starts the real `tollgate` binary on port 0 with a
//! temporary data directory, drives its CLI against the same data directory, and runs client
//! tools (npm, cargo, gem, mix …) with a hard timeout so a hung client fails the test instead of
//! hanging CI.
//!
//! Each test crate under `tests/` includes this with `mod common;`; not every crate uses every
//! helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod http;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long the server may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default hard limit for one client invocation (npm install, cargo build …).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// Path of the binary under test, built by cargo for integration tests.
pub fn tollgate_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tollgate")
}

/// A running `tollgate serve` with its own data directory. Killed on drop.
pub struct Server {
    child: Child,
    /// Shared with replicas started from this server.
    data: Arc<TempDir>,
    /// Backend settings (`TOLLGATE_DATABASE_URL`, `TOLLGATE_STORE`, …) for the server and CLI.
    env: Vec<(String, String)>,
    url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `tollgate --data <tmp> serve --listen 127.0.0.1:0` and waits for
    /// `listening on http://…`.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// Like [`Server::start`], with extra arguments after `serve` (e.g. `--public-url`).
    pub fn start_with(extra: &[&str]) -> Server {
        let data = tempfile::Builder::new()
            .prefix("tollgate-e2e-")
            .tempdir()
            .expect("create temp data dir");
        Self::spawn(Arc::new(data), backend_env(), extra)
    }

    /// A server on explicitly given backend settings (e.g. a PostgreSQL the test controls).
    pub fn start_on(env: Vec<(String, String)>) -> Server {
        let data = tempfile::Builder::new()
            .prefix("tollgate-e2e-")
            .tempdir()
            .expect("create temp data dir");
        Self::spawn(Arc::new(data), env, &[])
    }

    /// A second server on the same database and store (a replica behind a load balancer).
    pub fn replica(&self) -> Server {
        Self::spawn(Arc::clone(&self.data), self.env.clone(), &[])
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the server to stop (SIGTERM) and waits until it has exited; returns whether it
    /// exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "could not send SIGTERM");
        self.child.wait().is_ok_and(|s| s.success())
    }

    /// Starts the server again on the same data (after [`Server::kill`]); the port may change.
    pub fn restart(&mut self) {
        self.kill();
        let mut again = Self::spawn(Arc::clone(&self.data), self.env.clone(), &[]);
        std::mem::swap(&mut self.child, &mut again.child);
        std::mem::swap(&mut self.url, &mut again.url);
        std::mem::swap(&mut self.log, &mut again.log);
        // `again` now holds the dead process; dropping it only reaps it.
    }

    fn spawn(data: Arc<TempDir>, env: Vec<(String, String)>, extra: &[&str]) -> Server {
        let mut cmd = tollgate_command(data.path(), &env);
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn tollgate serve");

        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        drain_into(stderr, Arc::clone(&log), "stderr");

        // Read stdout lines until the listening line shows up, then keep draining in the same
        // thread so the pipe never fills up.
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let out_log = Arc::clone(&log);
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut sent = false;
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                append(&out_log, "stdout", &line);
                if !sent && let Some(rest) = line.trim().split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    sent = tx.send(url).is_ok();
                }
            }
        });

        let url = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                // Give the drain threads a moment to collect the last output.
                thread::sleep(Duration::from_millis(100));
                let logs = log.lock().map(|l| l.clone()).unwrap_or_default();
                panic!(
                    "tollgate serve did not print `listening on http://…` ({e:?}); output:\n{logs}"
                );
            }
        };
        let url = url.trim_end_matches('/').to_string();
        assert!(
            url.starts_with("http://"),
            "unexpected listening url {url:?}"
        );
        Server {
            child,
            data,
            env,
            url,
            log,
        }
    }

    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `host:port` part of the URL, e.g. `127.0.0.1:41234`.
    pub fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// The server's process id (for readings under `/proc`, see [`rss_kb`]).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The database URL the server uses: `TOLLGATE_DATABASE_URL` when the backend sets one,
    /// else its default SQLite file `<data>/tollgate.db` as a `sqlite://` URL.
    pub fn database_url(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "TOLLGATE_DATABASE_URL")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| {
                format!("sqlite://{}", self.data_dir().join("tollgate.db").display())
            })
    }

    /// The server's data directory (SQLite database, blob store …).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Everything the server printed so far (stdout and stderr, prefixed).
    pub fn logs(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Runs `tollgate --data <dir> ARGS…` and returns its raw output.
    pub fn try_cli(&self, args: &[&str]) -> Output {
        tollgate_command(self.data.path(), &self.env)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tollgate CLI")
    }

    /// Runs a CLI command that must succeed; returns stdout. Panics with stderr otherwise.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.try_cli(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "`tollgate {}` failed ({}):\nstderr:\n{stderr}\nstdout:\n{stdout}",
            args.join(" "),
            out.status
        );
        stdout
    }

    /// Runs a CLI command that must fail with a message on stderr; returns stderr.
    pub fn cli_fail(&self, args: &[&str]) -> String {
        let out = self.try_cli(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "`tollgate {}` succeeded but should have failed:\nstdout:\n{stdout}\nstderr:\n{stderr}",
            args.join(" ")
        );
        assert!(
            !stderr.trim().is_empty(),
            "`tollgate {}` failed without a message on stderr",
            args.join(" ")
        );
        stderr
    }

    /// Runs a CLI command with `--json` appended and parses stdout.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.cli(&all);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| {
            panic!(
                "`tollgate {}` printed invalid JSON ({e}):\n{out}",
                all.join(" ")
            )
        })
    }

    // ---- fixtures: thin builders over the CLI -------------------------------------------

    /// `seller create SLUG --name … --email …`
    pub fn seller(&self, slug: &str) {
        let name = format!("{slug} Inc");
        let email = format!("owner@{slug}.example");
        self.cli(&["seller", "create", slug, "--name", &name, "--email", &email]);
    }

    /// `product create --seller S PRODUCT --package P…` (packages as `eco:name`).
    pub fn product(&self, seller: &str, product: &str, packages: &[&str]) {
        let mut args = vec!["product", "create", "--seller", seller, product];
        for p in packages {
            args.push("--package");
            args.push(p);
        }
        self.cli(&args);
    }

    /// `org create --seller S ORG --name …`
    pub fn org(&self, seller: &str, org: &str) {
        let name = format!("{org} Ltd");
        self.cli(&["org", "create", "--seller", seller, org, "--name", &name]);
    }

    /// `grant --seller S --org O --product P [EXTRA…]` (e.g. `--rule perpetual_fallback`).
    pub fn grant(&self, seller: &str, org: &str, product: &str, extra: &[&str]) {
        let mut args = vec![
            "grant",
            "--seller",
            seller,
            "--org",
            org,
            "--product",
            product,
        ];
        args.extend_from_slice(extra);
        self.cli(&args);
    }

    /// `grant end --seller S --org O --product P`
    pub fn grant_end(&self, seller: &str, org: &str, product: &str) {
        self.cli(&[
            "grant",
            "end",
            "--seller",
            seller,
            "--org",
            org,
            "--product",
            product,
        ]);
    }

    /// `token create --seller S ARGS… --json` → the created token.
    pub fn token(&self, seller: &str, args: &[&str]) -> Token {
        let mut all = vec!["token", "create", "--seller", seller];
        all.extend_from_slice(args);
        let v = self.cli_json(&all);
        let field = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_else(|| panic!("`token create` JSON lacks string {k:?}: {v}"))
                .to_string()
        };
        Token {
            id: field("id"),
            kind: field("kind"),
            secret: field("token"),
        }
    }

    /// A publish token (optionally limited to packages `eco:name`).
    pub fn publish_token(&self, seller: &str, packages: &[&str]) -> Token {
        let mut args = vec!["--publish"];
        for p in packages {
            args.push("--package");
            args.push(p);
        }
        self.token(seller, &args)
    }

    /// An org token.
    pub fn org_token(&self, seller: &str, org: &str) -> Token {
        self.token(seller, &["--org", org])
    }

    // ---- the package store in use ---------------------------------------------------------

    /// The sha256 of every blob in the package store this server uses (`TOLLGATE_STORE`: the
    /// run's S3 prefix on the postgres-s3 pass, else the data directory), sorted. Read through
    /// the registry's own store API, as `tollgate gc` lists it.
    pub fn stored_blobs(&self) -> Vec<String> {
        let mut blobs: Vec<String> = self
            .with_store(|store| async move { store.list_blobs().await })
            .into_iter()
            .map(|(sha256, _)| sha256)
            .collect();
        blobs.sort();
        blobs
    }

    /// Writes `bytes` as a blob into the store this server uses (e.g. an orphan no release
    /// references); returns its sha256.
    pub fn store_blob(&self, bytes: &[u8]) -> String {
        let bytes = bytes.to_vec();
        self.with_store(|store| async move { store.put_bytes(&bytes).await })
            .sha256
    }

    /// Where this server keeps its blobs, for messages: `s3://bucket/prefix` or a path.
    pub fn store_spec(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "TOLLGATE_STORE")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| self.data_dir().display().to_string())
    }

    /// Opens the server's store as the CLI would (its settings, then this process's
    /// environment for the rest, e.g. AWS credentials) and runs `f` on it.
    fn with_store<T, F>(&self, f: impl FnOnce(tollgate_registry::store::Store) -> F) -> T
    where
        F: std::future::Future<Output = tollgate_registry::Result<T>>,
    {
        let spec = self.store_spec();
        let env = |name: &str| {
            self.env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| match name.starts_with("TOLLGATE_") {
                    // Like `tollgate_command`: the caller's own settings don't leak in.
                    true => None,
                    false => std::env::var(name).ok(),
                })
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the store");
        runtime.block_on(async {
            let store = tollgate_registry::store::Store::connect_with_env(&spec, env)
                .await
                .unwrap_or_else(|e| panic!("open the store {spec}: {e}"));
            f(store)
                .await
                .unwrap_or_else(|e| panic!("the store {spec}: {e}"))
        })
    }

    /// `tollgate downloads --seller S --json` (newest first).
    pub fn downloads(&self, seller: &str) -> Vec<serde_json::Value> {
        match self.cli_json(&["downloads", "--seller", seller]) {
            serde_json::Value::Array(a) => a,
            other => panic!("`tollgate downloads --json` did not print an array: {other}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!(
                "---- tollgate server output ({}) ----\n{}",
                self.url,
                self.logs()
            );
        }
    }
}

/// A token as printed by `tollgate token create --json`.
#[derive(Debug, Clone)]
pub struct Token {
    pub id: String,
    pub kind: String,
    pub secret: String,
}

/// `tollgate --data DIR` with inherited `TOLLGATE_*` variables removed so the caller's shell
/// can't change what the test sees.
pub fn tollgate_command(data: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(tollgate_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TOLLGATE_") {
            cmd.env_remove(&k);
        }
    }
    cmd.arg("--data").arg(data).envs(env.iter().cloned());
    cmd
}

/// The database and store the servers of this run use. SQLite and the data folder by default;
/// with `TOLLGATE_E2E_BACKEND=postgres-s3` (set by `.ci/run` for a second pass) a fresh
/// PostgreSQL database per server from `TOLLGATE_TEST_POSTGRES_URL` and a fresh prefix in the
/// `tollgate-e2e` bucket at `TOLLGATE_TEST_S3_ENDPOINT`.
pub fn backend_env() -> Vec<(String, String)> {
    let backend = std::env::var("TOLLGATE_E2E_BACKEND").unwrap_or_default();
    let mut env = Vec::new();
    if backend.contains("postgres") {
        let url = std::env::var("TOLLGATE_TEST_POSTGRES_URL")
            .expect("TOLLGATE_E2E_BACKEND=postgres… needs TOLLGATE_TEST_POSTGRES_URL");
        let name = format!("tge2e_{}", unique_suffix());
        let out = Command::new("psql")
            .args([url.as_str(), "-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "CREATE DATABASE failed: {out:?}");
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        env.push(("TOLLGATE_DATABASE_URL".into(), format!("{base}/{name}")));
        env.push(("TOLLGATE_SECRET_KEY".into(), TEST_SECRET_KEY.into()));
    }
    if backend.contains("s3") {
        let endpoint = std::env::var("TOLLGATE_TEST_S3_ENDPOINT")
            .expect("TOLLGATE_E2E_BACKEND=…s3 needs TOLLGATE_TEST_S3_ENDPOINT");
        env.push((
            "TOLLGATE_STORE".into(),
            format!("s3://tollgate-e2e/{}", unique_suffix()),
        ));
        env.push(("TOLLGATE_S3_ENDPOINT".into(), endpoint));
        env.push(("TOLLGATE_S3_PATH_STYLE".into(), "true".into()));
    }
    env
}

/// The secret key servers on a shared PostgreSQL are given (32 bytes, base64).
pub const TEST_SECRET_KEY: &str = "dG9sbGdhdGUtZTJlLXRlc3Qtc2VjcmV0LWtleS0zMmI=";

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn append(log: &Mutex<String>, stream: &str, line: &str) {
    if let Ok(mut l) = log.lock() {
        l.push_str(stream);
        l.push_str(": ");
        l.push_str(line.trim_end_matches('\n'));
        l.push('\n');
    }
}

fn drain_into<R: Read + Send + 'static>(r: R, log: Arc<Mutex<String>>, stream: &'static str) {
    thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => append(&log, stream, &line),
            }
        }
    });
}

/// Resident memory of process `pid` now (`VmRSS` in `/proc/PID/status`), in KiB; 0 once the
/// process is gone.
pub fn rss_kb(pid: u32) -> u64 {
    proc_status_kb(pid, "VmRSS")
}

/// The most resident memory process `pid` has held since it started (`VmHWM`), in KiB; 0 once
/// the process is gone.
pub fn peak_rss_kb(pid: u32) -> u64 {
    proc_status_kb(pid, "VmHWM")
}

/// A `Field:   1234 kB` line of `/proc/PID/status`.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Output of a client run.
#[derive(Debug, Clone)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout followed by stderr, for assertions on what a person would see.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` to completion with a hard timeout, capturing stdout and stderr. On timeout the
/// process is killed and the run reported as failed with a note in stderr.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Run {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {desc}: {e}"));
    let read_all = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out_t = read_all(Box::new(child.stdout.take().expect("piped stdout")));
    let err_t = read_all(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("wait for {desc}: {e}"),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let mut stderr = err_t.join().unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\n[harness] killed after {timeout:?}: {desc}\n"));
    }
    Run {
        success: status.is_some_and(|s| s.success()),
        stdout,
        stderr,
    }
}

/// Writes `contents` to `dir/rel`, creating parent directories.
pub fn write_file(dir: &Path, rel: &str, contents: &str) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent dir");
    }
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// The body `npm publish` sends for `name@version` with tarball bytes `tgz` (digests omitted:
/// the server computes them), for tests that publish without the npm CLI.
pub fn npm_publish_body(name: &str, version: &str, tgz: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(tgz);
    serde_json::to_vec(&serde_json::json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version}},
        "_attachments": {format!("{name}-{version}.tgz"): {
            "content_type": "application/octet-stream", "data": data, "length": tgz.len()}}
    }))
    .expect("publish body")
}

/// Deterministic pseudo-random bytes that start like a gzip file (the registry checks the magic).
pub fn fake_tgz(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = vec![0x1f, 0x8b, 8, 0];
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len.max(4));
    out
}

/// `npm:{name}` packument URL path segment: `@scope/name` → `@scope%2fname`.
pub fn npm_escape(name: &str) -> String {
    name.replace('/', "%2f")
}

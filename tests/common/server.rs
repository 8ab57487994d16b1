//! The server under test: `tollgate serve` on port 0 with its own data directory, its output
//! kept for the failure message, killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

use super::backend::{backend_env, tollgate_command};

/// How long the server may take to print its `listening on` line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `tollgate serve` with its own data directory. Killed on drop.
pub struct Server {
    child: Child,
    /// Shared with replicas started from this server.
    pub(super) data: Arc<TempDir>,
    /// Backend settings (`TOLLGATE_DATABASE_URL`, `TOLLGATE_STORE`, …) for the server and CLI.
    pub(super) env: Vec<(String, String)>,
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

    /// The server's process id (for readings under `/proc`, see [`rss_kb`](super::rss_kb)).
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

//! Headless Chromium through chromedriver, driven with fantoccini over plain HTTP on loopback.
//!
//! Each test starts its own chromedriver on a free port (killed on drop, after it is asked to
//! shut its browsers down) and one browser session with the capabilities `../shared/SERVICES.md`
//! gives. The wrapper is blocking: it owns a small tokio runtime and runs each WebDriver command
//! to completion, so tests can run the real npm between browser steps without async plumbing.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long chromedriver may take to answer `GET /status` with `ready: true`.
const DRIVER_STARTUP: Duration = Duration::from_secs(20);

/// Where chromedriver is, or `None` when the browser tests are skipped (a failure under `CI`:
/// `tollgate-testkit`).
pub fn chromedriver_or_skip() -> Option<PathBuf> {
    if !tollgate_testkit::tool("chromedriver", "apt-get install chromium chromium-driver") {
        return None;
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromedriver"))
            .find(|p| p.is_file())
    });
    Some(found.expect("chromedriver runs, so it is on PATH"))
}

/// A chromedriver process on a free loopback port.
struct Chromedriver {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Chromedriver {
    fn start(bin: &Path, dir: &Path) -> Chromedriver {
        let port = free_port();
        let log = dir.join("chromedriver.log");
        let out = File::create(&log).expect("create chromedriver log");
        let err = out.try_clone().expect("clone chromedriver log handle");
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let mut driver = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        loop {
            let status = driver.get("/status").unwrap_or_default();
            let status: Value = serde_json::from_str(&status).unwrap_or_default();
            if status["value"]["ready"] == json!(true) {
                return driver;
            }
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!("chromedriver exited ({exit}):\n{}", driver.logs());
            }
            if start.elapsed() > DRIVER_STARTUP {
                let _ = driver.child.kill();
                panic!(
                    "chromedriver did not answer /status within {DRIVER_STARTUP:?}:\n{}",
                    driver.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` on the driver; the body, read by its `Content-Length` (chromedriver keeps the
    /// connection open whatever the request says).
    fn get(&self, path: &str) -> std::io::Result<String> {
        let authority = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )?;
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&raw);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok());
                if len.is_some_and(|len| body.len() >= len) {
                    return Ok(body.to_owned());
                }
            }
        }
        let text = String::from_utf8_lossy(&raw);
        Ok(text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned())
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // `/shutdown` ends the sessions (and so their Chromium processes) before the driver exits;
        // killing the driver alone could leave a headless browser behind.
        let _ = self.get("/shutdown");
        for _ in 0..40 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

/// One headless browser window. Blocking: every method runs its WebDriver commands to the end.
pub struct Browser {
    // Field order matters for drop: the session goes before the runtime and the driver.
    client: Option<Client>,
    rt: tokio::runtime::Runtime,
    driver: Chromedriver,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless session (1280×900), or `None` when the test is skipped.
    pub fn start() -> Option<Browser> {
        let bin = chromedriver_or_skip()?;
        let dir = tempfile::Builder::new()
            .prefix("tollgate-browser-")
            .tempdir()
            .expect("create browser temp dir");
        let driver = Chromedriver::start(&bin, dir.path());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let caps = json!({"goog:chromeOptions": {"args": [
            "--headless", "--no-sandbox", "--window-size=1280,900", "--disable-dev-shm-usage"
        ]}});
        let Value::Object(caps) = caps else {
            unreachable!("a JSON object literal")
        };
        let client = rt
            .block_on(
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(caps)
                    .connect(&driver.url),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "no browser session from chromedriver: {e}\n{}",
                    driver.logs()
                )
            });
        Some(Browser {
            client: Some(client),
            rt,
            driver,
            _dir: dir,
        })
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("browser session is open")
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The path of the page shown now (`/acme/dashboard`).
    pub fn path(&self) -> String {
        let url = self
            .rt
            .block_on(self.client().current_url())
            .expect("current url");
        url.path().to_owned()
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub fn js(&self, script: &str) -> Value {
        self.rt
            .block_on(self.client().execute(script, vec![]))
            .unwrap_or_else(|e| panic!("run script in the page: {e}\nscript: {script}"))
    }

    /// The visible text of the first element matching `css`, or `None` if there is none.
    pub fn text(&self, css: &str) -> Option<String> {
        let v = self.js(&format!(
            "var e = document.querySelector({}); return e ? e.innerText : null;",
            json!(css)
        ));
        v.as_str().map(str::to_owned)
    }

    /// Types `text` into the first element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        self.rt.block_on(async {
            let el = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css} on {}: {e}", self.path()));
            el.send_keys(text)
                .await
                .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        });
    }

    /// Clicks the first element matching `css` (a link, a button) and waits for what follows.
    pub fn click(&self, css: &str) {
        self.rt.block_on(async {
            let el = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no {css} on {}: {e}", self.path()));
            el.click()
                .await
                .unwrap_or_else(|e| panic!("click {css}: {e}"));
        });
        self.wait_loaded();
    }

    /// Waits until the document has finished loading (after a click that navigates).
    pub fn wait_loaded(&self) {
        self.wait_for(
            "the page to load",
            Duration::from_secs(10),
            "return document.readyState === 'complete';",
        );
    }

    /// Polls `script` every 25 ms until it returns something other than `null`/`false`/`""`;
    /// returns that value and how long it took. Panics after `timeout` naming `what`.
    pub fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> (Value, Duration) {
        let start = Instant::now();
        loop {
            let v = self.js(script);
            let done = !matches!(&v, Value::Null | Value::Bool(false))
                && v.as_str().is_none_or(|s| !s.is_empty());
            if done {
                return (v, start.elapsed());
            }
            if start.elapsed() > timeout {
                panic!(
                    "waited {timeout:?} for {what} on {}; the page shows:\n{}",
                    self.path(),
                    self.text("body").unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Resizes the window (a phone: 390 × 844).
    pub fn resize(&self, width: u32, height: u32) {
        self.rt
            .block_on(self.client().set_window_size(width, height))
            .unwrap_or_else(|e| panic!("resize to {width}x{height}: {e}"));
    }

    /// Saves a PNG of the window as `dir/name.png` and returns its path.
    pub fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        assert!(
            png.starts_with(b"\x89PNG"),
            "screenshot {name} is not a PNG"
        );
        std::fs::create_dir_all(dir).expect("create screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), client.close()).await
            });
        }
        if std::thread::panicking() {
            eprintln!("---- chromedriver log ----\n{}", self.driver.logs());
        }
    }
}

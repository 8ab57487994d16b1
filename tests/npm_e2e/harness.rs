//! The npm side of the tests: one npm "user" per temp dir, its `.npmrc`, what it installed, and
//! the seller and org set up through the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use crate::common::{CLIENT_TIMEOUT, Run, Server, run_with_timeout, write_file};
use serde_json::Value;
use tempfile::TempDir;

pub(crate) const SELLER: &str = "acme";
pub(crate) const PRODUCT: &str = "ui";
pub(crate) const UI_PRO: &str = "@acme/ui-pro";

/// The npm registry URL of a seller, with the trailing slash npm expects.
pub(crate) fn registry(server: &Server, seller: &str) -> String {
    format!("{}/{}/npm/", server.url(), seller)
}

/// `.npmrc` routing the `@acme` scope to `registry_url`, with an `_authToken` for it if given.
pub(crate) fn npmrc(registry_url: &str, token: Option<&str>) -> String {
    let mut s = format!("@acme:registry={registry_url}\n");
    if let Some(t) = token {
        let nerf = registry_url.trim_start_matches("http:");
        s.push_str(&format!("{nerf}:_authToken={t}\n"));
    }
    s
}

/// One npm "user": own HOME, cache and userconfig in a temp dir. Creating a new one is how a
/// test gets a cold cache.
pub(crate) struct Npm {
    pub(crate) root: TempDir,
}

impl Npm {
    pub(crate) fn new(npmrc: &str) -> Npm {
        let root = tempfile::Builder::new()
            .prefix("tollgate-npm-")
            .tempdir()
            .expect("create npm temp dir");
        std::fs::create_dir_all(root.path().join("home")).expect("create HOME");
        std::fs::create_dir_all(root.path().join("cache")).expect("create cache");
        write_file(root.path(), "npmrc", npmrc);
        Npm { root }
    }

    /// Same `.npmrc`, new HOME and an empty cache.
    pub(crate) fn fresh(&self) -> Npm {
        let rc = std::fs::read_to_string(self.root.path().join("npmrc")).expect("read npmrc");
        Npm::new(&rc)
    }

    pub(crate) fn npmrc_text(&self) -> String {
        std::fs::read_to_string(self.root.path().join("npmrc")).unwrap_or_default()
    }

    /// Runs `npm ARGS…` in `dir`.
    pub(crate) fn run(&self, dir: &Path, args: &[&str]) -> Run {
        let root = self.root.path();
        let mut cmd = Command::new("npm");
        for (k, _) in std::env::vars_os() {
            let k_str = k.to_string_lossy().to_ascii_lowercase();
            if k_str.starts_with("npm_config_") || k_str == "npm_token" {
                cmd.env_remove(&k);
            }
        }
        cmd.current_dir(dir)
            .args(args)
            .env("HOME", root.join("home"))
            .env("npm_config_cache", root.join("cache"))
            .env("npm_config_userconfig", root.join("npmrc"))
            .env("npm_config_globalconfig", root.join("global-npmrc"))
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_update_notifier", "false")
            .env("npm_config_progress", "false")
            .env("npm_config_color", "false")
            // Fail fast instead of retrying for a minute when something is wrong.
            .env("npm_config_fetch_retries", "0")
            .env("npm_config_fetch_timeout", "60000")
            .env("NO_UPDATE_NOTIFIER", "1");
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    /// Runs npm and asserts success.
    pub(crate) fn ok(&self, dir: &Path, args: &[&str]) -> Run {
        let run = self.run(dir, args);
        assert!(
            run.success,
            "`npm {}` in {} failed:\n{}\n.npmrc:\n{}",
            args.join(" "),
            dir.display(),
            run.output(),
            self.npmrc_text()
        );
        run
    }

    /// Runs npm and asserts failure whose output contains every needle (case-insensitive).
    pub(crate) fn fails_with(&self, dir: &Path, args: &[&str], needles: &[&str]) -> Run {
        let run = self.run(dir, args);
        assert!(
            !run.success,
            "`npm {}` succeeded but should have failed:\n{}",
            args.join(" "),
            run.output()
        );
        // Shown with `--nocapture`: what the user would see.
        eprintln!(
            "---- `npm {}` failed as expected:\n{}",
            args.join(" "),
            run.output()
        );
        assert_output_contains(&run, args, needles);
        run
    }

    /// Runs npm with `--json` appended, asserts success and parses stdout.
    pub(crate) fn json(&self, dir: &Path, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let run = self.ok(dir, &all);
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "`npm {}` printed invalid JSON ({e}):\n{}",
                all.join(" "),
                run.output()
            )
        })
    }

    /// A new, empty buyer project (package.json only) inside this npm's temp dir.
    pub(crate) fn project(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join("projects").join(name);
        write_file(
            &dir,
            "package.json",
            &format!(r#"{{"name":"{name}","version":"1.0.0","private":true}}"#),
        );
        dir
    }

    /// A publishable package directory `name@version` whose index.js exports `body`.
    pub(crate) fn package(&self, name: &str, version: &str, body: &str) -> PathBuf {
        let dir = self.root.path().join("packages").join(format!(
            "{}-{version}-{}",
            name.replace('/', "+"),
            unique()
        ));
        write_file(
            &dir,
            "package.json",
            &format!(
                r#"{{"name":"{name}","version":"{version}","description":"fixture","main":"index.js","license":"UNLICENSED"}}"#
            ),
        );
        write_file(&dir, "index.js", &format!("module.exports = {body:?};\n"));
        dir
    }

    /// Generates and publishes `name@version`.
    pub(crate) fn publish(&self, name: &str, version: &str) {
        let dir = self.package(name, version, &format!("{name} {version}"));
        self.ok(&dir, &["publish"]);
    }

    /// `npm view NAME versions --json` as a sorted list (npm prints a bare string for one).
    pub(crate) fn versions(&self, dir: &Path, name: &str, extra: &[&str]) -> Vec<String> {
        let mut args = vec!["view", name, "versions"];
        args.extend_from_slice(extra);
        let mut v = match self.json(dir, &args) {
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect(),
            Value::String(s) => vec![s],
            other => panic!("unexpected `npm view {name} versions --json` output: {other}"),
        };
        v.sort();
        v
    }
}

pub(crate) fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn assert_output_contains(run: &Run, args: &[&str], needles: &[&str]) {
    let out = run.output();
    let lower = out.to_lowercase();
    for n in needles {
        assert!(
            lower.contains(&n.to_lowercase()),
            "output of `npm {}` does not contain {n:?}:\n{out}",
            args.join(" ")
        );
    }
}

/// The `package.json` npm installed at `project/node_modules/<name>`.
pub(crate) fn installed_manifest(project: &Path, name: &str) -> Value {
    let path = project.join("node_modules").join(name).join("package.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} not installed ({e})", path.display()));
    serde_json::from_str(&text).expect("installed package.json is JSON")
}

pub(crate) fn installed_version(project: &Path, name: &str) -> String {
    installed_manifest(project, name)["version"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub(crate) fn assert_installed(project: &Path, name: &str, version: &str) {
    assert_eq!(
        installed_version(project, name),
        version,
        "wrong version of {name} installed"
    );
    let index = project.join("node_modules").join(name).join("index.js");
    let js = std::fs::read_to_string(&index)
        .unwrap_or_else(|e| panic!("{} missing ({e})", index.display()));
    assert!(
        js.contains(&format!("{name} {version}")),
        "{} has unexpected content: {js}",
        index.display()
    );
}

/// Seller `acme` with product `ui` = {`@acme/ui-pro`, `acme-utils`}.
pub(crate) fn acme(server: &Server) {
    server.seller(SELLER);
    server.product(SELLER, PRODUCT, &["npm:@acme/ui-pro", "npm:acme-utils"]);
}

/// Org `org` of acme with a grant on `ui` (extra grant args, e.g. the rule) and an org token.
pub(crate) fn licensed_org(
    server: &Server,
    org: &str,
    grant_args: &[&str],
) -> crate::common::Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, grant_args);
    let t = server.org_token(SELLER, org);
    assert_eq!(t.kind, "org");
    assert!(t.secret.starts_with("tg_"), "token secret format: {t:?}");
    t
}

pub(crate) fn pause() {
    thread::sleep(Duration::from_millis(50));
}

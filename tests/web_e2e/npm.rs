//! The real `npm` CLI with its own HOME, cache and `.npmrc` in a temp dir (as in
//! `tests/npm_e2e.rs`, cut down to publish and install).

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{CLIENT_TIMEOUT, Run, Server, run_with_timeout, write_file};

/// One npm "user" of seller `seller`'s registry with `token`.
pub struct Npm {
    root: TempDir,
}

impl Npm {
    /// A user whose `@{seller}` scope goes to the seller's npm registry on `server`, with `token`.
    pub fn new(server: &Server, seller: &str, token: &str) -> Npm {
        let registry = format!("{}/{seller}/npm/", server.url());
        let nerf = registry.trim_start_matches("http:");
        let rc = format!("@{seller}:registry={registry}\n{nerf}:_authToken={token}\n");
        let root = tempfile::Builder::new()
            .prefix("tollgate-web-npm-")
            .tempdir()
            .expect("create npm temp dir");
        std::fs::create_dir_all(root.path().join("home")).expect("create HOME");
        write_file(root.path(), "npmrc", &rc);
        Npm { root }
    }

    /// Runs `npm ARGS…` in `dir` with a cache of its own (`fresh` makes it a new, empty one).
    pub fn run(&self, dir: &Path, args: &[&str], cache: &str) -> Run {
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
            .env("npm_config_cache", root.join("cache").join(cache))
            .env("npm_config_userconfig", root.join("npmrc"))
            .env("npm_config_globalconfig", root.join("global-npmrc"))
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_update_notifier", "false")
            .env("npm_config_progress", "false")
            .env("npm_config_color", "false")
            .env("npm_config_fetch_retries", "0")
            .env("npm_config_fetch_timeout", "60000")
            .env("NO_UPDATE_NOTIFIER", "1");
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    /// Runs npm and asserts success.
    pub fn ok(&self, dir: &Path, args: &[&str]) -> Run {
        let run = self.run(dir, args, "default");
        assert!(
            run.success,
            "`npm {}` in {} failed:\n{}",
            args.join(" "),
            dir.display(),
            run.output()
        );
        run
    }

    /// Writes `name@version` (an index.js exporting a string) and publishes it with `npm publish`.
    pub fn publish(&self, name: &str, version: &str) -> Run {
        let dir = self
            .root
            .path()
            .join("packages")
            .join(format!("{}-{version}", name.replace('/', "+")));
        write_file(
            &dir,
            "package.json",
            &format!(
                r#"{{"name":"{name}","version":"{version}","description":"fixture","main":"index.js","license":"UNLICENSED"}}"#
            ),
        );
        write_file(
            &dir,
            "index.js",
            &format!("module.exports = \"{name} {version}\";\n"),
        );
        self.ok(&dir, &["publish"])
    }

    /// A new, empty buyer project (package.json only).
    pub fn project(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join("projects").join(name);
        write_file(
            &dir,
            "package.json",
            &format!(r#"{{"name":"{name}","version":"1.0.0","private":true}}"#),
        );
        dir
    }

    /// `npm install SPEC --prefer-online` in a new project with an empty cache: what a fresh
    /// CI checkout of a buyer would do.
    pub fn install_fresh(&self, project: &str, spec: &str) -> Run {
        let dir = self.project(project);
        self.run(&dir, &["install", spec, "--prefer-online"], project)
    }
}

//! Driving the server's CLI against its data directory, and the fixtures built with it.

use std::process::{Output, Stdio};

use super::backend::tollgate_command;
use super::server::Server;

impl Server {
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

    /// `tollgate downloads --seller S --json` (newest first).
    pub fn downloads(&self, seller: &str) -> Vec<serde_json::Value> {
        match self.cli_json(&["downloads", "--seller", seller]) {
            serde_json::Value::Array(a) => a,
            other => panic!("`tollgate downloads --json` did not print an array: {other}"),
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

//! End-to-end: the real `tollgate` binary on port 0 with a temporary data directory, driven by
//! the real `cargo` with a temporary `CARGO_HOME`, `HOME` and target directory per user.
//!
//! Each test starts its own server, so they run in parallel. The fixture crates depend only on
//! each other (no crates.io), and every cargo invocation sees only the local registry. Assertions
//! print what cargo printed, because that is what a buyer or seller would see.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::{CLIENT_TIMEOUT, Run, Server, Token, run_with_timeout, write_file};
use tempfile::TempDir;

const SELLER: &str = "acme";
const PRODUCT: &str = "pro";
const CORE: &str = "acme-core";
const MACROS: &str = "acme_macros";
/// `cargo publish` without the verification build (for tests about the upload itself).
const PUBLISH_NO_VERIFY: &[&str] = &[
    "publish",
    "--registry",
    SELLER,
    "--allow-dirty",
    "--no-verify",
];

// ---- cargo harness ----------------------------------------------------------------------------

/// The sparse index URL of a seller, as it goes into `config.toml` and `Cargo.lock`.
fn index_url(server: &Server, seller: &str) -> String {
    format!("sparse+{}/{seller}/cargo/index/", server.url())
}

/// One cargo "user": own `HOME`, `CARGO_HOME` (with the registry configured), target directory
/// and token, all in a temp dir. Creating a new one is how a test gets a cold cache.
struct Cargo {
    root: TempDir,
    index: String,
    token: String,
}

impl Cargo {
    fn new(server: &Server, token: &Token) -> Cargo {
        Self::at(index_url(server, SELLER), &token.secret)
    }

    fn at(index: String, token: &str) -> Cargo {
        let root = tempfile::Builder::new()
            .prefix("tollgate-cargo-")
            .tempdir()
            .expect("create cargo temp dir");
        for dir in ["home", "cargo-home", "target"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("create cargo dirs");
        }
        write_file(
            root.path(),
            "cargo-home/config.toml",
            &format!(
                "[registries.{SELLER}]\nindex = \"{index}\"\ncredential-provider = [\"cargo:token\"]\n\n[net]\nretry = 0\n"
            ),
        );
        Cargo {
            root,
            index,
            token: token.to_string(),
        }
    }

    /// Another user of the same registry with its own token and a cold cache.
    fn with_token(&self, token: &Token) -> Cargo {
        Self::at(self.index.clone(), &token.secret)
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(self.root.path().join("cargo-home/config.toml")).unwrap_or_default()
    }

    /// Runs `cargo ARGS…` in `dir` with nothing inherited that could point it elsewhere: every
    /// `CARGO*`/`RUST*` variable of the outer `cargo test` is dropped except rustup's, so the
    /// same toolchain is used.
    fn run(&self, dir: &Path, args: &[&str]) -> Run {
        let root = self.root.path();
        let mut cmd = Command::new("cargo");
        for (k, _) in std::env::vars_os() {
            let key = k.to_string_lossy();
            let cargo_var = key.starts_with("CARGO") || key.starts_with("__CARGO");
            let rust_var = key.starts_with("RUST") && !key.starts_with("RUSTUP_");
            if cargo_var || rust_var {
                cmd.env_remove(&k);
            }
        }
        if std::env::var_os("RUSTUP_HOME").is_none()
            && let Some(home) = std::env::var_os("HOME")
        {
            // HOME changes below; rustup must still find the machine's toolchains.
            cmd.env("RUSTUP_HOME", PathBuf::from(home).join(".rustup"));
        }
        let token_var = format!("CARGO_REGISTRIES_{}_TOKEN", SELLER.to_ascii_uppercase());
        cmd.current_dir(dir)
            .args(args)
            .env("HOME", root.join("home"))
            .env("CARGO_HOME", root.join("cargo-home"))
            .env("CARGO_TARGET_DIR", root.join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never")
            .env("CARGO_NET_RETRY", "0")
            .env("CARGO_INCREMENTAL", "0")
            .env(token_var, &self.token);
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    /// Runs cargo and asserts success.
    fn ok(&self, dir: &Path, args: &[&str]) -> Run {
        let run = self.run(dir, args);
        assert!(
            run.success,
            "`cargo {}` in {} failed:\n{}\nconfig.toml:\n{}",
            args.join(" "),
            dir.display(),
            run.output(),
            self.config_text()
        );
        run
    }

    /// Runs cargo and asserts failure whose output contains every needle (case-insensitive).
    fn fails_with(&self, dir: &Path, args: &[&str], needles: &[&str]) -> Run {
        let run = self.run(dir, args);
        assert!(
            !run.success,
            "`cargo {}` succeeded but should have failed:\n{}",
            args.join(" "),
            run.output()
        );
        // Shown with `--nocapture`: what the user would see.
        eprintln!(
            "---- `cargo {}` failed as expected:\n{}",
            args.join(" "),
            run.output()
        );
        assert_output_contains(&run, args, needles);
        run
    }

    /// A crate directory `name@version` with `extra` appended to its `Cargo.toml`.
    fn krate(&self, name: &str, version: &str, extra: &str, lib: &str) -> PathBuf {
        let dir = self
            .root
            .path()
            .join("crates")
            .join(format!("{name}-{version}-{}", unique()));
        write_file(
            &dir,
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
                 description = \"Tollgate end-to-end fixture\"\nlicense = \"MIT\"\n\
                 publish = [\"{SELLER}\"]\n\n{extra}"
            ),
        );
        write_file(&dir, "src/lib.rs", lib);
        dir
    }

    /// `acme_macros@version`: a plain library that says its name and version.
    fn macros_crate(&self, version: &str) -> PathBuf {
        self.krate(
            MACROS,
            version,
            "",
            &format!("pub fn name() -> &'static str {{\n    \"{MACROS} {version}\"\n}}\n"),
        )
    }

    /// `acme-core@version` under `name`: a `fast` feature and `acme_macros` renamed to `macros`.
    fn core_crate_named(&self, name: &str, version: &str) -> PathBuf {
        let extra = format!(
            "[features]\nfast = []\n\n[dependencies]\n\
             macros = {{ package = \"{MACROS}\", version = \"1\", registry = \"{SELLER}\" }}\n"
        );
        let lib = format!(
            "pub fn hello() -> String {{\n    \
             let speed = if cfg!(feature = \"fast\") {{ \"fast\" }} else {{ \"slow\" }};\n    \
             format!(\"{name} {version} ({{speed}}) with {{}}\", macros::name())\n}}\n"
        );
        self.krate(name, version, &extra, &lib)
    }

    fn core_crate(&self, version: &str) -> PathBuf {
        self.core_crate_named(CORE, version)
    }

    /// Packages, verifies (builds against the registry) and uploads the crate in `dir`.
    fn publish(&self, dir: &Path) -> Run {
        self.ok(dir, &["publish", "--registry", SELLER, "--allow-dirty"])
    }

    /// Uploads without the verification build.
    fn publish_fast(&self, dir: &Path) -> Run {
        self.ok(dir, PUBLISH_NO_VERIFY)
    }

    /// A buyer's binary crate `app` depending on `acme-core` with `dep_extra` (e.g. features).
    fn app(&self, dep_extra: &str) -> PathBuf {
        let dir = self
            .root
            .path()
            .join("projects")
            .join(format!("app-{}", unique()));
        write_file(
            &dir,
            "Cargo.toml",
            &format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\n\
                 {CORE} = {{ version = \"1\", registry = \"{SELLER}\"{dep_extra} }}\n"
            ),
        );
        write_file(
            &dir,
            "src/main.rs",
            "fn main() {\n    println!(\"{}\", acme_core::hello());\n}\n",
        );
        dir
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn assert_output_contains(run: &Run, args: &[&str], needles: &[&str]) {
    let out = run.output();
    let lower = out.to_lowercase();
    for n in needles {
        assert!(
            lower.contains(&n.to_lowercase()),
            "output of `cargo {}` does not contain {n:?}:\n{out}",
            args.join(" ")
        );
    }
}

/// The `version` and `source` that `project/Cargo.lock` records for `name`.
fn locked(project: &Path, name: &str) -> (String, String) {
    let path = project.join("Cargo.lock");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} missing ({e})", path.display()));
    let wanted = format!("name = \"{name}\"");
    let block = text
        .split("[[package]]")
        .find(|b| b.lines().any(|l| l.trim() == wanted))
        .unwrap_or_else(|| panic!("Cargo.lock has no package {name}:\n{text}"));
    let field = |k: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{k} = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
            .unwrap_or_default()
    };
    (field("version"), field("source"))
}

fn locked_version(project: &Path, name: &str) -> String {
    locked(project, name).0
}

/// Seller `acme` with product `pro` = {`acme-core`, `acme_macros`} and an unlimited publish token.
fn acme(server: &Server) -> Token {
    server.seller(SELLER);
    server.product(
        SELLER,
        PRODUCT,
        &[&format!("cargo:{CORE}"), &format!("cargo:{MACROS}")],
    );
    let publish = server.publish_token(SELLER, &[]);
    assert_eq!(publish.kind, "publish");
    publish
}

/// Org `org` of acme with a grant on `pro` (extra grant args, e.g. the rule) and an org token.
fn licensed_org(server: &Server, org: &str, grant_args: &[&str]) -> Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, grant_args);
    let t = server.org_token(SELLER, org);
    assert_eq!(t.kind, "org");
    t
}

/// Keeps publish times apart from the grant's end (timestamps have millisecond resolution).
fn pause() {
    thread::sleep(Duration::from_millis(50));
}

// ---- tests ------------------------------------------------------------------------------------

/// Publish a crate with a feature and a renamed private dependency; an entitled org builds and
/// runs a consumer, its lockfile points at the sparse index and the download is recorded. Yank:
/// the existing lockfile still builds from a cold cache, a fresh resolve skips the yanked
/// version, and `--undo` brings it back.
#[test]
fn licensed_org_builds_locks_and_survives_yank() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Cargo::new(&server, &publish);
    seller.publish(&seller.macros_crate("1.0.0"));
    seller.publish(&seller.core_crate("1.0.0"));
    seller.publish(&seller.core_crate("1.1.0"));

    let buyer = licensed_org(&server, "buyer", &["--rule", "while_active"]);
    let cargo = seller.with_token(&buyer);
    let app = cargo.app(", features = [\"fast\"]");
    let run = cargo.ok(&app, &["run"]);
    assert!(
        run.stdout
            .contains("acme-core 1.1.0 (fast) with acme_macros 1.0.0"),
        "unexpected program output:\n{}",
        run.output()
    );

    let index = index_url(&server, SELLER);
    for name in [CORE, MACROS] {
        let (_, source) = locked(&app, name);
        assert_eq!(source, index, "Cargo.lock source of {name}");
    }
    assert_eq!(locked_version(&app, CORE), "1.1.0");

    let downloads = server.downloads(SELLER);
    let hit = downloads
        .iter()
        .find(|d| d["package"] == CORE && d["version"] == "1.1.0" && d["token_id"] == buyer.id)
        .unwrap_or_else(|| {
            panic!(
                "no download event for {CORE}@1.1.0 by token {}: {downloads:#?}",
                buyer.id
            )
        });
    assert!(!hit["org_id"].is_null(), "download without org: {hit}");
    assert!(
        downloads
            .iter()
            .any(|d| d["package"] == MACROS && d["version"] == "1.0.0"),
        "no download event for {MACROS}@1.0.0: {downloads:#?}"
    );

    seller.ok(
        seller.root.path(),
        &["yank", "--registry", SELLER, &format!("{CORE}@1.1.0")],
    );

    // The existing lockfile still builds, from a cold cache (so 1.1.0 is downloaded again).
    let cold = cargo.with_token(&buyer);
    let run = cold.ok(&app, &["run", "--locked"]);
    assert!(
        run.stdout.contains("acme-core 1.1.0 (fast)"),
        "locked build after yank:\n{}",
        run.output()
    );
    assert_eq!(locked_version(&app, CORE), "1.1.0");
    let fetched = server
        .downloads(SELLER)
        .iter()
        .filter(|d| d["package"] == CORE && d["version"] == "1.1.0")
        .count();
    assert_eq!(fetched, 2, "the yanked 1.1.0 was not downloaded again");

    // A fresh resolve no longer picks the yanked version.
    std::fs::remove_file(app.join("Cargo.lock")).expect("remove Cargo.lock");
    cargo.ok(&app, &["generate-lockfile"]);
    assert_eq!(locked_version(&app, CORE), "1.0.0", "yanked 1.1.0 resolved");

    seller.ok(
        seller.root.path(),
        &[
            "yank",
            "--undo",
            "--registry",
            SELLER,
            &format!("{CORE}@1.1.0"),
        ],
    );
    std::fs::remove_file(app.join("Cargo.lock")).expect("remove Cargo.lock");
    cargo.ok(&app, &["generate-lockfile"]);
    assert_eq!(
        locked_version(&app, CORE),
        "1.1.0",
        "unyanked 1.1.0 missing"
    );
}

/// An org without a license sees no crate at all: cargo reports it as missing (404), not as an
/// HTTP error that would abort the build.
#[test]
fn unlicensed_org_finds_no_matching_package() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Cargo::new(&server, &publish);
    seller.publish_fast(&seller.macros_crate("1.0.0"));
    seller.publish_fast(&seller.core_crate("1.0.0"));

    server.org(SELLER, "stranger");
    let stranger = server.org_token(SELLER, "stranger");
    let cargo = seller.with_token(&stranger);
    let app = cargo.app("");
    cargo.fails_with(
        &app,
        &["generate-lockfile"],
        &["no matching package named `acme-core`"],
    );
    assert!(!app.join("Cargo.lock").exists());
}

/// Revoking a seat kills its token on the very next cargo command, with the reason.
#[test]
fn revoked_seat_token_is_rejected_with_the_reason() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Cargo::new(&server, &publish);
    seller.publish_fast(&seller.macros_crate("1.0.0"));
    seller.publish_fast(&seller.core_crate("1.0.0"));
    licensed_org(&server, "buyer", &["--rule", "while_active"]);

    let email = "alice@buyer.example";
    server.cli(&["seat", "add", "--seller", SELLER, "--org", "buyer", email]);
    let seat = server.token(SELLER, &["--org", "buyer", "--seat", email]);
    assert_eq!(seat.kind, "seat");

    let cargo = seller.with_token(&seat);
    let app = cargo.app("");
    cargo.ok(&app, &["generate-lockfile"]);
    assert_eq!(locked_version(&app, CORE), "1.0.0");

    server.cli(&[
        "seat", "revoke", "--seller", SELLER, "--org", "buyer", email,
    ]);

    cargo.fails_with(
        &app,
        &["generate-lockfile"],
        &["token rejected", "revoked", email],
    );
}

/// perpetual_fallback: after the end the index only lists versions published before it, so
/// cargo resolves to the newest of those; a while_active org whose grant ended gets the reason.
#[test]
fn perpetual_fallback_resolves_to_versions_before_the_end() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Cargo::new(&server, &publish);
    let legacy = licensed_org(&server, "legacy", &["--rule", "perpetual_fallback"]);
    let lapsed = licensed_org(&server, "lapsed", &["--rule", "while_active"]);

    seller.publish_fast(&seller.macros_crate("1.0.0"));
    seller.publish_fast(&seller.core_crate("1.0.0"));
    pause();
    server.grant_end(SELLER, "legacy", PRODUCT);
    server.grant_end(SELLER, "lapsed", PRODUCT);
    seller.publish_fast(&seller.core_crate("1.1.0"));

    let cargo = seller.with_token(&legacy);
    let app = cargo.app("");
    let run = cargo.ok(&app, &["run"]);
    assert_eq!(locked_version(&app, CORE), "1.0.0", "hidden 1.1.0 resolved");
    assert!(
        run.stdout
            .contains("acme-core 1.0.0 (slow) with acme_macros 1.0.0"),
        "unexpected program output:\n{}",
        run.output()
    );

    let cargo = seller.with_token(&lapsed);
    let app = cargo.app("");
    cargo.fails_with(&app, &["generate-lockfile"], &["ended on"]);
    assert!(!app.join("Cargo.lock").exists());
}

/// Uploads the server must refuse, through the real `cargo publish`: a version that exists
/// (cargo checks the index first, so the server's own answer shows for a yanked one), a publish
/// token limited to another crate, and a name that differs only by `-`/`_`.
#[test]
fn bad_publishes_are_refused_with_reasons() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Cargo::new(&server, &publish);
    seller.publish_fast(&seller.macros_crate("1.0.0"));
    seller.publish_fast(&seller.core_crate("1.0.0"));

    // Same version again: cargo sees it in the index and refuses before uploading.
    let again = seller.core_crate("1.0.0");
    let args = PUBLISH_NO_VERIFY;
    seller.fails_with(&again, args, &["already exists"]);
    // A yanked version is not in cargo's view of the index, so the upload reaches the server.
    seller.ok(
        seller.root.path(),
        &["yank", "--registry", SELLER, &format!("{CORE}@1.0.0")],
    );
    seller.fails_with(&again, args, &["already uploaded"]);

    // A publish token limited to acme_macros may not publish acme-core.
    let limited = server.publish_token(SELLER, &[&format!("cargo:{MACROS}")]);
    let scoped = seller.with_token(&limited);
    scoped.publish_fast(&scoped.macros_crate("1.0.1"));
    let next = scoped.core_crate("1.0.1");
    scoped.fails_with(&next, args, &["limited to"]);

    // `acme_core` would share cargo's lookup with `acme-core`.
    let twin = seller.core_crate_named("acme_core", "2.0.0");
    seller.fails_with(&twin, args, &["collides"]);
}

/// `cargo search` lists only crates of products the org holds.
#[test]
fn search_lists_only_licensed_crates() {
    let server = Server::start();
    let publish = acme(&server);
    server.product(SELLER, "extras", &["cargo:acme-extras"]);
    let seller = Cargo::new(&server, &publish);
    seller.publish_fast(&seller.macros_crate("1.0.0"));
    seller.publish_fast(&seller.core_crate("1.0.0"));
    seller.publish_fast(&seller.core_crate("1.2.0"));
    seller.publish_fast(&seller.krate("acme-extras", "0.3.0", "", "pub fn extra() {}\n"));

    let buyer = licensed_org(&server, "buyer", &["--rule", "while_active"]);
    let cargo = seller.with_token(&buyer);
    let here = cargo.root.path();
    let args = ["search", "--registry", SELLER, "acme"];
    let out = cargo.ok(here, &args).stdout;
    assert!(
        out.contains("acme-core = \"1.2.0\""),
        "search lacks acme-core 1.2.0:\n{out}"
    );
    assert!(
        out.contains("acme_macros = \"1.0.0\""),
        "search lacks acme_macros:\n{out}"
    );
    assert!(
        !out.contains("acme-extras"),
        "search shows an unlicensed crate:\n{out}"
    );

    // The seller's publish token sees everything.
    let all = seller.ok(seller.root.path(), &args).stdout;
    assert!(all.contains("acme-extras = \"0.3.0\""), "{all}");
}

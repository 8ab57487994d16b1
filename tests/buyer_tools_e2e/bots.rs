//! Bot tokens: made by the CLI with a label and a scope, listed with both, untouched by people
//! leaving; a metadata-only one lists versions in every ecosystem but every archive download is
//! a 403 that names its scope and what to use instead, and npm's lockfile-only install works
//! with it while a real install is refused with that sentence.

use std::path::Path;
use std::process::Command;

use crate::common::http::{Response, request};
use crate::common::{CLIENT_TIMEOUT, Server, Token, run_with_timeout, write_file};
use crate::fixtures::{CORE, CRATE, GEM, HEX, ORG, SELLER, Shop, UI_PRO, bot_token};

/// The sentence every protocol answers a metadata-only token's archive request with.
const SCOPE_SENTENCE: [&str; 3] = [
    "has scope `metadata`",
    "never downloads a package",
    "use a token of scope `read`",
];

fn get(server: &Server, path: &str, auth: &str) -> Response {
    let url = format!("{}{path}", server.url());
    request("GET", &url, &[("authorization", auth)], b"").expect("GET")
}

/// The body and headers, where each client finds a server's reason.
fn said(res: &Response) -> String {
    let mut text = res.text();
    for (k, v) in &res.headers {
        text.push_str(&format!("\n[{k}: {v}]"));
    }
    text
}

#[test]
fn bot_tokens_carry_a_label_and_a_scope_and_outlive_people() {
    let server = Server::start();
    Shop::open(&server, &["npm"]);
    server.cli(&[
        "seat",
        "add",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "ops@globex.example",
    ]);

    let bot = bot_token(&server, ORG, "renovate", "metadata");
    assert_eq!(bot.kind, "org", "a bot token is the org's: {bot:?}");
    let created = server.cli_json(&[
        "token",
        "create",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "--bot",
        "GitHub Actions",
    ]);
    assert_eq!(created["label"], "GitHub Actions", "{created}");
    assert_eq!(created["scope"], "read", "the default scope: {created}");

    let listed = server.cli(&["token", "list", "--seller", SELLER]);
    let line = |id: &str| -> String {
        listed
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("token {id} not listed:\n{listed}"))
            .to_owned()
    };
    assert!(
        line(&bot.id).contains("bot \"renovate\" scope metadata"),
        "{listed}"
    );
    assert!(
        line(created["id"].as_str().unwrap_or_default())
            .contains("bot \"GitHub Actions\" scope read"),
        "{listed}"
    );

    for (args, needle) in [
        (&["--bot", " "][..], "a bot token needs a label"),
        (&["--bot", &"x".repeat(65)][..], "at most 64 characters"),
        (
            &["--bot", "r", "--scope", "write"][..],
            "expected read or metadata",
        ),
        (&["--scope", "metadata"][..], "--bot"),
        (
            &["--bot", "r", "--seat", "ops@globex.example"][..],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["token", "create", "--seller", SELLER, "--org", ORG];
        all.extend_from_slice(args);
        let err = server.cli_fail(&all);
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    // The person who set it up leaves; the bot keeps working.
    server.cli(&[
        "seat",
        "revoke",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "ops@globex.example",
    ]);
    let res = get(
        &server,
        "/acme/npm/@acme%2fui-pro",
        &format!("Bearer {}", bot.secret),
    );
    assert_eq!(res.status, 200, "the bot after a seat left: {}", said(&res));
}

/// (ecosystem, a listing, an archive, metadata a metadata token may still read, bearer?)
const PATHS: [(&str, &str, &str, Option<&str>, bool); 4] = [
    (
        "npm",
        "/acme/npm/@acme%2fui-pro",
        "/acme/npm/@acme%2fui-pro/-/ui-pro-1.1.0.tgz",
        None,
        true,
    ),
    (
        "cargo",
        "/acme/cargo/index/ac/me/acme-core",
        "/acme/cargo/api/v1/crates/acme-core/1.1.0/download",
        None,
        false,
    ),
    (
        "gems",
        "/acme/gems/info/acme_gem",
        "/acme/gems/gems/acme_gem-1.1.0.gem",
        Some("/acme/gems/quick/Marshal.4.8/acme_gem-1.1.0.gemspec.rz"),
        false,
    ),
    (
        "hex",
        "/acme/hex/packages/acme_pro",
        "/acme/hex/tarballs/acme_pro-1.1.0.tar",
        Some("/acme/hex/api/packages/acme_pro/releases/1.1.0"),
        false,
    ),
];

#[test]
fn a_metadata_only_token_lists_everything_and_downloads_no_archive() {
    let server = Server::start();
    Shop::open(&server, &["npm", "cargo", "gems", "hex"]);
    let metadata = bot_token(&server, ORG, "renovate", "metadata");
    let reader = bot_token(&server, ORG, "ci", "read");
    let auth = |t: &Token, bearer: bool| {
        if bearer {
            format!("Bearer {}", t.secret)
        } else {
            t.secret.clone()
        }
    };
    for (eco, listing, archive, described, bearer) in PATHS {
        let res = get(&server, listing, &auth(&metadata, bearer));
        assert_eq!(res.status, 200, "{eco}: the listing: {}", said(&res));
        if let Some(path) = described {
            let res = get(&server, path, &auth(&metadata, bearer));
            assert_eq!(res.status, 200, "{eco}: {path}: {}", said(&res));
        }
        let res = get(&server, archive, &auth(&metadata, bearer));
        let text = said(&res);
        assert_eq!(res.status, 403, "{eco}: the archive: {text}");
        for needle in SCOPE_SENTENCE.iter().chain([&"(renovate)"]) {
            assert!(
                text.contains(needle),
                "{eco}: {needle:?} missing from {text}"
            );
        }
        let res = get(&server, archive, &auth(&reader, bearer));
        assert_eq!(res.status, 200, "{eco}: a read bot token: {}", said(&res));
    }
    let downloads = server.downloads(SELLER);
    let by = |t: &Token| {
        downloads
            .iter()
            .filter(|d| d["token_id"] == t.id.as_str())
            .count()
    };
    assert_eq!(by(&reader), 4, "one download per ecosystem: {downloads:?}");
    assert_eq!(
        by(&metadata),
        0,
        "a refused archive was recorded: {downloads:?}"
    );
}

/// `npm ARGS` in `project` with its own HOME, cache and the `.npmrc` in the project.
fn npm(project: &Path, args: &[&str]) -> crate::common::Run {
    let home = project.join(".home");
    let mut cmd = Command::new("npm");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy()
            .to_ascii_lowercase()
            .starts_with("npm_config_")
        {
            cmd.env_remove(&k);
        }
    }
    cmd.current_dir(project)
        .args(args)
        .env("HOME", &home)
        .env("npm_config_cache", home.join("cache"))
        .env("npm_config_userconfig", home.join("npmrc"))
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fetch_retries", "0");
    run_with_timeout(cmd, CLIENT_TIMEOUT)
}

#[test]
fn npm_updates_a_lockfile_with_a_metadata_only_token_but_cannot_install() {
    if !tollgate_testkit::tool("npm", "apt-get install npm") {
        return;
    }
    let server = Server::start();
    Shop::open(&server, &["npm"]);
    let bot = bot_token(&server, ORG, "lockfile bot", "metadata");
    let project = tempfile::Builder::new()
        .prefix("tollgate-lockonly-")
        .tempdir()
        .expect("project dir");
    let dir = project.path();
    let registry = format!("{}/{SELLER}/npm/", server.url());
    let nerf = registry.trim_start_matches("http:");
    write_file(
        dir,
        ".npmrc",
        &format!(
            "@acme:registry={registry}\n{nerf}:_authToken={}\n",
            bot.secret
        ),
    );
    write_file(
        dir,
        "package.json",
        &format!(
            r#"{{"name":"buyer","version":"1.0.0","private":true,"dependencies":{{"{UI_PRO}":"^1.0.0"}}}}"#
        ),
    );

    let run = npm(dir, &["install", "--package-lock-only"]);
    assert!(
        run.success,
        "npm install --package-lock-only:\n{}",
        run.output()
    );
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).expect("lockfile");
    let lock: serde_json::Value = serde_json::from_str(&lock).expect("lockfile JSON");
    for (name, version) in [(UI_PRO, "1.1.0"), (CORE, "1.1.0")] {
        let entry = &lock["packages"][format!("node_modules/{name}")];
        assert_eq!(entry["version"], version, "{name} in the lockfile: {lock}");
        assert!(
            entry["integrity"]
                .as_str()
                .is_some_and(|i| i.starts_with("sha512-")),
            "{name}: the checksum comes from the listing: {entry}"
        );
    }
    assert!(!dir.join("node_modules").exists(), "nothing was installed");
    assert!(
        !lock.to_string().contains(&bot.secret),
        "the token is in the lockfile"
    );

    let run = npm(dir, &["install"]);
    let out = run.output();
    assert!(!run.success, "a metadata-only token installed:\n{out}");
    eprintln!("---- `npm install` with a metadata-only token:\n{out}");
    assert!(out.contains("403"), "{out}");
    for needle in SCOPE_SENTENCE {
        assert!(
            out.contains(needle),
            "npm does not print {needle:?}:\n{out}"
        );
    }
    let _ = (CRATE, GEM, HEX);
}

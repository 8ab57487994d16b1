//! Renovate (`renovate --platform=local`, lookup only) finds the newer version of a paid package
//! in an npm and a Cargo project pinned to the older one, with a metadata-only bot token in its
//! `hostRules`; with that token revoked it reports the failed lookup, not "no updates". The
//! assertions read Renovate's own JSON report and log.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{CLIENT_TIMEOUT, Run, Server, run_with_timeout, write_file};
use crate::fixtures::{CRATE, ORG, SELLER, Shop, UI_PRO, bot_token};
use crate::managers::tools_dir;

fn renovate() -> std::path::PathBuf {
    tools_dir().join("renovate/node_modules/.bin/renovate")
}

/// Renovate's global configuration: the bot token for every URL of the seller, the npm scope's
/// registry, custom crate registries allowed, and nothing to onboard.
fn config(server: &Server) -> String {
    format!(
        "module.exports = {{\n  platform: 'local',\n  onboarding: false,\n  requireConfig: 'optional',\n  \
         allowCustomCrateRegistries: true,\n  npmrc: '@acme:registry={url}/{SELLER}/npm/',\n  \
         hostRules: [{{ matchHost: '{url}/{SELLER}/', token: process.env.ACME_TOKEN }}],\n}};\n",
        url = server.url()
    )
}

/// One project folder per ecosystem, each pinned to 1.0.0.
fn projects(server: &Server, root: &Path) {
    write_file(
        &root.join("npm"),
        "package.json",
        &format!(
            r#"{{"name":"buyer","version":"1.0.0","private":true,"dependencies":{{"{UI_PRO}":"1.0.0"}}}}"#
        ),
    );
    let cargo = root.join("cargo");
    write_file(
        &cargo,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"buyer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{CRATE} = {{ version = \"=1.0.0\", registry = \"acme\" }}\n"
        ),
    );
    write_file(&cargo, "src/lib.rs", "");
    write_file(
        &cargo,
        ".cargo/config.toml",
        &format!(
            "[registries.acme]\nindex = \"sparse+{}/{SELLER}/cargo/index/\"\n",
            server.url()
        ),
    );
}

/// `renovate --platform=local --dry-run=lookup` in `project`: its run and its JSON report.
fn look_up(server: &Server, root: &Path, project: &str, token: &str) -> (Run, Value) {
    let dir = root.join(project);
    let report = root.join(format!("{project}-report.json"));
    let _ = std::fs::remove_file(&report);
    let home = root.join(format!("{project}-home"));
    std::fs::create_dir_all(&home).expect("HOME");
    write_file(root, "config.js", &config(server));
    let mut cmd = Command::new(renovate());
    for (k, _) in std::env::vars_os() {
        let key = k.to_string_lossy().to_ascii_uppercase();
        if key.starts_with("RENOVATE_") || key.starts_with("NPM_CONFIG_") || key == "CI" {
            cmd.env_remove(&k);
        }
    }
    cmd.current_dir(&dir)
        .args([
            "--platform=local",
            "--dry-run=lookup",
            "--report-type=file",
            &format!("--report-path={}", report.display()),
        ])
        .env("HOME", &home)
        .env("RENOVATE_CONFIG_FILE", root.join("config.js"))
        .env("RENOVATE_BASE_DIR", home.join("renovate"))
        .env("ACME_TOKEN", token)
        .env("LOG_LEVEL", "debug")
        .env("LOG_FORMAT", "json");
    let run = run_with_timeout(cmd, CLIENT_TIMEOUT);
    let report = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    (run, report)
}

/// The updates Renovate reports for the first dependency of `manager`'s first package file.
fn updates(report: &Value, manager: &str) -> Value {
    report["repositories"]["local"]["packageFiles"][manager][0]["deps"][0]["updates"].clone()
}

#[test]
fn renovate_finds_the_newer_paid_version_with_a_metadata_only_bot_token() {
    if !tollgate_testkit::tool(
        &renovate().to_string_lossy(),
        "run `eval \"$(scripts/buyer-tools)\"`",
    ) {
        return;
    }
    let server = Server::start();
    Shop::open(&server, &["npm", "cargo"]);
    let bot = bot_token(&server, ORG, "renovate", "metadata");
    let root = tempfile::Builder::new()
        .prefix("tollgate-renovate-")
        .tempdir()
        .expect("temp dir");
    projects(&server, root.path());

    for (project, manager, package) in [("npm", "npm", UI_PRO), ("cargo", "cargo", CRATE)] {
        let (run, report) = look_up(&server, root.path(), project, &bot.secret);
        assert!(
            run.success,
            "renovate ({project}) failed:\n{}",
            run.output()
        );
        let updates = updates(&report, manager);
        eprintln!("---- renovate, {project}: updates {updates}");
        assert_eq!(
            updates[0]["newVersion"], "1.1.0",
            "{project}: no update to 1.1.0 of {package} in the report:\n{report:#}"
        );
        assert!(
            !report.to_string().contains(&bot.secret) && !run.output().contains(&bot.secret),
            "{project}: the token is in Renovate's report or log"
        );
    }
    // No archive was fetched: a lookup needs listings only.
    assert!(
        server.downloads(SELLER).is_empty(),
        "{:?}",
        server.downloads(SELLER)
    );

    // Revoked: the lookup fails and Renovate says so in its report and log (its exit status is
    // 0 all the same, and `updates` is empty as it would be with no newer version).
    server.cli(&["token", "revoke", &bot.id]);
    for (project, manager, datasource, package) in [
        ("npm", "npm", "npm", UI_PRO),
        ("cargo", "cargo", "crate", CRATE),
    ] {
        let (run, report) = look_up(&server, root.path(), project, &bot.secret);
        let dep = &report["repositories"]["local"]["packageFiles"][manager][0]["deps"][0];
        eprintln!(
            "---- renovate, {project}, revoked token: updates {}, warnings {}",
            dep["updates"], dep["warnings"]
        );
        assert_eq!(
            dep["updates"],
            Value::Array(vec![]),
            "{project}: {report:#}"
        );
        let warned = format!("Failed to look up {datasource} package {package}");
        assert!(
            dep["warnings"]
                .as_array()
                .is_some_and(|w| w.iter().any(|w| w["message"] == warned.as_str())),
            "{project}: no warning {warned:?} in the report:\n{report:#}"
        );
        let log = run.output();
        // Its debug log has the request and its status: `GET URL = (…, statusCode=401 …)`.
        let name = package.rsplit('/').next().unwrap_or(package);
        let unauthorized = log.lines().find(|l| {
            serde_json::from_str::<Value>(l).is_ok_and(|entry| {
                entry["msg"].as_str().is_some_and(|m| {
                    m.starts_with("GET ") && m.contains(name) && m.contains("statusCode=401")
                })
            })
        });
        eprintln!("     log: {}", unauthorized.unwrap_or_default());
        assert!(
            unauthorized.is_some(),
            "{project}: the log does not show the lookup refused with 401:\n{log}"
        );
    }
}

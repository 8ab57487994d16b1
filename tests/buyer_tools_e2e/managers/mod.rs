//! pnpm, Yarn 1, Yarn 4 and Bun against Tollgate, each with the configuration a buyer copies
//! from the set-up page: a paid scoped package that depends on another paid package installs
//! with the org token, no lockfile holds the token, and each refusal (no token, an unknown
//! token, a package the org has no license for, an ended license, a revoked seat, a
//! metadata-only bot token) fails the install with what that manager prints for it, asserted
//! here and shown with `--nocapture`.

mod tool;

pub use tool::tools_dir;

use crate::common::Server;
use crate::fixtures::{ORG, PRODUCT, SELLER, Shop, bot_token};
use tool::{Manager, Project};

/// A well-formed token (`tg_` + 16 + 64 hex digits) that no server issued.
const UNKNOWN_TOKEN: &str =
    "tg_0123456789abcdef_0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    NoToken,
    UnknownToken,
    Unlicensed,
    Ended,
    RevokedSeat,
    MetadataOnly,
}

/// What `manager` prints when refused in `case` (all of it must appear; case-insensitive). Only
/// Yarn 1 and npm show the server's sentence for every status; pnpm, Yarn 4 and Bun show the
/// status (and Yarn 4 whom it authenticated as), see ../shared/tools/buyer-tools.md.
fn printed(manager: Manager, case: Case) -> &'static [&'static str] {
    use Case::*;
    use Manager::*;
    match (manager, case) {
        (Pnpm, NoToken) => &["ERR_PNPM_FETCH_401", "No authorization header was set"],
        (Pnpm, UnknownToken | RevokedSeat) => {
            &["ERR_PNPM_FETCH_401", "An authorization header was used"]
        }
        (Pnpm, Unlicensed) => &["ERR_PNPM_FETCH_404", "no permission to fetch it"],
        (Pnpm, Ended | MetadataOnly) => &["ERR_PNPM_FETCH_403", "Forbidden - 403"],
        // Yarn 1 prints the server's sentence (with a Node stack trace), never the status.
        (Yarn1, NoToken) => &["error Error: ", "the acme registry needs a token: add `//"],
        (Yarn1, UnknownToken) => &[
            "error Error: ",
            "the token is not valid for the acme registry",
        ],
        (Yarn1, Unlicensed) => &["error Error: ", "not found"],
        (Yarn1, Ended) => &["error Error: ", "license of org globex-ended", "ended on"],
        (Yarn1, RevokedSeat) => &[
            "error Error: ",
            "the seat of dev@globex.example was revoked",
        ],
        // ... except for a tarball, where it prints the status line only.
        (Yarn1, MetadataOnly) => &["error Error: ", ".tgz: Request failed \"403 Forbidden\""],
        (Yarn4, NoToken) => &["YN0041", "as an anonymous user"],
        (Yarn4, UnknownToken | RevokedSeat) => &["YN0041", "as an unknown user"],
        (Yarn4, Unlicensed) => &["YN0035", "Package not found"],
        (Yarn4, Ended | MetadataOnly) => &["YN0035", "403 (Forbidden)"],
        (Bun, NoToken | UnknownToken | RevokedSeat) => &["error: GET", "- 401"],
        (Bun, Unlicensed) => &["error: GET", "- 404"],
        (Bun, Ended | MetadataOnly) => &["error: GET", "- 403"],
    }
}

fn installs_and_refuses(manager: Manager) {
    if !manager.available() {
        return;
    }
    let server = Server::start();
    Shop::open(&server, &["npm"]);
    let registry = format!("{}/{SELLER}/npm/", server.url());
    let org = server.org_token(SELLER, ORG);
    server.org(SELLER, "initech");
    let unlicensed = server.org_token(SELLER, "initech");
    server.org(SELLER, "globex-ended");
    server.grant(SELLER, "globex-ended", PRODUCT, &[]);
    let ended = server.org_token(SELLER, "globex-ended");
    server.grant_end(SELLER, "globex-ended", PRODUCT);
    server.cli(&[
        "seat",
        "add",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "dev@globex.example",
    ]);
    let seat = server.token(SELLER, &["--org", ORG, "--seat", "dev@globex.example"]);
    server.cli(&[
        "seat",
        "revoke",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "dev@globex.example",
    ]);
    let metadata = bot_token(&server, ORG, "renovate", "metadata");
    let name = manager.name();

    // The org token installs the package and the paid package it depends on.
    let project = Project::new(manager, &registry, Some(&org.secret));
    let run = project.install();
    assert!(run.success, "{name} install failed:\n{}", run.output());
    assert_eq!(
        project.installed(),
        ("@acme/ui-pro 1.1.0".to_owned(), "1.1.0".to_owned()),
        "{name}: what require() finds"
    );
    let lockfile = project.dir().join(manager.lockfile());
    let lock = std::fs::read_to_string(&lockfile)
        .unwrap_or_else(|e| panic!("{name}: no {} ({e})", lockfile.display()));
    assert!(
        lock.contains("@acme/core"),
        "{name}: the lockfile lacks @acme/core:\n{lock}"
    );
    let holding = project.files_containing(&org.secret);
    let config = match manager {
        Manager::Pnpm | Manager::Yarn1 => vec![project.dir().join(".npmrc")],
        // The token comes from ACME_TOKEN: no file holds it.
        Manager::Yarn4 => vec![],
        Manager::Bun => vec![project.dir().join("bunfig.toml")],
    };
    assert_eq!(
        holding, config,
        "{name}: files holding the token besides its configuration"
    );

    use Case::*;
    for (case, token) in [
        (NoToken, None),
        (UnknownToken, Some(UNKNOWN_TOKEN)),
        (Unlicensed, Some(unlicensed.secret.as_str())),
        (Ended, Some(ended.secret.as_str())),
        (RevokedSeat, Some(seat.secret.as_str())),
        (MetadataOnly, Some(metadata.secret.as_str())),
    ] {
        // A fresh project and cache each time: a warm cache would install with no request.
        let project = Project::new(manager, &registry, token);
        let run = project.install();
        let out = run.output();
        eprintln!("---- {name}, {case:?}:\n{}", out.trim());
        assert!(!run.success, "{name} installed in case {case:?}:\n{out}");
        let lower = out.to_lowercase();
        for needle in printed(manager, case) {
            assert!(
                lower.contains(&needle.to_lowercase()),
                "{name}, {case:?}: {needle:?} missing from:\n{out}"
            );
        }
        assert!(
            !project.dir().join("node_modules/@acme/ui-pro").exists(),
            "{name}, {case:?}: the package landed on disk"
        );
    }
}

#[test]
fn pnpm_installs_with_the_org_token_and_says_why_it_cannot() {
    installs_and_refuses(Manager::Pnpm);
}

#[test]
fn yarn1_installs_with_the_org_token_and_says_why_it_cannot() {
    installs_and_refuses(Manager::Yarn1);
}

#[test]
fn yarn4_installs_with_the_org_token_and_says_why_it_cannot() {
    installs_and_refuses(Manager::Yarn4);
}

#[test]
fn bun_installs_with_the_org_token_and_says_why_it_cannot() {
    installs_and_refuses(Manager::Bun);
}

//! End-to-end: the real `tollgate` binary on port 0 with a temporary data directory, driven by
//! the real `npm` CLI with a temporary `HOME`, cache and `.npmrc`.
//!
//! Each test starts its own server and data directory, so they run in parallel. Assertions
//! print what npm printed, because that is what a buyer or seller would see.

#[path = "../common/mod.rs"]
mod common;
mod harness;

use std::process::Command;

use common::Server;
use harness::{
    Npm, PRODUCT, SELLER, UI_PRO, acme, assert_installed, assert_output_contains, licensed_org,
    npmrc, pause, registry,
};
use serde_json::Value;

/// Publish three versions and an unscoped package, install with a range, reproduce with
/// `npm ci`, view the versions, and see the download recorded.
#[test]
fn licensed_org_installs_reproduces_and_is_recorded() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    assert_eq!(publish.kind, "publish");
    let buyer = licensed_org(&server, "buyer", &["--rule", "while_active"]);

    // `registry=` too, so that the unscoped `acme-utils` routes to Tollgate.
    let default_line = format!("registry={acme_reg}\n");
    let seller_npm = Npm::new(&(npmrc(&acme_reg, Some(&publish.secret)) + &default_line));
    for v in ["1.0.0", "1.1.0", "2.0.0"] {
        seller_npm.publish(UI_PRO, v);
    }
    seller_npm.publish("acme-utils", "1.0.0");

    let buyer_rc = npmrc(&acme_reg, Some(&buyer.secret)) + &default_line;
    let npm = Npm::new(&buyer_rc);
    let app = npm.project("app");
    npm.ok(&app, &["install", "@acme/ui-pro@^1"]);
    assert_installed(&app, UI_PRO, "1.1.0");

    // The lockfile points at this server, with sha512 integrity.
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(app.join("package-lock.json")).expect("package-lock.json"),
    )
    .expect("lockfile is JSON");
    let entry = &lock["packages"]["node_modules/@acme/ui-pro"];
    let resolved = entry["resolved"].as_str().unwrap_or_default();
    assert!(
        resolved.starts_with(&acme_reg),
        "lockfile resolved {resolved:?} is not under {acme_reg}"
    );
    assert!(
        entry["integrity"]
            .as_str()
            .unwrap_or_default()
            .starts_with("sha512-"),
        "lockfile integrity: {entry}"
    );

    // `npm ci` with a cold cache reproduces the tree from the lockfile.
    std::fs::remove_dir_all(app.join("node_modules")).expect("remove node_modules");
    let cold = npm.fresh();
    cold.ok(&app, &["ci"]);
    assert_installed(&app, UI_PRO, "1.1.0");

    // Unscoped private package via `registry=`.
    cold.ok(&app, &["install", "acme-utils"]);
    assert_installed(&app, "acme-utils", "1.0.0");

    assert_eq!(
        npm.versions(&app, UI_PRO, &[]),
        vec!["1.0.0", "1.1.0", "2.0.0"]
    );

    let downloads = server.downloads(SELLER);
    let hit = downloads.iter().find(|d| {
        d["package"] == UI_PRO && d["version"] == "1.1.0" && d["token_id"] == buyer.id.as_str()
    });
    let hit = hit.unwrap_or_else(|| {
        panic!(
            "no download event for {UI_PRO}@1.1.0 by token {}: {downloads:#?}",
            buyer.id
        )
    });
    assert!(!hit["org_id"].is_null(), "download without org: {hit}");
    assert!(
        hit["seat_id"].is_null(),
        "org token download has a seat: {hit}"
    );
    assert!(
        downloads
            .iter()
            .any(|d| d["package"] == "acme-utils" && d["version"] == "1.0.0"),
        "no download event for acme-utils@1.0.0: {downloads:#?}"
    );
}

/// No license → 404 (existence hidden); no token → 401 naming the `.npmrc` line.
#[test]
fn unlicensed_org_gets_404_and_missing_token_gets_401() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    Npm::new(&npmrc(&acme_reg, Some(&publish.secret))).publish(UI_PRO, "1.0.0");

    server.org(SELLER, "stranger");
    let stranger = server.org_token(SELLER, "stranger");
    let npm = Npm::new(&npmrc(&acme_reg, Some(&stranger.secret)));
    let app = npm.project("app");
    npm.fails_with(&app, &["install", "@acme/ui-pro@^1"], &["code E404"]);
    assert!(!app.join("node_modules/@acme/ui-pro").exists());

    let anon = Npm::new(&npmrc(&acme_reg, None));
    let app = anon.project("app");
    anon.fails_with(
        &app,
        &["install", "@acme/ui-pro@^1"],
        &["code E401", "_authToken"],
    );
}

/// After `grant end` a while_active org gets an error naming the reason and date.
#[test]
fn ended_license_names_the_reason() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    Npm::new(&npmrc(&acme_reg, Some(&publish.secret))).publish(UI_PRO, "1.0.0");
    let buyer = licensed_org(&server, "buyer", &["--rule", "while_active"]);

    let npm = Npm::new(&npmrc(&acme_reg, Some(&buyer.secret)));
    npm.ok(&npm.project("before"), &["install", "@acme/ui-pro@^1"]);

    server.grant_end(SELLER, "buyer", PRODUCT);

    let npm = npm.fresh();
    let app = npm.project("after");
    npm.fails_with(
        &app,
        &["install", "@acme/ui-pro@^1", "--prefer-online"],
        &["code E403", "license", "ended on"],
    );
    assert!(!app.join("node_modules/@acme/ui-pro").exists());
}

/// perpetual_fallback: versions published after the end are hidden, older ones still install.
#[test]
fn perpetual_fallback_keeps_versions_published_before_the_end() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    let seller_npm = Npm::new(&npmrc(&acme_reg, Some(&publish.secret)));
    let legacy = licensed_org(&server, "legacy", &["--rule", "perpetual_fallback"]);

    seller_npm.publish(UI_PRO, "1.0.0");
    pause();
    server.grant_end(SELLER, "legacy", PRODUCT);
    pause();
    seller_npm.publish(UI_PRO, "1.1.0");

    let npm = Npm::new(&npmrc(&acme_reg, Some(&legacy.secret)));
    let app = npm.project("app");
    assert_eq!(npm.versions(&app, UI_PRO, &[]), vec!["1.0.0"]);
    let tags = npm.json(&app, &["view", UI_PRO, "dist-tags"]);
    assert_eq!(
        tags["latest"], "1.0.0",
        "dist-tags must not point at a hidden version: {tags}"
    );
    let run = npm.ok(&app, &["install", "@acme/ui-pro@^1"]);
    assert_installed(&app, UI_PRO, "1.0.0");
    // The install says why newer versions are missing.
    assert_output_contains(
        &run,
        &["install"],
        &[
            "npm notice",
            "license of org",
            "ended on",
            "published before then stay available",
        ],
    );
    // The newer version is refused with the reason, not silently missing.
    let newer = format!("{acme_reg}@acme/ui-pro/-/ui-pro-1.1.0.tgz");
    let run = npm.run(&app, &["install", &newer]);
    assert!(!run.success, "1.1.0 must not download: {}", run.output());
    assert_output_contains(&run, &["install", &newer], &["E403", "ended on"]);
}

/// `npm dist-tag add|rm` with the publish token; buyers install by tag.
#[test]
fn dist_tags_are_managed_with_npm() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    let seller_npm = Npm::new(&npmrc(&acme_reg, Some(&publish.secret)));
    let buyer = licensed_org(&server, "buyer", &["--rule", "while_active"]);
    seller_npm.publish(UI_PRO, "1.0.0");
    seller_npm.publish(UI_PRO, "1.1.0");
    let here = seller_npm.project("seller");
    seller_npm.ok(&here, &["dist-tag", "add", "@acme/ui-pro@1.0.0", "stable"]);
    let listed = seller_npm.ok(&here, &["dist-tag", "ls", UI_PRO]).stdout;
    assert!(
        listed.contains("stable: 1.0.0") && listed.contains("latest: 1.1.0"),
        "{listed}"
    );

    let npm = Npm::new(&npmrc(&acme_reg, Some(&buyer.secret)));
    let app = npm.project("app");
    npm.ok(&app, &["install", "@acme/ui-pro@stable"]);
    assert_installed(&app, UI_PRO, "1.0.0");
    // A buyer's org token may not move tags.
    npm.fails_with(
        &app,
        &["dist-tag", "add", "@acme/ui-pro@1.1.0", "stable"],
        &["E403"],
    );

    seller_npm.ok(&here, &["dist-tag", "rm", UI_PRO, "stable"]);
    let tags = npm.fresh().json(&app, &["view", UI_PRO, "dist-tags"]);
    assert!(tags.get("stable").is_none(), "{tags}");
}

/// Revoking a seat kills its token on the very next request.
#[test]
fn revoked_seat_token_fails_on_next_request() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    Npm::new(&npmrc(&acme_reg, Some(&publish.secret))).publish(UI_PRO, "1.0.0");
    licensed_org(&server, "buyer", &["--rule", "while_active"]);

    let email = "alice@buyer.example";
    server.cli(&["seat", "add", "--seller", SELLER, "--org", "buyer", email]);
    let seat = server.token(SELLER, &["--org", "buyer", "--seat", email]);
    assert_eq!(seat.kind, "seat");
    let seats = server.cli_json(&["seat", "list", "--seller", SELLER, "--org", "buyer"]);
    assert!(
        seats.to_string().contains(email),
        "seat list lacks {email}: {seats}"
    );

    let npm = Npm::new(&npmrc(&acme_reg, Some(&seat.secret)));
    npm.ok(&npm.project("before"), &["install", "@acme/ui-pro@^1"]);

    server.cli(&[
        "seat", "revoke", "--seller", SELLER, "--org", "buyer", email,
    ]);

    let npm = npm.fresh();
    let app = npm.project("after");
    npm.fails_with(
        &app,
        &["install", "@acme/ui-pro@^1", "--prefer-online"],
        &["code E401", "the seat of alice@buyer.example was revoked"],
    );
}

/// Publishing over an existing version is refused and the stored bytes stay the same.
#[test]
fn republish_is_refused_and_bytes_are_unchanged() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    let seller_npm = Npm::new(&npmrc(&acme_reg, Some(&publish.secret)));
    let buyer = licensed_org(&server, "buyer", &["--rule", "while_active"]);

    let original = seller_npm.package(UI_PRO, "1.0.0", "original bytes");
    seller_npm.ok(&original, &["publish"]);

    let npm = Npm::new(&npmrc(&acme_reg, Some(&buyer.secret)));
    let work = npm.project("work");
    let dist = |npm: &Npm| -> Value { npm.json(&work, &["view", "@acme/ui-pro@1.0.0", "dist"]) };
    let before = dist(&npm);

    let tampered = seller_npm.package(UI_PRO, "1.0.0", "tampered bytes");
    // npm 11 checks the packument first and refuses on its own ...
    seller_npm.fails_with(&tampered, &["publish"], &["cannot publish over"]);
    // ... so `--force` (which skips that check) makes the PUT reach the server, which must
    // refuse with npm's registry wording.
    seller_npm.fails_with(
        &tampered,
        &["publish", "--force"],
        &[
            "code E403",
            "cannot publish over previously published version 1.0.0",
        ],
    );

    let cold = npm.fresh();
    let after = dist(&cold);
    assert_eq!(
        before["shasum"], after["shasum"],
        "dist changed after refused re-publish: {before} vs {after}"
    );
    assert_eq!(before["integrity"], after["integrity"]);

    // Download the tarball and look inside: it must be the original.
    cold.ok(&work, &["pack", "@acme/ui-pro@1.0.0", "--prefer-online"]);
    let tgz = work.join("acme-ui-pro-1.0.0.tgz");
    assert!(tgz.exists(), "npm pack did not write {}", tgz.display());
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(&work)
        .output()
        .expect("run tar");
    assert!(
        out.status.success(),
        "tar failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let js = std::fs::read_to_string(work.join("package/index.js")).expect("package/index.js");
    assert!(
        js.contains("original bytes"),
        "stored tarball changed: {js}"
    );
}

/// A second seller's token is unknown to the first seller, and the first seller's packages are
/// invisible through the second seller's registry.
#[test]
fn other_sellers_token_sees_nothing() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let publish = server.publish_token(SELLER, &[]);
    Npm::new(&npmrc(&acme_reg, Some(&publish.secret))).publish(UI_PRO, "1.0.0");

    server.seller("other");
    let other = server.publish_token("other", &[]);

    // other's token against acme's registry: unknown token.
    let npm = Npm::new(&npmrc(&acme_reg, Some(&other.secret)));
    let dir = npm.project("probe");
    npm.fails_with(&dir, &["view", UI_PRO], &["code E401"]);
    let pkg = npm.package(UI_PRO, "1.0.1", "hijack");
    npm.fails_with(&pkg, &["publish"], &["code E401"]);

    // acme's package through other's registry: not there.
    let other_reg = registry(&server, "other");
    let npm = Npm::new(&npmrc(&other_reg, Some(&other.secret)));
    let dir = npm.project("probe");
    npm.fails_with(&dir, &["view", UI_PRO], &["code E404"]);

    // And acme still has exactly what it published.
    let buyer = licensed_org(&server, "buyer", &[]);
    let npm = Npm::new(&npmrc(&acme_reg, Some(&buyer.secret)));
    let dir = npm.project("check");
    assert_eq!(npm.versions(&dir, UI_PRO, &[]), vec!["1.0.0"]);
}

/// A publish token limited to one package cannot publish another.
#[test]
fn package_limited_publish_token_cannot_publish_others() {
    let server = Server::start();
    acme(&server);
    let acme_reg = registry(&server, SELLER);
    let limited = server.publish_token(SELLER, &["npm:@acme/ui-pro"]);
    let npm = Npm::new(&npmrc(&acme_reg, Some(&limited.secret)));

    npm.publish(UI_PRO, "1.0.0");
    let pkg = npm.package("@acme/other", "1.0.0", "@acme/other 1.0.0");
    npm.fails_with(&pkg, &["publish"], &["code E403", "limited to"]);
}

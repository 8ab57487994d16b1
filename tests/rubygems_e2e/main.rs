//! End-to-end: the real `tollgate` binary driven by the real `gem` and `bundle` (Debian `ruby`
//! and `ruby-bundler`), each "user" with its own temporary `HOME`, `GEM_HOME`, `BUNDLE_PATH`
//! and Bundler config. Fixture gems are built with `gem build` and pushed with `gem push`; the
//! only source any client sees is the local server. Assertions print what the client printed.

#[path = "../common/mod.rs"]
mod common;
mod harness;

use std::thread;
use std::time::Duration;

use common::{Server, Token, write_file};
use harness::{
    BASE, BUNDLE_HOST_VAR, CHECK_GEMSPECS, PRO, PRO_DEPS, PRODUCT, Ruby, SELLER, acme,
    bundle_install, licensed_org, locked, publish_chain,
};

/// Push (a chain, a prerelease, a platform variant); `bundle install` with the token from
/// `bundle config` and from the environment; `gem install` with the token in the source URL;
/// downloads recorded; every quick gemspec loads the way RubyGems loads it.
#[test]
fn push_then_bundle_and_gem_install_the_licensed_chain() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Ruby::new(&server);
    publish_chain(&seller, &publish);
    let pre = seller.build(
        PRO,
        "1.3.0.pre1",
        "  s.add_dependency \"acme_base\", \">= 1.0\", \"< 2\"\n",
        None,
    );
    let native = seller.build(PRO, "1.2.0", PRO_DEPS, Some("x86_64-linux"));
    for gem in [&pre, &native] {
        let run = seller.push(gem, &publish);
        assert!(
            run.success && run.output().contains("Successfully registered gem"),
            "{}",
            run.output()
        );
    }
    let again = seller.push(&seller.build(BASE, "1.0.0", "", None), &publish);
    assert!(
        !again.success
            && again
                .output()
                .contains("Repushing of gem versions is not allowed"),
        "{}",
        again.output()
    );
    let junk = write_file(seller.root.path(), "junk/acme_pro-9.9.9.gem", "not a gem");
    let bad = common::http::request(
        "POST",
        &format!("{}/api/v1/gems", seller.host),
        &[("Authorization", &publish.secret)],
        &std::fs::read(&junk).expect("junk"),
    )
    .expect("push junk");
    assert_eq!(bad.status, 422, "{}", bad.text());

    let buyer = licensed_org(&server, "buyer", &[]);
    let alice = Ruby::new(&server);
    alice.bundle_config(&buyer);
    let app = alice.app("");
    let run = bundle_install(&alice, &app, &[]);
    assert!(
        run.stdout.contains("acme_pro 1.2.0") && run.stdout.contains("with acme_base 1.1.0"),
        "{}",
        run.output()
    );
    assert!(
        locked(&app, PRO).starts_with("1.2.0"),
        "the prerelease must not be picked"
    );
    assert_eq!(locked(&app, BASE), "1.1.0");

    let ci = Ruby::new(&server);
    let app = ci.app(", \"1.2.0\"");
    bundle_install(&ci, &app, &[(BUNDLE_HOST_VAR, &buyer.secret)]);

    let bob = Ruby::new(&server);
    let home = bob.root.path().to_owned();
    let source = bob.source_with(&buyer);
    let run = bob.ok(
        &home,
        "gem",
        &["install", PRO, "--clear-sources", "--source", &source],
        &[],
    );
    assert!(
        run.stdout
            .contains("Successfully installed acme_base-1.1.0"),
        "{}",
        run.output()
    );
    assert!(
        run.stdout.contains("Successfully installed acme_pro-1.2.0"),
        "{}",
        run.output()
    );
    let run = bob.ok(
        &home,
        "gem",
        &[
            "install",
            PRO,
            "--pre",
            "--clear-sources",
            "--source",
            &source,
        ],
        &[],
    );
    assert!(
        run.stdout
            .contains("Successfully installed acme_pro-1.3.0.pre1"),
        "{}",
        run.output()
    );

    let downloads = server.downloads(SELLER);
    assert!(
        downloads.iter().any(|d| d["package"] == PRO
            && d["version"]
                .as_str()
                .is_some_and(|v| v.starts_with("1.2.0"))),
        "{downloads:?}"
    );

    let auth = format!("Basic {}", base64_of(&format!("{}:", buyer.secret)));
    let mut files = Vec::new();
    for full in [
        "acme_base-1.0.0",
        "acme_base-1.1.0",
        "acme_pro-1.2.0",
        "acme_pro-1.3.0.pre1",
        "acme_pro-1.2.0-x86_64-linux",
    ] {
        let url = format!("{}/quick/Marshal.4.8/{full}.gemspec.rz", seller.host);
        let res = common::http::request("GET", &url, &[("Authorization", &auth)], b"")
            .expect("gemspec.rz");
        assert_eq!(res.status, 200, "{url}: {}", res.text());
        let path = home.join(format!("{full}.gemspec.rz"));
        std::fs::write(&path, &res.body).expect("write rz");
        files.push(path.to_string_lossy().into_owned());
    }
    let mut args = vec!["-e", CHECK_GEMSPECS];
    args.extend(files.iter().map(String::as_str));
    let run = bob.ok(&home, "ruby", &args, &[]);
    eprintln!("{}", run.output());
    assert!(
        run.stdout.contains(
            "acme_pro-1.2.0-x86_64-linux [acme_base ~> 1.0] ruby >= 2.7 acme_pro fixture"
        ),
        "{}",
        run.output()
    );
    assert_eq!(run.stdout.lines().count(), 5, "{}", run.output());
}

/// After `gem yank`, a fresh `bundle lock` no longer picks the yanked version.
#[test]
fn yanked_versions_are_not_picked_by_a_fresh_lock() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Ruby::new(&server);
    publish_chain(&seller, &publish);
    let buyer = licensed_org(&server, "buyer", &[]);

    let before = Ruby::new(&server);
    let app = before.app("");
    before.ok(
        &app,
        "bundle",
        &["lock"],
        &[(BUNDLE_HOST_VAR, &buyer.secret)],
    );
    assert_eq!(locked(&app, BASE), "1.1.0");

    let home = seller.root.path().to_owned();
    let run = seller.ok(
        &home,
        "gem",
        &["yank", BASE, "-v", "1.1.0", "--host", &seller.host],
        &[("GEM_HOST_API_KEY", &publish.secret)],
    );
    assert!(
        run.output().contains("Successfully deleted gem"),
        "{}",
        run.output()
    );
    // A buyer's token cannot yank (gem 3.3 prints the refusal but exits 0).
    let refused = seller.run(
        &home,
        "gem",
        &["yank", BASE, "-v", "1.0.0", "--host", &seller.host],
        &[("GEM_HOST_API_KEY", &buyer.secret)],
    );
    assert!(
        refused.output().contains("cannot publish"),
        "{}",
        refused.output()
    );

    let after = Ruby::new(&server);
    let app = after.app("");
    after.ok(
        &app,
        "bundle",
        &["lock"],
        &[(BUNDLE_HOST_VAR, &buyer.secret)],
    );
    assert_eq!(locked(&app, BASE), "1.0.0");
}

/// An org without a license does not find the gem; a revoked seat gets a 401; an ended
/// while_active license names the reason and date; perpetual_fallback resolves to the newest
/// version published before the end.
#[test]
fn unlicensed_revoked_lapsed_and_fallback_callers() {
    let server = Server::start();
    let publish = acme(&server);
    let seller = Ruby::new(&server);
    let legacy = licensed_org(&server, "legacy", &["--rule", "perpetual_fallback"]);
    let lapsed = licensed_org(&server, "lapsed", &["--rule", "while_active"]);
    licensed_org(&server, "buyer", &[]);
    publish_chain(&seller, &publish);
    thread::sleep(Duration::from_millis(50));
    server.grant_end(SELLER, "legacy", PRODUCT);
    server.grant_end(SELLER, "lapsed", PRODUCT);
    let newer = seller.push(&seller.build(PRO, "1.3.0", PRO_DEPS, None), &publish);
    assert!(newer.success, "{}", newer.output());

    server.org(SELLER, "stranger");
    let stranger = server.org_token(SELLER, "stranger");
    let user = Ruby::new(&server);
    let app = user.app("");
    user.fails_with(
        &app,
        "bundle",
        &["install"],
        &[(BUNDLE_HOST_VAR, &stranger.secret)],
        &["Could not find gem 'acme_pro'"],
    );

    let user = Ruby::new(&server);
    let app = user.app("");
    user.fails_with(
        &app,
        "bundle",
        &["install"],
        &[(BUNDLE_HOST_VAR, &lapsed.secret)],
        &["license of org", "ended on"],
    );
    let home = user.root.path().to_owned();
    let source = user.source_with(&lapsed);
    user.fails_with(
        &home,
        "gem",
        &["install", PRO, "--clear-sources", "--source", &source],
        &[],
        &["ended on"],
    );

    let user = Ruby::new(&server);
    let app = user.app("");
    bundle_install(&user, &app, &[(BUNDLE_HOST_VAR, &legacy.secret)]);
    assert_eq!(
        locked(&app, PRO),
        "1.2.0",
        "1.3.0 was published after the end"
    );

    let email = "alice@buyer.example";
    server.cli(&["seat", "add", "--seller", SELLER, "--org", "buyer", email]);
    let seat = server.token(SELLER, &["--org", "buyer", "--seat", email]);
    let user = Ruby::new(&server);
    let app = user.app("");
    user.ok(
        &app,
        "bundle",
        &["lock"],
        &[(BUNDLE_HOST_VAR, &seat.secret)],
    );
    server.cli(&[
        "seat", "revoke", "--seller", SELLER, "--org", "buyer", email,
    ]);
    let fresh = Ruby::new(&server);
    let app = fresh.app("");
    fresh.fails_with(
        &app,
        "bundle",
        &["lock"],
        &[(BUNDLE_HOST_VAR, &seat.secret)],
        &["Bad username or password"],
    );
    let home = fresh.root.path().to_owned();
    let source = fresh.source_with(&seat);
    fresh.fails_with(
        &home,
        "gem",
        &["install", PRO, "--clear-sources", "--source", &source],
        &[],
        &["401"],
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The compact index over plain HTTP: the probe, MD5 ETags with 304s, `Range` ignored,
/// `Repr-Digest`, per-caller listings (an unlicensed org gets a valid empty `/versions`), the
/// 401 hint, the legacy specs files, and `/api/v1/dependencies` → 404.
#[test]
fn compact_index_http_details() {
    use base64::Engine;
    use common::http::request;
    use sha2::{Digest, Sha256};

    let server = Server::start();
    let publish = acme(&server);
    let seller = Ruby::new(&server);
    publish_chain(&seller, &publish);
    let pre = seller.build(PRO, "1.3.0.pre1", PRO_DEPS, None);
    assert!(seller.push(&pre, &publish).success);
    let buyer = licensed_org(&server, "buyer", &[]);
    server.org(SELLER, "stranger");
    let stranger = server.org_token(SELLER, "stranger");
    let basic = |t: &Token| format!("Basic {}", base64_of(&format!("{}:", t.secret)));
    let (auth, other) = (basic(&buyer), basic(&stranger));
    let get = |path: &str, headers: &[(&str, &str)]| {
        request("GET", &format!("{}{path}", seller.source()), headers, b"").expect("request")
    };

    let probe = request("HEAD", &seller.source(), &[("Authorization", &auth)], b"").expect("HEAD");
    assert_eq!(probe.status, 200);
    let versions = get("versions", &[("Authorization", &auth)]);
    assert_eq!(versions.status, 200, "{}", versions.text());
    let text = versions.text();
    assert!(
        text.starts_with("created_at: ") && text.contains("\n---\n"),
        "{text}"
    );
    assert!(
        text.contains("acme_base 1.0.0,1.1.0 ") && text.contains("acme_pro 1.2.0,1.3.0.pre1 "),
        "{text}"
    );
    let etag = versions.header("etag").expect("etag").to_owned();
    let md5 = format!("\"{}\"", hex_md5(&versions.body));
    assert_eq!(etag, md5);
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&versions.body));
    assert_eq!(
        versions.header("repr-digest"),
        Some(format!("sha-256=:{digest}:").as_str())
    );
    let again = get(
        "versions",
        &[("Authorization", &auth), ("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    let ranged = get(
        "versions",
        &[("Authorization", &auth), ("Range", "bytes=10-")],
    );
    assert_eq!(
        (ranged.status, ranged.body.len()),
        (200, versions.body.len())
    );

    let info = get("info/acme_pro", &[("Authorization", &auth)]).text();
    assert!(
        info.starts_with("---\n1.2.0 acme_base:~> 1.0|checksum:"),
        "{info}"
    );
    assert!(
        text.contains(&format!(
            "acme_pro 1.2.0,1.3.0.pre1 {}",
            hex_md5(info.as_bytes())
        )),
        "{text}"
    );
    assert_eq!(
        get("names", &[("Authorization", &auth)]).text(),
        "---\nacme_base\nacme_pro\n"
    );

    let empty = get("versions", &[("Authorization", &other)]);
    assert_eq!(
        (empty.status, empty.text().ends_with("\n---\n")),
        (200, true),
        "{}",
        empty.text()
    );
    assert_eq!(
        get("info/acme_pro", &[("Authorization", &other)]).status,
        404
    );
    assert_eq!(
        get("gems/acme_pro-1.2.0.gem", &[("Authorization", &other)]).status,
        404
    );
    let anonymous = get("versions", &[]);
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .text()
            .contains("bundle config set --global 127.0.0.1"),
        "{}",
        anonymous.text()
    );
    assert_eq!(
        get("api/v1/dependencies", &[("Authorization", &auth)]).status,
        404
    );

    let dir = seller.root.path().to_owned();
    let mut files = Vec::new();
    for name in ["specs", "latest_specs", "prerelease_specs"] {
        let res = get(&format!("{name}.4.8.gz"), &[("Authorization", &auth)]);
        assert_eq!(res.status, 200);
        assert_eq!(res.header("content-encoding"), None);
        let path = dir.join(format!("{name}.4.8.gz"));
        std::fs::write(&path, &res.body).expect("write specs");
        files.push(path.to_string_lossy().into_owned());
    }
    let script = "ARGV.each { |f| puts Marshal.load(Zlib.gunzip(File.binread(f))).map { |n, v, p| \"#{n}-#{v}-#{p}\" }.join(\" \") }";
    let mut args = vec!["-rzlib", "-e", script];
    args.extend(files.iter().map(String::as_str));
    let run = seller.ok(&dir, "ruby", &args, &[]);
    assert_eq!(
        run.stdout,
        "acme_base-1.0.0-ruby acme_base-1.1.0-ruby acme_pro-1.2.0-ruby\n\
         acme_base-1.1.0-ruby acme_pro-1.2.0-ruby\n\
         acme_pro-1.3.0.pre1-ruby\n",
        "{}",
        run.output()
    );
}

fn hex_md5(body: &[u8]) -> String {
    let run = std::process::Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(body)?;
            child.wait_with_output()
        })
        .expect("md5sum");
    String::from_utf8_lossy(&run.stdout)[..32].to_owned()
}

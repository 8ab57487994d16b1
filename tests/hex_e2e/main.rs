//! End-to-end: the real `tollgate` binary against the real Hex clients available here.
//!
//! - `rebar3` (Debian's, with hex_core built in) resolves, fetches, compiles and runs packages
//!   from the seller's repository, with a fresh `HOME` per user;
//! - hex_core itself, called from `erl` (the `r3_hex_*` modules unpacked from the rebar3
//!   escript), builds package tarballs and publishes them through `POST /api/publish`;
//! - `curl` posts a tarball to `/api/packages/NAME/releases` with `expect: 100-continue`, the
//!   way Hex 2.5 does;
//! - `mix` runs when a Hex client archive is installed (`mix archive` lists `hex`); otherwise
//!   that test says why it is skipped.

#[path = "../common/mod.rs"]
mod common;
mod harness;

use std::path::Path;
use std::process::Command;

use common::http::request;
use common::{Server, write_file};
use harness::{
    Consumer, PRO_1, PRODUCT, Pkg, SELLER, UTIL_1, acme, api_config, bin, build_tarball,
    contents_offset, erl, licensed_org, logged, mix, mix_has_hex, mix_ok, mix_project, publish,
    publish_ok, refused_by_repo, sha256_hex,
};

/// A buyer's rebar3 resolves a licensed package and its dependency from the seller's repo,
/// compiles them, and the code runs; a second resolution revalidates with `If-None-Match`.
#[test]
fn rebar3_fetches_compiles_and_runs_a_licensed_package() {
    let server = Server::start();
    let publisher = acme(&server);
    publish_ok(&server, &publisher.secret, &UTIL_1);
    publish_ok(&server, &publisher.secret, &PRO_1);
    let buyer = licensed_org(&server, "buyer", &[]);

    let app = Consumer::new(&server, &buyer.secret, &[("acme_pro", "~> 1.0")]);
    app.ok(&["get-deps"]);
    app.ok(&["compile"]);
    assert_eq!(app.hello("acme_pro"), "acme_pro 1.0.0 acme_util 1.0.0");
    let lock = app.lock();
    assert!(
        lock.contains("acme_pro") && lock.contains("acme_util"),
        "{lock}"
    );

    // A second fetch (fresh build, same rebar3 cache) revalidates the cached tarballs with the
    // ETags it stored. (rebar3 3.19 sends no If-None-Match for registry files.)
    std::fs::remove_dir_all(app.app().join("_build")).expect("rm _build");
    app.ok(&["get-deps"]);
    assert!(
        logged(&server, "/acme/hex/tarballs/acme_pro-1.0.0.tar", 304) >= 1,
        "no 304 for a revalidated tarball:\n{}",
        server.logs()
    );

    let downloads = server.downloads(SELLER);
    assert!(
        downloads
            .iter()
            .any(|d| d["package"] == "acme_pro" && d["version"] == "1.0.0"),
        "download not recorded: {downloads:?}"
    );
}

/// Only entitled, unrevoked tokens resolve; perpetual fallback resolves to the newest version
/// published before the end.
#[test]
fn rebar3_follows_the_access_rule() {
    let server = Server::start();
    let publisher = acme(&server);
    publish_ok(&server, &publisher.secret, &UTIL_1);
    publish_ok(&server, &publisher.secret, &PRO_1);
    let legacy = licensed_org(&server, "legacy", &["--rule", "perpetual_fallback"]);
    server.org(SELLER, "nobody");
    let unentitled = server.org_token(SELLER, "nobody");
    let email = "alice@legacy.example";
    server.cli(&["seat", "add", "--seller", SELLER, "--org", "legacy", email]);
    let seat = server.token(SELLER, &["--org", "legacy", "--seat", email]);

    let app = Consumer::new(&server, &unentitled.secret, &[("acme_pro", "~> 1.0")]);
    let run = app.rebar3(&["get-deps"]);
    // The package is hidden from an org outside its licenses: a 404, not an error.
    refused_by_repo(&run, 404, "package acme_pro not found");

    let app = Consumer::new(&server, &seat.secret, &[("acme_pro", "~> 1.0")]);
    app.ok(&["get-deps"]);
    server.cli(&[
        "seat", "revoke", "--seller", SELLER, "--org", "legacy", email,
    ]);
    let app = Consumer::new(&server, &seat.secret, &[("acme_pro", "~> 1.0")]);
    let run = app.rebar3(&["get-deps"]);
    refused_by_repo(
        &run,
        401,
        "the seat of alice@legacy.example was revoked by the org's admin",
    );

    server.grant_end(SELLER, "legacy", PRODUCT);
    publish_ok(
        &server,
        &publisher.secret,
        &Pkg {
            version: "1.1.0",
            ..PRO_1
        },
    );
    let app = Consumer::new(&server, &legacy.secret, &[("acme_pro", "~> 1.0")]);
    app.ok(&["get-deps"]);
    app.ok(&["compile"]);
    assert_eq!(app.hello("acme_pro"), "acme_pro 1.0.0 acme_util 1.0.0");

    // The lapsed org is told why, in the header mix prints.
    let url = format!("{}/{SELLER}/hex/tarballs/acme_pro-1.1.0.tar", server.url());
    let r = request("GET", &url, &[("authorization", &legacy.secret)], b"").expect("GET");
    assert_eq!(r.status, 404);
    let message = r.header("x-hex-message").unwrap_or_default();
    assert!(
        message.starts_with('"') && message.contains("ended") && message.ends_with("level=warn"),
        "x-hex-message: {message}"
    );
}

/// hex_core's publish, users/me and retire; Hex 2.5's `POST /packages/NAME/releases` with
/// `expect: 100-continue`; bad tarballs get a 422 Erlang-term error and nothing is stored.
#[test]
fn publish_api_speaks_erlang_terms() {
    let server = Server::start();
    let publisher = acme(&server);
    let buyer = licensed_org(&server, "buyer", &[]);

    let me = erl(&format!(
        "{} R = r3_hex_api_user:me(Config), io:format(\"~p~n\", [R]),",
        api_config(&server, &publisher.secret)
    ));
    assert!(
        me.stdout.contains("{ok,{200,") && me.stdout.contains("<<\"organizations\">> => []"),
        "users/me:\n{}",
        me.output()
    );
    let anonymous = erl(&format!(
        "{} R = r3_hex_api_user:me(Config), io:format(\"~p~n\", [R]),",
        api_config(&server, "tg_nope_nope")
    ));
    assert!(
        anonymous.stdout.contains("{ok,{401,") && anonymous.stdout.contains("<<\"message\">>"),
        "users/me without a valid key:\n{}",
        anonymous.output()
    );

    publish_ok(&server, &publisher.secret, &UTIL_1);
    let stored_util = server.stored_blobs();
    assert_eq!(
        stored_util.len(),
        1,
        "acme_util 1.0.0 is not in the store {}",
        server.store_spec()
    );
    // A buyer's token cannot publish, and nothing it sent is kept.
    let refused = publish(&server, &buyer.secret, &PRO_1);
    assert!(refused.stdout.contains("{ok,{403,"), "{}", refused.output());
    assert_eq!(
        server.stored_blobs(),
        stored_util,
        "the refused publish left a blob"
    );
    // The same version again is refused, in a 422 the client prints.
    let again = publish(&server, &publisher.secret, &UTIL_1);
    assert!(
        again.stdout.contains("{ok,{422,") && again.stdout.contains("previously published"),
        "{}",
        again.output()
    );

    // Hex 2.5's path, through curl with expect: 100-continue.
    let dir = tempfile::tempdir().expect("tmp");
    let tar = dir.path().join("acme_pro-1.0.0.tar");
    build_tarball(&PRO_1, &tar);
    let post = |file: &Path, name: &str| {
        let out = Command::new("curl")
            .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST"])
            .args(["-H", &format!("authorization: {}", publisher.secret)])
            .args(["-H", "accept: application/vnd.hex+erlang"])
            .args(["-H", "content-type: application/octet-stream"])
            .args(["-H", "expect: 100-continue"])
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(format!(
                "{}/{SELLER}/hex/api/packages/{name}/releases?replace=false",
                server.url()
            ))
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
        (code.to_owned(), body.to_owned())
    };
    let stored_before = server.stored_blobs();
    let (code, body) = post(&tar, "acme_pro");
    assert_eq!(code, "201", "{body}");
    // The accepted tarball is in the store in use, by its sha256 (the lister sees the store).
    let accepted = sha256_hex(&std::fs::read(&tar).expect("read tar"));
    let blobs_before = server.stored_blobs();
    assert!(
        blobs_before.contains(&accepted) && blobs_before.len() == stored_before.len() + 1,
        "the accepted acme_pro 1.0.0 ({accepted}) is not in the store {}: {stored_before:?} -> \
         {blobs_before:?}",
        server.store_spec()
    );

    // Bad tarballs: a flipped byte in a tar header, one in the contents (a well-formed tar whose
    // CHECKSUM no longer matches, refused only once the whole package is read), a wrong name in
    // the URL, not a tar at all.
    let bytes = std::fs::read(&tar).expect("read tar");
    let mut header_flip = bytes.clone();
    let at = header_flip.len() - 700;
    header_flip[at] ^= 0xff;
    let bad = dir.path().join("bad.tar");
    std::fs::write(&bad, &header_flip).expect("write");
    let mut contents_flip = bytes.clone();
    let at = contents_offset(&bytes) + 20;
    contents_flip[at] ^= 0xff;
    let bad_contents = dir.path().join("bad-contents.tar");
    std::fs::write(&bad_contents, &contents_flip).expect("write");
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"not a tarball").expect("write");
    for (file, name) in [
        (&bad, "acme_pro"),
        (&bad_contents, "acme_pro"),
        (&tar, "acme_other"),
        (&junk, "acme_pro"),
    ] {
        let (code, body) = post(file, name);
        assert_eq!(code, "422", "{} as {name}: {body}", file.display());
    }
    assert_eq!(
        server.stored_blobs(),
        blobs_before,
        "a refused publish left something in the store {}",
        server.store_spec()
    );

    // Retire 1.0.0 of acme_util: still resolvable, marked retired in the signed registry.
    let retire = erl(&format!(
        "{} R = r3_hex_api_release:retire(Config, <<\"acme_util\">>, <<\"1.0.0\">>, \
           #{{<<\"reason\">> => <<\"security\">>, <<\"message\">> => <<\"CVE-1\">>}}), \
         io:format(\"~p~n\", [R]),",
        api_config(&server, &publisher.secret)
    ));
    assert!(retire.stdout.contains("{ok,{204,"), "{}", retire.output());
    let public_key = request(
        "GET",
        &format!("{}/{SELLER}/hex/public_key", server.url()),
        &[],
        b"",
    )
    .expect("public key")
    .text();
    let read = erl(&format!(
        "Config = maps:merge(r3_hex_core:default_config(), #{{repo_url => {}, repo_name => <<\"acme\">>, \
           repo_public_key => {}, repo_key => {}}}), \
         {{ok, {{200, _, Releases}}}} = r3_hex_repo:get_package(Config, <<\"acme_util\">>), \
         io:format(\"~p~n\", [Releases]),",
        bin(&format!("{}/{SELLER}/hex", server.url())),
        bin(&public_key),
        bin(&buyer.secret)
    ));
    assert!(
        read.stdout.contains("retired") && read.stdout.contains("CVE-1"),
        "{}",
        read.output()
    );

    // Within the first day of a package: replace a release, then revert it.
    let replace = erl(&format!(
        "{} {} R = r3_hex_api_release:publish(Config, Tarball, [{{replace, true}}]), \
         io:format(\"~p~n\", [R]),",
        PRO_1.create_expr(),
        api_config(&server, &publisher.secret)
    ));
    assert!(replace.stdout.contains("{ok,{201,"), "{}", replace.output());
    let revert = erl(&format!(
        "{} R = r3_hex_api_release:delete(Config, <<\"acme_pro\">>, <<\"1.0.0\">>), \
         io:format(\"~p~n\", [R]),",
        api_config(&server, &publisher.secret)
    ));
    assert!(revert.stdout.contains("{ok,{204,"), "{}", revert.output());
    let gone = request(
        "GET",
        &format!("{}/{SELLER}/hex/packages/acme_pro", server.url()),
        &[("authorization", &buyer.secret)],
        b"",
    )
    .expect("GET");
    assert_eq!(gone.status, 404, "a reverted release is not listed");
}

/// A missing key is a 403 (an unknown one a 401) with a quoted, fatal `x-hex-message` saying how to add one; a
/// package outside the license is a 404; signed resources are gzip with no Content-Encoding.
#[test]
fn repository_answers_in_the_clients_terms() {
    let server = Server::start();
    let publisher = acme(&server);
    publish_ok(&server, &publisher.secret, &UTIL_1);
    server.product(SELLER, "other", &["hex:acme_secret"]);
    let buyer = licensed_org(&server, "buyer", &[]);
    let url = |p: &str| format!("{}/{SELLER}/hex/{p}", server.url());

    let r = request("GET", &url("packages/acme_util"), &[], b"").expect("GET");
    assert_eq!(
        r.status, 403,
        "no key: 403 (a 401 makes mix offer a hex.pm login)"
    );
    let message = r.header("x-hex-message").unwrap_or_default();
    assert!(
        message.starts_with('"')
            && message.contains("mix hex.repo add acme")
            && message.ends_with("level=fatal"),
        "{message}"
    );

    let unknown = request(
        "GET",
        &url("packages/acme_util"),
        &[("authorization", "tg_0123456789abcdef_0000")],
        b"",
    )
    .expect("GET");
    assert_eq!(unknown.status, 401);
    assert!(
        unknown
            .header("x-hex-message")
            .unwrap_or_default()
            .contains("not valid")
    );

    let auth = [("authorization", buyer.secret.as_str())];
    for path in ["packages/acme_util", "names", "versions"] {
        let r = request("GET", &url(path), &auth, b"").expect("GET");
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(&r.body[..2], [0x1f, 0x8b], "{path} is gzip");
        assert_eq!(r.header("content-encoding"), None, "{path}");
        assert!(
            r.header("cache-control")
                .unwrap_or_default()
                .contains("private")
        );
        let etag = r.header("etag").expect("etag").to_owned();
        let again =
            request("GET", &url(path), &[auth[0], ("if-none-match", &etag)], b"").expect("GET");
        assert_eq!(again.status, 304, "{path}");
    }
    let hidden = request("GET", &url("packages/acme_secret"), &auth, b"").expect("GET");
    assert_eq!(hidden.status, 404);
    let missing = request("GET", &url("tarballs/acme_util-9.9.9.tar"), &auth, b"").expect("GET");
    assert_eq!(missing.status, 404);
    let tarball = request("GET", &url("tarballs/acme_util-1.0.0.tar"), &auth, b"").expect("GET");
    assert_eq!(tarball.status, 200);
    assert!(
        tarball.header("etag").is_some(),
        "rebar3 needs an ETag on tarballs"
    );
    // A repository URL with a trailing slash makes clients ask for `//packages/…`.
    let double = request("GET", &url("/packages/acme_util"), &auth, b"").expect("GET");
    assert_eq!(double.status, 200);

    // The fingerprint the CLI prints is the one `mix hex.repo add --fetch-public-key` checks.
    let shown = server.cli_json(&["seller", "show", SELLER]);
    let fingerprint = shown["hex_public_key_fingerprint"]
        .as_str()
        .expect("fingerprint");
    assert!(fingerprint.starts_with("SHA256:"), "{shown}");
}

/// The mix scenario, when a Hex client archive is installed in the ambient `MIX_HOME` (this test
/// leaves `MIX_HOME` alone; each user gets its own `HEX_HOME`). A buyer's mix adds the seller's
/// repository by fingerprint and org token, then resolves, compiles and runs an Erlang package
/// published with hex_core; the seller publishes an Elixir package with `mix hex.publish
/// package`, which a buyer's project then resolves with its dependency, compiles and runs. A
/// missing key and a lapsed license are explained through `x-hex-message`.
#[test]
fn mix_deps_get_and_publish_when_hex_is_installed() {
    let started = std::time::Instant::now();
    if !mix_has_hex() {
        tollgate_testkit::skipped(
            "mix's Hex client",
            "`mix archive` lists no Hex client (it is in no registry reachable here); \
             rebar3 and hex_core cover the protocol above (README: which Hex paths each client proves)",
        );
        return;
    }
    let server = Server::start();
    let publisher = acme(&server);
    publish_ok(&server, &publisher.secret, &UTIL_1);
    let buyer = licensed_org(&server, "buyer", &[]);
    let fingerprint = server.cli_json(&["seller", "show", SELLER])["hex_public_key_fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    let root = tempfile::Builder::new()
        .prefix("tollgate-mix-")
        .tempdir()
        .expect("temp dir");
    let repo = format!("{}/{SELLER}/hex", server.url());
    let add_repo = |hex_home: &Path, key: Option<&str>| {
        let mut args = vec![
            "hex.repo",
            "add",
            SELLER,
            &repo,
            "--fetch-public-key",
            &fingerprint,
        ];
        if let Some(key) = key {
            args.extend(["--auth-key", key]);
        }
        mix_ok(&server, hex_home, root.path(), &[], &args);
    };

    // A buyer: an Erlang package published by hex_core resolves, compiles and runs.
    let buyer_home = root.path().join("buyer-hex");
    add_repo(&buyer_home, Some(&buyer.secret));
    let app = root.path().join("app");
    mix_project(
        &app,
        "app",
        "0.1.0",
        "[{:acme_util, \"~> 1.0\", repo: \"acme\"}]",
        "",
    );
    let get = mix_ok(&server, &buyer_home, &app, &[], &["deps.get"]);
    assert!(get.output().contains("acme_util 1.0.0"), "{}", get.output());
    mix_ok(&server, &buyer_home, &app, &[], &["compile"]);
    let hello = mix_ok(
        &server,
        &buyer_home,
        &app,
        &[],
        &["run", "-e", "IO.puts(:acme_util.hello())"],
    );
    assert!(
        hello.stdout.lines().any(|l| l == "acme_util 1.0.0"),
        "{}",
        hello.output()
    );
    let lock = std::fs::read_to_string(app.join("mix.lock")).expect("mix.lock");
    assert!(
        lock.contains("\"acme_util\"") && lock.contains("\"acme\""),
        "{lock}"
    );

    // The seller publishes an Elixir package that depends on the Erlang one, with mix.
    let seller_home = root.path().join("seller-hex");
    add_repo(&seller_home, Some(&publisher.secret));
    let pkg = root.path().join("acme_pro");
    mix_project(
        &pkg,
        "acme_pro",
        "1.0.0",
        "[{:acme_util, \"~> 1.0\", repo: \"acme\"}]",
        "description: \"Acme Pro for Elixir\",\n      \
         package: [licenses: [\"LicenseRef-Acme\"], links: %{}, files: [\"lib\", \"mix.exs\"]],\n      ",
    );
    write_file(
        &pkg,
        "lib/acme_pro.ex",
        "defmodule AcmePro do\n  def hello, do: \"acme_pro 1.0.0 \" <> List.to_string(:acme_util.hello())\nend\n",
    );
    mix_ok(&server, &seller_home, &pkg, &[], &["deps.get"]);
    let api = format!("{repo}/api");
    let published = mix_ok(
        &server,
        &seller_home,
        &pkg,
        &[
            ("HEX_API_URL", api.as_str()),
            ("HEX_API_KEY", publisher.secret.as_str()),
        ],
        &["hex.publish", "package", "--yes"],
    );
    assert!(
        published.output().contains("Package published"),
        "{}",
        published.output()
    );

    // A buyer's project depends on the Elixir package, compiles and runs it.
    let app2 = root.path().join("app2");
    mix_project(
        &app2,
        "app2",
        "0.1.0",
        "[{:acme_pro, \"~> 1.0\", repo: \"acme\"}]",
        "",
    );
    let get = mix_ok(&server, &buyer_home, &app2, &[], &["deps.get"]);
    assert!(
        get.output().contains("acme_pro 1.0.0") && get.output().contains("acme_util 1.0.0"),
        "{}",
        get.output()
    );
    mix_ok(&server, &buyer_home, &app2, &[], &["compile"]);
    let hello = mix_ok(
        &server,
        &buyer_home,
        &app2,
        &[],
        &["run", "-e", "IO.puts(AcmePro.hello())"],
    );
    assert!(
        hello
            .stdout
            .lines()
            .any(|l| l == "acme_pro 1.0.0 acme_util 1.0.0"),
        "{}",
        hello.output()
    );

    // No key: mix stops with the server's explanation.
    let keyless_home = root.path().join("keyless-hex");
    add_repo(&keyless_home, None);
    let app3 = root.path().join("app3");
    mix_project(
        &app3,
        "app3",
        "0.1.0",
        "[{:acme_util, \"~> 1.0\", repo: \"acme\"}]",
        "",
    );
    let denied = mix(&server, &keyless_home, &app3, &[], &["deps.get"]);
    assert!(
        !denied.success
            && denied
                .output()
                .contains("API error: the acme Hex repository needs a key"),
        "{}",
        denied.output()
    );

    // A lapsed license (perpetual fallback) still resolves what it covered, with a warning.
    let legacy = licensed_org(&server, "legacy", &["--rule", "perpetual_fallback"]);
    server.grant_end(SELLER, "legacy", PRODUCT);
    let legacy_home = root.path().join("legacy-hex");
    add_repo(&legacy_home, Some(&legacy.secret));
    let lapsed = mix_ok(&server, &legacy_home, &app3, &[], &["deps.get"]);
    assert!(
        lapsed.output().contains("API warning:") && lapsed.output().contains("ended"),
        "{}",
        lapsed.output()
    );

    eprintln!("---- requests ----");
    for line in server.logs().lines().filter(|l| l.contains("path=")) {
        eprintln!("{line}");
    }
    eprintln!("mix scenario took {:?}", started.elapsed());
}

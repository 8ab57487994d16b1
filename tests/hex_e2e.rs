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

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::http::request;
use common::{CLIENT_TIMEOUT, Run, Server, Token, run_with_timeout, write_file};
use tempfile::TempDir;

const SELLER: &str = "acme";
const PRODUCT: &str = "pro";

// ---- hex_core from erl ----------------------------------------------------------------------

/// The `r3_hex_*` modules unpacked from the rebar3 escript, once per test process.
fn hex_core_ebin() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tollgate-r3hex-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create r3 dir");
        let rebar3 = which("rebar3");
        let out = Command::new("erl")
            .current_dir(&dir)
            .args(["-noshell", "-eval"])
            .arg(format!(
                "{{ok,S}}=escript:extract(\"{rebar3}\",[]), {{archive,B}}=lists:keyfind(archive,1,S), \
                 {{ok,_}}=zip:extract(B,[{{cwd,\".\"}},{{file_filter,fun({{zip_file,N,_,_,_,_}})-> \
                 lists:prefix(\"rebar/ebin/r3_hex\",N) end}}]), halt()."
            ))
            .output()
            .expect("run erl (apt-get install erlang rebar3)");
        assert!(out.status.success(), "unpacking hex_core failed: {out:?}");
        dir.join("rebar/ebin")
    })
}

fn which(tool: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs an Erlang expression sequence with hex_core loaded; it should print its result.
fn erl(expr: &str) -> Run {
    let mut cmd = Command::new("erl");
    cmd.arg("-noshell")
        .arg("-pa")
        .arg(hex_core_ebin())
        .arg("-eval")
        .arg(format!(
            "application:ensure_all_started(inets), application:ensure_all_started(ssl), \
             {expr} halt()."
        ));
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// An Erlang binary literal.
fn bin(s: &str) -> String {
    format!(
        "<<\"{}\"/utf8>>",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// One package to build: its name, version and what `hello/0` returns; `deps` are
/// `(name, requirement)` in the same repository.
struct Pkg<'a> {
    name: &'a str,
    version: &'a str,
    deps: &'a [(&'a str, &'a str)],
}

impl Pkg<'_> {
    /// Erlang: `Tarball` bound to a package made by `r3_hex_tarball:create`.
    fn create_expr(&self) -> String {
        let (name, vsn) = (self.name, self.version);
        let reqs = self
            .deps
            .iter()
            .map(|(d, req)| {
                format!(
                    "{} => #{{<<\"app\">> => {}, <<\"optional\">> => false, <<\"requirement\">> => {}}}",
                    bin(d),
                    bin(d),
                    bin(req)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        // hello/0 returns "name vsn" plus each dependency's hello/0.
        let calls = self
            .deps
            .iter()
            .map(|(d, _)| format!(", \" \", {d}:hello()"))
            .collect::<String>();
        let module = format!(
            "-module({name}).\n-export([hello/0]).\nhello() -> lists:flatten([\"{name} {vsn}\"{calls}]).\n"
        );
        let apps = std::iter::once("kernel, stdlib".to_owned())
            .chain(self.deps.iter().map(|(d, _)| d.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        let app_src = format!(
            "{{application, {name}, [{{description, \"{name}\"}}, {{vsn, \"{vsn}\"}}, {{applications, [{apps}]}}, {{registered, []}}]}}.\n"
        );
        format!(
            "Meta = #{{<<\"name\">> => {n}, <<\"version\">> => {v}, <<\"app\">> => {n}, \
               <<\"description\">> => <<\"test package\">>, <<\"licenses\">> => [<<\"Proprietary\">>], \
               <<\"build_tools\">> => [<<\"rebar3\">>], <<\"requirements\">> => #{{{reqs}}}, \
               <<\"files\">> => [<<\"src/{name}.erl\">>, <<\"src/{name}.app.src\">>]}}, \
             Files = [{{\"src/{name}.erl\", {m}}}, {{\"src/{name}.app.src\", {a}}}], \
             {{ok, #{{tarball := Tarball}}}} = r3_hex_tarball:create(Meta, Files),",
            n = bin(name),
            v = bin(vsn),
            m = bin(&module),
            a = bin(&app_src),
        )
    }
}

/// hex_core's API config for the seller's API with `key`.
fn api_config(server: &Server, key: &str) -> String {
    format!(
        "Config = maps:merge(r3_hex_core:default_config(), #{{api_url => {}, api_key => {}}}),",
        bin(&format!("{}/{SELLER}/hex/api", server.url())),
        bin(key)
    )
}

/// Publishes with `r3_hex_api_release:publish` (hex_core's `POST /publish`); prints the reply.
fn publish(server: &Server, key: &str, pkg: &Pkg<'_>) -> Run {
    erl(&format!(
        "{} {} R = r3_hex_api_release:publish(Config, Tarball), io:format(\"~p~n\", [R]),",
        pkg.create_expr(),
        api_config(server, key)
    ))
}

fn publish_ok(server: &Server, key: &str, pkg: &Pkg<'_>) {
    let run = publish(server, key, pkg);
    assert!(
        run.stdout.contains("{ok,{201,"),
        "publish of {} {} failed:\n{}",
        pkg.name,
        pkg.version,
        run.output()
    );
}

/// Writes the tarball hex_core builds for `pkg` to `path`.
fn build_tarball(pkg: &Pkg<'_>, path: &Path) {
    let run = erl(&format!(
        "{} ok = file:write_file(\"{}\", Tarball),",
        pkg.create_expr(),
        path.display()
    ));
    assert!(run.success, "building a tarball failed:\n{}", run.output());
}

// ---- rebar3 consumers -------------------------------------------------------------------------

/// A rebar3 project depending on `deps` from the seller's repository only (`replace`), with its
/// own `HOME` (so its own rebar3 cache).
struct Consumer {
    root: TempDir,
}

impl Consumer {
    fn new(server: &Server, key: &str, deps: &[(&str, &str)]) -> Consumer {
        let root = tempfile::Builder::new()
            .prefix("tollgate-rebar3-")
            .tempdir()
            .expect("temp dir");
        let public_key = request(
            "GET",
            &format!("{}/{SELLER}/hex/public_key", server.url()),
            &[],
            b"",
        )
        .expect("GET public_key")
        .text();
        let deps = deps
            .iter()
            .map(|(n, req)| format!("{{{n}, \"{req}\"}}"))
            .collect::<Vec<_>>()
            .join(", ");
        let config = format!(
            "{{deps, [{deps}]}}.\n\
             {{hex, [{{repos, replace, [#{{name => <<\"{SELLER}\">>,\n\
               repo_url => <<\"{}/{SELLER}/hex\">>,\n\
               repo_public_key => <<\"{}\">>,\n\
               repo_key => <<\"{key}\">>}}]}}]}}.\n",
            server.url(),
            public_key.trim_end().replace('\n', "\\n") + "\\n",
        );
        let app = root.path().join("app");
        write_file(&app, "rebar.config", &config);
        write_file(
            &app,
            "src/app.app.src",
            "{application, app, [{vsn, \"0.1.0\"}, {applications, [kernel, stdlib]}]}.\n",
        );
        std::fs::create_dir_all(root.path().join("home")).expect("home");
        Consumer { root }
    }

    fn app(&self) -> PathBuf {
        self.root.path().join("app")
    }

    fn rebar3(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new("rebar3");
        cmd.args(args)
            .current_dir(self.app())
            .env("HOME", self.root.path().join("home"))
            .env(
                "REBAR_CACHE_DIR",
                self.root.path().join("home/.cache/rebar3"),
            )
            .env("DEBUG", "1")
            .env_remove("HEX_REPOS_KEY")
            .env_remove("REBAR_CONFIG");
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.rebar3(args);
        assert!(run.success, "rebar3 {args:?} failed:\n{}", run.output());
        run
    }

    /// Runs `M:hello()` from the compiled dependencies.
    fn hello(&self, module: &str) -> String {
        let libs = self.app().join("_build/default/lib");
        let mut cmd = Command::new("erl");
        cmd.arg("-noshell");
        for entry in std::fs::read_dir(&libs).expect("_build/default/lib") {
            cmd.arg("-pa")
                .arg(entry.expect("entry").path().join("ebin"));
        }
        cmd.arg("-eval")
            .arg(format!("io:format(\"~s\", [{module}:hello()]), halt()."));
        let run = run_with_timeout(cmd, Duration::from_secs(60));
        assert!(
            run.success,
            "running {module}:hello() failed:\n{}",
            run.output()
        );
        run.stdout
    }

    fn lock(&self) -> String {
        std::fs::read_to_string(self.app().join("rebar.lock")).unwrap_or_default()
    }
}

// ---- fixtures -----------------------------------------------------------------------------------

/// Seller `acme` with product `pro` = hex:acme_util + hex:acme_pro, and a publish token.
fn acme(server: &Server) -> Token {
    server.seller(SELLER);
    server.product(SELLER, PRODUCT, &["hex:acme_util", "hex:acme_pro"]);
    server.publish_token(SELLER, &[])
}

/// An org holding `pro` with `extra` grant options, and its org token.
fn licensed_org(server: &Server, org: &str, extra: &[&str]) -> Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, extra);
    server.org_token(SELLER, org)
}

const UTIL_1: Pkg<'static> = Pkg {
    name: "acme_util",
    version: "1.0.0",
    deps: &[],
};
const PRO_1: Pkg<'static> = Pkg {
    name: "acme_pro",
    version: "1.0.0",
    deps: &[("acme_util", "~> 1.0")],
};

/// rebar3 failed to resolve `acme_pro` because the repository refused it with `status` and
/// `reason` (rebar3 prints both in its `DEBUG=1` trace of the failed `get_package`).
fn refused_by_repo(run: &Run, status: u16, reason: &str) {
    let out = run.output();
    assert!(!run.success, "rebar3 resolved a refused package:\n{out}");
    assert!(
        out.contains("Package not found in any repo: acme_pro"),
        "rebar3 failed, but not on acme_pro:\n{out}"
    );
    assert!(
        out.contains("Hex get_package request failed")
            && out.contains(&format!("{{{status},"))
            && out.contains(reason),
        "rebar3 was not refused with {status} {reason:?}:\n{out}"
    );
}

/// Request lines of the server log for `path` with `status`.
fn logged(server: &Server, path: &str, status: u16) -> usize {
    server
        .logs()
        .lines()
        .filter(|l| l.contains(&format!("path={path} ")) && l.contains(&format!("status={status}")))
        .count()
}

// ---- tests ------------------------------------------------------------------------------------

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

/// Whether `mix archive` (in the ambient `MIX_HOME`) lists the Hex client.
fn mix_has_hex() -> bool {
    Command::new("mix")
        .arg("archive")
        .current_dir(std::env::temp_dir())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("* hex"))
}

/// Runs `mix ARGS` in `dir` as the user whose Hex state is in `hex_home`, with the update check
/// pointed at the test server and Debian's rebar3 for Erlang packages.
fn mix(server: &Server, hex_home: &Path, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new("mix");
    cmd.args(args)
        .current_dir(dir)
        .env("HEX_HOME", hex_home)
        .env("HEX_MIRROR_URL", server.url())
        .env("MIX_REBAR3", which("rebar3"))
        .env("MIX_ENV", "dev");
    for var in [
        "HEX_API_URL",
        "HEX_API_KEY",
        "HEX_REPOS_KEY",
        "HEX_OFFLINE",
        "HEX_UNSAFE_REGISTRY",
        "HEX_NO_VERIFY_REPO_ORIGIN",
        "MIX_DEPS_PATH",
        "MIX_BUILD_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let run = run_with_timeout(cmd, CLIENT_TIMEOUT);
    eprintln!("$ mix {}\n{}", args.join(" "), run.output());
    run
}

fn mix_ok(
    server: &Server,
    hex_home: &Path,
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run {
    let run = mix(server, hex_home, dir, env, args);
    assert!(
        run.success,
        "mix {args:?} failed:\n{}\nserver log:\n{}",
        run.output(),
        server.logs()
    );
    run
}

/// A mix project `app` at `version` with `deps` (Elixir list literal); `extra` goes into
/// `project/0` before `deps:` (e.g. `description:` and `package:`).
fn mix_project(dir: &Path, app: &str, version: &str, deps: &str, extra: &str) {
    let module = format!("{}MixProject", app.replace('_', ""));
    write_file(
        dir,
        "mix.exs",
        &format!(
            "defmodule M{module} do\n  use Mix.Project\n\n  def project do\n    [\n      \
             app: :{app},\n      version: \"{version}\",\n      {extra}deps: {deps}\n    ]\n  \
             end\nend\n"
        ),
    );
}

/// Where the data of `contents.tar.gz` starts in a Hex package tarball.
fn contents_offset(tarball: &[u8]) -> usize {
    let mut outer = tar::Archive::new(tarball);
    for entry in outer.entries().expect("an outer tar") {
        let entry = entry.expect("an entry");
        if entry.path().expect("a path").to_str() == Some("contents.tar.gz") {
            return entry.raw_file_position() as usize;
        }
    }
    panic!("no contents.tar.gz in the package tarball");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(bytes))
}

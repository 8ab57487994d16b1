//! End-to-end: the real `tollgate` binary driven by the real `gem` and `bundle` (Debian `ruby`
//! and `ruby-bundler`), each "user" with its own temporary `HOME`, `GEM_HOME`, `BUNDLE_PATH`
//! and Bundler config. Fixture gems are built with `gem build` and pushed with `gem push`; the
//! only source any client sees is the local server. Assertions print what the client printed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::{CLIENT_TIMEOUT, Run, Server, Token, run_with_timeout, write_file};
use tempfile::TempDir;

const SELLER: &str = "acme";
const PRODUCT: &str = "pro";
const PRO: &str = "acme_pro";
const BASE: &str = "acme_base";

/// Checks `.gemspec.rz` files the way a client loads them: `Gem::SafeMarshal` where RubyGems
/// has it (≥ 3.4); on older RubyGems (Debian's 3.3) `Marshal.load` with a filter that allows
/// only the classes SafeMarshal allows, applied inside `Gem::Specification._load` too.
const CHECK_GEMSPECS: &str = r##"
require "zlib"
ALLOWED = [String, Array, Hash, Integer, TrueClass, FalseClass, NilClass, Symbol, Time,
           Gem::Dependency, Gem::Platform, Gem::Requirement, Gem::Specification, Gem::Version]
FILTER = ->(o) { raise "class #{o.class} is not allowed" unless ALLOWED.any? { |c| c === o }; o }
unless defined?(Gem::SafeMarshal)
  class << Gem::Specification
    alias_method :tollgate_original_load, :_load
    def _load(str)
      Marshal.load(str, FILTER)
      tollgate_original_load(str)
    end
  end
end
ARGV.each do |file|
  raw = Zlib::Inflate.inflate(File.binread(file))
  spec = defined?(Gem::SafeMarshal) ? Gem::SafeMarshal.safe_load(raw) : Marshal.load(raw, FILTER)
  deps = spec.runtime_dependencies.map { |d| "#{d.name} #{d.requirement}" }.join(", ")
  puts "#{spec.full_name} [#{deps}] ruby #{spec.required_ruby_version} #{spec.summary}"
end
"##;

// ---- ruby harness -----------------------------------------------------------------------------

/// One RubyGems/Bundler "user": own `HOME`, gem and bundle directories, in a temp dir.
struct Ruby {
    root: TempDir,
    /// `http://HOST/acme/gems`: the push host and (with `/`) the source URL.
    host: String,
    authority: String,
}

impl Ruby {
    fn new(server: &Server) -> Ruby {
        let root = tempfile::Builder::new()
            .prefix("tollgate-ruby-")
            .tempdir()
            .expect("create ruby temp dir");
        for dir in ["home", "gems", "bundle"] {
            std::fs::create_dir_all(root.path().join(dir)).expect("create ruby dirs");
        }
        Ruby {
            root,
            host: format!("{}/{SELLER}/gems", server.url()),
            authority: server.authority().to_owned(),
        }
    }

    fn source(&self) -> String {
        format!("{}/", self.host)
    }

    /// `http://TOKEN@HOST/acme/gems/`, for `gem install --source`.
    fn source_with(&self, token: &Token) -> String {
        format!("http://{}@{}/{SELLER}/gems/", token.secret, self.authority)
    }

    /// `program ARGS…` in `dir`, with nothing inherited that could point it elsewhere.
    fn run(&self, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let root = self.root.path();
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars_os() {
            let key = k.to_string_lossy().to_ascii_uppercase();
            if key.starts_with("BUNDLE") || key.starts_with("GEM_") || key.starts_with("RUBY") {
                cmd.env_remove(&k);
            }
        }
        cmd.current_dir(dir)
            .args(args)
            .env("HOME", root.join("home"))
            .env("GEM_HOME", root.join("gems"))
            .env("GEM_PATH", root.join("gems"))
            .env("BUNDLE_USER_HOME", root.join("home/.bundle"))
            .env("BUNDLE_PATH", root.join("bundle"))
            .env("BUNDLE_SILENCE_ROOT_WARNING", "1")
            .env("BUNDLE_RETRY", "0")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .envs(env.iter().copied());
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    fn ok(&self, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let run = self.run(dir, program, args, env);
        assert!(
            run.success,
            "`{program} {}` failed:\n{}",
            args.join(" "),
            run.output()
        );
        run
    }

    /// Runs and asserts failure whose output contains every needle.
    fn fails_with(
        &self,
        dir: &Path,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        needles: &[&str],
    ) -> Run {
        let run = self.run(dir, program, args, env);
        let out = run.output();
        assert!(
            !run.success,
            "`{program} {}` succeeded but should have failed:\n{out}",
            args.join(" ")
        );
        eprintln!(
            "---- `{program} {}` failed as expected:\n{out}",
            args.join(" ")
        );
        for n in needles {
            assert!(
                out.contains(n),
                "`{program} {}` output lacks {n:?}:\n{out}",
                args.join(" ")
            );
        }
        run
    }

    /// Builds `name-version[-platform].gem` with `gem build`; `deps` are gemspec lines.
    fn build(&self, name: &str, version: &str, deps: &str, platform: Option<&str>) -> PathBuf {
        let dir = self.root.path().join(format!(
            "src/{name}-{version}-{}",
            platform.unwrap_or("ruby")
        ));
        let module = if name == PRO { "AcmePro" } else { "AcmeBase" };
        let uses = if name == PRO {
            format!("require \"{BASE}\"\n")
        } else {
            String::new()
        };
        let with = if name == PRO {
            " with #{AcmeBase.hello}"
        } else {
            ""
        };
        let label = format!("{name} {version} ({})", platform.unwrap_or("ruby"));
        write_file(
            &dir,
            &format!("lib/{name}.rb"),
            &format!(
                "{uses}module {module}\n  def self.hello\n    \"{label}{with}\"\n  end\nend\n"
            ),
        );
        let platform_line = platform.map_or(String::new(), |p| format!("  s.platform = \"{p}\"\n"));
        write_file(
            &dir,
            &format!("{name}.gemspec"),
            &format!(
                "Gem::Specification.new do |s|\n  s.name = \"{name}\"\n  s.version = \"{version}\"\n  \
                 s.summary = \"{name} fixture\"\n  s.authors = [\"Acme\"]\n  s.license = \"MIT\"\n  \
                 s.files = [\"lib/{name}.rb\"]\n  s.required_ruby_version = \">= 2.7\"\n{deps}{platform_line}end\n"
            ),
        );
        self.ok(&dir, "gem", &["build", &format!("{name}.gemspec")], &[]);
        let file = match platform {
            Some(p) => format!("{name}-{version}-{p}.gem"),
            None => format!("{name}-{version}.gem"),
        };
        dir.join(file)
    }

    fn push(&self, gem: &Path, token: &Token) -> Run {
        let dir = gem.parent().expect("gem dir");
        let file = gem.to_string_lossy();
        self.run(
            dir,
            "gem",
            &["push", &file, "--host", &self.host],
            &[("GEM_HOST_API_KEY", &token.secret)],
        )
    }

    /// An app whose Gemfile names the credential-free source in a block.
    fn app(&self, requirement: &str) -> PathBuf {
        let dir = self.root.path().join("app");
        write_file(
            &dir,
            "Gemfile",
            &format!(
                "source \"{}\" do\n  gem \"{PRO}\"{requirement}\nend\n",
                self.source()
            ),
        );
        dir
    }

    /// `bundle config set --global 127.0.0.1 TOKEN`: Bundler 2.3 looks credentials up by the
    /// full source URL or by the bare host (without the port).
    fn bundle_config(&self, token: &Token) {
        let home = self.root.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        self.ok(
            &home,
            "bundle",
            &["config", "set", "--global", "127.0.0.1", &token.secret],
            &[],
        );
    }
}

/// `BUNDLE_127__0__0__1`: the environment form of the host key.
const BUNDLE_HOST_VAR: &str = "BUNDLE_127__0__0__1";

fn locked(app: &Path, name: &str) -> String {
    let lock = std::fs::read_to_string(app.join("Gemfile.lock")).expect("Gemfile.lock");
    let prefix = format!("    {name} (");
    lock.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.trim_end_matches(')').to_owned())
        .unwrap_or_else(|| panic!("{name} is not in Gemfile.lock:\n{lock}"))
}

fn acme(server: &Server) -> Token {
    server.seller(SELLER);
    server.product(
        SELLER,
        PRODUCT,
        &[&format!("rubygems:{PRO}"), &format!("rubygems:{BASE}")],
    );
    server.publish_token(SELLER, &[])
}

fn licensed_org(server: &Server, org: &str, grant_args: &[&str]) -> Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, grant_args);
    server.org_token(SELLER, org)
}

const PRO_DEPS: &str =
    "  s.add_dependency \"acme_base\", \"~> 1.0\"\n  s.add_development_dependency \"rake\"\n";

/// Builds and pushes acme_base 1.0.0 and 1.1.0 and acme_pro 1.2.0 (depending on acme_base).
fn publish_chain(ruby: &Ruby, publish: &Token) {
    for (name, version, deps) in [
        (BASE, "1.0.0", ""),
        (BASE, "1.1.0", ""),
        (PRO, "1.2.0", PRO_DEPS),
    ] {
        let run = ruby.push(&ruby.build(name, version, deps, None), publish);
        assert!(run.success, "push {name} {version}:\n{}", run.output());
    }
}

fn bundle_install(ruby: &Ruby, app: &Path, env: &[(&str, &str)]) -> Run {
    ruby.ok(app, "bundle", &["install"], env);
    ruby.ok(
        app,
        "bundle",
        &[
            "exec",
            "ruby",
            "-e",
            "require \"acme_pro\"; puts AcmePro.hello",
        ],
        env,
    )
}

// ---- tests ------------------------------------------------------------------------------------

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

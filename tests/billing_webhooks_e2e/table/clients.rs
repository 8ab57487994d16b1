//! One row of the table driven by each ecosystem's real client: asked for the newest version
//! it may have, the client must pick the newest allowed one (and install or fetch it), and asked
//! for a version that is not allowed (published at the cutoff instant E), it must refuse.
//!
//! Each client runs with its own temporary `HOME`, cache and configuration, seeing only the
//! server under test. Every check returns problems instead of panicking, so that one client's
//! failure does not hide another's.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::http::request;
use crate::common::{CLIENT_TIMEOUT, Run, Server, run_with_timeout, write_file};
use crate::{CRATE, GEM, HEX_PACKAGE, PACKAGE, SELLER};

/// What one client did: its name and the problems found.
pub(crate) type Outcome = (String, Vec<String>);

fn temp(prefix: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("temp dir")
}

/// `program args` with the variables of `keep_out` (by prefix, upper-cased) removed.
fn command(program: &str, dir: &Path, args: &[&str], keep_out: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars_os() {
        let key = k.to_string_lossy().to_ascii_uppercase();
        if keep_out.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(&k);
        }
    }
    cmd.current_dir(dir).args(args);
    cmd
}

fn describe(what: &str, run: &Run) -> String {
    format!("{what}:\n{}", run.output().trim())
}

/// Checks that `good` succeeded and `refused` failed (with output naming the version).
fn expect(problems: &mut Vec<String>, good: (&str, &Run), refused: (&str, &Run), version: &str) {
    if !good.1.success {
        problems.push(describe(&format!("{} failed", good.0), good.1));
    }
    if refused.1.success {
        problems.push(describe(
            &format!(
                "{} succeeded: a version past the cutoff was served",
                refused.0
            ),
            refused.1,
        ));
    } else if !refused.1.output().contains(version) {
        problems.push(describe(
            &format!("{} failed without naming {version}", refused.0),
            refused.1,
        ));
    }
}

// ---- npm -----------------------------------------------------------------------------------------

/// `npm install @acme/ui-pro` (the `latest` the org may see) and `npm install @acme/ui-pro@V`.
pub(crate) fn npm(server: &Server, token: &str, newest: &str, refused: &str) -> Outcome {
    let root = temp("tollgate-table-npm-");
    let registry = format!("{}/{SELLER}/npm/", server.url());
    let nerf = registry.trim_start_matches("http:");
    write_file(
        root.path(),
        "npmrc",
        &format!("@acme:registry={registry}\n{nerf}:_authToken={token}\n"),
    );
    let app = root.path().join("app");
    write_file(
        &app,
        "package.json",
        r#"{"name":"app","version":"1.0.0","private":true}"#,
    );
    let run = |args: &[&str]| {
        let mut cmd = command("npm", &app, args, &["NPM_CONFIG_", "NPM_TOKEN"]);
        cmd.env("HOME", root.path().join("home"))
            .env("npm_config_cache", root.path().join("cache"))
            .env("npm_config_userconfig", root.path().join("npmrc"))
            .env("npm_config_globalconfig", root.path().join("global-npmrc"))
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fetch_retries", "0")
            .env("NO_UPDATE_NOTIFIER", "1");
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    };
    let mut problems = Vec::new();
    let installed = run(&["install", PACKAGE]);
    let manifest = std::fs::read_to_string(app.join("node_modules").join(PACKAGE).join("index.js"))
        .unwrap_or_default();
    if installed.success && !manifest.contains(&format!("{PACKAGE} {newest}")) {
        problems.push(describe(
            &format!(
                "npm install {PACKAGE} installed `{}`, not {newest}",
                manifest.trim()
            ),
            &installed,
        ));
    }
    let pinned = format!("{PACKAGE}@{refused}");
    let denied = run(&["install", &pinned]);
    expect(
        &mut problems,
        (&format!("npm install {PACKAGE}"), &installed),
        (&format!("npm install {pinned}"), &denied),
        refused,
    );
    ("npm".into(), problems)
}

// ---- Cargo ---------------------------------------------------------------------------------------

/// `cargo build` of a project depending on `acme-core = ">=1"`, then `acme-core = "=V"`.
pub(crate) fn cargo(server: &Server, token: &str, newest: &str, refused: &str) -> Outcome {
    let root = temp("tollgate-table-cargo-");
    let index = format!("sparse+{}/{SELLER}/cargo/index/", server.url());
    write_file(
        root.path(),
        "cargo-home/config.toml",
        &format!(
            "[registries.{SELLER}]\nindex = \"{index}\"\ncredential-provider = [\"cargo:token\"]\n\n[net]\nretry = 0\n"
        ),
    );
    let project = |name: &str, requirement: &str| -> PathBuf {
        let dir = root.path().join(name);
        write_file(
            &dir,
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\n{CRATE} = {{ version = \"{requirement}\", registry = \"{SELLER}\" }}\n"
            ),
        );
        write_file(
            &dir,
            "src/lib.rs",
            "pub fn version() -> &'static str {\n    acme_core::VERSION\n}\n",
        );
        dir
    };
    let run = |dir: &Path, args: &[&str]| {
        let mut cmd = command(
            "cargo",
            dir,
            args,
            &["CARGO", "__CARGO", "RUSTC", "RUSTFLAGS", "RUSTDOC"],
        );
        if std::env::var_os("RUSTUP_HOME").is_none()
            && let Some(home) = std::env::var_os("HOME")
        {
            cmd.env("RUSTUP_HOME", PathBuf::from(home).join(".rustup"));
        }
        cmd.env("HOME", root.path().join("home"))
            .env("CARGO_HOME", root.path().join("cargo-home"))
            .env("CARGO_TARGET_DIR", root.path().join("target"))
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_NET_RETRY", "0")
            .env(
                format!("CARGO_REGISTRIES_{}_TOKEN", SELLER.to_ascii_uppercase()),
                token,
            );
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    };
    let mut problems = Vec::new();
    let newest_app = project("newest", ">=1.0.0");
    let built = run(&newest_app, &["build"]);
    let lock = std::fs::read_to_string(newest_app.join("Cargo.lock")).unwrap_or_default();
    let locked = lock
        .split("[[package]]")
        .find(|b| b.contains(&format!("name = \"{CRATE}\"")))
        .and_then(|b| b.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned());
    if built.success && locked.as_deref() != Some(newest) {
        problems.push(describe(
            &format!("cargo build locked {CRATE} {locked:?}, not {newest}"),
            &built,
        ));
    }
    let pinned_app = project("pinned", &format!("={refused}"));
    let denied = run(&pinned_app, &["generate-lockfile"]);
    expect(
        &mut problems,
        (&format!("cargo build with {CRATE} >=1.0.0"), &built),
        (
            &format!("cargo generate-lockfile with {CRATE} ={refused}"),
            &denied,
        ),
        refused,
    );
    ("cargo".into(), problems)
}

// ---- RubyGems ------------------------------------------------------------------------------------

/// `gem install acme_gem` and `gem install acme_gem -v V` (token in the source URL), then
/// `bundle lock` of a Gemfile asking for it (token in Bundler's host config), and for `= V`.
pub(crate) fn gems(server: &Server, token: &str, newest: &str, refused: &str) -> Outcome {
    let root = temp("tollgate-table-ruby-");
    for dir in ["home", "gems", "bundle"] {
        std::fs::create_dir_all(root.path().join(dir)).expect("ruby dirs");
    }
    let source = format!("http://{token}@{}/{SELLER}/gems/", server.authority());
    let plain_source = format!("{}/{SELLER}/gems/", server.url());
    let run = |dir: &Path, program: &str, args: &[&str]| {
        let mut cmd = command(program, dir, args, &["BUNDLE", "GEM_", "RUBY"]);
        cmd.env("HOME", root.path().join("home"))
            .env("GEM_HOME", root.path().join("gems"))
            .env("GEM_PATH", root.path().join("gems"))
            .env("BUNDLE_USER_HOME", root.path().join("home/.bundle"))
            .env("BUNDLE_PATH", root.path().join("bundle"))
            .env("BUNDLE_SILENCE_ROOT_WARNING", "1")
            .env("BUNDLE_RETRY", "0")
            .env("BUNDLE_127__0__0__1", token)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    };
    let home = root.path().join("home");
    let mut problems = Vec::new();
    let install = |extra: &[&str]| {
        let mut args = vec!["install", GEM, "--clear-sources", "--source", &source];
        args.extend_from_slice(extra);
        run(&home, "gem", &args)
    };
    let installed = install(&[]);
    let wanted = format!("Successfully installed {GEM}-{newest}");
    if installed.success && !installed.stdout.contains(&wanted) {
        problems.push(describe(
            &format!("gem install {GEM}: no {wanted:?}"),
            &installed,
        ));
    }
    let denied = install(&["-v", refused]);
    expect(
        &mut problems,
        (&format!("gem install {GEM}"), &installed),
        (&format!("gem install {GEM} -v {refused}"), &denied),
        refused,
    );

    let app = |name: &str, requirement: &str| -> PathBuf {
        let dir = root.path().join(name);
        write_file(
            &dir,
            "Gemfile",
            &format!("source \"{plain_source}\" do\n  gem \"{GEM}\"{requirement}\nend\n"),
        );
        dir
    };
    let newest_app = app("newest", "");
    let locked = run(&newest_app, "bundle", &["lock"]);
    let lock = std::fs::read_to_string(newest_app.join("Gemfile.lock")).unwrap_or_default();
    let entry = format!("    {GEM} ({newest})");
    if locked.success && !lock.lines().any(|l| l == entry) {
        problems.push(describe(
            &format!("bundle lock did not lock {GEM} {newest}:\n{lock}"),
            &locked,
        ));
    }
    let pinned_app = app("pinned", &format!(", \"= {refused}\""));
    let denied = run(&pinned_app, "bundle", &["lock"]);
    expect(
        &mut problems,
        (&format!("bundle lock with {GEM}"), &locked),
        (&format!("bundle lock with {GEM} = {refused}"), &denied),
        refused,
    );
    ("RubyGems".into(), problems)
}

// ---- Hex -----------------------------------------------------------------------------------------

/// `rebar3 get-deps` of `{acme_pro, ">= 1.0.0"}` and of `{acme_pro, "V"}`, with the seller's
/// repository (and its public key) replacing hexpm.
pub(crate) fn rebar3(server: &Server, token: &str, newest: &str, refused: &str) -> Outcome {
    let root = temp("tollgate-table-rebar3-");
    let public_key = request(
        "GET",
        &format!("{}/{SELLER}/hex/public_key", server.url()),
        &[],
        b"",
    )
    .expect("GET public_key")
    .text();
    let app = |name: &str, requirement: &str| -> PathBuf {
        let dir = root.path().join(name);
        write_file(
            &dir,
            "rebar.config",
            &format!(
                "{{deps, [{{{HEX_PACKAGE}, \"{requirement}\"}}]}}.\n\
                 {{hex, [{{repos, replace, [#{{name => <<\"{SELLER}\">>,\n\
                   repo_url => <<\"{}/{SELLER}/hex\">>,\n\
                   repo_public_key => <<\"{}\">>,\n\
                   repo_key => <<\"{token}\">>}}]}}]}}.\n",
                server.url(),
                public_key.trim_end().replace('\n', "\\n") + "\\n",
            ),
        );
        write_file(
            &dir,
            &format!("src/{name}.app.src"),
            &format!(
                "{{application, {name}, [{{vsn, \"0.1.0\"}}, {{applications, [kernel, stdlib]}}]}}.\n"
            ),
        );
        dir
    };
    let run = |dir: &Path| {
        let mut cmd = command("rebar3", dir, &["get-deps"], &["HEX_", "REBAR_"]);
        cmd.env("HOME", root.path().join("home"))
            // Each app its own cache: what the refused one gets, it gets from the server.
            .env("REBAR_CACHE_DIR", dir.join(".rebar3-cache"))
            .env("DEBUG", "1");
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    };
    let mut problems = Vec::new();
    let newest_app = app("newest", ">= 1.0.0");
    let fetched = run(&newest_app);
    let lock = std::fs::read_to_string(newest_app.join("rebar.lock")).unwrap_or_default();
    let fetched_app = std::fs::read_to_string(newest_app.join(format!(
        "_build/default/lib/{HEX_PACKAGE}/src/{HEX_PACKAGE}.erl"
    )))
    .unwrap_or_default();
    if fetched.success
        && !(lock.contains(&format!("{{pkg,<<\"{HEX_PACKAGE}\">>,<<\"{newest}\">>"))
            && fetched_app.contains(&format!("\"{newest}\"")))
    {
        problems.push(format!(
            "rebar3 get-deps did not fetch {HEX_PACKAGE} {newest}: rebar.lock\n{lock}\nsource: {fetched_app}"
        ));
    }
    let pinned_app = app("pinned", refused);
    let denied = run(&pinned_app);
    expect(
        &mut problems,
        (
            &format!("rebar3 get-deps with {HEX_PACKAGE} >= 1.0.0"),
            &fetched,
        ),
        (
            &format!("rebar3 get-deps with {HEX_PACKAGE} {refused}"),
            &denied,
        ),
        refused,
    );
    ("rebar3".into(), problems)
}

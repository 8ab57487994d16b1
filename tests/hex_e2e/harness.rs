//! The Hex side of the tests: hex_core called from `erl` (packages, tarballs, publishing),
//! rebar3 and mix projects of a buyer, and the seller and org set up through the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::common::http::request;
use crate::common::{CLIENT_TIMEOUT, Run, Server, Token, run_with_timeout, write_file};
use tempfile::TempDir;

pub(crate) const SELLER: &str = "acme";
pub(crate) const PRODUCT: &str = "pro";

// ---- hex_core from erl ----------------------------------------------------------------------

/// The `r3_hex_*` modules unpacked from the rebar3 escript, once per test process.
pub(crate) fn hex_core_ebin() -> &'static Path {
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

pub(crate) fn which(tool: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .expect("sh");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Runs an Erlang expression sequence with hex_core loaded; it should print its result.
pub(crate) fn erl(expr: &str) -> Run {
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
pub(crate) fn bin(s: &str) -> String {
    format!(
        "<<\"{}\"/utf8>>",
        s.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// One package to build: its name, version and what `hello/0` returns; `deps` are
/// `(name, requirement)` in the same repository.
pub(crate) struct Pkg<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) deps: &'a [(&'a str, &'a str)],
}

impl Pkg<'_> {
    /// Erlang: `Tarball` bound to a package made by `r3_hex_tarball:create`.
    pub(crate) fn create_expr(&self) -> String {
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
pub(crate) fn api_config(server: &Server, key: &str) -> String {
    format!(
        "Config = maps:merge(r3_hex_core:default_config(), #{{api_url => {}, api_key => {}}}),",
        bin(&format!("{}/{SELLER}/hex/api", server.url())),
        bin(key)
    )
}

/// Publishes with `r3_hex_api_release:publish` (hex_core's `POST /publish`); prints the reply.
pub(crate) fn publish(server: &Server, key: &str, pkg: &Pkg<'_>) -> Run {
    erl(&format!(
        "{} {} R = r3_hex_api_release:publish(Config, Tarball), io:format(\"~p~n\", [R]),",
        pkg.create_expr(),
        api_config(server, key)
    ))
}

pub(crate) fn publish_ok(server: &Server, key: &str, pkg: &Pkg<'_>) {
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
pub(crate) fn build_tarball(pkg: &Pkg<'_>, path: &Path) {
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
pub(crate) struct Consumer {
    pub(crate) root: TempDir,
}

impl Consumer {
    pub(crate) fn new(server: &Server, key: &str, deps: &[(&str, &str)]) -> Consumer {
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

    pub(crate) fn app(&self) -> PathBuf {
        self.root.path().join("app")
    }

    pub(crate) fn rebar3(&self, args: &[&str]) -> Run {
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

    pub(crate) fn ok(&self, args: &[&str]) -> Run {
        let run = self.rebar3(args);
        assert!(run.success, "rebar3 {args:?} failed:\n{}", run.output());
        run
    }

    /// Runs `M:hello()` from the compiled dependencies.
    pub(crate) fn hello(&self, module: &str) -> String {
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

    pub(crate) fn lock(&self) -> String {
        std::fs::read_to_string(self.app().join("rebar.lock")).unwrap_or_default()
    }
}

// ---- fixtures -----------------------------------------------------------------------------------

/// Seller `acme` with product `pro` = hex:acme_util + hex:acme_pro, and a publish token.
pub(crate) fn acme(server: &Server) -> Token {
    server.seller(SELLER);
    server.product(SELLER, PRODUCT, &["hex:acme_util", "hex:acme_pro"]);
    server.publish_token(SELLER, &[])
}

/// An org holding `pro` with `extra` grant options, and its org token.
pub(crate) fn licensed_org(server: &Server, org: &str, extra: &[&str]) -> Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, extra);
    server.org_token(SELLER, org)
}

pub(crate) const UTIL_1: Pkg<'static> = Pkg {
    name: "acme_util",
    version: "1.0.0",
    deps: &[],
};
pub(crate) const PRO_1: Pkg<'static> = Pkg {
    name: "acme_pro",
    version: "1.0.0",
    deps: &[("acme_util", "~> 1.0")],
};

/// rebar3 failed to resolve `acme_pro` because the repository refused it with `status` and
/// `reason` (rebar3 prints both in its `DEBUG=1` trace of the failed `get_package`).
pub(crate) fn refused_by_repo(run: &Run, status: u16, reason: &str) {
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
pub(crate) fn logged(server: &Server, path: &str, status: u16) -> usize {
    server
        .logs()
        .lines()
        .filter(|l| l.contains(&format!("path={path} ")) && l.contains(&format!("status={status}")))
        .count()
}

// ---- mix and tarballs ----------------------------------------------------------------------------

/// Whether `mix archive` (in the ambient `MIX_HOME`) lists the Hex client.
pub(crate) fn mix_has_hex() -> bool {
    Command::new("mix")
        .arg("archive")
        .current_dir(std::env::temp_dir())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("* hex"))
}

/// Runs `mix ARGS` in `dir` as the user whose Hex state is in `hex_home`, with the update check
/// pointed at the test server and Debian's rebar3 for Erlang packages.
pub(crate) fn mix(
    server: &Server,
    hex_home: &Path,
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run {
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

pub(crate) fn mix_ok(
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
pub(crate) fn mix_project(dir: &Path, app: &str, version: &str, deps: &str, extra: &str) {
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
pub(crate) fn contents_offset(tarball: &[u8]) -> usize {
    let mut outer = tar::Archive::new(tarball);
    for entry in outer.entries().expect("an outer tar") {
        let entry = entry.expect("an entry");
        if entry.path().expect("a path").to_str() == Some("contents.tar.gz") {
            return entry.raw_file_position() as usize;
        }
    }
    panic!("no contents.tar.gz in the package tarball");
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(bytes))
}

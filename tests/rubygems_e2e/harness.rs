//! The RubyGems side of the tests: one `gem`/`bundle` "user" per temp dir, the fixture gems it
//! builds and pushes, and the seller and org set up through the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{CLIENT_TIMEOUT, Run, Server, Token, run_with_timeout, write_file};
use tempfile::TempDir;

pub(crate) const SELLER: &str = "acme";
pub(crate) const PRODUCT: &str = "pro";
pub(crate) const PRO: &str = "acme_pro";
pub(crate) const BASE: &str = "acme_base";

/// Checks `.gemspec.rz` files the way a client loads them: `Gem::SafeMarshal` where RubyGems
/// has it (≥ 3.4); on older RubyGems (Debian's 3.3) `Marshal.load` with a filter that allows
/// only the classes SafeMarshal allows, applied inside `Gem::Specification._load` too.
pub(crate) const CHECK_GEMSPECS: &str = r##"
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

/// One RubyGems/Bundler "user": own `HOME`, gem and bundle directories, in a temp dir.
pub(crate) struct Ruby {
    pub(crate) root: TempDir,
    /// `http://HOST/acme/gems`: the push host and (with `/`) the source URL.
    pub(crate) host: String,
    pub(crate) authority: String,
}

impl Ruby {
    pub(crate) fn new(server: &Server) -> Ruby {
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

    pub(crate) fn source(&self) -> String {
        format!("{}/", self.host)
    }

    /// `http://TOKEN@HOST/acme/gems/`, for `gem install --source`.
    pub(crate) fn source_with(&self, token: &Token) -> String {
        format!("http://{}@{}/{SELLER}/gems/", token.secret, self.authority)
    }

    /// `program ARGS…` in `dir`, with nothing inherited that could point it elsewhere.
    pub(crate) fn run(
        &self,
        dir: &Path,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Run {
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

    pub(crate) fn ok(&self, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
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
    pub(crate) fn fails_with(
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
    pub(crate) fn build(
        &self,
        name: &str,
        version: &str,
        deps: &str,
        platform: Option<&str>,
    ) -> PathBuf {
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

    pub(crate) fn push(&self, gem: &Path, token: &Token) -> Run {
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
    pub(crate) fn app(&self, requirement: &str) -> PathBuf {
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
    pub(crate) fn bundle_config(&self, token: &Token) {
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
pub(crate) const BUNDLE_HOST_VAR: &str = "BUNDLE_127__0__0__1";

pub(crate) fn locked(app: &Path, name: &str) -> String {
    let lock = std::fs::read_to_string(app.join("Gemfile.lock")).expect("Gemfile.lock");
    let prefix = format!("    {name} (");
    lock.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.trim_end_matches(')').to_owned())
        .unwrap_or_else(|| panic!("{name} is not in Gemfile.lock:\n{lock}"))
}

pub(crate) fn acme(server: &Server) -> Token {
    server.seller(SELLER);
    server.product(
        SELLER,
        PRODUCT,
        &[&format!("rubygems:{PRO}"), &format!("rubygems:{BASE}")],
    );
    server.publish_token(SELLER, &[])
}

pub(crate) fn licensed_org(server: &Server, org: &str, grant_args: &[&str]) -> Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, grant_args);
    server.org_token(SELLER, org)
}

pub(crate) const PRO_DEPS: &str =
    "  s.add_dependency \"acme_base\", \"~> 1.0\"\n  s.add_development_dependency \"rake\"\n";

/// Builds and pushes acme_base 1.0.0 and 1.1.0 and acme_pro 1.2.0 (depending on acme_base).
pub(crate) fn publish_chain(ruby: &Ruby, publish: &Token) {
    for (name, version, deps) in [
        (BASE, "1.0.0", ""),
        (BASE, "1.1.0", ""),
        (PRO, "1.2.0", PRO_DEPS),
    ] {
        let run = ruby.push(&ruby.build(name, version, deps, None), publish);
        assert!(run.success, "push {name} {version}:\n{}", run.output());
    }
}

pub(crate) fn bundle_install(ruby: &Ruby, app: &Path, env: &[(&str, &str)]) -> Run {
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

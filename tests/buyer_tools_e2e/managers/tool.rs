//! One npm-compatible package manager as a buyer runs it: where it comes from (the cache
//! `scripts/buyer-tools` fills), how a project points it at the seller's registry with a token
//! (the configuration ../shared/tools/buyer-tools.md found to work), and one run in a fresh
//! project with its own HOME and cache (a warm cache would hide a revocation).

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::common::{CLIENT_TIMEOUT, Run, run_with_timeout, write_file};
use crate::fixtures::UI_PRO;

/// The managers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Pnpm,
    Yarn1,
    Yarn4,
    Bun,
}

impl Manager {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pnpm => "pnpm",
            Self::Yarn1 => "Yarn 1",
            Self::Yarn4 => "Yarn 4",
            Self::Bun => "Bun",
        }
    }

    /// Its program in the cache (`$TOLLGATE_BUYER_TOOLS/<dir>/node_modules/.bin/<bin>`).
    pub fn program(self) -> PathBuf {
        let (dir, bin) = match self {
            Self::Pnpm => ("pnpm", "pnpm"),
            Self::Yarn1 => ("yarn1", "yarn"),
            Self::Yarn4 => ("yarn4", "yarn"),
            Self::Bun => ("bun", "bun"),
        };
        tools_dir().join(dir).join("node_modules/.bin").join(bin)
    }

    /// Whether it is installed; otherwise the test is skipped (or fails under CI).
    pub fn available(self) -> bool {
        tollgate_testkit::tool(
            &self.program().to_string_lossy(),
            "run `eval \"$(scripts/buyer-tools)\"`",
        )
    }

    /// Its lockfile in a project.
    pub fn lockfile(self) -> &'static str {
        match self {
            Self::Pnpm => "pnpm-lock.yaml",
            Self::Yarn1 | Self::Yarn4 => "yarn.lock",
            Self::Bun => "bun.lock",
        }
    }

    /// The install command's arguments (no lockfile yet: nothing frozen or immutable).
    fn install_args(self, cache: &Path) -> Vec<String> {
        let cache = cache.to_string_lossy().into_owned();
        let args: Vec<&str> = match self {
            Self::Pnpm => vec!["install", "--no-frozen-lockfile", "--store-dir", &cache],
            Self::Yarn1 => vec![
                "install",
                "--non-interactive",
                "--no-progress",
                "--cache-folder",
                &cache,
            ],
            Self::Yarn4 => vec!["install", "--no-immutable"],
            Self::Bun => vec!["install", "--cache-dir", &cache],
        };
        args.into_iter().map(str::to_owned).collect()
    }
}

/// Where `scripts/buyer-tools` installs (the variable it prints, else its default).
pub fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOLLGATE_BUYER_TOOLS").filter(|d| !d.is_empty()) {
        return dir.into();
    }
    let cache = std::env::var_os("TOLLGATE_CI_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/tollgate-ci")
        });
    cache.join("buyer-tools")
}

/// A buyer project depending on `@acme/ui-pro@^1.0.0`, configured for one manager, with its own
/// HOME and cache.
pub struct Project {
    pub manager: Manager,
    root: TempDir,
    /// The token, where the configuration takes it from the environment (Yarn 4).
    env_token: Option<String>,
}

impl Project {
    /// `registry` is the seller's npm URL (`http://127.0.0.1:PORT/acme/npm/`); `token`, if any,
    /// goes where this manager reads it.
    pub fn new(manager: Manager, registry: &str, token: Option<&str>) -> Project {
        let root = tempfile::Builder::new()
            .prefix("tollgate-buyer-")
            .tempdir()
            .expect("project dir");
        let dir = root.path().join("project");
        write_file(
            &dir,
            "package.json",
            &format!(
                r#"{{"name":"buyer","version":"1.0.0","private":true,"dependencies":{{"{UI_PRO}":"^1.0.0"}}}}"#
            ),
        );
        let nerf = registry.trim_start_matches("http:");
        let mut env_token = None;
        match manager {
            // pnpm 10 ignores `${VAR}` in a project .npmrc's credentials: the token is written.
            // Yarn 1 takes the token only from .npmrc (Bun reads .npmrc too, but here bunfig).
            Manager::Pnpm | Manager::Yarn1 => {
                let mut rc = format!("@acme:registry={registry}\n");
                if let Some(t) = token {
                    rc.push_str(&format!("{nerf}:_authToken={t}\n"));
                }
                write_file(&dir, ".npmrc", &rc);
            }
            Manager::Yarn4 => {
                let auth = if token.is_some() {
                    "    npmAuthToken: \"${ACME_TOKEN}\"\n    npmAlwaysAuth: true\n"
                } else {
                    ""
                };
                env_token = token.map(str::to_owned);
                write_file(
                    &dir,
                    ".yarnrc.yml",
                    &format!(
                        "enableTelemetry: false\nenableGlobalCache: false\nnodeLinker: node-modules\n\
                         unsafeHttpWhitelist: [\"127.0.0.1\"]\nnpmScopes:\n  acme:\n    \
                         npmRegistryServer: \"{registry}\"\n{auth}    npmMinimalAgeGate: 0\n"
                    ),
                );
            }
            Manager::Bun => {
                let scope = match token {
                    Some(t) => format!("{{ url = \"{registry}\", token = \"{t}\" }}"),
                    None => format!("{{ url = \"{registry}\" }}"),
                };
                write_file(
                    &dir,
                    "bunfig.toml",
                    &format!(
                        "[install]\nsaveTextLockfile = true\n\n[install.scopes]\nacme = {scope}\n"
                    ),
                );
            }
        }
        std::fs::create_dir_all(root.path().join("home")).expect("HOME");
        Project {
            manager,
            root,
            env_token,
        }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join("project")
    }

    /// `MANAGER install` in the project.
    pub fn install(&self) -> Run {
        let root = self.root.path();
        let home = root.join("home");
        let mut cmd = Command::new(self.manager.program());
        // Nothing from the environment running the tests: CI=true makes pnpm's and Yarn 4's
        // installs frozen, npm_config_* would reach pnpm and Yarn 1.
        for (k, _) in std::env::vars_os() {
            let key = k.to_string_lossy().to_ascii_lowercase();
            if key.starts_with("npm_config_")
                || key.starts_with("yarn_")
                || key.starts_with("bun_")
                || ["ci", "continuous_integration", "github_actions"].contains(&key.as_str())
            {
                cmd.env_remove(&k);
            }
        }
        cmd.current_dir(self.dir())
            .args(self.manager.install_args(&root.join("cache")))
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("npm_config_update_notifier", "false")
            .env("YARN_ENABLE_TELEMETRY", "0")
            .env("YARN_ENABLE_PROGRESS_BARS", "0")
            .env("DO_NOT_TRACK", "1")
            .env("NO_COLOR", "1")
            .env("FORCE_COLOR", "0");
        if let Some(t) = &self.env_token {
            cmd.env("ACME_TOKEN", t);
        }
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    /// What `require` finds from the project: `@acme/ui-pro`'s export, and the version of the
    /// `@acme/core` it depends on (resolved from inside it, whatever the layout).
    pub fn installed(&self) -> (String, String) {
        let script = "const ui = require.resolve('@acme/ui-pro');\
             const core = require.resolve('@acme/core/package.json', { paths: [ui] });\
             console.log(require('@acme/ui-pro')); console.log(require(core).version);";
        let out = Command::new("node")
            .current_dir(self.dir())
            .args(["-e", script])
            .output()
            .expect("run node");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}: the install does not resolve: {text}{}",
            self.manager.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines = text.lines().map(str::to_owned);
        (
            lines.next().unwrap_or_default(),
            lines.next().unwrap_or_default(),
        )
    }

    /// Every file of the project outside node_modules (with Yarn 4's cache in .yarn) that contains
    /// `needle` (the configuration file is the one place a token may be).
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![self.dir()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name();
                if path.is_dir() {
                    if name != "node_modules" {
                        stack.push(path);
                    }
                } else if std::fs::read(&path)
                    .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                {
                    found.push(path);
                }
            }
        }
        found
    }
}

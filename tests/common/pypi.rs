//! The Python side of end-to-end tests: where the real clients are, one isolated "user" per
//! temporary directory whose clients can reach nothing but this machine's loopback, and
//! distributions built with `python -m build` the way a seller builds them.
//!
//! The clients (python, pip, uv, twine, poetry, and the `build`, `wheel` and `setuptools`
//! modules) are taken from one directory: `TOLLGATE_TEST_PYTHON_BIN` when set (`eval "$(scripts/
//! python-clients)"` sets it, as `.ci/run` does), else the CI virtualenv
//! `${TOLLGATE_CI_CACHE:-~/.cache/tollgate-ci}/venv/bin` when it has them, else the directory of
//! `twine` on `PATH`. Missing ones skip the test (a failure under CI), naming
//! `scripts/python-clients`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::process::{CLIENT_TIMEOUT, Run, run_with_timeout, write_file};

/// What the tests run from the tools directory.
const TOOLS: [&str; 5] = ["python", "pip", "uv", "twine", "poetry"];
/// Where the clients come from, for skip and failure messages.
const INSTALL: &str = "`eval \"$(scripts/python-clients)\"` installs pip, uv, twine, poetry and build and points the tests at them";
/// A proxy nobody listens on: any request a client sends past loopback fails at once instead of
/// reaching a public index (`NO_PROXY` keeps the local server direct).
const DEAD_PROXY: &str = "http://127.0.0.1:9";

/// The directory holding the Python clients, or `None` (the test is then skipped, or fails under
/// CI, with the reason printed).
pub fn python_tools() -> Option<PathBuf> {
    let dir = tools_dir();
    for tool in TOOLS {
        let path = dir.join(tool);
        if !tollgate_testkit::tool(&path.to_string_lossy(), INSTALL) {
            return None;
        }
    }
    let modules = Command::new(dir.join("python"))
        .args(["-c", "import build, wheel, setuptools"])
        .output();
    if !modules.is_ok_and(|o| o.status.success()) {
        let why = format!(
            "{} cannot import build, wheel and setuptools ({INSTALL})",
            dir.join("python").display()
        );
        if tollgate_testkit::in_ci() {
            panic!("{why}; CI is set, so this is a failure, not a skip");
        }
        tollgate_testkit::skipped("python build modules", &why);
        return None;
    }
    Some(dir)
}

fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOLLGATE_TEST_PYTHON_BIN").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("TOLLGATE_CI_CACHE")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/tollgate-ci")));
    if let Some(venv) = cache.map(|c| c.join("venv/bin"))
        && TOOLS.iter().all(|t| venv.join(t).exists())
    {
        return venv;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|d| d.join("twine").exists())
        .unwrap_or_else(|| PathBuf::from("/nonexistent-python-clients"))
}

/// One Python "user": own `HOME`, XDG and poetry directories, no pip/uv cache, no inherited
/// `PIP_*`/`UV_*`/`POETRY_*`/`TWINE_*` setting, a null keyring, and a dead proxy for everything
/// but loopback, so the only index any client can see is the local server.
pub struct PyUser {
    pub root: TempDir,
    /// The tools directory ([`python_tools`]).
    pub bin: PathBuf,
}

impl PyUser {
    pub fn new(bin: &Path) -> PyUser {
        let root = tempfile::Builder::new()
            .prefix("tollgate-py-")
            .tempdir()
            .expect("create python temp dir");
        std::fs::create_dir_all(root.path().join("home")).expect("create home");
        PyUser {
            root,
            bin: bin.to_owned(),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// A tool from the tools directory (`python`, `pip`, `uv`, `twine`, `poetry`), or any other
    /// path as given (a fresh virtualenv's `bin/python`).
    pub fn program(&self, program: &str) -> PathBuf {
        if TOOLS.contains(&program) {
            self.bin.join(program)
        } else {
            PathBuf::from(program)
        }
    }

    /// `program ARGS…` in `dir` with this user's isolated environment plus `env` (a variable
    /// given an empty value is removed instead: `("UV_NO_CONFIG", "")` lets uv read the project's
    /// `pyproject.toml`).
    pub fn run(&self, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let home = self.home();
        let mut cmd = Command::new(self.program(program));
        for (k, _) in std::env::vars_os() {
            let key = k.to_string_lossy().to_ascii_uppercase();
            let drop = [
                "PIP_",
                "UV_",
                "POETRY_",
                "TWINE_",
                "PYTHON",
                "VIRTUAL_ENV",
                "CONDA",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || key.ends_with("_PROXY")
                || key == "TERM"
                || key == "XDG_CONFIG_HOME"
                || key == "XDG_CACHE_HOME"
                || key == "XDG_DATA_HOME";
            if drop {
                cmd.env_remove(&k);
            }
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            std::iter::once(self.bin.clone()).chain(std::env::split_paths(&path)),
        )
        .expect("PATH");
        let dir_env: [(&str, PathBuf); 6] = [
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_CACHE_HOME", home.join(".cache")),
            ("XDG_DATA_HOME", home.join(".local/share")),
            ("POETRY_CONFIG_DIR", home.join("poetry/config")),
            ("POETRY_DATA_DIR", home.join("poetry/data")),
        ];
        cmd.current_dir(dir)
            .args(args)
            .env("PATH", path)
            .envs(dir_env)
            .env("POETRY_CACHE_DIR", home.join("poetry/cache"))
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PIP_NO_CACHE_DIR", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("PIP_NO_INPUT", "1")
            .env("PIP_PROGRESS_BAR", "off")
            .env("UV_NO_CONFIG", "1")
            .env("UV_NO_CACHE", "1")
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env("UV_NO_PROGRESS", "1")
            .env("UV_HTTP_RETRIES", "0")
            .env("POETRY_VIRTUALENVS_IN_PROJECT", "true")
            .env("POETRY_NO_INTERACTION", "1")
            .env("POETRY_KEYRING_ENABLED", "false")
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "200")
            .env("HTTP_PROXY", DEAD_PROXY)
            .env("HTTPS_PROXY", DEAD_PROXY)
            .env("ALL_PROXY", DEAD_PROXY)
            .env("http_proxy", DEAD_PROXY)
            .env("https_proxy", DEAD_PROXY)
            .env("all_proxy", DEAD_PROXY)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        run_with_timeout(cmd, CLIENT_TIMEOUT)
    }

    /// Runs and asserts success; prints the command and its output either way.
    pub fn ok(&self, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let run = self.run(dir, program, args, env);
        let shown = format!("{program} {}", args.join(" "));
        assert!(run.success, "`{shown}` failed:\n{}", run.output());
        eprintln!("---- `{shown}`:\n{}", run.output());
        run
    }

    /// Runs and asserts failure whose output contains every needle; prints the output.
    pub fn fails_with(
        &self,
        dir: &Path,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        needles: &[&str],
    ) -> Run {
        let run = self.run(dir, program, args, env);
        let shown = format!("{program} {}", args.join(" "));
        let out = run.output();
        assert!(
            !run.success,
            "`{shown}` succeeded but should have failed:\n{out}"
        );
        eprintln!("---- `{shown}` failed as expected:\n{out}");
        for n in needles {
            assert!(out.contains(n), "`{shown}` output lacks {n:?}:\n{out}");
        }
        run
    }

    /// A fresh virtualenv without pip under this user's root (`python -m venv --without-pip`);
    /// returns its directory. Packages go in with the tools' pip (`pip --python VENV/bin/python`)
    /// or `uv pip install --python`.
    pub fn venv(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        let d = dir.to_string_lossy().into_owned();
        self.ok(
            self.root.path(),
            "python",
            &["-m", "venv", "--without-pip", &d],
            &[],
        );
        dir
    }

    /// `python -c CODE` in a virtualenv made by [`PyUser::venv`]; must succeed; returns stdout.
    pub fn python_in(&self, venv: &Path, code: &str) -> String {
        let python = venv.join("bin/python").to_string_lossy().into_owned();
        self.ok(self.root.path(), &python, &["-c", code], &[])
            .stdout
            .trim()
            .to_owned()
    }
}

/// A pure Python project in `dir` named `name` (module `name` with `-` → `_`) at `version`,
/// requiring `deps` (PEP 508 strings); `hello()` returns `"NAME VERSION{suffix}"` followed by
/// `" with " + DEP.hello()` for each dependency's module.
pub fn write_project(dir: &Path, name: &str, version: &str, deps: &[&str], suffix: &str) {
    let module = name.replace('-', "_");
    let dependencies = deps
        .iter()
        .map(|d| format!("\"{d}\""))
        .collect::<Vec<_>>()
        .join(", ");
    write_file(
        dir,
        "pyproject.toml",
        &format!(
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"{name}\"\nversion = \"{version}\"\ndescription = \"{name} fixture\"\n\
             requires-python = \">=3.8\"\ndependencies = [{dependencies}]\n\n\
             [tool.setuptools]\npackages = [\"{module}\"]\n"
        ),
    );
    let mut imports = String::new();
    let mut with = String::new();
    for d in deps {
        let dep_module = d
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .next()
            .unwrap_or(d)
            .replace('-', "_");
        imports.push_str(&format!("import {dep_module}\n"));
        with.push_str(&format!(" + \" with \" + {dep_module}.hello()"));
    }
    write_file(
        dir,
        &format!("{module}/__init__.py"),
        &format!("{imports}\n\ndef hello():\n    return \"{name} {version}{suffix}\"{with}\n"),
    );
}

/// `python -m build --no-isolation --outdir OUT [--wheel|--sdist] PROJECT` (no build isolation:
/// setuptools comes from the tools' environment, nothing is downloaded); returns the files it
/// added to `out`.
pub fn build(user: &PyUser, project: &Path, out: &Path, only: Option<&str>) -> Vec<PathBuf> {
    std::fs::create_dir_all(out).expect("create dist dir");
    let before = listing(out);
    let (p, o) = (
        project.to_string_lossy().into_owned(),
        out.to_string_lossy().into_owned(),
    );
    let mut args = vec!["-m", "build", "--no-isolation", "--outdir", o.as_str()];
    args.extend(only);
    args.push(p.as_str());
    let run = user.run(project, "python", &args, &[]);
    assert!(run.success, "python -m build {p} failed:\n{}", run.output());
    listing(out)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect()
}

/// `python -m wheel tags --platform-tag PLATFORM WHEEL`: the same wheel under a platform tag
/// (a new file beside it; the pure one stays).
pub fn retag(user: &PyUser, wheel: &Path, platform: &str) -> PathBuf {
    let dir = wheel.parent().expect("wheel dir");
    let before = listing(dir);
    let w = wheel.to_string_lossy().into_owned();
    let run = user.run(
        dir,
        "python",
        &["-m", "wheel", "tags", "--platform-tag", platform, &w],
        &[],
    );
    assert!(run.success, "wheel tags failed:\n{}", run.output());
    let added: Vec<PathBuf> = listing(dir)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    assert_eq!(
        added.len(),
        1,
        "wheel tags made {added:?}:\n{}",
        run.output()
    );
    added.into_iter().next().expect("one retagged wheel")
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// The file name of a path, as a `&str`.
pub fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .expect("file name")
}

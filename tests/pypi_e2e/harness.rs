//! The PyPI side of the tests: the fixture distributions (built once per test process with
//! `python -m build`), the seller and orgs set up through the CLI, uploads with `twine` and
//! `uv publish`, and the buyer's pip, uv and poetry runs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::http::{Response, request};
use crate::common::pypi::{PyUser, basic, build, file_name, python_tools, retag, write_project};
use crate::common::{Run, Server, Token, write_file};

pub(crate) const SELLER: &str = "acme";
pub(crate) const PRODUCT: &str = "pro";
pub(crate) const CORE: &str = "acme-core";
pub(crate) const PRO: &str = "acme-pro";
/// The page format pip, uv and poetry ask for first (PEP 691).
pub(crate) const JSON: &str = "application/vnd.pypi.simple.v1+json";

/// The distributions every test uploads, built by the real build tools.
pub(crate) struct Fixtures {
    /// acme-core 1.0.0: pure wheel, sdist, and the same wheel tagged `linux_x86_64`.
    pub(crate) core_whl: PathBuf,
    pub(crate) core_sdist: PathBuf,
    pub(crate) core_linux_whl: PathBuf,
    /// acme-core 1.0.0 rebuilt from changed source: the same file name as `core_whl`, other bytes.
    pub(crate) core_changed_whl: PathBuf,
    /// acme-pro 1.0.0 (requires acme-core>=1.0): pure wheel and sdist.
    pub(crate) pro_whl: PathBuf,
    pub(crate) pro_sdist: PathBuf,
    /// acme-pro 1.1.0: pure wheel.
    pub(crate) pro11_whl: PathBuf,
}

impl Fixtures {
    /// Every file a seller uploads before acme-pro 1.1.0.
    pub(crate) fn first_release(&self) -> Vec<&Path> {
        vec![
            &self.core_whl,
            &self.core_sdist,
            &self.core_linux_whl,
            &self.pro_whl,
            &self.pro_sdist,
        ]
    }
}

/// The Python tools and the fixtures, or `None` when the tools are missing (skipped, or a
/// failure under CI).
pub(crate) fn setup() -> Option<(PathBuf, &'static Fixtures)> {
    let bin = python_tools()?;
    let fx = fixtures(&bin);
    Some((bin, fx))
}

/// Builds the fixtures once per test process, under the system temp dir (directories of test
/// processes that are gone are removed first).
fn fixtures(bin: &Path) -> &'static Fixtures {
    static FX: OnceLock<Fixtures> = OnceLock::new();
    FX.get_or_init(|| {
        let parent = std::env::temp_dir().join("tollgate-pypi-fixtures");
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for e in entries.flatten() {
                let pid = e.file_name().to_string_lossy().into_owned();
                if !Path::new("/proc").join(&pid).exists() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let root = parent.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&root);
        let user = PyUser::new(bin);
        let src = |name: &str| root.join("src").join(name);
        let dist = root.join("dist");

        write_project(&src("core"), CORE, "1.0.0", &[], "");
        let core = build(&user, &src("core"), &dist, None);
        let pick = |files: &[PathBuf], end: &str| {
            files
                .iter()
                .find(|f| file_name(f).ends_with(end))
                .unwrap_or_else(|| panic!("no *{end} in {files:?}"))
                .clone()
        };
        let core_whl = pick(&core, "-py3-none-any.whl");
        let core_sdist = pick(&core, ".tar.gz");
        let core_linux_whl = retag(&user, &core_whl, "linux_x86_64");

        write_project(&src("core-changed"), CORE, "1.0.0", &[], " (changed)");
        let changed = build(
            &user,
            &src("core-changed"),
            &root.join("changed"),
            Some("--wheel"),
        );
        let core_changed_whl = pick(&changed, "-py3-none-any.whl");
        assert_eq!(file_name(&core_changed_whl), file_name(&core_whl));

        write_project(&src("pro"), PRO, "1.0.0", &["acme-core>=1.0"], "");
        let pro = build(&user, &src("pro"), &dist, None);
        write_project(&src("pro11"), PRO, "1.1.0", &["acme-core>=1.0"], "");
        let pro11 = build(&user, &src("pro11"), &dist, Some("--wheel"));
        Fixtures {
            core_whl,
            core_sdist,
            core_linux_whl,
            core_changed_whl,
            pro_whl: pick(&pro, "-py3-none-any.whl"),
            pro_sdist: pick(&pro, ".tar.gz"),
            pro11_whl: pick(&pro11, "-py3-none-any.whl"),
        }
    })
}

// ---- seller, orgs, URLs -----------------------------------------------------------------------

/// Seller acme with product pro (pypi:acme-core, pypi:acme-pro) and a publish token.
pub(crate) fn acme(server: &Server) -> Token {
    server.seller(SELLER);
    server.product(
        SELLER,
        PRODUCT,
        &[&format!("pypi:{CORE}"), &format!("pypi:{PRO}")],
    );
    server.publish_token(SELLER, &[])
}

/// An org with a grant of product pro (`grant_args` e.g. `--rule perpetual_fallback`) and its
/// org token.
pub(crate) fn licensed_org(server: &Server, org: &str, grant_args: &[&str]) -> Token {
    server.org(SELLER, org);
    server.grant(SELLER, org, PRODUCT, grant_args);
    server.org_token(SELLER, org)
}

/// A token of the right shape that the server never issued.
pub(crate) fn unknown_token(like: &Token) -> String {
    let tail = like.secret.rsplit('_').next().unwrap_or_default();
    format!("tg_0000000000000000_{tail}")
}

/// The seller's PyPI mount on one server.
pub(crate) struct Index {
    /// `http://HOST/acme/pypi`
    pub(crate) base: String,
    authority: String,
}

impl Index {
    pub(crate) fn new(server: &Server) -> Index {
        Index {
            base: format!("{}/{SELLER}/pypi", server.url()),
            authority: server.authority().to_owned(),
        }
    }

    /// `http://HOST/acme/pypi/simple/`: the index URL without credentials.
    pub(crate) fn simple(&self) -> String {
        format!("{}/simple/", self.base)
    }

    /// `http://USERINFO@HOST/acme/pypi/simple/` (`__token__:TOKEN`, or the token alone).
    pub(crate) fn simple_with(&self, userinfo: &str) -> String {
        format!("http://{userinfo}@{}/{SELLER}/pypi/simple/", self.authority)
    }

    /// `http://__token__:TOKEN@HOST/acme/pypi/simple/`
    pub(crate) fn simple_token(&self, token: &str) -> String {
        self.simple_with(&format!("__token__:{token}"))
    }

    /// `http://HOST/acme/pypi/files/FILENAME`
    pub(crate) fn file(&self, filename: &str) -> String {
        format!("{}/files/{filename}", self.base)
    }

    /// `http://__token__:TOKEN@HOST/acme/pypi/files/FILENAME`
    pub(crate) fn file_token(&self, token: &str, filename: &str) -> String {
        format!(
            "http://__token__:{token}@{}/{SELLER}/pypi/files/{filename}",
            self.authority
        )
    }

    /// `GET /acme/pypi/PATH` with `Accept` and HTTP Basic `__token__:TOKEN`.
    pub(crate) fn get(&self, path: &str, token: &str, accept: &str) -> Response {
        let auth = basic("__token__", token);
        request(
            "GET",
            &format!("{}/{path}", self.base),
            &[("Authorization", &auth), ("Accept", accept)],
            b"",
        )
        .expect("GET")
    }

    /// `GET /simple/NAME/` with `Accept` and HTTP Basic `__token__:TOKEN`.
    pub(crate) fn page(&self, token: &str, name: &str, accept: &str) -> Response {
        self.get(&format!("simple/{name}/"), token, accept)
    }

    /// The JSON project page (must be a 200).
    pub(crate) fn json_page(&self, token: &str, name: &str) -> serde_json::Value {
        let res = self.page(token, name, JSON);
        assert_eq!(res.status, 200, "GET /simple/{name}/: {}", res.text());
        let page = res.json();
        assert!(
            page["files"].is_array(),
            "not a PEP 691 page: {}",
            res.text()
        );
        page
    }

    /// `GET /files/FILENAME` with HTTP Basic `__token__:TOKEN`: the status.
    pub(crate) fn download_status(&self, token: &str, filename: &str) -> u16 {
        let auth = basic("__token__", token);
        request(
            "GET",
            &self.file(filename),
            &[("Authorization", &auth)],
            b"",
        )
        .expect("GET file")
        .status
    }
}

/// The file names a JSON page lists, sorted.
pub(crate) fn listed(page: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = page["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f["filename"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Sorted file names of paths.
pub(crate) fn names(files: &[&Path]) -> Vec<String> {
    let mut names: Vec<String> = files.iter().map(|f| file_name(f).to_owned()).collect();
    names.sort();
    names
}

// ---- seller side ------------------------------------------------------------------------------

/// `twine upload --repository-url http://HOST/acme/pypi/ -u __token__ -p TOKEN FILES…`
pub(crate) fn twine_upload(user: &PyUser, index: &Index, token: &str, files: &[&Path]) -> Run {
    let url = format!("{}/", index.base);
    let mut args: Vec<String> = [
        "--no-color",
        "upload",
        "--non-interactive",
        "--disable-progress-bar",
        "--verbose",
        "--repository-url",
        &url,
        "-u",
        "__token__",
        "-p",
        token,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    user.run(&user.home(), "twine", &args, &[])
}

/// Uploads every file with twine; must succeed.
pub(crate) fn publish(user: &PyUser, index: &Index, token: &str, files: &[&Path]) {
    let run = twine_upload(user, index, token, files);
    assert!(run.success, "twine upload failed:\n{}", run.output());
}

/// `uv publish --publish-url http://HOST/acme/pypi/upload/ --username __token__ --password TOKEN
/// FILE`: no check of the index first.
pub(crate) fn uv_publish(user: &PyUser, index: &Index, token: &str, file: &Path) -> Run {
    let url = format!("{}/upload/", index.base);
    let f = file.to_string_lossy().into_owned();
    let args = [
        "publish",
        "--publish-url",
        url.as_str(),
        "--username",
        "__token__",
        "--password",
        token,
        f.as_str(),
    ];
    user.run(&user.home(), "uv", &args, &[])
}

/// `uv publish --index acme FILE` in a seller's project whose `[[tool.uv.index]]` names the
/// index URL and its `publish-url`, with `UV_INDEX_ACME_USERNAME`/`_PASSWORD`: uv reads the
/// project page first (its check URL, with the index's credentials) and skips a file that is
/// there with the same SHA-256.
pub(crate) fn uv_publish_index(user: &PyUser, index: &Index, token: &str, file: &Path) -> Run {
    let dir = user.root.path().join("seller-project");
    write_file(
        &dir,
        "pyproject.toml",
        &format!(
            "[project]\nname = \"{PRO}\"\nversion = \"1.1.0\"\n\n\
             [[tool.uv.index]]\nname = \"acme\"\nurl = \"{}\"\npublish-url = \"{}/upload/\"\nexplicit = true\n",
            index.simple(),
            index.base
        ),
    );
    let f = file.to_string_lossy().into_owned();
    let [user_var, password_var] = uv_env(token);
    user.run(
        &dir,
        "uv",
        &["publish", "--index", "acme", f.as_str()],
        &[("UV_NO_CONFIG", ""), user_var, password_var],
    )
}

// ---- buyer side -------------------------------------------------------------------------------

/// `pip --python VENV/bin/python install --index-url INDEX ARGS…` (the tools' pip, installing
/// into a fresh virtualenv).
pub(crate) fn pip_install(user: &PyUser, venv: &Path, index_url: &str, args: &[&str]) -> Run {
    let python = venv.join("bin/python").to_string_lossy().into_owned();
    let mut all = vec![
        "--python",
        python.as_str(),
        "install",
        "--no-cache-dir",
        "--index-url",
        index_url,
    ];
    all.extend_from_slice(args);
    user.run(&user.home(), "pip", &all, &[])
}

/// `uv pip install --python VENV/bin/python --index-url INDEX ARGS…`
pub(crate) fn uv_pip_install(user: &PyUser, venv: &Path, index_url: &str, args: &[&str]) -> Run {
    let python = venv.join("bin/python").to_string_lossy().into_owned();
    let mut all = vec![
        "pip",
        "install",
        "--python",
        python.as_str(),
        "--index-url",
        index_url,
    ];
    all.extend_from_slice(args);
    user.run(&user.home(), "uv", &all, &[])
}

/// What `acme_pro.hello()` returns in a virtualenv.
pub(crate) fn hello(user: &PyUser, venv: &Path) -> String {
    user.python_in(venv, "import acme_pro; print(acme_pro.hello())")
}

/// A uv project requiring acme-pro and acme-core (`requirement` appended to acme-pro), both
/// pinned to the explicit index `acme` (no credentials in the file: they come from
/// `UV_INDEX_ACME_USERNAME`/`_PASSWORD`).
pub(crate) fn uv_project(user: &PyUser, index: &Index, requirement: &str) -> PathBuf {
    let dir = user.root.path().join("uv-app");
    write_file(
        &dir,
        "pyproject.toml",
        &format!(
            "[project]\nname = \"buyer-app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\n\
             dependencies = [\"{PRO}{requirement}\", \"{CORE}\"]\n\n\
             [[tool.uv.index]]\nname = \"acme\"\nurl = \"{}\"\nexplicit = true\n\n\
             [tool.uv.sources]\n{PRO} = {{ index = \"acme\" }}\n{CORE} = {{ index = \"acme\" }}\n",
            index.simple()
        ),
    );
    dir
}

/// `UV_INDEX_ACME_USERNAME=__token__`, `UV_INDEX_ACME_PASSWORD=TOKEN`
pub(crate) fn uv_env(token: &str) -> [(&'static str, &str); 2] {
    [
        ("UV_INDEX_ACME_USERNAME", "__token__"),
        ("UV_INDEX_ACME_PASSWORD", token),
    ]
}

/// A poetry project (no package) requiring acme-pro and acme-core from the explicit source
/// `acme` (credentials from `POETRY_HTTP_BASIC_ACME_*` or `poetry config http-basic.acme`).
pub(crate) fn poetry_project(user: &PyUser, index: &Index, requirement: &str) -> PathBuf {
    let dir = user.root.path().join("poetry-app");
    write_file(
        &dir,
        "pyproject.toml",
        &format!(
            "[tool.poetry]\npackage-mode = false\n\n\
             [tool.poetry.dependencies]\npython = \">=3.9\"\n\
             {PRO} = {{ version = \"{requirement}\", source = \"acme\" }}\n\
             {CORE} = {{ version = \"*\", source = \"acme\" }}\n\n\
             [[tool.poetry.source]]\nname = \"acme\"\nurl = \"{}\"\npriority = \"explicit\"\n",
            index.simple()
        ),
    );
    dir
}

/// `POETRY_HTTP_BASIC_ACME_USERNAME=__token__`, `POETRY_HTTP_BASIC_ACME_PASSWORD=TOKEN`
pub(crate) fn poetry_env(token: &str) -> [(&'static str, &str); 2] {
    [
        ("POETRY_HTTP_BASIC_ACME_USERNAME", "__token__"),
        ("POETRY_HTTP_BASIC_ACME_PASSWORD", token),
    ]
}

/// Reads a lockfile and checks that no credential is in it.
pub(crate) fn lockfile_without(path: &Path, token: &Token) -> String {
    let lock =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        !lock.contains(&token.secret) && !lock.contains("__token__"),
        "{} holds a credential:\n{lock}",
        path.display()
    );
    lock
}

/// Asserts a refused client run: it failed and printed every needle. Prints what it printed.
pub(crate) fn refused(run: &Run, case: &str, needles: &[&str]) {
    let out = run.output();
    assert!(
        !run.success,
        "{case}: succeeded but should be refused:\n{out}"
    );
    eprintln!("---- {case}: refused as expected:\n{out}");
    for n in needles {
        assert!(out.contains(n), "{case}: output lacks {n:?}:\n{out}");
    }
}

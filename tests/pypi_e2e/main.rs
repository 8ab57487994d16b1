//! End-to-end: the real `tollgate` binary driven by the real Python clients (`twine`,
//! `uv publish`, `pip`, `uv pip`, `uv lock`/`uv sync`, `poetry lock`/`poetry install`) from the CI
//! virtualenv (`scripts/python-clients`). Fixture distributions are built at test time with
//! `python -m build --no-isolation` (and one retagged `linux_x86_64` with `python -m wheel tags`);
//! every client runs as its own "user" with its own `HOME`, no cache and no configuration, and
//! can reach nothing but loopback. Assertions are on what the clients print.
//!
//! This file: uploads and installs. `access.rs`: refusals (unlicensed org, unknown token,
//! revoked seat, ended license, perpetual fallback). `yank.rs`: PEP 592.

mod access;
#[path = "../common/mod.rs"]
mod common;
mod harness;
mod yank;

use common::Server;
use common::pypi::{PyUser, file_name, sha256_file};
use harness::{
    CORE, Index, PRO, SELLER, acme, hello, licensed_org, listed, lockfile_without, names,
    pip_install, poetry_env, poetry_project, publish, setup, twine_upload, uv_env, uv_pip_install,
    uv_project, uv_publish, uv_publish_index,
};

/// twine uploads wheels (pure and `linux_x86_64`) and sdists of both packages; the same file
/// again is accepted, other bytes under an existing name are refused with "File already exists";
/// `uv publish --index` (which reads the page first) uploads once and skips the second time; a buyer's token cannot
/// upload; the page lists each file once with its SHA-256, to the buyer and the seller alike.
#[test]
fn twine_and_uv_publish_upload_each_file_once() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);

    let run = twine_upload(&seller, &index, &publisher.secret, &fx.first_release());
    assert!(run.success, "twine upload failed:\n{}", run.output());
    for f in fx.first_release() {
        assert!(
            run.output()
                .contains(&format!("Uploading {}", file_name(f))),
            "{}",
            run.output()
        );
    }
    eprintln!("---- twine upload:\n{}", run.output());

    let again = twine_upload(&seller, &index, &publisher.secret, &[&fx.core_whl]);
    assert!(
        again.success,
        "the same file again must be accepted:\n{}",
        again.output()
    );
    let changed = twine_upload(&seller, &index, &publisher.secret, &[&fx.core_changed_whl]);
    assert!(!changed.success, "{}", changed.output());
    assert!(
        changed.output().contains("400") && changed.output().contains("File already exists"),
        "{}",
        changed.output()
    );
    eprintln!("---- twine upload, other bytes:\n{}", changed.output());

    let first = uv_publish_index(&seller, &index, &publisher.secret, &fx.pro11_whl);
    assert!(first.success, "uv publish failed:\n{}", first.output());
    assert!(
        first
            .output()
            .contains("Uploading acme_pro-1.1.0-py3-none-any.whl"),
        "{}",
        first.output()
    );
    let second = uv_publish_index(&seller, &index, &publisher.secret, &fx.pro11_whl);
    assert!(second.success, "{}", second.output());
    assert!(
        second
            .output()
            .contains("File acme_pro-1.1.0-py3-none-any.whl already exists, skipping"),
        "{}",
        second.output()
    );
    eprintln!(
        "---- uv publish --index acme, twice:\n{}{}",
        first.output(),
        second.output()
    );
    let other = uv_publish(&seller, &index, &publisher.secret, &fx.core_changed_whl);
    assert!(
        !other.success && other.output().contains("File already exists"),
        "{}",
        other.output()
    );
    eprintln!("---- uv publish, other bytes:\n{}", other.output());

    let buyer = licensed_org(&server, "buyer", &[]);
    let refused = twine_upload(&seller, &index, &buyer.secret, &[&fx.pro11_whl]);
    assert!(
        !refused.success
            && refused.output().contains("403")
            && refused.output().contains("cannot publish"),
        "{}",
        refused.output()
    );
    eprintln!("---- twine upload with an org token:\n{}", refused.output());

    let mut uploaded = fx.first_release();
    uploaded.push(&fx.pro11_whl);
    for token in [&buyer.secret, &publisher.secret] {
        for name in [CORE, PRO] {
            let page = index.json_page(token, name);
            let mine: Vec<&std::path::Path> = uploaded
                .iter()
                .copied()
                .filter(|f| file_name(f).starts_with(&format!("{}-", name.replace('-', "_"))))
                .collect();
            assert_eq!(listed(&page), names(&mine), "{page}");
            for f in &mine {
                let entry = page["files"]
                    .as_array()
                    .and_then(|a| a.iter().find(|e| e["filename"] == file_name(f)))
                    .expect("listed");
                assert_eq!(entry["hashes"]["sha256"], sha256_file(f), "{entry}");
            }
        }
    }
    let html = index.page(&buyer.secret, PRO, "text/html");
    assert_eq!(html.status, 200);
    assert!(
        html.text().contains(&format!(
            "acme_pro-1.1.0-py3-none-any.whl#sha256={}",
            sha256_file(&fx.pro11_whl)
        )),
        "{}",
        html.text()
    );
}

/// Another spelling of an existing wheel's file name (the project part not normalized, or the
/// version written another PEP 440-equal way) is the same distribution to pip and uv: like the
/// public index, the server must refuse it rather than list a second, different file for it.
#[test]
fn another_spelling_of_an_existing_file_name_is_refused() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    publish(&seller, &index, &publisher.secret, &fx.first_release());
    let renamed = seller.root.path().join("renamed");
    std::fs::create_dir_all(&renamed).expect("dir");
    for name in [
        "Acme_Core-1.0.0-py3-none-any.whl",
        "acme.core-1.0.0-py3-none-any.whl",
        "acme_core-1.0-py3-none-any.whl",
        "acme_core-1.0.0.0-py3-none-any.whl",
    ] {
        let copy = renamed.join(name);
        std::fs::copy(&fx.core_changed_whl, &copy).expect("copy wheel");
        let run = twine_upload(&seller, &index, &publisher.secret, &[&copy]);
        assert!(
            !run.success && run.output().contains("400"),
            "{name} was accepted:\n{}",
            run.output()
        );
        eprintln!("---- twine upload {name}:\n{}", run.output());
    }
    let page = index.json_page(&publisher.secret, CORE);
    assert_eq!(
        listed(&page),
        names(&[&fx.core_whl, &fx.core_sdist, &fx.core_linux_whl]),
        "{page}"
    );
}

/// pip installs acme-pro and its dependency into a fresh virtualenv with the org token in the
/// index URL (`__token__:TOKEN@` and the token alone as the user), picks the `linux_x86_64`
/// wheel, and the code imports; the download is recorded.
#[test]
fn pip_installs_and_imports_with_the_org_token_in_the_index_url() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    let mut files = fx.first_release();
    files.push(&fx.pro11_whl);
    publish(&seller, &index, &publisher.secret, &files);
    let buyer = licensed_org(&server, "buyer", &[]);

    let alice = PyUser::new(&bin);
    let venv = alice.venv("venv");
    let run = pip_install(&alice, &venv, &index.simple_token(&buyer.secret), &[PRO]);
    assert!(run.success, "{}", run.output());
    eprintln!("---- pip install (__token__:TOKEN@):\n{}", run.output());
    assert!(
        run.output()
            .contains("acme_core-1.0.0-py3-none-linux_x86_64.whl"),
        "pip should pick the platform wheel:\n{}",
        run.output()
    );
    assert!(
        run.output()
            .contains("Successfully installed acme-core-1.0.0 acme-pro-1.1.0"),
        "{}",
        run.output()
    );
    assert_eq!(hello(&alice, &venv), "acme-pro 1.1.0 with acme-core 1.0.0");

    let bob = PyUser::new(&bin);
    let venv = bob.venv("venv");
    let run = pip_install(
        &bob,
        &venv,
        &index.simple_with(&buyer.secret),
        &[&format!("{PRO}==1.0.0")],
    );
    assert!(run.success, "{}", run.output());
    eprintln!("---- pip install (TOKEN@):\n{}", run.output());
    assert_eq!(hello(&bob, &venv), "acme-pro 1.0.0 with acme-core 1.0.0");

    let downloads = server.downloads(SELLER);
    // One release per file: the ledger's `version` may be the version or the file name.
    let files = [
        (PRO, "1.1.0", file_name(&fx.pro11_whl)),
        (PRO, "1.0.0", file_name(&fx.pro_whl)),
        (CORE, "1.0.0", file_name(&fx.core_linux_whl)),
    ];
    for (package, version, file) in files {
        assert!(
            downloads
                .iter()
                .any(|d| d["package"] == package
                    && (d["version"] == version || d["version"] == file)),
            "no download of {file} recorded: {downloads:?}"
        );
    }
}

/// `uv pip install` with the token in the index URL; a uv project with an explicit index and the
/// credentials in `UV_INDEX_ACME_*`: `uv lock` pins the server's file URLs and hashes and holds
/// no token, `uv sync` installs and the code imports.
#[test]
fn uv_pip_install_and_uv_lock_sync_with_an_explicit_index() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    let mut files = fx.first_release();
    files.push(&fx.pro11_whl);
    publish(&seller, &index, &publisher.secret, &files);
    let buyer = licensed_org(&server, "buyer", &[]);

    let alice = PyUser::new(&bin);
    let venv = alice.venv("venv");
    let run = uv_pip_install(&alice, &venv, &index.simple_token(&buyer.secret), &[PRO]);
    assert!(run.success, "{}", run.output());
    eprintln!("---- uv pip install:\n{}", run.output());
    assert!(
        run.output().contains("+ acme-pro==1.1.0") && run.output().contains("+ acme-core==1.0.0"),
        "{}",
        run.output()
    );
    assert_eq!(hello(&alice, &venv), "acme-pro 1.1.0 with acme-core 1.0.0");

    let bob = PyUser::new(&bin);
    let app = uv_project(&bob, &index, "");
    let env = uv_env(&buyer.secret);
    bob.ok(&app, "uv", &["lock"], &env);
    let lock = lockfile_without(&app.join("uv.lock"), &buyer);
    for f in [
        &fx.core_whl,
        &fx.core_sdist,
        &fx.core_linux_whl,
        &fx.pro11_whl,
    ] {
        let pinned = format!(
            "url = \"{}\", hash = \"sha256:{}\"",
            index.file(file_name(f)),
            sha256_file(f)
        );
        assert!(lock.contains(&pinned), "uv.lock lacks {pinned}:\n{lock}");
    }
    let run = bob.ok(&app, "uv", &["sync"], &env);
    assert!(
        run.output().contains("+ acme-pro==1.1.0"),
        "{}",
        run.output()
    );
    assert_eq!(
        hello(&bob, &app.join(".venv")),
        "acme-pro 1.1.0 with acme-core 1.0.0"
    );
}

/// poetry with an explicit source: `poetry lock` with the credentials in
/// `POETRY_HTTP_BASIC_ACME_*` pins every file's hash and holds no token; `poetry install` from that
/// lock with `poetry config http-basic.acme` installs, and the code imports.
#[test]
fn poetry_lock_and_install_with_an_explicit_source() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    let mut files = fx.first_release();
    files.push(&fx.pro11_whl);
    publish(&seller, &index, &publisher.secret, &files);
    let buyer = licensed_org(&server, "buyer", &[]);

    let alice = PyUser::new(&bin);
    let app = poetry_project(&alice, &index, ">=1.0");
    alice.ok(&app, "poetry", &["lock"], &poetry_env(&buyer.secret));
    let lock = lockfile_without(&app.join("poetry.lock"), &buyer);
    for f in [
        &fx.core_whl,
        &fx.core_sdist,
        &fx.core_linux_whl,
        &fx.pro11_whl,
    ] {
        let pinned = format!(
            "{{file = \"{}\", hash = \"sha256:{}\"}}",
            file_name(f),
            sha256_file(f)
        );
        assert!(
            lock.contains(&pinned),
            "poetry.lock lacks {pinned}:\n{lock}"
        );
    }
    assert!(
        lock.contains("name = \"acme-pro\"\nversion = \"1.1.0\""),
        "{lock}"
    );

    // Another machine: the same project and lock, credentials from `poetry config`.
    let bob = PyUser::new(&bin);
    let app2 = bob.root.path().join("poetry-app");
    std::fs::create_dir_all(&app2).expect("app dir");
    for f in ["pyproject.toml", "poetry.lock"] {
        std::fs::copy(app.join(f), app2.join(f)).expect("copy project");
    }
    bob.ok(
        &app2,
        "poetry",
        &["config", "http-basic.acme", "__token__", &buyer.secret],
        &[],
    );
    let run = bob.ok(&app2, "poetry", &["install"], &[]);
    assert!(
        run.output().contains("Installing acme-pro (1.1.0)"),
        "{}",
        run.output()
    );
    assert_eq!(
        hello(&bob, &app2.join(".venv")),
        "acme-pro 1.1.0 with acme-core 1.0.0"
    );
}

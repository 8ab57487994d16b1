//! End-to-end: the real `tollgate` binary driven by the real Python clients (`twine`,
//! `uv publish`, `pip`, `uv pip`, `uv lock`/`uv sync`, `poetry lock`/`poetry install`) from the CI
//! virtualenv (`scripts/python-clients`). Fixture distributions are built at test time with
//! `python -m build --no-isolation` (and one retagged `linux_x86_64` with `python -m wheel tags`);
//! every client runs as its own "user" with its own `HOME`, no cache and no configuration, and
//! can reach nothing but loopback. Assertions are on what the clients print.

#[path = "../common/mod.rs"]
mod common;
mod harness;

use std::thread;
use std::time::Duration;

use common::Server;
use common::pypi::{PyUser, file_name, sha256_file};
use harness::{
    CORE, Index, PRO, PRODUCT, SELLER, acme, hello, licensed_org, listed, lockfile_without, names,
    pip_install, poetry_env, poetry_project, publish, setup, twine_upload, unknown_token, uv_env,
    uv_pip_install, uv_project, uv_publish, uv_publish_index,
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

/// An org without a license and a token the server never issued are refused, in pip's, uv's and
/// poetry's words.
#[test]
fn unentitled_org_and_unknown_token_are_refused() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    publish(&seller, &index, &publisher.secret, &fx.first_release());
    let buyer = licensed_org(&server, "buyer", &[]);
    server.org(SELLER, "stranger");
    let stranger = server.org_token(SELLER, "stranger");
    let unknown = unknown_token(&buyer);

    // The unlicensed org: not found (404).
    let user = PyUser::new(&bin);
    let venv = user.venv("venv");
    let run = pip_install(&user, &venv, &index.simple_token(&stranger.secret), &[PRO]);
    refused(&run, "pip, unlicensed org", &["from versions: none"]);
    let run = uv_pip_install(&user, &venv, &index.simple_token(&stranger.secret), &[PRO]);
    refused(
        &run,
        "uv pip, unlicensed org",
        &["not found in the package registry"],
    );
    let app = poetry_project(&user, &index, "*");
    let run = user.run(&app, "poetry", &["lock"], &poetry_env(&stranger.secret));
    refused(
        &run,
        "poetry lock, unlicensed org",
        &["doesn't match any versions"],
    );

    // A token nobody issued: 401.
    let user = PyUser::new(&bin);
    let venv = user.venv("venv");
    let run = pip_install(&user, &venv, &index.simple_token(&unknown), &[PRO]);
    refused(&run, "pip, unknown token", &["401", "from versions: none"]);
    let run = uv_pip_install(&user, &venv, &index.simple_token(&unknown), &[PRO]);
    refused(&run, "uv pip, unknown token", &["401 Unauthorized"]);
    let app = poetry_project(&user, &index, "*");
    let run = user.run(&app, "poetry", &["lock"], &poetry_env(&unknown));
    refused(&run, "poetry lock, unknown token", &["Authorization error"]);

    // The same over plain HTTP; the project list shows the stranger nothing.
    assert_eq!(index.page(&stranger.secret, PRO, harness::JSON).status, 404);
    assert_eq!(index.page(&unknown, PRO, harness::JSON).status, 401);
    let list = |token: &str| index.get("simple/", token, harness::JSON).json()["projects"].clone();
    assert_eq!(list(&stranger.secret), serde_json::json!([]));
    assert_eq!(
        list(&buyer.secret),
        serde_json::json!([{"name": CORE}, {"name": PRO}])
    );
}

/// A seat token works until the seat is revoked; then every client is refused (401), and where
/// a client prints the reason phrase (a download) it names the seat.
#[test]
fn a_revoked_seat_is_refused() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    publish(&seller, &index, &publisher.secret, &fx.first_release());
    licensed_org(&server, "buyer", &[]);
    let email = "alice@buyer.example";
    server.cli(&["seat", "add", "--seller", SELLER, "--org", "buyer", email]);
    let seat = server.token(SELLER, &["--org", "buyer", "--seat", email]);

    let user = PyUser::new(&bin);
    let venv = user.venv("venv");
    let run = pip_install(&user, &venv, &index.simple_token(&seat.secret), &[PRO]);
    assert!(run.success, "{}", run.output());
    let uv_app = uv_project(&user, &index, "");
    user.ok(&uv_app, "uv", &["lock"], &uv_env(&seat.secret));

    server.cli(&[
        "seat", "revoke", "--seller", SELLER, "--org", "buyer", email,
    ]);
    let user = PyUser::new(&bin);
    let venv = user.venv("venv");
    let run = pip_install(&user, &venv, &index.simple_token(&seat.secret), &[PRO]);
    refused(&run, "pip, revoked seat", &["401", "from versions: none"]);
    let run = uv_pip_install(&user, &venv, &index.simple_token(&seat.secret), &[PRO]);
    refused(&run, "uv pip, revoked seat", &["401 Unauthorized"]);
    let app = poetry_project(&user, &index, "*");
    let run = user.run(&app, "poetry", &["lock"], &poetry_env(&seat.secret));
    refused(&run, "poetry lock, revoked seat", &["Authorization error"]);
    // Downloads print the reason phrase: it names the revoked seat.
    let url = index.file_token(&seat.secret, file_name(&fx.pro_whl));
    let run = pip_install(&user, &venv, &index.simple_token(&seat.secret), &[&url]);
    refused(&run, "pip, revoked seat, file URL", &["401", email]);
    let locked = PyUser::new(&bin);
    let app = locked.root.path().join("uv-app");
    std::fs::create_dir_all(&app).expect("app dir");
    for f in ["pyproject.toml", "uv.lock"] {
        std::fs::copy(uv_app.join(f), app.join(f)).expect("copy project");
    }
    let run = locked.run(&app, "uv", &["sync", "--locked"], &uv_env(&seat.secret));
    refused(&run, "uv sync from a lock, revoked seat", &["401", email]);

    assert_eq!(index.page(&seat.secret, PRO, harness::JSON).status, 401);
}

/// A while_active license that ended: resolving finds nothing, and a download (a lockfile's, or
/// a file URL) is refused with the license sentence and its date where the client prints the
/// reason phrase.
#[test]
fn an_ended_license_names_the_reason_and_date() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    publish(&seller, &index, &publisher.secret, &fx.first_release());
    let lapsed = licensed_org(&server, "lapsed", &["--rule", "while_active"]);

    // Locked while the license ran.
    let user = PyUser::new(&bin);
    let uv_app = uv_project(&user, &index, "");
    user.ok(&uv_app, "uv", &["lock"], &uv_env(&lapsed.secret));
    let poetry_app = poetry_project(&user, &index, "*");
    user.ok(
        &poetry_app,
        "poetry",
        &["lock"],
        &poetry_env(&lapsed.secret),
    );

    server.grant_end(SELLER, "lapsed", PRODUCT);
    let page = index.page(&lapsed.secret, PRO, harness::JSON);
    assert_eq!(page.status, 403, "{}", page.text());
    let file = file_name(&fx.pro_whl);

    let venv = user.venv("venv");
    let run = pip_install(&user, &venv, &index.simple_token(&lapsed.secret), &[PRO]);
    refused(&run, "pip, ended license", &["from versions: none"]);
    let url = index.file_token(&lapsed.secret, file);
    let run = pip_install(&user, &venv, &index.simple_token(&lapsed.secret), &[&url]);
    refused(&run, "pip, ended license, file URL", &["403", "ended on"]);
    let run = uv_pip_install(&user, &venv, &index.simple_token(&lapsed.secret), &[PRO]);
    refused(&run, "uv pip, ended license", &["403 Forbidden"]);
    // uv downloads the locked files without reading the page: the reason phrase shows.
    let run = user.run(
        &uv_app,
        "uv",
        &["sync", "--locked"],
        &uv_env(&lapsed.secret),
    );
    refused(
        &run,
        "uv sync from a lock, ended license",
        &["403", "ended on"],
    );
    // poetry reads the pages again before downloading: only its authorization error shows.
    let run = user.run(
        &poetry_app,
        "poetry",
        &["install"],
        &poetry_env(&lapsed.secret),
    );
    refused(
        &run,
        "poetry install from a lock, ended license",
        &["Authorization error accessing"],
    );
}

/// A perpetual_fallback license that ended keeps what was published before the end: the page
/// lists only those files, pip and uv resolve to them, the newer version is not found and its
/// file not served.
#[test]
fn perpetual_fallback_lists_only_files_published_before_the_end() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    let legacy = licensed_org(&server, "legacy", &["--rule", "perpetual_fallback"]);
    publish(&seller, &index, &publisher.secret, &fx.first_release());
    thread::sleep(Duration::from_millis(50));
    server.grant_end(SELLER, "legacy", PRODUCT);
    thread::sleep(Duration::from_millis(50));
    publish(&seller, &index, &publisher.secret, &[&fx.pro11_whl]);

    let user = PyUser::new(&bin);
    let venv = user.venv("venv");
    let run = pip_install(&user, &venv, &index.simple_token(&legacy.secret), &[PRO]);
    assert!(run.success, "{}", run.output());
    assert_eq!(hello(&user, &venv), "acme-pro 1.0.0 with acme-core 1.0.0");
    let run = pip_install(
        &user,
        &venv,
        &index.simple_token(&legacy.secret),
        &[&format!("{PRO}==1.1.0")],
    );
    refused(
        &run,
        "pip ==1.1.0, perpetual fallback",
        &["(from versions: 1.0.0)"],
    );

    let other = PyUser::new(&bin);
    let venv = other.venv("venv");
    let run = uv_pip_install(&other, &venv, &index.simple_token(&legacy.secret), &[PRO]);
    assert!(
        run.success && run.output().contains("+ acme-pro==1.0.0"),
        "{}",
        run.output()
    );
    let run = uv_pip_install(
        &other,
        &venv,
        &index.simple_token(&legacy.secret),
        &[&format!("{PRO}==1.1.0")],
    );
    refused(&run, "uv pip ==1.1.0, perpetual fallback", &["1.1.0"]);

    // The page and the files over plain HTTP: what is listed is what downloads.
    let page = index.json_page(&legacy.secret, PRO);
    assert_eq!(
        listed(&page),
        names(&[&fx.pro_whl, &fx.pro_sdist]),
        "{page}"
    );
    assert_eq!(
        index.download_status(&legacy.secret, file_name(&fx.pro_whl)),
        200
    );
    let newer = index.download_status(&legacy.secret, file_name(&fx.pro11_whl));
    assert!(
        newer == 403 || newer == 404,
        "1.1.0 served to legacy: {newer}"
    );
}

/// A yanked version (PEP 592) is left out of a fresh resolve by pip and uv, still installed when
/// pinned with `==` (with the reason as a warning) or by a lock taken before the yank, marked on
/// the page with its reason, and back after un-yanking.
#[test]
fn a_yanked_version_is_skipped_unless_pinned() {
    let Some((bin, fx)) = setup() else { return };
    let server = Server::start();
    let publisher = acme(&server);
    let index = Index::new(&server);
    let seller = PyUser::new(&bin);
    let mut files = fx.first_release();
    files.push(&fx.pro11_whl);
    publish(&seller, &index, &publisher.secret, &files);
    let buyer = licensed_org(&server, "buyer", &[]);
    let reason = "broken on Windows";
    let locked = PyUser::new(&bin);
    let app = uv_project(&locked, &index, "");
    locked.ok(&app, "uv", &["lock"], &uv_env(&buyer.secret));

    server.cli(&[
        "release",
        "yank",
        "--seller",
        SELLER,
        &format!("pypi:{PRO}"),
        "1.1.0",
        "--reason",
        reason,
    ]);
    let user = PyUser::new(&bin);
    let venv = user.venv("fresh");
    let run = pip_install(&user, &venv, &index.simple_token(&buyer.secret), &[PRO]);
    assert!(run.success, "{}", run.output());
    assert_eq!(hello(&user, &venv), "acme-pro 1.0.0 with acme-core 1.0.0");
    let venv = user.venv("pinned");
    let pinned = format!("{PRO}==1.1.0");
    let run = pip_install(&user, &venv, &index.simple_token(&buyer.secret), &[&pinned]);
    assert!(run.success, "{}", run.output());
    eprintln!("---- pip install {pinned} (yanked):\n{}", run.output());
    assert!(run.output().contains(reason), "{}", run.output());
    assert_eq!(hello(&user, &venv), "acme-pro 1.1.0 with acme-core 1.0.0");

    let venv = user.venv("uv-fresh");
    let run = uv_pip_install(&user, &venv, &index.simple_token(&buyer.secret), &[PRO]);
    assert!(
        run.success && run.output().contains("+ acme-pro==1.0.0"),
        "{}",
        run.output()
    );
    let venv = user.venv("uv-pinned");
    let run = uv_pip_install(&user, &venv, &index.simple_token(&buyer.secret), &[&pinned]);
    assert!(run.success, "{}", run.output());
    eprintln!("---- uv pip install {pinned} (yanked):\n{}", run.output());
    assert!(
        run.output().contains("+ acme-pro==1.1.0") && run.output().contains(reason),
        "{}",
        run.output()
    );

    // A lock taken before the yank still installs the yanked version.
    let run = locked.ok(&app, "uv", &["sync", "--locked"], &uv_env(&buyer.secret));
    assert!(
        run.output().contains("+ acme-pro==1.1.0"),
        "{}",
        run.output()
    );

    // The page marks the file (PEP 592) with the reason, in both forms.
    let page = index.json_page(&buyer.secret, PRO);
    let entry = page["files"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["filename"] == file_name(&fx.pro11_whl)))
        .unwrap_or_else(|| panic!("a yanked file stays listed: {page}"));
    assert_eq!(entry["yanked"], reason, "{entry}");
    let html = index.page(&buyer.secret, PRO, "text/html").text();
    assert!(
        html.contains(&format!("data-yanked=\"{reason}\"")),
        "{html}"
    );

    server.cli(&[
        "release",
        "unyank",
        "--seller",
        SELLER,
        &format!("pypi:{PRO}"),
        "1.1.0",
    ]);
    let venv = user.venv("unyanked");
    let run = pip_install(&user, &venv, &index.simple_token(&buyer.secret), &[PRO]);
    assert!(run.success, "{}", run.output());
    assert_eq!(hello(&user, &venv), "acme-pro 1.1.0 with acme-core 1.0.0");
}

/// Asserts a refused client run: it failed and printed every needle. Prints what it printed.
fn refused(run: &common::Run, case: &str, needles: &[&str]) {
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
    }
    let page = index.json_page(&publisher.secret, CORE);
    assert_eq!(
        listed(&page),
        names(&[&fx.core_whl, &fx.core_sdist, &fx.core_linux_whl]),
        "{page}"
    );
}

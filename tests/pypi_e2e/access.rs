//! Refusals in pip's, uv's and poetry's words: an org without a license, a token nobody issued,
//! a revoked seat, an ended license, and what perpetual fallback keeps.

use std::thread;
use std::time::Duration;

use crate::common::Server;
use crate::common::pypi::{PyUser, file_name};
use crate::harness::{
    self, CORE, Index, PRO, PRODUCT, SELLER, acme, hello, licensed_org, listed, names, pip_install,
    poetry_env, poetry_project, publish, refused, setup, unknown_token, uv_env, uv_pip_install,
    uv_project,
};

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

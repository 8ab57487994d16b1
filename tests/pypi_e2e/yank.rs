//! Yanked versions (PEP 592), yanked and un-yanked with `tollgate release yank|unyank`.

use crate::common::Server;
use crate::common::pypi::{PyUser, file_name};
use crate::harness::{
    Index, PRO, SELLER, acme, hello, licensed_org, pip_install, publish, setup, uv_env,
    uv_pip_install, uv_project,
};

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

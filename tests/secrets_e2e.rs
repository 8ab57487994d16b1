//! No secret where a person reads it by accident, against the real binary: one-time sign-in and
//! invite links (and the Stripe Connect callback's `code` and `state`) never reach the request
//! log; `--help` never prints an environment variable's value; anonymous pages hand out no
//! session, and the sign-in form still signs in.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Server;
use common::browser::{csrf_field, encode};
use common::http::{Response, request};
use tollgate_billing::mail::eml;

/// The value of cookie `name` that `res` sets, if it sets one.
fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn form(fields: &[(&str, &str)]) -> Vec<u8> {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// The first link containing `part` in a mail to `to`, waiting up to 10 s for it.
fn mailed_link(data: &Path, to: &str, part: &str) -> String {
    let dir = data.join("mail");
    let started = Instant::now();
    loop {
        let found = eml::read_dir(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.to().contains(to))
            .flat_map(|m| m.links().into_iter().map(str::to_owned).collect::<Vec<_>>())
            .find(|l| l.contains(part));
        if let Some(link) = found {
            return link;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no mail to {to} with a link to {part}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the server has logged `needle`.
fn wait_for_log(server: &Server, needle: &str) -> String {
    let started = Instant::now();
    loop {
        let logs = server.logs();
        if logs.contains(needle) {
            return logs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the log never showed {needle}:\n{logs}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The secret part of a one-time link (`…/login/tg_…`).
fn secret_of(link: &str) -> &str {
    link.rsplit('/').next().expect("a secret")
}

#[test]
fn link_secrets_never_reach_the_request_log() {
    let server = Server::start();
    let url = server.url().to_owned();
    server.seller("acme");
    server.org("acme", "globex");
    server.cli(&[
        "seat",
        "add",
        "--seller",
        "acme",
        "--org",
        "globex",
        "admin@globex.example",
        "--admin",
    ]);

    // A printed seller link, followed.
    let seller_link =
        server.cli_json(&["seller", "login-link", "acme", "--public-url", &url])["link"]
            .as_str()
            .expect("a link")
            .to_owned();
    let res = request("GET", &seller_link, &[], b"").expect("follow");
    assert_eq!(res.status, 303, "{res:?}");

    // The admin signs in with a printed member link and invites someone from the page.
    let member_link = server.cli_json(&[
        "org",
        "login-link",
        "--seller",
        "acme",
        "--org",
        "globex",
        "admin@globex.example",
        "--public-url",
        &url,
    ])["link"]
        .as_str()
        .expect("a link")
        .to_owned();
    let res = request("GET", &member_link, &[], b"").expect("follow");
    assert_eq!(res.status, 303, "{res:?}");
    let session = set_cookie(&res, "tollgate_session").expect("a session");
    let cookie = format!("tollgate_session={session}");
    let page = request(
        "GET",
        &format!("{url}/acme/login"),
        &[("cookie", &cookie)],
        b"",
    )
    .expect("the form");
    let csrf = csrf_field(&page);
    let res = request(
        "POST",
        &format!("{url}/acme/org/globex/invite"),
        &[("cookie", &cookie), FORM],
        &form(&[("csrf", &csrf), ("email", "newcomer@globex.example")]),
    )
    .expect("invite");
    assert_eq!(res.status, 303, "{res:?}");
    let invite_link = mailed_link(server.data_dir(), "newcomer@globex.example", "/invite/");
    let res = request("GET", &invite_link, &[], b"").expect("accept");
    assert_eq!(res.status, 303, "{res:?}");

    // A mailed sign-in link, asked for from the form and followed.
    let page = request("GET", &format!("{url}/acme/login"), &[], b"").expect("the form");
    let anonymous = set_cookie(&page, "tollgate_csrf").expect("the form's cookie");
    let res = request(
        "POST",
        &format!("{url}/acme/login"),
        &[("cookie", &format!("tollgate_csrf={anonymous}")), FORM],
        &form(&[
            ("csrf", &csrf_field(&page)),
            ("email", "owner@acme.example"),
        ]),
    )
    .expect("ask for a link");
    assert_eq!(res.status, 200, "{res:?}");
    let mailed = mailed_link(server.data_dir(), "owner@acme.example", "/acme/login/");
    let res = request("GET", &mailed, &[], b"").expect("follow");
    assert_eq!(res.status, 303, "{res:?}");

    // The Stripe Connect callback: its secrets are in the query.
    request(
        "GET",
        &format!("{url}/stripe/connect/oauth?code=ac_SECRETCODE42&state=SECRETSTATE42"),
        &[],
        b"",
    )
    .expect("callback");
    let res = request("GET", &format!("{url}/healthz"), &[], b"").expect("healthz");
    assert_eq!(res.status, 200);

    let logs = wait_for_log(&server, "path=/healthz");
    for shown in [
        "path=/acme/login/…",
        "path=/acme/invite/…",
        "path=/stripe/connect/oauth ",
    ] {
        assert!(logs.contains(shown), "the log lacks {shown}:\n{logs}");
    }
    for link in [&seller_link, &member_link, &invite_link, &mailed] {
        let secret = secret_of(link);
        assert!(secret.starts_with("tg_") && secret.len() > 60, "{link}");
        assert!(
            !logs.contains(secret),
            "the log holds the secret of {link}:\n{logs}"
        );
        // Not its secret half alone either.
        let half = secret.rsplit('_').next().expect("the secret half");
        assert!(!logs.contains(half), "the log holds part of {link}");
    }
    for secret in ["SECRETCODE42", "SECRETSTATE42"] {
        assert!(!logs.contains(secret), "the log holds {secret}:\n{logs}");
    }
}

#[test]
fn anonymous_pages_hand_out_no_session() {
    let server = Server::start();
    let url = server.url().to_owned();
    server.seller("acme");
    for i in 0..200 {
        let res = request("GET", &format!("{url}/acme/login"), &[], b"").expect("the form");
        assert_eq!(res.status, 200, "{res:?}");
        assert_eq!(
            set_cookie(&res, "tollgate_session"),
            None,
            "request {i} got a session"
        );
        assert!(set_cookie(&res, "tollgate_csrf").is_some(), "{res:?}");
    }
    for path in [
        "/acme/dashboard",
        "/acme/login/tg_x_y",
        "/acme/invite/tg_x_y",
    ] {
        let res = request("GET", &format!("{url}{path}"), &[], b"").expect("a page");
        assert_eq!(
            set_cookie(&res, "tollgate_session"),
            None,
            "{path}: {res:?}"
        );
    }
}

/// What every secret value below holds (variable names hold `SECRET` themselves).
const MARK: &str = "hunter2";

/// Every command's help, with secrets in the variables it reads.
#[test]
fn help_never_prints_environment_values() {
    let data = tempfile::tempdir().expect("temp dir");
    let env: Vec<(String, String)> = [
        (
            "TOLLGATE_DATABASE_URL",
            "postgres://u:SECRETPW-hunter2@h/db",
        ),
        ("TOLLGATE_STRIPE_SECRET_KEY", "sk_test_hunter2STRIPEKEY"),
        (
            "TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET",
            "whsec_hunter2HOOK",
        ),
        ("TOLLGATE_STRIPE_CONNECT_CLIENT_ID", "ca_hunter2CLIENT"),
        ("TOLLGATE_SMTP_URL", "smtp://u:hunter2SMTP@h:587"),
        ("TOLLGATE_STORE", "s3://hunter2BUCKET/p"),
        ("TOLLGATE_PUBLIC_URL", "https://hunter2HOST.example"),
        ("TOLLGATE_SELLER", "hunter2SELLER"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let help = |args: &[&str]| -> String {
        let out = common::tollgate_command(data.path(), &env)
            .args(args)
            .output()
            .expect("run tollgate");
        assert!(out.status.success(), "tollgate {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Walk every command from the top-level help's command lists.
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    let mut checked = 0;
    let mut saw_env_names = false;
    while let Some(cmd) = todo.pop() {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            args.push(flag);
            let text = help(&args);
            checked += 1;
            saw_env_names |= text.contains("TOLLGATE_DATABASE_URL");
            assert!(
                !text.contains(MARK),
                "`tollgate {}` prints a variable's value:\n{text}",
                args.join(" ")
            );
            if flag == "--help" {
                for sub in subcommands(&text) {
                    let mut next = cmd.clone();
                    next.push(sub);
                    todo.push(next);
                }
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} help pages: the walk missed commands"
    );
    assert!(
        saw_env_names,
        "help names no variable: the check proves nothing"
    );
}

/// The names under `Commands:` in a help page (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

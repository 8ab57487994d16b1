//! Row 9: no secret where a person reads it by accident. The request log held one-time sign-in
//! and invite paths with their secret; `--help` printed environment values, a database URL with
//! its password among them.

use std::time::{Duration, Instant};

use crate::common::{Server, tollgate_command};
use crate::web::{Visitor, mailed_link, member_link, seller_link};
use crate::{Cast, ORG, SEAT_EMAIL, SELLER, assert_alive, said};

/// Waits until the server has logged `needle` (the request log is written as requests end).
fn logs_with(server: &Server, needle: &str) -> String {
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

#[test]
fn row9_one_time_link_secrets_never_reach_the_request_log() {
    let server = Server::start();
    let _cast = Cast::new(&server);
    server.cli(&[
        "seat",
        "add",
        "--seller",
        SELLER,
        "--org",
        ORG,
        "admin@globex.example",
        "--admin",
    ]);
    let mut links = Vec::new();

    // A printed seller link, followed.
    let link = seller_link(&server);
    let res = Visitor::new(&server).get(&link);
    assert_eq!(res.status, 303, "the seller's link: {}", said(&res));
    links.push(link);

    // A printed member link, followed; that admin invites someone, who follows the invite.
    let link = member_link(&server, "admin@globex.example");
    let mut admin = Visitor::new(&server);
    let res = admin.get(&link);
    assert_eq!(res.status, 303, "the member's link: {}", said(&res));
    links.push(link);
    let res = admin.submit(
        "/acme/org/globex",
        "/acme/org/globex/invite",
        &[("email", "newcomer@globex.example")],
    );
    assert_eq!(res.status, 303, "the invite: {}", said(&res));
    let link = mailed_link(&server, "newcomer@globex.example", "/acme/invite/");
    let res = Visitor::new(&server).get(&link);
    assert_eq!(res.status, 303, "the invite link: {}", said(&res));
    links.push(link);

    // A mailed sign-in link, asked for with the form and followed.
    let mut member = Visitor::new(&server);
    let res = member.submit("/acme/login", "/acme/login", &[("email", SEAT_EMAIL)]);
    assert_eq!(res.status, 200, "asking for a link: {}", said(&res));
    let link = mailed_link(&server, SEAT_EMAIL, "/acme/login/");
    let res = member.get(&link);
    assert_eq!(res.status, 303, "the mailed link: {}", said(&res));
    links.push(link);

    // A used link followed again (refused, but logged all the same).
    let res = Visitor::new(&server).get(&links[0]);
    assert!(res.status >= 400, "a used link: {}", said(&res));

    assert_alive(&server, "following one-time links");
    let logs = logs_with(&server, "/healthz");
    assert!(
        logs.contains("/acme/login") && logs.contains("/acme/invite"),
        "the request log shows no sign-in or invite request at all, so proves nothing:\n{logs}"
    );
    for link in &links {
        let secret = link.rsplit('/').next().expect("the link's last segment");
        assert!(secret.len() > 40, "not a secret: {link}");
        assert!(
            !logs.contains(secret),
            "the log holds the secret of {link}:\n{logs}"
        );
        // Nor its secret half alone (`tg_<id>_<secret>`).
        let half = secret.rsplit('_').next().expect("the secret half");
        assert!(
            !logs.contains(half),
            "the log holds part of {link}:\n{logs}"
        );
    }
}

/// Secret values a deployment keeps in its environment.
const SECRETS: [(&str, &str); 6] = [
    (
        "TOLLGATE_DATABASE_URL",
        "postgres://u:SECRETPW@127.0.0.1:1/db",
    ),
    ("TOLLGATE_STRIPE_PLATFORM_KEY", "sk_test_SECRETPLATFORM"),
    ("TOLLGATE_STRIPE_SECRET_KEY", "sk_test_SECRETSTRIPE"),
    ("TOLLGATE_STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_SECRETHOOK"),
    ("TOLLGATE_SMTP_URL", "smtp://u:SECRETSMTP@127.0.0.1:587"),
    (
        "TOLLGATE_SECRET_KEY",
        "U0VDUkVUS0VZU0VDUkVUS0VZU0VDUkVUS0VZU0VDUkU=",
    ),
];

#[test]
fn row9_help_never_prints_environment_values() {
    let data = tempfile::tempdir().expect("temp dir");
    let env: Vec<(String, String)> = SECRETS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut named_a_variable = false;
    for args in [
        &["--help"][..],
        &["-h"],
        &["serve", "--help"],
        &["serve", "-h"],
        &["seller", "--help"],
        &["seller", "login-link", "--help"],
        &["seller", "stripe-connect-link", "--help"],
        &["org", "login-link", "--help"],
        &["migrate", "--help"],
    ] {
        let out = tollgate_command(data.path(), &env)
            .args(args)
            .output()
            .expect("run tollgate");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "tollgate {args:?}: {text}");
        named_a_variable |= text.contains("TOLLGATE_DATABASE_URL");
        for (var, value) in SECRETS {
            assert!(
                !text.contains(value),
                "`tollgate {}` prints the value of {var}:\n{text}",
                args.join(" ")
            );
        }
        for part in [
            "SECRETPW",
            "SECRETPLATFORM",
            "SECRETSTRIPE",
            "SECRETHOOK",
            "SECRETSMTP",
        ] {
            assert!(
                !text.contains(part),
                "`tollgate {}` prints part of a secret ({part}):\n{text}",
                args.join(" ")
            );
        }
    }
    assert!(
        named_a_variable,
        "no help page names TOLLGATE_DATABASE_URL, so this proves nothing"
    );
}

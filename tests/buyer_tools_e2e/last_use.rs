//! Tokens' last use: after a request the token list shows when, from which address and which
//! client; nothing is written per request (with a long write interval the list still says
//! "never"), and a graceful shutdown writes what was noted, so it survives the restart.

use std::time::{Duration, Instant};

use crate::common::Server;
use crate::common::http::request;
use crate::fixtures::{ORG, SELLER, Shop, bot_token};

/// `tollgate token list --json`: the last use of token `id` (`null` when never used).
fn last_use(server: &Server, id: &str) -> serde_json::Value {
    let listed = server.cli_json(&["token", "list", "--seller", SELLER]);
    listed
        .as_array()
        .and_then(|all| all.iter().find(|t| t["id"] == id))
        .unwrap_or_else(|| panic!("token {id} not listed: {listed}"))["last_use"]
        .clone()
}

fn fetch_listing(server: &Server, secret: &str, agent: &str) {
    let url = format!("{}/acme/npm/@acme%2fui-pro", server.url());
    let auth = format!("Bearer {secret}");
    let res = request(
        "GET",
        &url,
        &[("authorization", &auth), ("user-agent", agent)],
        b"",
    )
    .expect("GET the packument");
    assert_eq!(res.status, 200, "{}", res.text());
}

#[test]
fn the_last_use_is_listed_with_address_and_client() {
    let server = Server::start();
    Shop::open(&server, &["npm"]);
    let bot = bot_token(&server, ORG, "renovate", "metadata");
    assert!(last_use(&server, &bot.id).is_null(), "never used yet");
    let agent = format!("Renovate/39.264.1 {}", "x".repeat(200));
    fetch_listing(&server, &bot.secret, &agent);

    // Written within a few seconds (TOLLGATE_LAST_USE_FLUSH, 3 s by default).
    let started = Instant::now();
    let used = loop {
        let used = last_use(&server, &bot.id);
        if !used.is_null() {
            break used;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the last use was never written:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(used["ip"], "127.0.0.1", "{used}");
    assert_eq!(
        used["agent"].as_str(),
        Some(&agent[..128]),
        "the agent, cut to 128 bytes: {used}"
    );
    let listed = server.cli(&["token", "list", "--seller", SELLER]);
    let line = listed
        .lines()
        .find(|l| l.starts_with(&bot.id))
        .unwrap_or_default();
    assert!(
        line.contains("last used ") && line.contains(" from 127.0.0.1 (Renovate/39.264.1 "),
        "{listed}"
    );
}

#[test]
fn uses_are_written_in_batches_and_at_shutdown() {
    // A write interval no test outlives: only the shutdown writes.
    let mut server = Server::start_with(&["--last-use-flush", "1h"]);
    Shop::open(&server, &["npm"]);
    let ci = server.org_token(SELLER, ORG);
    let bot = bot_token(&server, ORG, "ci", "read");
    for n in 0..20 {
        fetch_listing(&server, &ci.secret, &format!("npm/11.19.1 request {n}"));
    }
    fetch_listing(&server, &bot.secret, "pnpm/10.34.9");
    assert!(
        last_use(&server, &ci.id).is_null(),
        "a use was written on the request, not in a batch"
    );
    assert!(
        server.terminate(),
        "the server did not stop cleanly:\n{}",
        server.logs()
    );
    let used = last_use(&server, &ci.id);
    assert_eq!(
        used["agent"], "npm/11.19.1 request 19",
        "the last of 20: {used}"
    );
    assert_eq!(last_use(&server, &bot.id)["agent"], "pnpm/10.34.9");

    // The restarted server keeps it (and answers with the same tokens).
    server.restart();
    fetch_listing(&server, &bot.secret, "pnpm/10.34.9");
    assert_eq!(last_use(&server, &ci.id)["agent"], "npm/11.19.1 request 19");
}

//! Row 3: uploads answered before their body is read. The issue sent six parallel 300 MB
//! `PUT /acme/npm/xN` without a token and the server read every body before saying 401 (RSS
//! 24 MB to 1.8 GB). Here the head announces the whole size, but only a few megabytes of zeros
//! follow (or none): an answer that arrives at all arrived before the body, and a server that
//! waits for the body fails on [`ANSWER_TIMEOUT`](crate::wire::ANSWER_TIMEOUT).

use std::thread;

use crate::common::Server;
use crate::wire::{Framing, Trickle, upload};
use crate::{Cast, Protocol, Watch, Who, assert_alive, assert_answer, refusal};

/// What the issue sent: 300 MB.
const ANNOUNCED: u64 = 300 * 1024 * 1024;
/// More than any protocol accepts by default (npm's limit is 4/3 of the upload limit, for
/// base64; Hex's is 16 MiB).
const OVER_EVERY_LIMIT: u64 = 1 << 30;

/// The message of a 413, in every protocol.
const TOO_LARGE: &str = "larger than this registry accepts";

#[test]
fn six_parallel_300_mb_uploads_without_a_token_are_refused_before_the_body() {
    let server = Server::start();
    let _cast = Cast::new(&server);
    let watch = Watch::start(&server);
    // Six npm PUTs as in the issue, and one publish of each other protocol beside them.
    let mut attacks: Vec<(Protocol, String, String)> = (1..=6)
        .map(|n| (Protocol::Npm, "PUT".to_owned(), format!("/acme/npm/x{n}")))
        .collect();
    for p in [
        Protocol::Cargo,
        Protocol::Gem,
        Protocol::Hex,
        Protocol::Pypi,
    ] {
        let (method, path) = p.publish();
        attacks.push((p, method.to_owned(), path));
    }
    let authority = server.authority().to_owned();
    let handles: Vec<_> = attacks
        .into_iter()
        .map(|(p, method, path)| {
            let authority = authority.clone();
            thread::spawn(move || {
                let answered = upload(
                    &authority,
                    &method,
                    &path,
                    &[],
                    Framing::Length(ANNOUNCED),
                    Trickle::SLOW_MB,
                );
                (p, method, path, answered)
            })
        })
        .collect();
    for h in handles {
        let (p, method, path, answered) = h.join().expect("attack thread");
        let (status, phrase) = refusal(p, Who::Nobody);
        let what = format!("{method} {path} of 300 MB without a token");
        assert_answer(&answered.response, status, phrase, &what);
        assert!(
            answered.body_sent < ANNOUNCED,
            "{what}: the whole body went"
        );
        eprintln!(
            "{what}: {} after {} KiB of the body",
            answered.response.status,
            answered.body_sent / 1024
        );
    }
    watch.check("six parallel 300 MB uploads without a token");
    assert_alive(&server, "six parallel 300 MB uploads without a token");
}

#[test]
fn every_token_kind_is_answered_before_the_body() {
    let server = Server::start();
    let cast = Cast::new(&server);
    let watch = Watch::start(&server);
    for p in Protocol::ALL {
        let (method, path) = p.publish();
        for who in Who::ALL {
            // npm names the package in the URL, so a token limited to another package is
            // refused from the head; elsewhere the name is in the body, and only the size can be
            // refused before it: so those announce more than any limit.
            let (announced, status, phrase) = match (p, who) {
                (Protocol::Npm, Who::Scoped) => (ANNOUNCED, 403, "limited to npm:@acme/other"),
                (_, Who::Scoped | Who::Publisher) => (OVER_EVERY_LIMIT, 413, TOO_LARGE),
                _ => {
                    let (status, phrase) = refusal(p, who);
                    (ANNOUNCED, status, phrase)
                }
            };
            let answered = upload(
                server.authority(),
                method,
                &path,
                &p.headers(&cast, who),
                Framing::Length(announced),
                Trickle::HEAD_ONLY,
            );
            let what = format!("{p:?} publish of {announced} bytes by {who:?}");
            assert_answer(&answered.response, status, phrase, &what);
        }
    }
    watch.check("uploads of every token kind");
    assert_alive(&server, "uploads of every token kind");
}

#[test]
fn uploads_over_the_limit_are_413_before_the_body_and_chunked_ones_at_the_limit() {
    let server = Server::start_with(&["--max-upload-mb", "1"]);
    let cast = Cast::new(&server);
    let watch = Watch::start(&server);
    let auth = |p: Protocol| p.headers(&cast, Who::Publisher);
    for p in Protocol::ALL {
        let (method, path) = p.publish();
        // Announced: refused from the head.
        let announced = 64 << 20;
        let answered = upload(
            server.authority(),
            method,
            &path,
            &auth(p),
            Framing::Length(announced),
            Trickle::HEAD_ONLY,
        );
        let what = format!("{p:?} publish announcing 64 MiB to a 1 MiB server");
        assert_answer(&answered.response, 413, TOO_LARGE, &what);

        // Chunked, no length: refused once the limit is passed (Hex's own limit is 16 MiB),
        // while the client is still sending.
        let at_most = 64 << 20;
        let answered = upload(
            server.authority(),
            method,
            &path,
            &auth(p),
            Framing::Chunked,
            Trickle {
                burst: 0,
                piece: 64 * 1024,
                pause: std::time::Duration::from_millis(2),
                at_most,
            },
        );
        let what = format!("{p:?} chunked publish of up to 64 MiB to a 1 MiB server");
        assert_answer(&answered.response, 413, TOO_LARGE, &what);
        assert!(
            answered.body_sent < at_most,
            "{what}: answered only after the whole body"
        );
        eprintln!("{what}: 413 after {} KiB", answered.body_sent / 1024);
    }
    watch.check("uploads over the limit");
    assert_alive(&server, "uploads over the limit");
}

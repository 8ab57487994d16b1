//! Crash safety: SIGKILL while publishes are in flight (some answered, some mid-upload), restart,
//! and check that every acknowledged publish survived, no half-sent publish is listed, every
//! listed release downloads bytes with the right sha256 (no version without its blob), and
//! `tollgate gc` removes only unreferenced blobs, in whichever store the run uses.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::http::{request, request_streamed};
use common::{Server, fake_tgz, npm_escape, npm_publish_body};
use sha2::{Digest, Sha256};

const PKG: &str = "@acme/crash";
/// Publishers that send their whole body at once; the kill comes once `KILL_AFTER` of them are
/// answered, while the rest are still being stored and recorded.
const FAST: u64 = 40;
const KILL_AFTER: usize = 10;
/// Publishers that send half their body, then the rest only after the kill: each is certainly
/// mid-upload when the server dies, however fast the machine.
const SLOW: u64 = 10;
const PUBLISHES: u64 = FAST + SLOW;

fn version(i: u64) -> String {
    format!("1.0.{i}")
}

fn tarball(i: u64) -> Vec<u8> {
    fake_tgz(i + 1, 1024 * 1024 + i as usize)
}

#[test]
fn sigkill_during_publishes_loses_nothing_and_corrupts_nothing() {
    let mut server = Server::start();
    server.seller("acme");
    server.product("acme", "crash", &["npm:@acme/crash"]);
    let token = server.publish_token("acme", &[]);
    let auth = format!("Bearer {}", token.secret);
    let url = format!("{}/acme/npm/{}", server.url(), npm_escape(PKG));

    let barrier = Arc::new(Barrier::new(PUBLISHES as usize + 1));
    // Publishes answered (any status), publishes whose bytes are partly sent, and the kill.
    let answered = Arc::new(AtomicUsize::new(0));
    let mid_upload = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..PUBLISHES)
        .map(|i| {
            let body = npm_publish_body(PKG, &version(i), &tarball(i));
            let (url, auth, barrier) = (url.clone(), auth.clone(), Arc::clone(&barrier));
            let (answered, mid_upload) = (Arc::clone(&answered), Arc::clone(&mid_upload));
            let killed = Arc::clone(&killed);
            thread::spawn(move || {
                barrier.wait();
                let headers = [
                    ("authorization", auth.as_str()),
                    ("content-type", "application/json"),
                ];
                let status = if i < FAST {
                    request("PUT", &url, &headers, &body)
                } else {
                    request_streamed("PUT", &url, &headers, body.len(), |stream| {
                        let (first, rest) = body.split_at(body.len() / 2);
                        stream.write_all(first)?;
                        stream.flush()?;
                        mid_upload.fetch_add(1, Ordering::SeqCst);
                        let paused = Instant::now();
                        while !killed.load(Ordering::SeqCst)
                            && paused.elapsed() < Duration::from_secs(20)
                        {
                            thread::sleep(Duration::from_millis(5));
                        }
                        stream.write_all(rest)
                    })
                }
                .map(|r| r.status);
                if status.is_ok() {
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                status
            })
        })
        .collect();
    barrier.wait();
    // Kill once some publishes are answered, every slow one is mid-upload, and the other fast
    // ones are still being stored and recorded.
    let waited = Instant::now();
    while (answered.load(Ordering::SeqCst) < KILL_AFTER
        || mid_upload.load(Ordering::SeqCst) < SLOW as usize)
        && waited.elapsed() < Duration::from_secs(15)
    {
        thread::sleep(Duration::from_millis(1));
    }
    server.kill();
    let answered_at_kill = answered.load(Ordering::SeqCst);
    let mid_upload_at_kill = mid_upload.load(Ordering::SeqCst);
    killed.store(true, Ordering::SeqCst);
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("publisher thread"))
        .collect();
    let acked: Vec<u64> = (0..PUBLISHES)
        .filter(|i| matches!(results[*i as usize], Ok(201)))
        .collect();
    let unanswered: Vec<u64> = (0..PUBLISHES)
        .filter(|i| results[*i as usize].is_err())
        .collect();
    eprintln!(
        "at the kill: {answered_at_kill} of {PUBLISHES} publishes answered, \
         {mid_upload_at_kill} mid-upload; {} acknowledged, {} never answered ({} of them sent whole)",
        acked.len(),
        unanswered.len(),
        unanswered.iter().filter(|i| **i < FAST).count()
    );
    assert!(
        acked.len() >= KILL_AFTER,
        "the kill came before {KILL_AFTER} publishes were acknowledged: {results:?}"
    );
    assert!(
        answered_at_kill < PUBLISHES as usize && mid_upload_at_kill == SLOW as usize,
        "no publish was in flight when the kill landed ({answered_at_kill} answered, \
         {mid_upload_at_kill} mid-upload)"
    );
    for i in FAST..PUBLISHES {
        assert!(
            results[i as usize].is_err(),
            "publish {} was mid-upload at the kill, yet answered: {:?}",
            version(i),
            results[i as usize]
        );
    }

    server.restart();
    let url = format!("{}/acme/npm/{}", server.url(), npm_escape(PKG));
    let listed = listed_versions(&url, &auth);
    for i in &acked {
        assert!(
            listed.contains(&version(*i)),
            "acknowledged publish {} was lost; listed: {listed:?}",
            version(*i)
        );
    }
    for i in FAST..PUBLISHES {
        assert!(
            !listed.contains(&version(i)),
            "{} is listed though only half of it was ever sent",
            version(i)
        );
    }
    let check_downloads = |base: &str| {
        for v in &listed {
            let i: u64 = v
                .rsplit('.')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("our version");
            let tgz = format!("{base}/acme/npm/@acme/crash/-/crash-{v}.tgz");
            let r = request("GET", &tgz, &[("authorization", auth.as_str())], &[])
                .expect("GET tarball");
            assert_eq!(
                r.status,
                200,
                "{v} is listed but its tarball fails: {}",
                r.text()
            );
            assert_eq!(
                Sha256::digest(&r.body),
                Sha256::digest(tarball(i)),
                "{v} downloads other bytes than were published"
            );
        }
    };
    check_downloads(server.url());

    // Publishing still works after the crash, and re-publishing a listed version is refused.
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let fresh = request(
        "PUT",
        &url,
        &headers,
        &npm_publish_body(PKG, "2.0.0", &tarball(99)),
    )
    .expect("PUT after restart");
    assert_eq!(fresh.status, 201, "{}", fresh.text());

    // gc keeps every referenced blob and removes orphans (a crash can leave some; we add one to
    // the store in use to be sure); listed releases still download after.
    let orphan = server.store_blob(b"an orphan blob no release references");
    let before = server.stored_blobs();
    assert!(
        before.contains(&orphan),
        "the planted orphan is not in the store {}: {before:?}",
        server.store_spec()
    );
    let out = server.cli_json(&["gc", "--grace", "0s"]);
    eprintln!("gc: {out}");
    let kept = out["kept"].as_u64().expect("gc reports kept");
    assert_eq!(
        kept as usize,
        listed.len() + 1,
        "gc must keep exactly the referenced blobs"
    );
    assert!(out["removed"].as_u64() >= Some(1), "{out}");
    let after = server.stored_blobs();
    assert!(
        !after.contains(&orphan),
        "gc left the orphan {orphan} in the store {}: {out}",
        server.store_spec()
    );
    assert_eq!(
        after.len(),
        listed.len() + 1,
        "after gc the store {} holds exactly the referenced blobs: {after:?}",
        server.store_spec()
    );
    check_downloads(server.url());
    let again = server.cli_json(&["gc", "--grace", "0s"]);
    assert_eq!(again["removed"], 0, "a second gc finds nothing: {again}");
}

fn listed_versions(url: &str, auth: &str) -> Vec<String> {
    let r = request("GET", url, &[("authorization", auth)], &[]).expect("GET packument");
    if r.status == 404 {
        return Vec::new();
    }
    assert_eq!(r.status, 200, "{}", r.text());
    let doc = r.json();
    let mut v: Vec<String> = doc["versions"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    v.sort();
    v
}

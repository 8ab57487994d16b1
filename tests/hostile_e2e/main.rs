//! The hostile-client suite (issue 16): the real `tollgate` binary attacked the way the issue
//! measured, one test per row of its table and per suspected item. Every attack asserts three
//! things: the server still answers `/healthz` afterwards; the answer is the right 4xx in the
//! client's own words (status and a phrase of the message); and the server's resident memory
//! stayed under [`RSS_BOUND_MB`] while it ran (read from `/proc`, see [`Watch`]). Writes are
//! tried with every kind of token where the kind matters ([`Who`]).
//!
//! - `uploads`: row 3, bodies that are never read (no token, wrong token, too large, chunked).
//! - `parsers`: rows 1, 2 and 7, a gemspec nested 20 000 deep, a YAML alias bomb, a `.crate`
//!   that inflates to 4 GiB, and a Hex tarball bomb (the suspected inflation on async workers).
//! - `names`: row 4, file names and package names built to be split, looked up and cached.
//! - `web`: row 8 (anonymous pages store no session) and the suspected seat items: an old invite
//!   does not demote an admin, seat addresses ignore case, an address mail cannot parse is a 4xx.
//! - `secrets`: row 9, one-time link secrets in the request log, env values in `--help`.
//! - `slow`: the suspected missing timeouts: a stalled header, a body at 1 byte/s, 300 idle
//!   connections.
//!
//! Rows 5 and 6 (Stripe Connect: a seller onboarded by OAuth can sell; the OAuth `state` is
//! single-use and bound to the session) are proven by the Connect end-to-end test written by the
//! `connect-fix` helper, `tests/billing_webhooks_e2e/connect.rs`
//! (`a_seller_connected_through_the_settings_page_sells_and_the_state_cannot_be_reused`), which
//! drives the Stripe fake; they are not repeated here.

#[path = "../common/mod.rs"]
mod common;

mod archives;
mod names;
mod parsers;
mod secrets;
mod slow;
mod uploads;
mod web;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use common::http::{Response, request};
use common::{Server, Token, peak_rss_kb, rss_kb};

/// The most resident memory the server may hold during an attack. The debug server of this
/// suite starts at about 40 MB and, refusing the attacks below as it should, peaks at 41 to
/// 73 MB (the most for three 4 MB Hex bombs inflated at once). The issue measured 1.8 to 2.7 GB
/// for the same attacks on the release binary. 256 MB leaves room for a debug build's larger
/// buffers and a busier machine, and any of those regressions passes it many times over.
pub const RSS_BOUND_MB: u64 = 256;

/// Watches the server's resident memory while an attack runs: samples `VmRSS` every few
/// milliseconds and, should it pass [`RSS_BOUND_MB`], kills the server at once (so that a
/// regression fails this test instead of exhausting the machine's memory). [`Watch::check`]
/// then compares the peak (`VmHWM`, and the samples) with the bound.
pub struct Watch {
    pid: u32,
    stop: Arc<AtomicBool>,
    sampled: Arc<AtomicU64>,
    sampler: Option<JoinHandle<()>>,
}

impl Watch {
    pub fn start(server: &Server) -> Watch {
        let pid = server.pid();
        let stop = Arc::new(AtomicBool::new(false));
        let sampled = Arc::new(AtomicU64::new(rss_kb(pid)));
        let sampler = {
            let (stop, sampled) = (Arc::clone(&stop), Arc::clone(&sampled));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let now = rss_kb(pid);
                    sampled.fetch_max(now, Ordering::Relaxed);
                    if now > RSS_BOUND_MB * 1024 {
                        eprintln!(
                            "the server's RSS reached {} MB, over the bound of {RSS_BOUND_MB} MB: killing it",
                            now / 1024
                        );
                        // Only the server this test started, by its id.
                        let _ = std::process::Command::new("kill")
                            .args(["-KILL", &pid.to_string()])
                            .status();
                        return;
                    }
                    thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Watch {
            pid,
            stop,
            sampled,
            sampler: Some(sampler),
        }
    }

    /// Stops watching and asserts that the server's peak resident memory stayed under the
    /// bound during `what`; returns the peak in MB.
    pub fn check(mut self, what: &str) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(sampler) = self.sampler.take() {
            let _ = sampler.join();
        }
        let peak_kb = self
            .sampled
            .load(Ordering::Relaxed)
            .max(peak_rss_kb(self.pid));
        let peak_mb = peak_kb / 1024;
        eprintln!("peak RSS during {what}: {peak_mb} MB (bound {RSS_BOUND_MB} MB)");
        assert!(
            peak_mb < RSS_BOUND_MB,
            "during {what} the server's resident memory reached {peak_mb} MB, over the bound of \
             {RSS_BOUND_MB} MB (the server was killed when it passed the bound)"
        );
        peak_mb
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Panics unless the server answers `GET /healthz` with 200 after `what`.
pub fn assert_alive(server: &Server, what: &str) {
    match request("GET", &format!("{}/healthz", server.url()), &[], b"") {
        Ok(res) if res.status == 200 => {}
        other => panic!("after {what} the server no longer answers /healthz: {other:?}"),
    }
}

/// Panics unless `res` has `status` and says `phrase` (case-insensitive) in its body or in a
/// header (Hex puts its message in `x-hex-message`, and its API body is an Erlang term whose
/// strings are plain bytes).
pub fn assert_answer(res: &Response, status: u16, phrase: &str, what: &str) {
    let said = said(res);
    assert_eq!(
        res.status, status,
        "{what}: expected {status} saying {phrase:?}, got {}: {said}",
        res.status
    );
    assert!(
        said.to_lowercase().contains(&phrase.to_lowercase()),
        "{what}: the {status} does not say {phrase:?}: {said}"
    );
}

/// The body (lossy, NUL bytes dropped) and every header value of `res`, for messages.
pub fn said(res: &Response) -> String {
    let mut text = res.text().replace('\0', "");
    for (k, v) in &res.headers {
        text.push_str(&format!("\n[{k}: {v}]"));
    }
    text
}

/// Who sends a request: no token, a well-formed token the server never issued, an org's token,
/// a seat's token, a publish token of another seller, a publish token limited to another
/// package, and the seller's own publish token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Nobody,
    Unknown,
    Org,
    Seat,
    OtherSeller,
    Scoped,
    Publisher,
}

impl Who {
    pub const ALL: [Who; 7] = [
        Who::Nobody,
        Who::Unknown,
        Who::Org,
        Who::Seat,
        Who::OtherSeller,
        Who::Scoped,
        Who::Publisher,
    ];

    /// Every kind that must not write at all, whatever it sends.
    pub const NOT_PUBLISHERS: [Who; 5] = [
        Who::Nobody,
        Who::Unknown,
        Who::Org,
        Who::Seat,
        Who::OtherSeller,
    ];
}

/// A well-formed token (`tg_` + 16 + 64 hex digits) that no server issued.
pub const UNKNOWN_TOKEN: &str =
    "tg_0123456789abcdef_0000000000000000000000000000000000000000000000000000000000000000";

/// The seller this suite attacks.
pub const SELLER: &str = "acme";
/// Its product, holding one package per ecosystem.
pub const PACKAGES: [&str; 5] = [
    "npm:@acme/pro",
    "cargo:acme-pro",
    "rubygems:acme_pro",
    "hex:acme_pro",
    "pypi:acme-pro",
];
/// The org that bought the product; `SEAT_EMAIL` holds one of its seats.
pub const ORG: &str = "globex";
pub const SEAT_EMAIL: &str = "dev@globex.example";

/// The tokens of every [`Who`]: seller `acme` sells product `pro` ([`PACKAGES`]) to org
/// `globex`, which has one seat; seller `beta` is someone else.
pub struct Cast {
    pub org: Token,
    pub seat: Token,
    pub other_seller: Token,
    pub scoped: Token,
    pub publisher: Token,
}

impl Cast {
    pub fn new(server: &Server) -> Cast {
        server.seller(SELLER);
        server.seller("beta");
        server.product(SELLER, "pro", &PACKAGES);
        server.org(SELLER, ORG);
        server.grant(SELLER, ORG, "pro", &[]);
        server.cli(&["seat", "add", "--seller", SELLER, "--org", ORG, SEAT_EMAIL]);
        Cast {
            org: server.org_token(SELLER, ORG),
            seat: server.token(SELLER, &["--org", ORG, "--seat", SEAT_EMAIL]),
            other_seller: server.publish_token("beta", &[]),
            scoped: server.publish_token(SELLER, &["npm:@acme/other"]),
            publisher: server.publish_token(SELLER, &[]),
        }
    }

    /// The token `who` presents, if any.
    pub fn secret(&self, who: Who) -> Option<&str> {
        match who {
            Who::Nobody => None,
            Who::Unknown => Some(UNKNOWN_TOKEN),
            Who::Org => Some(&self.org.secret),
            Who::Seat => Some(&self.seat.secret),
            Who::OtherSeller => Some(&self.other_seller.secret),
            Who::Scoped => Some(&self.scoped.secret),
            Who::Publisher => Some(&self.publisher.secret),
        }
    }

    /// `Authorization` as `who` sends it: npm sends `Bearer TOKEN`; cargo, gem and Hex the
    /// token alone.
    pub fn auth(&self, who: Who, bearer: bool) -> Vec<(String, String)> {
        self.secret(who)
            .map(|t| {
                let value = if bearer {
                    format!("Bearer {t}")
                } else {
                    t.to_owned()
                };
                vec![("authorization".to_owned(), value)]
            })
            .unwrap_or_default()
    }
}

/// How each protocol refuses a write by someone who may not write, before reading the body:
/// (status, a phrase of the message). Hex answers a missing key with 403 (mix's convention),
/// cargo every missing or unknown token with 403 (so that cargo shows the message instead of
/// starting its login flow); npm and gem say 401.
pub fn refusal(protocol: Protocol, who: Who) -> (u16, &'static str) {
    use Protocol::*;
    use Who::*;
    match (protocol, who) {
        (Npm | Gem | Pypi, Nobody) => (401, "needs a token"),
        (Cargo, Nobody) => (403, "needs a token"),
        (Hex, Nobody) => (403, "needs a key"),
        (Npm | Gem | Pypi, Unknown | OtherSeller) => (401, "token is not valid"),
        (Cargo, Unknown | OtherSeller) => (403, "token is not valid"),
        (Hex, Unknown | OtherSeller) => (401, "key is not valid"),
        (_, Org | Seat) => (403, "cannot publish; use a publish token"),
        (_, Scoped | Publisher) => unreachable!("{who:?} may publish"),
    }
}

/// The write endpoints of the five protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Npm,
    Cargo,
    Gem,
    Hex,
    Pypi,
}

impl Protocol {
    pub const ALL: [Protocol; 5] = [
        Protocol::Npm,
        Protocol::Cargo,
        Protocol::Gem,
        Protocol::Hex,
        Protocol::Pypi,
    ];

    /// The headers of a publish by `who`: its `Authorization`, and for PyPI the multipart
    /// content type that twine sends (the index refuses any other before reading the body).
    pub fn headers(self, cast: &Cast, who: Who) -> Vec<(String, String)> {
        let mut headers = cast.auth(who, self.bearer());
        if self == Protocol::Pypi {
            headers.push((
                "content-type".to_owned(),
                "multipart/form-data; boundary=tollgate".to_owned(),
            ));
        }
        headers
    }

    /// The publish request: method and path (npm's names the package, the others' do not).
    pub fn publish(self) -> (&'static str, String) {
        match self {
            Protocol::Npm => ("PUT", format!("/{SELLER}/npm/@acme%2fpro")),
            Protocol::Cargo => ("PUT", format!("/{SELLER}/cargo/api/v1/crates/new")),
            Protocol::Gem => ("POST", format!("/{SELLER}/gems/api/v1/gems")),
            Protocol::Hex => ("POST", format!("/{SELLER}/hex/api/publish")),
            Protocol::Pypi => ("POST", format!("/{SELLER}/pypi/")),
        }
    }

    pub fn bearer(self) -> bool {
        self == Protocol::Npm
    }
}

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use http::HeaderValue;
use http_body::Frame;
use http_body_util::Full;

use super::*;
use crate::domain::{Ecosystem, TokenRecord, TokenScope};
use crate::ids::{SellerId, TokenId};
use crate::time::Timestamp;

fn caller(kind: TokenKind, packages: &[&str]) -> Caller {
    Caller(Arc::new(TokenRecord {
        id: TokenId("t1".into()),
        secret_hash: String::new(),
        kind,
        seller_id: SellerId(1),
        seller_slug: "acme".into(),
        org_id: None,
        org_slug: None,
        seat_id: None,
        seat_email: None,
        seat_active: true,
        packages: packages.iter().map(|n| npm(n)).collect(),
        label: None,
        scope: TokenScope::Read,
        created_at: Timestamp(0),
        revoked_at: None,
    }))
}

fn npm(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm,
        name: name.into(),
    }
}

fn declaring(len: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(CONTENT_LENGTH, HeaderValue::from_str(len).expect("header"));
    h
}

/// A body that counts how often it was polled: a refused permit must never touch it.
struct Counting {
    polls: Arc<AtomicUsize>,
    chunks: Vec<Bytes>,
}

impl Body for Counting {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.chunks.is_empty() {
            Poll::Ready(None)
        } else {
            let next = self.chunks.remove(0);
            Poll::Ready(Some(Ok(Frame::data(next))))
        }
    }
}

#[test]
fn only_publish_tokens_get_a_permit() {
    for kind in [TokenKind::Org, TokenKind::Seat] {
        let err = Upload::permit(caller(kind, &[]), None, &HeaderMap::new(), 10)
            .expect_err("a buyer's token may not write");
        assert!(
            matches!(&err, Error::Forbidden(m) if m.contains("cannot publish")),
            "{err:?}"
        );
    }
    let scoped = caller(TokenKind::Publish, &["a"]);
    let err = Upload::permit(scoped.clone(), Some(&npm("b")), &HeaderMap::new(), 10)
        .expect_err("out of scope");
    assert!(matches!(&err, Error::Forbidden(m) if m.contains("limited to")));
    Upload::permit(scoped, Some(&npm("a")), &HeaderMap::new(), 10).expect("in scope");
}

#[test]
fn an_announced_length_over_the_limit_is_refused_before_reading() {
    let who = || caller(TokenKind::Publish, &[]);
    let err = Upload::permit(who(), None, &declaring("11"), 10).expect_err("too large");
    assert!(
        matches!(&err, Error::TooLarge(m) if m.contains("10 bytes")),
        "{err:?}"
    );
    let err = Upload::permit(who(), None, &declaring("99999999999999999999999"), 10)
        .expect_err("not a u64");
    assert!(matches!(err, Error::Invalid(_)));
    let err = Upload::permit(who(), None, &declaring("-1"), 10).expect_err("negative");
    assert!(matches!(err, Error::Invalid(_)));
    Upload::permit(who(), None, &declaring("10"), 10).expect("at the limit");
}

#[tokio::test]
async fn reads_up_to_the_limit_and_stops_at_the_first_byte_past_it() {
    let who = || caller(TokenKind::Publish, &[]);
    let permit = Upload::permit(who(), None, &HeaderMap::new(), 10).expect("permit");
    let (_, body) = permit
        .read(Full::new(Bytes::from_static(b"0123456789")))
        .await
        .expect("fits");
    assert_eq!(&body[..], b"0123456789");

    // Chunked (no Content-Length): the reader stops after the chunk that crosses the limit.
    let polls = Arc::new(AtomicUsize::new(0));
    let chunks = vec![Bytes::from_static(b"012345"); 100];
    let permit = Upload::permit(who(), None, &HeaderMap::new(), 10).expect("permit");
    let err = permit
        .read(Counting {
            polls: polls.clone(),
            chunks,
        })
        .await
        .expect_err("past the limit");
    assert!(matches!(err, Error::TooLarge(_)));
    assert_eq!(
        polls.load(Ordering::SeqCst),
        2,
        "stopped at the second chunk"
    );
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_refused() {
    let permit =
        Upload::permit(caller(TokenKind::Publish, &[]), None, &declaring("5"), 10).expect("permit");
    let err = permit
        .read(Full::new(Bytes::from_static(b"abc")))
        .await
        .expect_err("short");
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("shorter")),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_is_abandoned() {
    struct Stalled;
    impl Body for Stalled {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Pending
        }
    }
    let permit = Upload::permit(caller(TokenKind::Publish, &[]), None, &HeaderMap::new(), 10)
        .expect("permit");
    let err = permit.read(Stalled).await.expect_err("stalled");
    assert!(
        matches!(&err, Error::Invalid(m) if m.contains("too slowly")),
        "{err:?}"
    );
}

#[test]
fn sizes_read_as_people_write_them() {
    assert_eq!(human(256 * 1024 * 1024), "256 MiB");
    assert_eq!(human(64 * 1024), "64 KiB");
    assert_eq!(human(10), "10 bytes");
}

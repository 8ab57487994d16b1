//! The S3 store against a real S3-compatible server. Runs when `TOLLGATE_TEST_S3_ENDPOINT` is set
//! (`eval "$(scripts/s3 start DIR)"` starts moto and sets it with the AWS credential variables);
//! otherwise each test is skipped (a failure when `CI` is set: see the testkit crate). Every test
//! works in a bucket of its own.

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::sync::Notify;
use tollgate_registry::Error;
use tollgate_registry::store::{S3Settings, S3Store, Store};

const MIB: usize = 1024 * 1024;

fn unique_bucket() -> String {
    format!("tollgate-test-{}", hex::encode(rand::random::<[u8; 6]>()))
}

fn settings(endpoint: &str, bucket: &str, prefix: &str) -> S3Settings {
    let mut s = S3Settings::new(bucket, prefix);
    s.endpoint = Some(endpoint.to_owned());
    s.path_style = true;
    s
}

/// A fresh bucket and a store in it under `prefix`.
async fn store_in_new_bucket(endpoint: &str, prefix: &str) -> (Store, S3Settings) {
    let bucket = unique_bucket();
    let settings = settings(endpoint, &bucket, prefix);
    settings
        .client()
        .await
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let store = S3Store::connect(settings.clone())
        .await
        .expect("connect to the new bucket");
    (Store::S3(store), settings)
}

async fn read_all(store: &Store, sha256: &str) -> (u64, Vec<u8>) {
    let mut blob = store.open(sha256).await.expect("open");
    let mut out = Vec::new();
    while let Some(chunk) = blob.body.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    (blob.size, out)
}

/// Every key in the bucket (all prefixes).
async fn keys(settings: &S3Settings) -> Vec<String> {
    let listed = settings
        .client()
        .await
        .list_objects_v2()
        .bucket(&settings.bucket)
        .send()
        .await
        .expect("list");
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn open_multipart_uploads(settings: &S3Settings) -> usize {
    settings
        .client()
        .await
        .list_multipart_uploads()
        .bucket(&settings.bucket)
        .send()
        .await
        .expect("list multipart uploads")
        .uploads()
        .len()
}

/// `len` pseudo-random bytes generated as they are read (nothing held in memory), optionally
/// failing after `fail_after` bytes.
struct Generated {
    len: usize,
    pos: usize,
    state: u64,
    fail_after: Option<usize>,
    /// From this offset on, reads never complete, and `stalled` is notified.
    stall_after: Option<(usize, Arc<Notify>)>,
}

impl Generated {
    fn new(len: usize, seed: u64) -> Self {
        Self {
            len,
            pos: 0,
            state: seed | 1,
            fail_after: None,
            stall_after: None,
        }
    }

    /// The sha256 of what a fresh reader with the same arguments yields.
    async fn digest(len: usize, seed: u64) -> String {
        let mut r = Self::new(len, seed);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = r.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        hex::encode(h.finalize())
    }
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.fail_after.is_some_and(|f| self.pos >= f) {
            return Poll::Ready(Err(std::io::Error::other("client went away")));
        }
        if let Some((at, stalled)) = &self.stall_after
            && self.pos >= *at
        {
            stalled.notify_one();
            return Poll::Pending;
        }
        let n = buf.remaining().min(self.len - self.pos).min(100_000);
        let mut x = self.state;
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                // xorshift64
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        self.state = x;
        buf.put_slice(&bytes);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn put_open_round_trip_and_idempotent_put() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, settings) = store_in_new_bucket(&endpoint, "tollgate/prod").await;
    let a = store.put_bytes(b"hello").await.expect("put");
    assert_eq!(
        a.sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(a.size, 5);
    let again = store.put_bytes(b"hello").await.expect("put the same bytes");
    assert_eq!(a, again);
    assert_eq!(read_all(&store, &a.sha256).await, (5, b"hello".to_vec()));

    let empty = store.put_bytes(b"").await.expect("put empty");
    assert_eq!(read_all(&store, &empty.sha256).await, (0, Vec::new()));

    assert_eq!(
        keys(&settings)
            .await
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        [&a.sha256, &empty.sha256]
            .iter()
            .map(|h| format!("tollgate/prod/blobs/sha256/{}/{}/{h}", &h[..2], &h[2..4]))
            .collect(),
        "content-addressed keys under the prefix and nothing else"
    );

    // Concurrent puts of the same bytes all succeed.
    let puts = (0..4).map(|_| store.put_bytes(b"same bytes"));
    let results = futures_util::future::join_all(puts).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
}

#[tokio::test]
async fn a_large_upload_goes_multipart_and_leaves_nothing_behind() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, settings) = store_in_new_bucket(&endpoint, "").await;
    let len = 20 * MIB + 123;
    let want = Generated::digest(len, 42).await;
    let blob = store
        .put(Generated::new(len, 42))
        .await
        .expect("put 20 MiB");
    assert_eq!(blob.sha256, want);
    assert_eq!(blob.size, len as u64);

    let mut opened = store.open(&blob.sha256).await.expect("open");
    assert_eq!(opened.size, len as u64);
    let mut h = Sha256::new();
    let mut got = 0usize;
    while let Some(chunk) = opened.body.next().await {
        let chunk = chunk.expect("chunk");
        got += chunk.len();
        h.update(&chunk);
    }
    assert_eq!(got, len);
    assert_eq!(hex::encode(h.finalize()), want, "downloaded bytes match");

    // Again: the final key exists, the second upload is thrown away.
    let again = store.put(Generated::new(len, 42)).await.expect("put again");
    assert_eq!(again, blob);

    let keys = keys(&settings).await;
    assert_eq!(
        keys,
        vec![format!(
            "blobs/sha256/{}/{}/{want}",
            &want[..2],
            &want[2..4]
        )],
        "no temporary object left"
    );
    assert_eq!(open_multipart_uploads(&settings).await, 0);
}

#[tokio::test]
async fn a_part_sized_upload_and_a_copy_in_parts() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (_, mut settings) = store_in_new_bucket(&endpoint, "p").await;
    // Force the copy to the final key to go part by part (as above 5 GiB).
    settings.max_single_copy = 8 * MIB as u64;
    settings.copy_part_size = 6 * MIB as u64;
    let store = Store::S3(S3Store::connect(settings.clone()).await.expect("connect"));

    for len in [8 * MIB, 16 * MIB, 19 * MIB + 1] {
        let want = Generated::digest(len, len as u64).await;
        let blob = store
            .put(Generated::new(len, len as u64))
            .await
            .expect("put");
        assert_eq!(
            (blob.sha256.as_str(), blob.size),
            (want.as_str(), len as u64)
        );
        let (size, bytes) = read_all(&store, &want).await;
        assert_eq!(size, len as u64);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), want);
    }
    assert!(
        keys(&settings)
            .await
            .iter()
            .all(|k| k.starts_with("p/blobs/"))
    );
    assert_eq!(open_multipart_uploads(&settings).await, 0);
}

#[tokio::test]
async fn a_failed_upload_aborts_and_deletes_its_temporary_object() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, settings) = store_in_new_bucket(&endpoint, "x").await;
    let mut failing = Generated::new(30 * MIB, 7);
    failing.fail_after = Some(17 * MIB);
    let err = store.put(failing).await.expect_err("the reader fails");
    assert!(err.to_string().contains("client went away"), "{err}");
    assert!(
        keys(&settings).await.is_empty(),
        "{:?}",
        keys(&settings).await
    );
    assert_eq!(open_multipart_uploads(&settings).await, 0);
}

#[tokio::test]
async fn an_abandoned_upload_is_cleaned_up() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, settings) = store_in_new_bucket(&endpoint, "").await;
    let stalled = Arc::new(Notify::new());
    let mut reader = Generated::new(30 * MIB, 9);
    // Stalls while reading the second part, once the first is uploaded.
    reader.stall_after = Some((10 * MIB, stalled.clone()));
    let mut put = Box::pin(store.put(reader));
    tokio::select! {
        r = &mut put => panic!("the upload cannot finish: {r:?}"),
        () = stalled.notified() => {}
    }
    assert_eq!(
        open_multipart_uploads(&settings).await,
        1,
        "the first part is uploaded"
    );
    // Dropped half-way, as when a client disconnects mid-publish.
    drop(put);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while open_multipart_uploads(&settings).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the multipart upload was not aborted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(keys(&settings).await.is_empty());
}

#[tokio::test]
async fn missing_blobs_list_and_delete() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, settings) = store_in_new_bucket(&endpoint, "gc").await;
    assert!(matches!(
        store.open(&"0".repeat(64)).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.open("../etc/passwd").await,
        Err(Error::NotFound(_))
    ));
    assert!(store.list_blobs().await.expect("list empty").is_empty());

    let before = tollgate_registry::time::Timestamp::now();
    let a = store.put_bytes(b"a").await.expect("a");
    let b = store.put_bytes(b"b").await.expect("b");
    // Objects that are not blobs are not listed.
    let client = settings.client().await;
    for key in [
        "gc/blobs/sha256/stray",
        "gc/tmp/upload-x",
        "other/blobs/sha256/aa/bb/x",
    ] {
        client
            .put_object()
            .bucket(&settings.bucket)
            .key(key)
            .body(Vec::from(&b"x"[..]).into())
            .send()
            .await
            .expect("stray object");
    }
    let mut listed = store.list_blobs().await.expect("list");
    listed.sort();
    let mut want = vec![a.sha256.clone(), b.sha256.clone()];
    want.sort();
    assert_eq!(
        listed.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
        want
    );
    assert!(
        listed.iter().all(|(_, t)| (t.0 - before.0).abs() < 120_000),
        "{listed:?} vs {before:?}"
    );

    store.delete_blob(&a.sha256).await.expect("delete");
    store.delete_blob(&a.sha256).await.expect("delete again");
    assert!(matches!(
        store.open(&a.sha256).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(store.list_blobs().await.expect("list").len(), 1);
    assert!(matches!(
        store.delete_blob("nope").await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn many_blobs_are_listed_across_pages() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, _) = store_in_new_bucket(&endpoint, "").await;
    let puts = (0..1100u32).map(|i| {
        let store = store.clone();
        async move { store.put_bytes(&i.to_be_bytes()).await.expect("put") }
    });
    let stream = futures_util::stream::iter(puts).buffer_unordered(32);
    let put: Vec<_> = stream.collect().await;
    assert_eq!(put.len(), 1100);
    assert_eq!(store.list_blobs().await.expect("list").len(), 1100);
}

#[tokio::test]
async fn presigned_urls_can_be_fetched() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let (store, settings) = store_in_new_bucket(&endpoint, "pre").await;
    let blob = store.put_bytes(b"presigned bytes").await.expect("put");
    let url = store
        .presigned_get(&blob.sha256, Duration::from_secs(300))
        .await
        .expect("presign")
        .expect("S3 presigns");
    let path = format!(
        "/{}/pre/blobs/sha256/{}/{}/{}?",
        settings.bucket,
        &blob.sha256[..2],
        &blob.sha256[2..4],
        blob.sha256
    );
    assert!(url.starts_with(&format!("{endpoint}{path}")), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");

    let (status, body) = http_get(&url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body, b"presigned bytes");
    // (moto does not check signatures, so a tampered URL cannot be tested here.)
}

/// A plain HTTP/1.1 GET over TCP (the test server speaks http://): status and body.
async fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').expect("path"));
    let mut tcp = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    (status, response[split + 4..].to_vec())
}

#[tokio::test]
async fn connect_explains_a_missing_bucket() {
    let Some(endpoint) = tollgate_testkit::S3.url() else {
        return;
    };
    let env = |name: &str| (name == "TOLLGATE_S3_ENDPOINT").then(|| endpoint.clone());
    let err = Store::connect_with_env("s3://no-such-bucket-here/x", env)
        .await
        .expect_err("missing bucket");
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "TOLLGATE_STORE=s3://no-such-bucket-here/x: bucket no-such-bucket-here not found at {endpoint}"
        )
    );

    let (store, settings) = store_in_new_bucket(&endpoint, "").await;
    store.ping().await.expect("ping");
    let spec = format!("s3://{}/some/prefix/", settings.bucket);
    let opened = Store::connect_with_env(&spec, env).await.expect("connect");
    let Store::S3(s3) = opened else {
        panic!("an S3 store")
    };
    assert_eq!(s3.settings().prefix, "some/prefix");
    assert!(s3.settings().path_style);
}

#[tokio::test]
async fn connect_explains_an_unreachable_endpoint() {
    if tollgate_testkit::S3.url().is_none() {
        return;
    }
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let dead = format!("http://127.0.0.1:{port}");
    let env = |name: &str| (name == "TOLLGATE_S3_ENDPOINT").then(|| dead.clone());
    let err = Store::connect_with_env("s3://bucket", env)
        .await
        .expect_err("nothing listens");
    assert!(
        err.to_string().starts_with(&format!(
            "TOLLGATE_STORE=s3://bucket: cannot connect to {dead}"
        )),
        "{err}"
    );
}

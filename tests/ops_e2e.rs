//! Operations: health, readiness and metrics endpoints, and a graceful shutdown on SIGTERM that
//! lets a download in flight finish.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::http::request;
use common::{Server, fake_tgz, npm_escape, npm_publish_body};
use sha2::{Digest, Sha256};

fn publish(server: &Server, auth: &str, name: &str, tgz: &[u8]) {
    let url = format!("{}/acme/npm/{}", server.url(), npm_escape(name));
    let headers = [
        ("authorization", auth),
        ("content-type", "application/json"),
    ];
    let r = request("PUT", &url, &headers, &npm_publish_body(name, "1.0.0", tgz)).expect("PUT");
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn health_readiness_and_metrics() {
    let server = Server::start();
    server.seller("acme");
    server.product("acme", "ui", &["npm:@acme/ui"]);
    let auth = format!("Bearer {}", server.publish_token("acme", &[]).secret);
    publish(&server, &auth, "@acme/ui", &fake_tgz(1, 4096));
    let tgz = format!("{}/acme/npm/@acme/ui/-/ui-1.0.0.tgz", server.url());
    let r = request("GET", &tgz, &[("authorization", &auth)], &[]).expect("download");
    assert_eq!(r.status, 200);
    let anonymous = format!("{}/acme/npm/{}", server.url(), npm_escape("@acme/ui"));
    assert_eq!(
        request("GET", &anonymous, &[], &[]).expect("GET").status,
        401
    );

    let get =
        |path: &str| request("GET", &format!("{}{path}", server.url()), &[], &[]).expect(path);
    assert_eq!(get("/healthz").text(), "ok");
    assert_eq!(get("/readyz").status, 200);
    let metrics = get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    for line in [
        "tollgate_downloads_total{ecosystem=\"npm\"} 1",
        "tollgate_download_bytes_total{ecosystem=\"npm\"} 4096",
        "tollgate_http_requests_total{protocol=\"npm\",status=\"201\"} 1",
        "tollgate_http_requests_total{protocol=\"npm\",status=\"401\"} 1",
        "tollgate_http_request_duration_seconds_count{protocol=\"npm\"}",
        "tollgate_cache_misses_total{cache=\"tokens\"}",
    ] {
        assert!(text.contains(line), "/metrics lacks {line:?}:\n{text}");
    }
    assert!(!text.contains("tg_"), "a token leaked into /metrics");
}

#[test]
fn sigterm_lets_a_download_in_flight_finish() {
    let mut server = Server::start();
    server.seller("acme");
    server.product("acme", "ui", &["npm:@acme/big"]);
    let auth = format!("Bearer {}", server.publish_token("acme", &[]).secret);
    let big = fake_tgz(9, 24 * 1024 * 1024);
    publish(&server, &auth, "@acme/big", &big);

    // Start the download, read a little, then ask the server to stop.
    let mut stream = TcpStream::connect(server.authority()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET /acme/npm/@acme/big/-/big-1.0.0.tgz HTTP/1.1\r\nHost: {}\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n",
        server.authority()
    )
    .expect("request");
    let mut first = vec![0u8; 64 * 1024];
    let n = stream.read(&mut first).expect("first bytes");
    first.truncate(n);
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let clean = server.terminate();
        stop_tx.send(()).ok();
        (clean, server)
    });
    // Read the rest slowly enough that the shutdown begins while bytes are still flowing.
    let mut rest = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = stream.read(&mut buf).expect("read during shutdown");
        if n == 0 {
            break;
        }
        rest.extend_from_slice(&buf[..n]);
        std::thread::sleep(Duration::from_millis(2));
    }
    stop_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server stopped");
    let (clean, _server) = handle.join().expect("terminate thread");
    assert!(clean, "the server did not exit cleanly on SIGTERM");
    let mut raw = first;
    raw.extend_from_slice(&rest);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers")
        + 4;
    assert!(
        raw.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&raw[..split])
    );
    assert_eq!(
        raw.len() - split,
        big.len(),
        "the download was cut short by the shutdown"
    );
    assert_eq!(Sha256::digest(&raw[split..]), Sha256::digest(&big));
}

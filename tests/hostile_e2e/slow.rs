//! The suspected missing timeouts: slow clients held connections for as long as they liked.
//! The server here runs with `--header-timeout 2s --idle-timeout 3s`. Nothing below measures
//! time: a connection the server never closes turns into a failure after a generous wait.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use crate::common::Server;
use crate::wire::{Framing, Trickle, upload_within};
use crate::{Cast, Protocol, Watch, Who, assert_alive, assert_answer};

fn impatient_server() -> Server {
    Server::start_with(&["--header-timeout", "2s", "--idle-timeout", "3s"])
}

/// How long a test waits for the server to close a connection it should close after 2-3 s.
const CLOSE_WAIT: Duration = Duration::from_secs(20);

/// Waits for the server to close `stream` (end of stream, a reset, or an answer such as 408
/// followed by the close); panics if it is still open after [`CLOSE_WAIT`].
fn assert_closed_by_server(stream: &mut TcpStream, what: &str) {
    stream
        .set_read_timeout(Some(CLOSE_WAIT))
        .expect("read timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return,
            // An answer (a 408, say) is fine; the close must follow.
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("{what}: the server kept the connection open for {CLOSE_WAIT:?}")
            }
            Err(_) => return,
        }
    }
}

#[test]
fn a_stalled_or_trickled_header_is_closed_by_the_server() {
    let server = impatient_server();
    // Half a header line, then nothing.
    let mut half = TcpStream::connect(server.authority()).expect("connect");
    half.write_all(b"GET /heal").expect("half a line");
    // A whole request line and an unfinished header, then nothing.
    let mut unfinished = TcpStream::connect(server.authority()).expect("connect");
    unfinished
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("unfinished header");
    // A header trickled a byte every 500 ms, so the connection is never idle.
    let mut trickled = TcpStream::connect(server.authority()).expect("connect");
    let mut writer = trickled.try_clone().expect("clone");
    let trickle = thread::spawn(move || {
        let line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".repeat(20);
        for byte in line {
            if writer.write_all(&[byte]).is_err() {
                return true;
            }
            thread::sleep(Duration::from_millis(500));
        }
        false
    });
    assert_closed_by_server(&mut half, "half a header line");
    assert_closed_by_server(&mut unfinished, "an unfinished header");
    assert_closed_by_server(&mut trickled, "a header trickled a byte every 500 ms");
    let _ = trickled.shutdown(std::net::Shutdown::Both);
    let _ = trickle.join();
    assert_alive(&server, "stalled headers");
}

#[test]
fn a_publish_body_at_one_byte_a_second_is_cut() {
    let server = impatient_server();
    let cast = Cast::new(&server);
    let watch = Watch::start(&server);
    let (method, path) = Protocol::Npm.publish();
    // 1 000 bytes would take 17 minutes; the server's body deadline (a minute plus the time
    // the size needs at 32 KiB/s) cuts it long before.
    let answered = upload_within(
        Duration::from_secs(150),
        server.authority(),
        method,
        &path,
        &cast.auth(Who::Publisher, true),
        Framing::Length(1_000),
        Trickle {
            burst: 0,
            piece: 1,
            pause: Duration::from_secs(1),
            at_most: 1_000,
        },
    );
    assert_answer(
        &answered.response,
        400,
        "too slowly",
        "a publish body at 1 byte/s",
    );
    eprintln!("cut after {} bytes", answered.body_sent);
    watch.check("a publish body at 1 byte/s");
    assert_alive(&server, "a publish body at 1 byte/s");
}

#[test]
fn three_hundred_idle_connections_do_not_stop_healthz_and_are_closed() {
    let server = impatient_server();
    let watch = Watch::start(&server);
    let mut idle: Vec<TcpStream> = (0..300)
        .map(|i| {
            let mut s = TcpStream::connect(server.authority())
                .unwrap_or_else(|e| panic!("connection {i}: {e}"));
            // Half of them start a request and stop.
            if i % 2 == 1 {
                s.write_all(b"POST /acme/npm/x HTTP/1.1\r\n")
                    .expect("a line");
            }
            s
        })
        .collect();
    assert_alive(&server, "300 idle connections opened");
    for (i, s) in idle.iter_mut().enumerate() {
        assert_closed_by_server(s, &format!("idle connection {i}"));
    }
    watch.check("300 idle connections");
    assert_alive(&server, "300 idle connections");
}

/// A web form whose body trickles in (a byte a second keeps the idle timer happy) is given up on
/// by the form deadline (30 s) with a 400, long before its 1 000 bytes would arrive.
#[test]
fn a_form_body_at_one_byte_a_second_is_cut() {
    let server = impatient_server();
    server.seller("acme");
    let headers = vec![(
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let answered = upload_within(
        Duration::from_secs(150),
        server.authority(),
        "POST",
        "/acme/login",
        &headers,
        Framing::Length(1_000),
        Trickle {
            burst: 0,
            piece: 1,
            pause: Duration::from_secs(1),
            at_most: 1_000,
        },
    );
    assert_answer(
        &answered.response,
        400,
        "took too long",
        "a form body at 1 byte/s",
    );
    assert!(answered.body_sent < 1_000, "sent {}", answered.body_sent);
    assert_alive(&server, "a form body at 1 byte/s");
}

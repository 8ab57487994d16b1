//! Raw HTTP/1.1 over `TcpStream` for requests no well-behaved client sends: a head announcing
//! far more body than will ever come, a body trickled in small pieces, an answer read while the
//! body is still being sent.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::common::http::Response;

/// The longest an answer may take to arrive. Every answer here is expected at once; this only
/// turns a server that waits for a body that never comes (the bug) into a failure, not a hang.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// How the body is framed.
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// `Content-Length: N`.
    Length(u64),
    /// `Transfer-Encoding: chunked`, no length announced.
    Chunked,
}

/// What the client sends after the head: zeros, `burst` bytes at once, then `piece` bytes per
/// `pause`, never more than `at_most` in all, and nothing more once the answer has come.
#[derive(Debug, Clone, Copy)]
pub struct Trickle {
    pub burst: u64,
    pub piece: usize,
    pub pause: Duration,
    pub at_most: u64,
}

impl Trickle {
    /// The head and 64 KiB of body, then nothing: whatever the server answers, it answered
    /// without the rest of the body.
    pub const HEAD_ONLY: Trickle = Trickle {
        burst: 64 * 1024,
        piece: 0,
        pause: Duration::ZERO,
        at_most: 64 * 1024,
    };

    /// A few megabytes of zeros, slowly (64 KiB every 20 ms), as a large upload would start.
    pub const SLOW_MB: Trickle = Trickle {
        burst: 256 * 1024,
        piece: 64 * 1024,
        pause: Duration::from_millis(20),
        at_most: 4 << 20,
    };
}

/// The answer to an upload and how many body bytes had been sent when it arrived.
#[derive(Debug)]
pub struct Answered {
    pub response: Response,
    pub body_sent: u64,
}

/// Sends `method path` to `authority` with `headers`, frames the body as `framing` and sends it
/// as `trickle` says, while reading the answer; returns the answer (or panics with what went
/// wrong, including a server that did not answer within [`ANSWER_TIMEOUT`]).
pub fn upload(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    framing: Framing,
    trickle: Trickle,
) -> Answered {
    upload_within(
        ANSWER_TIMEOUT,
        authority,
        method,
        path,
        headers,
        framing,
        trickle,
    )
}

/// [`upload`], waiting at most `patience` for the answer.
pub fn upload_within(
    patience: Duration,
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    framing: Framing,
    trickle: Trickle,
) -> Answered {
    let what = format!("{method} {path}");
    let mut stream = open(authority, method, path, headers, framing, patience);
    exchange(&mut stream, framing, Source::Zeros(trickle), &what)
}

/// Sends `body` whole (as a client does that does not wait for an early answer) while reading
/// the answer. Unlike `common::http::request`, a server that answers and closes before the body
/// has all arrived is no error: its answer is returned.
pub fn send(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Response {
    let framing = Framing::Length(body.len() as u64);
    let mut stream = open(authority, method, path, headers, framing, ANSWER_TIMEOUT);
    let what = format!("{method} {path}");
    exchange(&mut stream, framing, Source::Bytes(body), &what).response
}

/// Where the body's bytes come from.
enum Source {
    Zeros(Trickle),
    Bytes(Vec<u8>),
}

/// Connects and sends the head.
fn open(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    framing: Framing,
    patience: Duration,
) -> TcpStream {
    let mut stream = TcpStream::connect(authority).expect("connect to the server");
    stream
        .set_read_timeout(Some(patience))
        .expect("read timeout");
    // A server that stops reading must not block the writer forever.
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("write timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
    match framing {
        Framing::Length(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send the head");
    stream
}

/// Sends the body from `source` on another thread while reading the answer here.
fn exchange(stream: &mut TcpStream, framing: Framing, source: Source, what: &str) -> Answered {
    let answered = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let writer = {
        let mut out = stream.try_clone().expect("clone the stream");
        let (answered, sent) = (Arc::clone(&answered), Arc::clone(&sent));
        thread::spawn(move || {
            let mut body = Body {
                out: &mut out,
                framing,
                answered: &answered,
                sent: &sent,
            };
            match source {
                Source::Zeros(trickle) => body.zeros(trickle),
                Source::Bytes(bytes) => body.bytes(&bytes),
            }
        })
    };
    let response = read_answer(stream);
    let body_sent = sent.load(Ordering::SeqCst);
    answered.store(true, Ordering::SeqCst);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = writer.join();
    let response = response.unwrap_or_else(|e| {
        panic!(
            "{what}: no answer after sending the head and {body_sent} body bytes: {e} \
             (a server that reads the whole body before answering waits here; one that died \
             or was killed for its memory closes)"
        )
    });
    Answered {
        response,
        body_sent,
    }
}

/// The writing half: pieces of body, until the answer has come or the server stops reading.
struct Body<'a> {
    out: &'a mut TcpStream,
    framing: Framing,
    answered: &'a AtomicBool,
    sent: &'a AtomicU64,
}

impl Body<'_> {
    /// Writes one piece; `false` once the answer has come or writing failed.
    fn piece(&mut self, data: &[u8]) -> bool {
        if self.answered.load(Ordering::SeqCst) {
            return false;
        }
        let out = &mut *self.out;
        let ok = match self.framing {
            Framing::Length(_) => out.write_all(data),
            Framing::Chunked => out
                .write_all(format!("{:x}\r\n", data.len()).as_bytes())
                .and_then(|()| out.write_all(data))
                .and_then(|()| out.write_all(b"\r\n")),
        }
        .is_ok();
        if ok {
            self.sent.fetch_add(data.len() as u64, Ordering::SeqCst);
        }
        ok
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(64 * 1024) {
            if !self.piece(chunk) {
                return;
            }
        }
    }

    fn zeros(&mut self, trickle: Trickle) {
        let zeros = vec![0u8; 64 * 1024];
        let mut total = trickle.burst.min(trickle.at_most);
        // The burst in 64 KiB pieces, so that an answer stops it early too.
        let mut left = total;
        while left > 0 {
            let n = left.min(64 * 1024);
            if !self.piece(&zeros[..n as usize]) {
                return;
            }
            left -= n;
        }
        let piece = trickle.piece.min(zeros.len()) as u64;
        while piece > 0 && total < trickle.at_most {
            thread::sleep(trickle.pause);
            let n = piece.min(trickle.at_most - total);
            if !self.piece(&zeros[..n as usize]) {
                return;
            }
            total += n;
        }
    }
}

/// Reads one response: until its body is complete (`Content-Length` or the last chunk), the
/// server closes, or the connection is reset after the head (a server that answers before
/// reading the body may close with unread bytes, which resets the connection).
pub fn read_answer(stream: &mut TcpStream) -> std::io::Result<Response> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(res) = complete(&raw) {
            return Ok(res);
        }
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(std::io::Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "no complete answer within {:?}",
                        stream.read_timeout().ok().flatten().unwrap_or_default()
                    ),
                ));
            }
            Err(e) if head_end(&raw).is_some() => {
                eprintln!("(connection ended after the answer's head: {e})");
                break;
            }
            Err(e) => return Err(e),
        }
    }
    parse(&raw, true).ok_or_else(|| {
        std::io::Error::new(
            ErrorKind::UnexpectedEof,
            format!(
                "the connection closed without an answer ({} bytes: {:?})",
                raw.len(),
                String::from_utf8_lossy(&raw[..raw.len().min(200)])
            ),
        )
    })
}

fn head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The response in `raw` if it is complete.
fn complete(raw: &[u8]) -> Option<Response> {
    parse(raw, false)
}

/// Parses `raw`; unless `partial_ok`, only a response whose body is complete.
fn parse(raw: &[u8], partial_ok: bool) -> Option<Response> {
    let end = head_end(raw)?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        match rest.get(..len) {
            Some(body) => body.to_vec(),
            None if partial_ok => rest.to_vec(),
            None => return None,
        }
    } else if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        match dechunk(rest) {
            Some(body) => body,
            None if partial_ok => rest.to_vec(),
            None => return None,
        }
    } else if partial_ok {
        rest.to_vec()
    } else {
        return None;
    };
    Some(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

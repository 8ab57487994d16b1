//! Reading back the `.eml` files that the sinks write: the file sink under `DATA_DIR/mail/`, and
//! the SMTP sink of `scripts/smtp` in tests. Enough of RFC 5322/2045/2047 for single-part text
//! messages (what [`Mailer`](super::Mailer) sends): unfolded headers, encoded-word headers, and
//! 7bit, 8bit, quoted-printable or base64 bodies. Tests use it to find a sign-in link in a mail.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::error::MailError;

/// One message read from a `.eml` file.
#[derive(Clone, Debug)]
pub struct ReadMail {
    /// Where it was read from (empty for [`ReadMail::parse`]).
    pub path: PathBuf,
    /// Headers in order, names as written, values unfolded and decoded.
    pub headers: Vec<(String, String)>,
    /// The decoded body with `\n` line ends.
    pub body: String,
}

impl ReadMail {
    /// Parses one message.
    pub fn parse(raw: &[u8]) -> Result<ReadMail, MailError> {
        let bad = |why: &str| MailError::Parse(why.to_owned());
        let (head, body) = split_head(raw).ok_or_else(|| bad("no blank line after the headers"))?;
        let head = std::str::from_utf8(head).map_err(|_| bad("headers are not UTF-8"))?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split('\n').map(|l| l.trim_end_matches('\r')) {
            if line.starts_with([' ', '\t']) {
                let (_, value) = headers
                    .last_mut()
                    .ok_or_else(|| bad("continuation line before any header"))?;
                value.push_str(line);
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            } else if !line.is_empty() {
                return Err(bad("a header line without ':'"));
            }
        }
        for (_, value) in &mut headers {
            *value = decode_words(value);
        }
        let mut mail = ReadMail {
            path: PathBuf::new(),
            headers,
            body: String::new(),
        };
        let encoding = mail
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "7bit" | "8bit" | "binary" => body.to_vec(),
            "quoted-printable" => {
                quoted_printable::decode(body, quoted_printable::ParseMode::Robust)
                    .map_err(|e| MailError::Parse(format!("quoted-printable body: {e}")))?
            }
            "base64" => {
                let compact: Vec<u8> = body
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .map_err(|e| MailError::Parse(format!("base64 body: {e}")))?
            }
            other => return Err(MailError::Parse(format!("transfer encoding {other:?}"))),
        };
        let body = String::from_utf8(bytes).map_err(|_| bad("the body is not UTF-8"))?;
        mail.body = body.replace("\r\n", "\n");
        Ok(mail)
    }

    /// Reads and parses one file.
    pub fn read(path: &Path) -> Result<ReadMail, MailError> {
        let raw = std::fs::read(path).map_err(|source| MailError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut mail = ReadMail::parse(&raw)
            .map_err(|e| MailError::Parse(format!("{}: {e}", path.display())))?;
        mail.path = path.to_owned();
        Ok(mail)
    }

    /// The first header of that name (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Subject` header, or "".
    pub fn subject(&self) -> &str {
        self.header("Subject").unwrap_or("")
    }

    /// The `To` header, or "".
    pub fn to(&self) -> &str {
        self.header("To").unwrap_or("")
    }

    /// Every `http://` or `https://` link in the body, in order.
    pub fn links(&self) -> Vec<&str> {
        let mut links = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(at) = rest
            .find("http://")
            .into_iter()
            .chain(rest.find("https://"))
            .min()
        {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
                .unwrap_or(tail.len());
            links.push(tail[..end].trim_end_matches(['.', ',', ')', ';']));
            rest = &tail[end..];
        }
        links
    }
}

/// Every `*.eml` file in `dir` (not its subdirectories), parsed, sorted by file name (which, for
/// both sinks, is the order of arrival). A missing directory holds no mail.
pub fn read_dir(dir: &Path) -> Result<Vec<ReadMail>, MailError> {
    let io = |source| MailError::Io {
        path: dir.to_owned(),
        source,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(io)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".eml") && !name.starts_with('.') {
            paths.push(path);
        }
    }
    paths.sort();
    paths.iter().map(|p| ReadMail::read(p)).collect()
}

fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let (at, len) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((&raw[..at], &raw[at + len..]))
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); whitespace between two
/// encoded words is dropped, as the RFC says. Anything undecodable stays as written.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut pending_space = String::new();
    let mut after_word = false;
    while !rest.is_empty() {
        if let Some((decoded, used)) = rest.starts_with("=?").then(|| encoded_word(rest)).flatten()
        {
            if !after_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = &rest[used..];
            after_word = true;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c == ' ' || c == '\t' {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            after_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&pending_space);
    out
}

/// One encoded word at the start of `s`: its text and the bytes it took.
fn encoded_word(s: &str) -> Option<(String, usize)> {
    let inner = s.get(2..)?;
    let (charset, inner) = inner.split_once('?')?;
    let (mode, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    let used = 2 + charset.len() + 1 + mode.len() + 1 + end + 2;
    let charset = charset.split('*').next()?.to_ascii_lowercase();
    if charset != "utf-8" && charset != "us-ascii" {
        return None;
    }
    let bytes = match mode {
        "b" | "B" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "q" | "Q" => {
            let text = text.replace('_', " ");
            quoted_printable::decode(text, quoted_printable::ParseMode::Strict).ok()?
        }
        _ => return None,
    };
    Some((String::from_utf8(bytes).ok()?, used))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_and_decodes_headers_and_bodies() {
        let raw = b"Subject: =?utf-8?b?w5xiZXI=?=\r\n =?utf-8?q?_caf=C3=A9?= and more\r\n\
To: a@example.com\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
caf=C3=A9 https://x.example/a?b=3D1&c=3D=\r\n2.\r\nsecond line\r\n";
        let mail = ReadMail::parse(raw).expect("parse");
        assert_eq!(mail.subject(), "Über café and more");
        assert_eq!(mail.to(), "a@example.com");
        assert_eq!(
            mail.body,
            "café https://x.example/a?b=1&c=2.\nsecond line\n"
        );
        assert_eq!(mail.links(), ["https://x.example/a?b=1&c=2"]);
    }

    #[test]
    fn base64_and_plain_bodies() {
        let raw = b"Content-Transfer-Encoding: base64\n\nw5xiZXIK\n";
        assert_eq!(ReadMail::parse(raw).expect("parse").body, "Über\n");
        let raw =
            b"Subject: plain =?x-unknown?q?kept?=\n\nhttp://a.example/x, and http://b.example)";
        let mail = ReadMail::parse(raw).expect("parse");
        assert_eq!(mail.subject(), "plain =?x-unknown?q?kept?=");
        assert_eq!(mail.links(), ["http://a.example/x", "http://b.example"]);
        assert!(ReadMail::parse(b"no separator").is_err());
    }
}

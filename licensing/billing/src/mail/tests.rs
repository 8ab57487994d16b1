//! The mailer through its two sinks. The SMTP tests talk to the real aiosmtpd that `scripts/smtp`
//! starts (`eval "$(scripts/smtp start DIR)"` sets `TOLLGATE_TEST_SMTP_URL` and
//! `TOLLGATE_TEST_SMTP_DIR`); without it they are skipped, or fail when `CI` is set.

use std::path::Path;
use std::time::{Duration, Instant};

use super::eml::{ReadMail, read_dir};
use super::*;

const FROM: &str = "Acme via Tollgate <noreply@pkg.acme.example>";

/// A body that exercises the encodings: non-ASCII, a line longer than 76 characters, a line that
/// is a lone dot, a line starting with a dot or "From ", trailing spaces, and `=`.
fn tricky_text(link: &str) -> String {
    format!(
        "Grüße aus Köln — 東京\n\n{link}\n.\n.hidden\nFrom here on\ntrailing  \n= sign a=b\n{}\n",
        "x".repeat(200)
    )
}

fn file_mailer(dir: &Path) -> Mailer {
    Mailer::from_config(None, FROM, dir).expect("file mailer")
}

/// A recipient no other test run uses, to find its mail in a shared sink.
fn unique_recipient(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("{tag}-{nanos}-{}@buyer.example", files::random_suffix())
}

#[tokio::test]
async fn file_sink_writes_a_parseable_eml() {
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = file_mailer(data.path());
    assert_eq!(
        mailer.describe(),
        format!("files in {}", data.path().join("mail").display())
    );
    let link = "https://pkg.acme.example/acme/sign-in/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef?next=/orgs/globex";
    let message = Message {
        to: "Jürgen Müller <juergen@globex.example>".into(),
        subject: "Ihr Zugang zu Acme Pro — Grüße".into(),
        text: tricky_text(link),
    };
    mailer.send(&message).await.expect("send");

    let mails = read_dir(&data.path().join("mail")).expect("read mail dir");
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    let name = mail
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name");
    assert!(
        name.contains("-ihr-zugang-zu-acme-pro-gr-e-") && name.ends_with(".eml"),
        "{name}"
    );
    assert_eq!(mail.to(), "Jürgen Müller <juergen@globex.example>");
    assert_eq!(mail.subject(), message.subject);
    assert_eq!(
        mail.header("From"),
        Some("\"Acme via Tollgate\" <noreply@pkg.acme.example>")
    );
    let date = mail.header("Date").expect("Date header");
    assert!(date.ends_with("+0000") || date.ends_with("GMT"), "{date}");
    let id = mail.header("Message-ID").expect("Message-ID header");
    assert!(
        id.starts_with('<') && id.ends_with("@pkg.acme.example>"),
        "{id}"
    );
    assert_eq!(mail.header("MIME-Version"), Some("1.0"));
    assert!(
        mail.header("Content-Type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("charset=utf-8")),
        "{:?}",
        mail.headers
    );
    assert_eq!(mail.body, message.text);
    assert_eq!(mail.links(), [link]);

    // Lines of the raw file stay within the SMTP limit (the long line is encoded).
    let raw = std::fs::read(&mail.path).expect("read");
    assert!(raw.split(|b| *b == b'\n').all(|l| l.len() <= 998));
}

#[tokio::test]
async fn each_message_gets_its_own_file_and_id() {
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = file_mailer(data.path());
    let message = Message {
        to: "a@globex.example".into(),
        subject: "Same".into(),
        text: "one".into(),
    };
    mailer.send(&message).await.expect("send");
    mailer.clone().send(&message).await.expect("send");
    let mails = read_dir(mailer.mail_dir().expect("file sink")).expect("read");
    assert_eq!(mails.len(), 2);
    assert_ne!(mails[0].header("Message-ID"), mails[1].header("Message-ID"));
}

#[tokio::test]
async fn a_subject_cannot_inject_headers() {
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = file_mailer(data.path());
    let message = Message {
        to: "a@globex.example".into(),
        subject: "Welcome\r\nBcc: attacker@evil.example\n\tand more".into(),
        text: "body".into(),
    };
    mailer.send(&message).await.expect("send");
    let mail = &read_dir(&data.path().join("mail")).expect("read")[0];
    assert_eq!(
        mail.subject(),
        "Welcome Bcc: attacker@evil.example and more"
    );
    assert_eq!(mail.header("Bcc"), None);
}

#[tokio::test]
async fn bad_addresses_are_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let e = Mailer::from_config(None, "not an address", data.path()).expect_err("bad from");
    assert!(e.to_string().contains("mail sender"), "{e}");

    let mailer = file_mailer(data.path());
    for to in [
        "",
        "nobody",
        "a@b.example, c@d.example",
        "a@b.example\r\nBcc: x@y.example",
    ] {
        let e = mailer
            .send(&Message {
                to: to.into(),
                subject: "s".into(),
                text: "t".into(),
            })
            .await
            .expect_err("bad recipient");
        assert!(matches!(e, MailError::Recipient { .. }), "{to:?}: {e}");
    }
    assert!(
        read_dir(&data.path().join("mail"))
            .expect("read")
            .is_empty()
    );
}

/// A form checks an address with `check_address` before storing it: what it accepts, the
/// mailer sends to; what the mailer refuses, it refuses (a form error, not a failed send later).
#[tokio::test]
async fn check_address_accepts_only_what_send_can_send_to() {
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = file_mailer(data.path());
    for to in [
        "ann@globex.example",
        "a.b+tag@sub.globex.example",
        "ann@localhost",
    ] {
        check_address(to).unwrap_or_else(|e| panic!("{to}: {e}"));
        mailer
            .send(&Message {
                to: to.into(),
                subject: "s".into(),
                text: "t".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("{to}: {e}"));
    }
    for to in [
        "ann<x>@globex.example",
        "ann@globex..example",
        "ann@@globex.example",
        "",
    ] {
        let refused = mailer
            .send(&Message {
                to: to.into(),
                subject: "s".into(),
                text: "t".into(),
            })
            .await;
        assert!(refused.is_err(), "{to:?} was sent");
        assert!(check_address(to).is_err(), "{to:?} was accepted");
    }
    // Only a bare address: a name or angle brackets would be stored as part of it.
    for to in ["Ann <ann@globex.example>", "<ann@globex.example>"] {
        assert!(check_address(to).is_err(), "{to:?} was accepted");
    }
}

#[test]
fn bad_smtp_urls_name_the_variable() {
    let data = tempfile::tempdir().expect("tempdir");
    for url in [
        "localhost:25",
        "smtp://",
        "imap://u:hunter2@mail.example.com",
        "smtp://mail.example.com?tls=yes",
        "smtp://u:hunter2@mail.example.com",
    ] {
        let e = Mailer::from_config(Some(url), FROM, data.path()).expect_err(url);
        let shown = e.to_string();
        assert!(shown.starts_with("TOLLGATE_SMTP_URL: "), "{url}: {shown}");
        assert!(!shown.contains("hunter2"), "{url}: {shown}");
    }
    // An empty variable means "not set": files.
    let mailer = Mailer::from_config(Some("  "), FROM, data.path()).expect("empty URL");
    assert!(mailer.describe().starts_with("files in "));
}

#[test]
fn describe_and_debug_never_show_the_password() {
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = Mailer::from_config(
        Some("smtps://mailer:hunter2@smtp.example.com"),
        FROM,
        data.path(),
    )
    .expect("smtps");
    assert_eq!(
        mailer.describe(),
        "SMTP smtp.example.com:465 (implicit TLS)"
    );
    assert!(!format!("{mailer:?}").contains("hunter2"));
    assert_eq!(mailer.mail_dir(), None);

    let mailer = Mailer::from_config(
        Some("smtp://u:hunter2@smtp.example.com?tls=required"),
        FROM,
        data.path(),
    )
    .expect("starttls");
    assert_eq!(
        mailer.describe(),
        "SMTP smtp.example.com:587 (STARTTLS required)"
    );
    let mailer = Mailer::from_config(Some("smtp://[::1]:2526"), FROM, data.path()).expect("ipv6");
    assert_eq!(mailer.describe(), "SMTP [::1]:2526 (no TLS)");
    assert!(
        !data.path().join("mail").exists(),
        "no mail directory with SMTP"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_naming_it() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let data = tempfile::tempdir().expect("tempdir");
    let url = format!("smtp://127.0.0.1:{port}");
    let mailer = Mailer::from_config(Some(&url), FROM, data.path()).expect("mailer");
    let e = mailer
        .send(&Message {
            to: "a@globex.example".into(),
            subject: "s".into(),
            text: "t".into(),
        })
        .await
        .expect_err("nothing listens");
    assert!(
        e.to_string()
            .contains(&format!("sending mail through 127.0.0.1:{port} (no TLS)")),
        "{e}"
    );
}

/// The sink's URL and message directory, or `None` (with the reason printed) without one.
fn smtp_sink() -> Option<(String, std::path::PathBuf)> {
    let url = tollgate_testkit::SMTP.url()?;
    let dir = std::env::var("TOLLGATE_TEST_SMTP_DIR").expect("checked with the URL");
    Some((url, dir.into()))
}

/// Waits (up to 10 s) for the sink to have written the mail whose envelope recipient is `to`.
async fn received(dir: &Path, to: &str) -> ReadMail {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mails = read_dir(dir).expect("read the sink's directory");
        if let Some(mail) = mails
            .into_iter()
            .find(|m| m.header("X-RcptTo").is_some_and(|r| r.contains(to)))
        {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "no mail for {to} in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn smtp_delivers_to_a_real_server() {
    let Some((url, dir)) = smtp_sink() else {
        return;
    };
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = Mailer::from_config(Some(&url), FROM, data.path()).expect("smtp mailer");
    assert!(
        mailer.describe().starts_with("SMTP 127.0.0.1:"),
        "{}",
        mailer.describe()
    );

    let to = unique_recipient("welcome");
    let message = purchase_welcome(&Welcome {
        to: to.clone(),
        seller_name: "Acme".into(),
        product: "Acme Pro — Zürich edition".into(),
        org: "Globex".into(),
        seats: Some(3),
        sign_in_link: Some(
            "https://pkg.acme.example/acme/org/sign-in/5f0c2b1e9a7d4c3b8e6f1a2d3c4b5a69".into(),
        ),
        token: "tg_org_0123456789abcdef0123456789abcdef".into(),
        setup: vec![(
            "npm".into(),
            "//pkg.acme.example/acme/npm/:_authToken=tg_org_0123456789abcdef0123456789abcdef"
                .into(),
        )],
        license_key: None,
    });
    let message = Message {
        text: format!("{}{}", message.text, tricky_text("https://example.com/x")),
        ..message
    };
    mailer.send(&message).await.expect("send through SMTP");

    let mail = received(&dir, &to).await;
    assert_eq!(mail.header("X-MailFrom"), Some("noreply@pkg.acme.example"));
    assert_eq!(mail.header("X-RcptTo"), Some(to.as_str()));
    assert_eq!(mail.to(), to);
    assert_eq!(
        mail.subject(),
        "Your Acme Pro — Zürich edition access from Acme"
    );
    // lettre ends DATA with CRLF.CRLF even after a final line break, so the server sees one more
    // empty line at the end; everything else arrives as written.
    assert_eq!(
        mail.body.trim_end_matches('\n'),
        message.text.trim_end_matches('\n')
    );
    assert!(
        mail.links().contains(
            &"https://pkg.acme.example/acme/org/sign-in/5f0c2b1e9a7d4c3b8e6f1a2d3c4b5a69"
        )
    );
    assert_eq!(mail.header("X-Auth-User"), None);
}

#[tokio::test]
async fn smtp_authenticates_with_the_urls_credentials() {
    let Some((url, dir)) = smtp_sink() else {
        return;
    };
    // The sink accepts any user and password and records the user; a loopback host may take a
    // password over plain SMTP.
    let authed = url.replacen("smtp://", "smtp://mailer%40acme.example:p%3Ass@", 1);
    let data = tempfile::tempdir().expect("tempdir");
    let mailer = Mailer::from_config(Some(&authed), FROM, data.path()).expect("smtp mailer");
    let to = unique_recipient("auth");
    let message = sign_in(&SignIn {
        to: to.clone(),
        who: "Acme (seller dashboard)".into(),
        link: "https://pkg.acme.example/sign-in/one-time-abc".into(),
        expires_minutes: 15,
    });
    mailer.send(&message).await.expect("send with AUTH");
    let mail = received(&dir, &to).await;
    assert_eq!(mail.header("X-Auth-User"), Some("mailer@acme.example"));
    assert_eq!(mail.subject(), "Sign in to Acme (seller dashboard)");
    assert_eq!(
        mail.links(),
        ["https://pkg.acme.example/sign-in/one-time-abc"]
    );
}

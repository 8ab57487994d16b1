//! Mail to buyers, org members and sellers: through SMTP when `TOLLGATE_SMTP_URL` is set (see
//! [`smtp_url`] for the forms it takes), else as `.eml` files under `DATA_DIR/mail/`, so that a
//! fresh instance needs no mail server and an operator can still open what it would have sent.
//!
//! Messages are plain UTF-8 text built by the pure functions in [`messages`] (re-exported here).
//! Their bodies hold sign-in links and tokens, so they are never logged: a send logs the recipient
//! and subject only. [`eml`] reads the files back (tests, operators).

pub mod eml;
mod error;
mod files;
mod message;
pub mod messages;
pub mod smtp_url;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use error::MailError;
pub use message::Message;
pub use messages::{
    Invite, LicenseEnded, PaymentFailed, SeatRevoked, SignIn, Welcome, license_ended,
    payment_failed, purchase_welcome, seat_invite, seat_revoked, sign_in,
};
use smtp_url::{Security, SmtpUrl};

/// How long one SMTP exchange may take before the send fails.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends [`Message`]s through SMTP or into files; cheap to clone (share one per process).
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    sink: Sink,
}

#[derive(Clone)]
enum Sink {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        server: Arc<str>,
    },
    Files {
        dir: PathBuf,
    },
}

impl fmt::Debug for Mailer {
    /// Shows [`Mailer::describe`]: no password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("sink", &self.describe())
            .finish()
    }
}

impl Mailer {
    /// Mail through `TOLLGATE_SMTP_URL` when given (`smtp://user:pass@host:port?tls=required`,
    /// `smtps://user:pass@host:port`, `smtp://host:port`; the table is in [`smtp_url`]), else
    /// `.eml` files under `data_dir/mail/` (one file per message, named by time and subject,
    /// written atomically). `from` is the sender, `user@example.com` or `Name <user@example.com>`.
    /// Nothing is connected yet: a wrong password shows at the first send.
    pub fn from_config(
        smtp_url: Option<&str>,
        from: &str,
        data_dir: &Path,
    ) -> Result<Mailer, MailError> {
        let from: Mailbox = from.trim().parse().map_err(|e| MailError::From {
            address: from.to_owned(),
            reason: format!("{e}"),
        })?;
        let sink = match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(raw) => smtp_sink(&SmtpUrl::parse(raw)?)?,
            None => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir).map_err(|source| MailError::Io {
                    path: dir.clone(),
                    source,
                })?;
                Sink::Files { dir }
            }
        };
        Ok(Mailer { from, sink })
    }

    /// Sends one message and logs its recipient and subject (never the body: it holds links and
    /// tokens). With SMTP the message is handed to the server before this returns; with files it
    /// is on disk.
    pub async fn send(&self, message: &Message) -> Result<(), MailError> {
        let subject = one_line(&message.subject);
        let email = self.build(message, &subject)?;
        match &self.sink {
            Sink::Smtp { transport, server } => {
                transport
                    .send(email)
                    .await
                    .map_err(|source| MailError::Smtp {
                        server: server.to_string(),
                        source,
                    })?;
            }
            Sink::Files { dir } => {
                files::write(dir, &subject, &email.formatted()).await?;
            }
        }
        tracing::info!(to = %message.to, subject = %subject, via = %self.describe(), "mail sent");
        Ok(())
    }

    /// Where mail goes, for the start-up log: `SMTP host:port (STARTTLS required)` or
    /// `files in DIR`. Never a password.
    pub fn describe(&self) -> String {
        match &self.sink {
            Sink::Smtp { server, .. } => format!("SMTP {server}"),
            Sink::Files { dir } => format!("files in {}", dir.display()),
        }
    }

    /// The directory of the file sink; `None` with SMTP.
    pub fn mail_dir(&self) -> Option<&Path> {
        match &self.sink {
            Sink::Files { dir } => Some(dir),
            Sink::Smtp { .. } => None,
        }
    }

    fn build(&self, message: &Message, subject: &str) -> Result<lettre::Message, MailError> {
        let to = recipient(&message.to)?;
        let id = format!(
            "<{}.{}@{}>",
            chrono::Utc::now().format("%Y%m%d%H%M%S"),
            std::iter::repeat_with(fastrand::alphanumeric)
                .take(20)
                .collect::<String>(),
            self.from.email.domain()
        );
        Ok(lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(id))
            .header(MIME_VERSION_1_0)
            .header(ContentType::TEXT_PLAIN)
            // A raw body (lettre picks 7bit, quoted-printable or base64) ends where the text ends;
            // a MIME single part would append a line break of its own.
            .body(message.text.clone())?)
    }
}

/// A message's recipient, `user@example.com` or `Name <user@example.com>`, as [`Mailer::send`]
/// reads it.
fn recipient(to: &str) -> Result<Mailbox, MailError> {
    to.trim().parse().map_err(|e| MailError::Recipient {
        address: to.to_owned(),
        reason: format!("{e}"),
    })
}

/// Whether mail can be sent to `address`, a bare address (`user@example.com`, no name, no angle
/// brackets), by the same parse [`Mailer::send`] does: a form that stores an address checks it
/// here, so a typo is a form error at once rather than a failed send later.
pub fn check_address(address: &str) -> Result<(), MailError> {
    let parsed = recipient(address)?;
    if parsed.name.is_some() || parsed.email.to_string() != address.trim() {
        return Err(MailError::Recipient {
            address: address.to_owned(),
            reason: "it is not a bare address like user@example.com".into(),
        });
    }
    Ok(())
}

fn smtp_sink(url: &SmtpUrl) -> Result<Sink, MailError> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_owned())
            .map_err(|e| MailError::SmtpUrl(format!("TLS set-up for {host}: {e}")))
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.as_str())
        .port(url.port)
        .timeout(Some(SMTP_TIMEOUT))
        .tls(match url.security {
            Security::Implicit => Tls::Wrapper(tls(&url.host)?),
            Security::StartTlsRequired => Tls::Required(tls(&url.host)?),
            Security::StartTlsOpportunistic => Tls::Opportunistic(tls(&url.host)?),
            Security::None => Tls::None,
        });
    if let Some((user, pass)) = &url.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    if let Some(name) = &url.ehlo {
        builder = builder.hello_name(ClientId::Domain(name.clone()));
    }
    let host = if url.host.contains(':') {
        format!("[{}]", url.host)
    } else {
        url.host.clone()
    };
    Ok(Sink::Smtp {
        transport: builder.build(),
        server: format!("{host}:{} ({})", url.port, url.security).into(),
    })
}

/// Subjects come from names that sellers and buyers type: no line breaks or control characters
/// may reach the header.
fn one_line(subject: &str) -> String {
    subject
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;

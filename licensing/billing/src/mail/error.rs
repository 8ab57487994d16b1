//! What went wrong configuring, sending or reading mail.

use std::path::PathBuf;

/// What went wrong configuring, sending or reading mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `TOLLGATE_SMTP_URL` cannot be used; the reason never repeats its password.
    #[error("TOLLGATE_SMTP_URL: {0}")]
    SmtpUrl(String),
    /// The configured sender is not a mailbox.
    #[error("mail sender {address:?} is not an address like \"Name <user@example.com>\": {reason}")]
    From { address: String, reason: String },
    /// A message's recipient is not a mailbox.
    #[error("mail recipient {address:?} is not an e-mail address: {reason}")]
    Recipient { address: String, reason: String },
    /// lettre could not assemble the message.
    #[error("cannot build the mail: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server refused the message or could not be reached.
    #[error("sending mail through {server}: {source}")]
    Smtp {
        server: String,
        source: lettre::transport::smtp::Error,
    },
    /// Writing or reading a mail file.
    #[error("mail file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A mail file that [`eml`](super::eml) cannot read.
    #[error("cannot read the mail: {0}")]
    Parse(String),
}

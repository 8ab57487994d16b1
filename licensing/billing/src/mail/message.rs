//! One message, before it is sent or written.

/// One plain-text UTF-8 message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `user@example.com` or `Name <user@example.com>`.
    pub to: String,
    pub subject: String,
    pub text: String,
}

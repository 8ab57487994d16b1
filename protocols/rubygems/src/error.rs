//! Errors as plain text: `gem` prints the body of a failed push or yank as-is, and Bundler
//! prints the body of an unexpected status. Where a client prints only the status line
//! (`bad response <reason phrase> <code>`), an ended license also goes into the reason phrase.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::ext::ReasonPhrase;
use tollgate_registry::Error;
use tollgate_registry::error::{Answer, INTERNAL, UNAVAILABLE};

#[derive(Debug)]
pub struct GemError {
    pub status: StatusCode,
    pub message: String,
    /// Also send the message as the HTTP/1 reason phrase.
    pub in_status_line: bool,
}

impl GemError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            in_status_line: false,
        }
    }

    /// Every license that covered the caller ended: 402, with the reason in the status line.
    /// (Not 401/403: Bundler turns those into "Bad username or password" for the full index.)
    pub fn lapsed(reason: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::PAYMENT_REQUIRED, reason);
        e.in_status_line = true;
        e
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

/// A reason phrase holds visible ASCII and spaces only.
fn reason_phrase(message: &str) -> Option<ReasonPhrase> {
    let clean: String = message
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    ReasonPhrase::try_from(clean.into_bytes()).ok()
}

impl From<Error> for GemError {
    fn from(e: Error) -> Self {
        match e.answer() {
            Answer::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            Answer::Conflict(m) => Self::new(StatusCode::CONFLICT, m),
            Answer::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            Answer::Invalid(m) => Self::bad_request(m),
            Answer::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            Answer::Unavailable => Self::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
            Answer::Internal => Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL),
        }
    }
}

impl IntoResponse for GemError {
    fn into_response(self) -> Response {
        let phrase = self
            .in_status_line
            .then(|| reason_phrase(&self.message))
            .flatten();
        let mut text = self.message;
        text.push('\n');
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response();
        if let Some(phrase) = phrase {
            response.extensions_mut().insert(phrase);
        }
        response
    }
}

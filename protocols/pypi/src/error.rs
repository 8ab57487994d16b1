//! Errors as pip, uv, poetry and twine show them. twine and the installers print only the
//! status line of a failed request (`403 Client Error: REASON for url: …`), so the message is
//! also the HTTP/1 reason phrase, as the public index does; uv prints the body of a failed
//! upload, so the body says it too.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::ext::ReasonPhrase;
use tollgate_registry::Error;
use tollgate_registry::error::{Answer, INTERNAL, UNAVAILABLE};

#[derive(Debug)]
pub struct PypiError {
    pub status: StatusCode,
    pub message: String,
}

impl PypiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("Not Found ({what})"))
    }
}

/// A reason phrase holds visible ASCII and spaces only, on one line.
fn reason_phrase(message: &str) -> Option<ReasonPhrase> {
    let clean: String = message
        .chars()
        .take(400)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                ' '
            }
        })
        .collect();
    ReasonPhrase::try_from(clean.into_bytes()).ok()
}

impl From<Error> for PypiError {
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

impl IntoResponse for PypiError {
    fn into_response(self) -> Response {
        let phrase = reason_phrase(&self.message);
        let mut text = self.message;
        text.push('\n');
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // pip and uv look for credentials (netrc, keyring) only after a Basic challenge.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tollgate\""),
            );
        }
        if let Some(phrase) = phrase {
            response.extensions_mut().insert(phrase);
        }
        response
    }
}

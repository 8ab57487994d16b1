//! How the Hex endpoints fail. The repository answers a short text body plus an
//! `x-hex-message` header (mix prints it: `"text"; level=warn|fatal`, the quote is required);
//! the API answers an Erlang term map `{status, message[, errors]}` in
//! `application/vnd.hex+erlang`, which mix and rebar3 print.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tollgate_registry::Error;
use tollgate_registry::error::{Answer, INTERNAL, UNAVAILABLE};

use crate::etf::{self, Term};

/// The media type of every API body.
pub const HEX_ERLANG: &str = "application/vnd.hex+erlang";

/// Which half of Hex the error is for: it decides the body's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Repo,
    Api,
}

#[derive(Debug)]
pub struct HexError {
    pub status: StatusCode,
    pub message: String,
    /// 422 details: (field, reason).
    pub errors: Vec<(String, String)>,
    pub surface: Surface,
    /// `x-hex-message` level when the message should be shown by mix (`warn` or `fatal`).
    pub level: Option<&'static str>,
}

impl HexError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
            surface: Surface::Repo,
            level: None,
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// The same error, shaped for the API.
    pub fn api(mut self) -> Self {
        self.surface = Surface::Api;
        self
    }

    /// The same error, shown by mix with `level`.
    pub fn shown(mut self, level: &'static str) -> Self {
        self.level = Some(level);
        self
    }
}

impl From<Error> for HexError {
    fn from(e: Error) -> Self {
        match e.answer() {
            Answer::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            Answer::Conflict(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            Answer::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            Answer::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            Answer::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            Answer::Unavailable => Self::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
            Answer::Internal => Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL),
        }
    }
}

/// `"text"; level=LEVEL`, with what would break mix's parser (quotes, newlines) replaced, in
/// ASCII: mix reads header bytes as Latin-1, so `…` would print as `â\u{80}¦`.
pub fn hex_message(text: &str, level: &str) -> Option<HeaderValue> {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\u{2018}' | '\u{2019}' | '\u{201c}' | '\u{201d}' => clean.push('\''),
            '\u{2026}' => clean.push_str("..."),
            '\u{2013}' | '\u{2014}' => clean.push('-'),
            c if c.is_ascii_control() || c.is_control() => clean.push(' '),
            c if c.is_ascii() => clean.push(c),
            _ => clean.push('?'),
        }
    }
    HeaderValue::from_str(&format!("\"{clean}\"; level={level}")).ok()
}

/// An API body: the term as `term_to_binary` would write it.
pub fn erlang(status: StatusCode, term: &Term) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(HEX_ERLANG))],
        etf::encode(term),
    )
        .into_response()
}

impl IntoResponse for HexError {
    fn into_response(self) -> Response {
        let mut response = match self.surface {
            Surface::Repo => (self.status, format!("{}\n", self.message)).into_response(),
            Surface::Api => {
                let mut pairs = vec![
                    ("status", Term::Int(i64::from(self.status.as_u16()))),
                    ("message", Term::str(&self.message)),
                ];
                if !self.errors.is_empty() {
                    pairs.push((
                        "errors",
                        Term::Map(
                            self.errors
                                .iter()
                                .map(|(k, v)| (Term::str(k), Term::str(v)))
                                .collect(),
                        ),
                    ));
                }
                erlang(self.status, &Term::map(pairs))
            }
        };
        if let Some(level) = self.level
            && let Some(v) = hex_message(&self.message, level)
        {
            response.headers_mut().insert("x-hex-message", v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_quoted_for_mix() {
        let v = hex_message("the \"Pro\" license of Café ended\non 2026-01-01…", "warn")
            .expect("header");
        assert_eq!(
            v.to_str().expect("ascii"),
            "\"the 'Pro' license of Caf? ended on 2026-01-01...\"; level=warn"
        );
    }

    #[test]
    fn api_errors_are_erlang_maps() {
        let mut e = HexError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation error(s)").api();
        e.errors.push(("version".into(), "already exists".into()));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.headers()[header::CONTENT_TYPE], HEX_ERLANG);
    }
}

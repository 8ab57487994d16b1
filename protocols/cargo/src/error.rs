//! Cargo's error envelope, `{"errors":[{"detail":"…"}]}`: cargo prints `detail` for API calls
//! and the body of failed index or download requests.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tollgate_registry::Error;
use tollgate_registry::error::{Answer, INTERNAL, UNAVAILABLE};

#[derive(Debug)]
pub struct CargoError {
    pub status: StatusCode,
    pub detail: String,
    /// `WWW-Authenticate: Cargo login_url="…"` on 401s: cargo shows the URL.
    pub login_url: Option<String>,
}

impl CargoError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            login_url: None,
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
}

impl From<Error> for CargoError {
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

impl IntoResponse for CargoError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "errors": [{ "detail": self.detail }] });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(url) = self.login_url
            && let Ok(v) = HeaderValue::from_str(&format!("Cargo login_url=\"{url}\""))
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

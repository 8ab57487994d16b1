//! npm's error envelope: `{"error":"…"}`, which the CLI prints after the status line
//! (`403 Forbidden - GET http://… - <error>`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tollgate_registry::Error;
use tollgate_registry::error::{Answer, INTERNAL, UNAVAILABLE};

#[derive(Debug)]
pub struct NpmError {
    pub status: StatusCode,
    pub message: String,
}

impl NpmError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Error> for NpmError {
    fn from(e: Error) -> Self {
        match e.answer() {
            Answer::NotFound(_) => Self::not_found(),
            // npm's own wording for an existing version is a 403 (a 409 makes it retry).
            Answer::Conflict(m) | Answer::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            Answer::Invalid(m) => Self::bad_request(m),
            Answer::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, m),
            Answer::Unavailable => Self::new(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE),
            Answer::Internal => Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL),
        }
    }
}

impl IntoResponse for NpmError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

//! Errors of the web pages, shown as a page in the product's words (never a raw internal error:
//! those are logged and the page says only that something failed).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::templates::ErrorPage;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in (or the session's seat was revoked): go to the sign-in page.
    #[error("sign in first")]
    SignIn { seller: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests: {0}")]
    TooMany(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type WebResult<T> = Result<T, WebError>;

impl From<tollgate_registry::Error> for WebError {
    fn from(e: tollgate_registry::Error) -> Self {
        use tollgate_registry::Error as E;
        match e {
            E::NotFound(what) => Self::NotFound(format!("{what} was not found")),
            E::Conflict(why) => Self::Conflict(why),
            E::Invalid(why) => Self::BadRequest(why),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<tower_sessions::session::Error> for WebError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title) = match &self {
            Self::SignIn { seller } => {
                return Redirect::to(&format!("/{seller}/login")).into_response();
            }
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "Cannot do that"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "Cannot do that"),
            Self::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
            Self::Internal(e) => {
                tracing::error!(error = %e, "web page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
            }
        };
        let message = match &self {
            Self::Internal(_) => {
                "The server could not show this page. It is logged; try again.".to_owned()
            }
            other => other.to_string(),
        };
        let page = ErrorPage {
            title,
            message: &message,
        };
        (status, crate::templates::html(&page)).into_response()
    }
}

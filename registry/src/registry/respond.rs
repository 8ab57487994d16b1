//! The answer every protocol gives to an allowed download: a redirect to the store's
//! short-lived URL, or the bytes streamed with their length. Protocols add only their content
//! type and headers.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Delivery;
use super::download::Download;

impl Download {
    /// The response: `headers` (the protocol's content type and extras) go with streamed bytes;
    /// a redirect carries only its `Location` (the client drops its token for the other host).
    pub fn into_response(self, headers: HeaderMap) -> Response {
        match self.delivery {
            Delivery::Redirect(url) => match HeaderValue::from_str(&url) {
                Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            },
            Delivery::Stream(blob) => {
                let mut response = (headers, Body::from_stream(blob.body)).into_response();
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(blob.size));
                response
            }
        }
    }
}

//! What the SDK's errors say: their message chain and the HTTP status behind them.

use aws_sdk_s3::error::SdkError;

pub(super) type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

/// An error and its sources, `a: b: c`, each message once (the SDK's own `DisplayErrorContext`
/// appends a debug dump).
pub(super) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

pub(super) fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

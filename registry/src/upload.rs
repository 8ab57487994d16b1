//! Every write reads its body the same way, for every protocol: who you are, then what you send.
//!
//! A protocol turns the request's headers into a [`Caller`]; [`Registry::upload`] checks the
//! token's kind (and its package scope when the URL names the package) and the declared
//! `Content-Length` against the limit. Only the resulting [`Upload`] can read the body, under the
//! same limit and a deadline. So a request without a publish token, or one announcing too many
//! bytes, is answered before a byte of its body is read, and costs no memory.

use std::fmt::Display;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body::Body;
use http_body_util::BodyExt;
use tokio::time::{Instant, timeout};

use crate::domain::PackageRef;
use crate::domain::TokenKind;
use crate::registry::Caller;
use crate::{Error, Result};

/// A body that sends nothing for this long is abandoned.
pub const BODY_IDLE: Duration = Duration::from_secs(30);
/// Every body may take this long, plus the time its size needs at [`MIN_RATE`].
pub const BODY_GRACE: Duration = Duration::from_secs(60);
/// The slowest transfer rate accepted beyond the grace period, in bytes per second.
pub const MIN_RATE: u64 = 32 * 1024;
/// The most memory reserved up front for a body, whatever it announces.
const MAX_RESERVE: usize = 8 * 1024 * 1024;

/// Leave to read one request's body: a publish token of the seller whose URL was asked, and an
/// announced length within the limit. See the module documentation.
#[derive(Debug)]
pub struct Upload {
    caller: Caller,
    limit: usize,
    declared: Option<u64>,
}

impl Upload {
    /// The first step of every write. `package` is the package the URL names, when it names one
    /// (npm, dist-tags, yanks); where the name travels inside the body (cargo, gem, Hex), the
    /// protocol checks the scope with [`check_publish`] as soon as it has read the name.
    pub fn permit(
        caller: Caller,
        package: Option<&PackageRef>,
        headers: &HeaderMap,
        limit: usize,
    ) -> Result<Upload> {
        match package {
            Some(package) => check_publish(&caller, package)?,
            None => check_publish_kind(&caller)?,
        }
        let declared = declared_length(headers)?;
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        Ok(Upload {
            caller,
            limit,
            declared,
        })
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Reads the whole body, refusing at the first byte past the limit, and giving up on a
    /// client that stalls for [`BODY_IDLE`] or sends slower than [`MIN_RATE`] overall.
    pub async fn read<B>(self, mut body: B) -> Result<(Caller, Bytes)>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Display,
    {
        let expected = self.declared.unwrap_or(self.limit as u64);
        let deadline = Instant::now() + BODY_GRACE + Duration::from_secs(expected / MIN_RATE);
        let reserve = self
            .declared
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
            .min(MAX_RESERVE);
        let mut buf = BytesMut::with_capacity(reserve);
        loop {
            let wait = BODY_IDLE.min(deadline.saturating_duration_since(Instant::now()));
            let frame = match timeout(wait, body.frame()).await {
                Err(_) => return Err(stalled()),
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    return Err(Error::Invalid(format!(
                        "could not read the request body: {e}"
                    )));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > self.limit {
                    return Err(too_large(self.limit));
                }
                buf.extend_from_slice(&data);
            }
        }
        if self.declared.is_some_and(|n| n != buf.len() as u64) {
            return Err(Error::Invalid(
                "the request body is shorter than its Content-Length".into(),
            ));
        }
        Ok((self.caller, buf.freeze()))
    }
}

/// Only publish tokens write.
pub fn check_publish_kind(caller: &Caller) -> Result<()> {
    let token = &caller.0;
    if token.kind != TokenKind::Publish {
        return Err(Error::Forbidden(format!(
            "a {} token cannot publish; use a publish token (`tollgate token create --publish`)",
            token.kind.as_str()
        )));
    }
    Ok(())
}

/// May `caller` publish `package`? Only a publish token of the package's seller (the protocol
/// authenticated it against the seller in the URL), within its package scope if it has one.
pub fn check_publish(caller: &Caller, package: &PackageRef) -> Result<()> {
    check_publish_kind(caller)?;
    let token = &caller.0;
    if !token.packages.is_empty() && !token.packages.contains(package) {
        return Err(Error::Forbidden(format!(
            "this publish token is limited to {} and may not publish {}",
            token
                .packages
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            package
        )));
    }
    Ok(())
}

/// The `Content-Length` a request announces; one that is not a number is refused.
fn declared_length(headers: &HeaderMap) -> Result<Option<u64>> {
    let Some(value) = headers.get(CONTENT_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| Error::Invalid("the Content-Length header is not a number".into()))
}

fn too_large(limit: usize) -> Error {
    Error::TooLarge(format!(
        "the upload is larger than this registry accepts ({} at most; the operator sets TOLLGATE_MAX_UPLOAD_MB)",
        human(limit)
    ))
}

fn stalled() -> Error {
    Error::Invalid(format!(
        "the request body arrived too slowly (nothing for {} s, or under {} KiB/s); try again",
        BODY_IDLE.as_secs(),
        MIN_RATE / 1024
    ))
}

/// `268435456` → `256 MiB`, `65536` → `64 KiB`.
fn human(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests;

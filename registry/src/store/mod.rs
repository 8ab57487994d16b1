//! The package store: bytes addressed by sha256, one store for every ecosystem.
//! `Store::Fs` keeps them under the data directory; `Store::S3` in an S3-compatible bucket.
//! [`Store::connect`] picks one from `TOLLGATE_STORE` (`s3://bucket/prefix`, `file:///path` or a
//! bare path).

mod blob;
mod fs;
mod s3;

use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncRead;

pub use blob::{BlobStream, StoredBlob};
pub use fs::FsStore;
pub use s3::{S3Settings, S3Store};

use crate::time::Timestamp;
use crate::{Error, Result};

/// The store, chosen by configuration.
#[derive(Debug, Clone)]
pub enum Store {
    Fs(FsStore),
    S3(S3Store),
}

/// Where `TOLLGATE_STORE` points, before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    Fs(PathBuf),
    /// `prefix` has no leading or trailing `/` and may be empty.
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl StoreSpec {
    /// `s3://bucket[/prefix]`, `file:///path` (or `file://localhost/path`) or a bare path.
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = |why: &str| Error::Invalid(format!("TOLLGATE_STORE={spec}: {why}"));
        if spec.is_empty() {
            return Err(bad("empty; use s3://bucket/prefix, file:///path or a path"));
        }
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("no bucket name; use s3://bucket/prefix"));
            }
            if !bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            {
                return Err(bad(&format!(
                    "{bucket:?} is not a bucket name (letters, digits, '.', '-')"
                )));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(str::is_empty) && !prefix.is_empty() {
                return Err(bad("the prefix has an empty segment (`//`)"));
            }
            if prefix.contains(['?', '#']) || prefix.chars().any(char::is_control) {
                return Err(bad(
                    "the prefix may not contain '?', '#' or control characters",
                ));
            }
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
            });
        }
        if let Some(rest) = spec.strip_prefix("file://") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(bad("a file URL needs an absolute path: file:///path"));
            }
            let path = percent_encoding::percent_decode_str(path)
                .decode_utf8()
                .map_err(|_| bad("the path is not UTF-8 once percent-decoded"))?;
            return Ok(Self::Fs(PathBuf::from(path.as_ref())));
        }
        if let Some((scheme, _)) = spec.split_once("://") {
            return Err(bad(&format!(
                "unsupported scheme {scheme}://; use s3://bucket/prefix, file:///path or a path"
            )));
        }
        if spec.starts_with("s3:") {
            return Err(bad("use s3://bucket/prefix"));
        }
        Ok(Self::Fs(PathBuf::from(spec)))
    }
}

impl Store {
    /// Opens the store `spec` points at (the value of `TOLLGATE_STORE`), reading the S3 settings
    /// from the environment (see [`S3Settings::from_env`]). An S3 bucket is checked with
    /// HeadBucket, so a missing bucket, rejected credentials or an unreachable endpoint fail here
    /// with a message naming them. A filesystem store is not touched.
    ///
    /// (Named `connect`, not `open`: [`Store::open`] opens a blob.)
    pub async fn connect(spec: &str) -> Result<Store> {
        Self::connect_with_env(spec, |name| std::env::var(name).ok()).await
    }

    /// [`Store::connect`] with the environment given as a lookup function (for tests).
    pub async fn connect_with_env(
        spec: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Store> {
        match StoreSpec::parse(spec)? {
            StoreSpec::Fs(path) => Ok(Self::Fs(FsStore::new(path))),
            StoreSpec::S3 { bucket, prefix } => {
                let settings = S3Settings::from_env(bucket, prefix, env)
                    .map_err(|e| Error::Invalid(format!("TOLLGATE_STORE={spec}: {e}")))?;
                S3Store::connect(settings)
                    .await
                    .map(Self::S3)
                    .map_err(|e| match e {
                        Error::Store(m) => Error::Store(format!("TOLLGATE_STORE={spec}: {m}")),
                        other => other,
                    })
            }
        }
    }

    /// Streams `reader` into the store, hashing on the way; create-only.
    pub async fn put(&self, reader: impl AsyncRead + Unpin + Send) -> Result<StoredBlob> {
        match self {
            Self::Fs(s) => s.put(reader).await,
            Self::S3(s) => s.put(reader).await,
        }
    }

    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<StoredBlob> {
        self.put(bytes).await
    }

    /// Opens a blob for streaming; `Error::NotFound` if absent.
    pub async fn open(&self, sha256: &str) -> Result<BlobStream> {
        match self {
            Self::Fs(s) => s.open(sha256).await,
            Self::S3(s) => s.open(sha256).await,
        }
    }

    /// Whether the store can be used right now (for `/readyz`): the folder is writable, or the
    /// bucket answers HeadBucket.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Self::Fs(s) => s.ping().await,
            Self::S3(s) => s.ping().await,
        }
    }

    /// A URL that lets anyone GET the blob for `ttl` (S3), or `None` (filesystem). The blob's
    /// existence is not checked: the caller has already found the release that names it.
    pub async fn presigned_get(&self, sha256: &str, ttl: Duration) -> Result<Option<String>> {
        match self {
            Self::Fs(_) => Ok(None),
            Self::S3(s) => s.presigned_get(sha256, ttl).await.map(Some),
        }
    }

    /// Every blob in the store with the time it was last written, for `tollgate gc`.
    pub async fn list_blobs(&self) -> Result<Vec<(String, Timestamp)>> {
        match self {
            Self::Fs(s) => s.list_blobs().await,
            Self::S3(s) => s.list_blobs().await,
        }
    }

    /// Deletes a blob; deleting one that is absent succeeds.
    pub async fn delete_blob(&self, sha256: &str) -> Result<()> {
        match self {
            Self::Fs(s) => s.delete_blob(sha256).await,
            Self::S3(s) => s.delete_blob(sha256).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(bucket: &str, prefix: &str) -> StoreSpec {
        StoreSpec::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn parses_store_specs() {
        let ok = |s: &str| StoreSpec::parse(s).expect(s);
        assert_eq!(ok("s3://bucket"), s3("bucket", ""));
        assert_eq!(ok("s3://bucket/"), s3("bucket", ""));
        assert_eq!(
            ok("s3://my-bucket.x/tollgate"),
            s3("my-bucket.x", "tollgate")
        );
        assert_eq!(ok("s3://b/a/b/c/"), s3("b", "a/b/c"));
        assert_eq!(ok("s3://b//a"), s3("b", "a"));
        assert_eq!(
            ok("file:///var/lib/tg"),
            StoreSpec::Fs("/var/lib/tg".into())
        );
        assert_eq!(
            ok("file://localhost/var/my%20store"),
            StoreSpec::Fs("/var/my store".into())
        );
        assert_eq!(ok("/data/store"), StoreSpec::Fs("/data/store".into()));
        assert_eq!(ok("relative/dir"), StoreSpec::Fs("relative/dir".into()));
        assert_eq!(ok("./s3:thing"), StoreSpec::Fs("./s3:thing".into()));
    }

    #[test]
    fn rejects_bad_store_specs() {
        for (spec, says) in [
            ("", "empty"),
            ("s3://", "no bucket"),
            ("s3:///prefix", "no bucket"),
            ("s3://bad bucket/x", "not a bucket name"),
            ("s3://b/a//c", "empty segment"),
            ("s3://b/a?x=1", "may not contain"),
            ("s3:bucket", "s3://bucket/prefix"),
            ("file://relative/path", "absolute path"),
            ("gs://bucket", "unsupported scheme gs://"),
        ] {
            let err = StoreSpec::parse(spec).expect_err(spec).to_string();
            assert!(err.contains(says), "{spec}: {err}");
            assert!(err.starts_with(&format!("TOLLGATE_STORE={spec}:")), "{err}");
        }
    }

    #[test]
    fn s3_settings_from_env() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let s = S3Settings::from_env("b".into(), "p".into(), env(&[])).expect("defaults");
        assert_eq!(s.endpoint, None);
        assert!(!s.path_style);
        assert_eq!(s.region, "us-east-1");

        let s = S3Settings::from_env(
            "b".into(),
            "".into(),
            env(&[
                ("TOLLGATE_S3_ENDPOINT", "http://127.0.0.1:9000/"),
                ("AWS_REGION", "eu-west-3"),
            ]),
        )
        .expect("endpoint");
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s.path_style, "path-style by default with an endpoint");
        assert_eq!(s.region, "eu-west-3");

        let s = S3Settings::from_env(
            "b".into(),
            "".into(),
            env(&[
                (
                    "TOLLGATE_S3_ENDPOINT",
                    "https://acct.r2.cloudflarestorage.com",
                ),
                ("TOLLGATE_S3_PATH_STYLE", "false"),
                ("TOLLGATE_S3_REGION", "auto"),
                ("AWS_REGION", "eu-west-3"),
            ]),
        )
        .expect("r2");
        assert!(!s.path_style);
        assert_eq!(s.region, "auto");

        let s = S3Settings::from_env(
            "b".into(),
            "".into(),
            env(&[("TOLLGATE_S3_PATH_STYLE", "1")]),
        )
        .expect("path style");
        assert!(s.path_style);

        let err = S3Settings::from_env(
            "b".into(),
            "".into(),
            env(&[("TOLLGATE_S3_PATH_STYLE", "maybe")]),
        )
        .expect_err("bad bool")
        .to_string();
        assert!(err.contains("TOLLGATE_S3_PATH_STYLE"), "{err}");
        let err = S3Settings::from_env(
            "b".into(),
            "".into(),
            env(&[("TOLLGATE_S3_ENDPOINT", "127.0.0.1:9000")]),
        )
        .expect_err("no scheme")
        .to_string();
        assert!(err.contains("TOLLGATE_S3_ENDPOINT"), "{err}");
    }

    #[tokio::test]
    async fn open_picks_the_filesystem_for_paths() {
        let store = Store::connect_with_env("file:///nonexistent/tollgate", |_| None)
            .await
            .expect("fs");
        assert!(
            matches!(store, Store::Fs(ref s) if s.root() == std::path::Path::new("/nonexistent/tollgate"))
        );
        assert!(matches!(
            Store::connect_with_env("s3://", |_| None).await,
            Err(Error::Invalid(_))
        ));
    }
}

//! The package store: bytes addressed by sha256, one store for every ecosystem.
//! `Store::Fs` keeps them under the data directory; an S3 variant follows (issue 4).

mod fs;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use tokio::io::AsyncRead;

pub use fs::FsStore;

use crate::Result;

/// A blob that is durable in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
}

/// A blob being read: its size (for `Content-Length`) and its bytes as a stream.
pub struct BlobStream {
    pub size: u64,
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// The store, chosen by configuration.
#[derive(Debug, Clone)]
pub enum Store {
    Fs(FsStore),
}

impl Store {
    /// Streams `reader` into the store, hashing on the way; create-only.
    pub async fn put(&self, reader: impl AsyncRead + Unpin + Send) -> Result<StoredBlob> {
        match self {
            Self::Fs(s) => s.put(reader).await,
        }
    }

    pub async fn put_bytes(&self, bytes: &[u8]) -> Result<StoredBlob> {
        self.put(bytes).await
    }

    /// Opens a blob for streaming; `Error::NotFound` if absent.
    pub async fn open(&self, sha256: &str) -> Result<BlobStream> {
        match self {
            Self::Fs(s) => s.open(sha256).await,
        }
    }
}

/// `ab/cd/abcd…`: the content-addressed key of a blob, shared by every store.
pub(crate) fn blob_key(sha256: &str) -> Option<String> {
    let valid = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    valid.then(|| format!("blobs/sha256/{}/{}/{sha256}", &sha256[..2], &sha256[2..4]))
}

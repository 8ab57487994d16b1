//! What every store deals in: a stored blob, a blob being read, and the blob's key.

use bytes::Bytes;
use futures_util::stream::BoxStream;

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

/// `ab/cd/abcd…`: the content-addressed key of a blob, shared by every store.
pub(crate) fn blob_key(sha256: &str) -> Option<String> {
    let valid = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    valid.then(|| format!("blobs/sha256/{}/{}/{sha256}", &sha256[..2], &sha256[2..4]))
}

pub(super) fn rand_suffix() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

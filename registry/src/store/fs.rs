//! Filesystem store: blobs are written to a temporary file while being hashed, synced, then
//! hard-linked into `blobs/sha256/ab/cd/<hash>`. The link fails if the name exists, so a blob is
//! never overwritten; a crash leaves at most a stray temporary file.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{BlobStream, StoredBlob, blob_key};
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(super) async fn put(
        &self,
        mut reader: impl AsyncRead + Unpin + Send,
    ) -> Result<StoredBlob> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await?;
        let tmp = tmp_dir.join(format!("upload-{}", rand_suffix()));
        let result = self.write_and_commit(&mut reader, &tmp).await;
        // The temporary name is gone on success (hard link + unlink) and must go on failure.
        let _ = tokio::fs::remove_file(&tmp).await;
        result
    }

    async fn write_and_commit(
        &self,
        reader: &mut (impl AsyncRead + Unpin + Send),
        tmp: &Path,
    ) -> Result<StoredBlob> {
        let mut file = tokio::fs::File::create(tmp).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).await?;
            size += n as u64;
        }
        file.sync_all().await?;
        drop(file);
        let sha256 = hex::encode(hasher.finalize());
        let key = blob_key(&sha256).ok_or_else(|| Error::Invalid("bad digest".into()))?;
        let dest = self.root.join(key);
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        match tokio::fs::hard_link(tmp, &dest).await {
            Ok(()) => sync_dir(dest.parent()).await?,
            // Same hash, same bytes: the blob is already durable.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
        Ok(StoredBlob { sha256, size })
    }

    pub(super) async fn open(&self, sha256: &str) -> Result<BlobStream> {
        let key = blob_key(sha256).ok_or_else(|| Error::NotFound(format!("blob {sha256}")))?;
        let file = match tokio::fs::File::open(self.root.join(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(format!("blob {sha256}")));
            }
            Err(e) => return Err(e.into()),
        };
        let size = file.metadata().await?.len();
        Ok(BlobStream {
            size,
            body: Box::pin(ReaderStream::with_capacity(file, 64 * 1024)),
        })
    }
}

async fn sync_dir(dir: Option<&Path>) -> Result<()> {
    if let Some(dir) = dir {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    Ok(())
}

fn rand_suffix() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn put_is_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::Fs(FsStore::new(dir.path()));
        let a = store.put_bytes(b"hello").await.expect("put");
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let b = store.put_bytes(b"hello").await.expect("put again");
        assert_eq!(a, b);
        let mut blob = store.open(&a.sha256).await.expect("open");
        assert_eq!(blob.size, 5);
        let mut read = Vec::new();
        while let Some(chunk) = blob.body.next().await {
            read.extend_from_slice(&chunk.expect("chunk"));
        }
        assert_eq!(read, b"hello");
        assert!(
            std::fs::read_dir(dir.path().join("tmp"))
                .expect("tmp dir")
                .next()
                .is_none(),
            "no temporary files left"
        );
        assert!(matches!(
            store.open(&"0".repeat(64)).await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            store.open("../etc/passwd").await,
            Err(Error::NotFound(_))
        ));
    }
}

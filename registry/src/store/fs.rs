//! Filesystem store: blobs are written to a temporary file while being hashed, synced, then
//! hard-linked into `blobs/sha256/ab/cd/<hash>`. The link fails if the name exists, so a blob is
//! never overwritten; a crash leaves at most a stray temporary file.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::blob::{BlobStream, StoredBlob, blob_key, rand_suffix};
use crate::time::Timestamp;
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

impl FsStore {
    /// The folder exists (it is created if missing, as a first write would) and takes a file.
    pub(super) async fn ping(&self) -> Result<()> {
        let tmp_dir = self.root.join("tmp");
        let probe = tmp_dir.join(format!("ping-{}", rand_suffix()));
        let result = async {
            tokio::fs::create_dir_all(&tmp_dir).await?;
            tokio::fs::write(&probe, b"").await?;
            tokio::fs::remove_file(&probe).await
        }
        .await;
        result.map_err(|e| {
            Error::Store(format!(
                "the store folder {} is not writable: {e}",
                self.root.display()
            ))
        })
    }

    /// Every `blobs/sha256/ab/cd/<hash>` file with its modification time; stray names are skipped.
    pub(super) async fn list_blobs(&self) -> Result<Vec<(String, Timestamp)>> {
        let mut out = Vec::new();
        let top = self.root.join("blobs/sha256");
        for first in read_dir_names(&top, true).await? {
            for second in read_dir_names(&top.join(&first), true).await? {
                let dir = top.join(&first).join(&second);
                for name in read_dir_names(&dir, false).await? {
                    if blob_key(&name).as_deref()
                        != Some(format!("blobs/sha256/{first}/{second}/{name}").as_str())
                    {
                        continue;
                    }
                    let meta = match tokio::fs::metadata(dir.join(&name)).await {
                        Ok(m) => m,
                        // Deleted since it was listed.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e.into()),
                    };
                    let modified = meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .and_then(|d| i64::try_from(d.as_millis()).ok())
                        .map_or_else(Timestamp::now, Timestamp);
                    out.push((name, modified));
                }
            }
        }
        Ok(out)
    }

    /// Removes a blob; an absent one is not an error.
    pub(super) async fn delete_blob(&self, sha256: &str) -> Result<()> {
        let key = blob_key(sha256)
            .ok_or_else(|| Error::Invalid(format!("bad blob digest {sha256:?}")))?;
        match tokio::fs::remove_file(self.root.join(key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The names of the folders (`dirs`) or files in `dir` (none if it does not exist).
async fn read_dir_names(dir: &Path, dirs: bool) -> Result<Vec<String>> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        if entry.file_type().await?.is_dir() != dirs {
            continue;
        }
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

async fn sync_dir(dir: Option<&Path>) -> Result<()> {
    if let Some(dir) = dir {
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

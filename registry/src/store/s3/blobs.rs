//! Reading, presigning, listing and deleting stored blobs.

use aws_sdk_s3::presigning::PresigningConfig;
use std::time::Duration;

use super::S3Store;
use super::errors::status;
use crate::store::blob::{BlobStream, blob_key};
use crate::time::Timestamp;
use crate::{Error, Result};

impl S3Store {
    pub(in crate::store) async fn open(&self, sha256: &str) -> Result<BlobStream> {
        let key = self
            .blob_key(sha256)
            .ok_or_else(|| Error::NotFound(format!("blob {sha256}")))?;
        let object = match self
            .client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if status(&e) == Some(404) => {
                return Err(Error::NotFound(format!("blob {sha256}")));
            }
            Err(e) => return Err(self.fail("GetObject", &key, e)),
        };
        let size = object
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| {
                Error::Store(format!(
                    "S3 GetObject s3://{}/{key} answered without a length",
                    self.settings.bucket
                ))
            })?;
        let body = futures_util::stream::unfold(object.body, |mut body| async move {
            body.next()
                .await
                .map(|chunk| (chunk.map_err(std::io::Error::other), body))
        });
        Ok(BlobStream {
            size,
            body: Box::pin(body),
        })
    }

    pub(in crate::store) async fn presigned_get(
        &self,
        sha256: &str,
        ttl: Duration,
    ) -> Result<String> {
        let key = self
            .blob_key(sha256)
            .ok_or_else(|| Error::NotFound(format!("blob {sha256}")))?;
        let config = PresigningConfig::expires_in(ttl)
            .map_err(|e| Error::Invalid(format!("presigned URL lifetime {ttl:?}: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .presigned(config)
            .await
            .map_err(|e| self.fail("presign GetObject", &key, e))?;
        Ok(request.uri().to_owned())
    }

    pub(in crate::store) async fn list_blobs(&self) -> Result<Vec<(String, Timestamp)>> {
        let under = self.key("blobs/sha256/");
        let strip = self.key("");
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.settings.bucket)
                .prefix(&under)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| self.fail("ListObjectsV2", &under, e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let rel = key.strip_prefix(&strip).unwrap_or(key);
                let Some(hash) = rel.rsplit('/').next() else {
                    continue;
                };
                if blob_key(hash).as_deref() != Some(rel) {
                    continue;
                }
                let modified = object
                    .last_modified()
                    .and_then(|t| t.to_millis().ok())
                    .map_or_else(Timestamp::now, Timestamp);
                out.push((hash.to_owned(), modified));
            }
            token = page.next_continuation_token().map(str::to_owned);
            if !page.is_truncated().unwrap_or(false) || token.is_none() {
                return Ok(out);
            }
        }
    }

    pub(in crate::store) async fn delete_blob(&self, sha256: &str) -> Result<()> {
        let key = self
            .blob_key(sha256)
            .ok_or_else(|| Error::Invalid(format!("bad blob digest {sha256:?}")))?;
        self.client
            .delete_object()
            .bucket(&self.settings.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| self.fail("DeleteObject", &key, e))?;
        Ok(())
    }
}

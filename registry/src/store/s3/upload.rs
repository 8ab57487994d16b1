//! Uploads: hashed while they stream; small blobs go straight to their key, large ones through a
//! multipart upload to a temporary key, then copied to the final key (see the module above).

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::S3Store;
use super::errors::status;
use super::settings::MAX_PARTS;
use super::temp_upload::TempUpload;
use crate::store::blob::{StoredBlob, rand_suffix};
use crate::{Error, Result};

impl S3Store {
    pub(in crate::store) async fn put(
        &self,
        mut reader: impl AsyncRead + Unpin + Send,
    ) -> Result<StoredBlob> {
        let part_size = self.settings.part_size;
        let mut hasher = Sha256::new();
        let first = read_part(&mut reader, part_size, &mut hasher).await?;
        if first.len() < part_size {
            // The whole blob is in memory and hashed: straight to its final key.
            let sha256 = hex::encode(hasher.finalize());
            let size = first.len() as u64;
            let key = self
                .blob_key(&sha256)
                .ok_or_else(|| Error::Invalid("bad digest".into()))?;
            if !self.exists(&key).await? {
                self.put_create_only(&key, Bytes::from(first)).await?;
            }
            return Ok(StoredBlob { sha256, size });
        }
        let tmp = self.key(&format!("tmp/upload-{}", rand_suffix()));
        let mut upload = TempUpload {
            client: self.client.clone(),
            bucket: self.settings.bucket.clone(),
            key: tmp,
            upload_id: None,
            delete_object: true,
            armed: true,
        };
        let result = self
            .put_multipart(&mut reader, first, hasher, &mut upload)
            .await;
        upload.clean_up().await;
        result
    }

    async fn put_multipart(
        &self,
        reader: &mut (impl AsyncRead + Unpin + Send),
        first: Vec<u8>,
        mut hasher: Sha256,
        upload: &mut TempUpload,
    ) -> Result<StoredBlob> {
        let bucket = &self.settings.bucket;
        let part_size = self.settings.part_size;
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(&upload.key)
            .content_type("application/octet-stream")
            .send()
            .await
            .map_err(|e| self.fail("CreateMultipartUpload", &upload.key, e))?;
        let upload_id = created.upload_id().map(str::to_owned).ok_or_else(|| {
            Error::Store(format!(
                "S3 CreateMultipartUpload s3://{bucket}/{} answered no upload id",
                upload.key
            ))
        })?;
        upload.upload_id = Some(upload_id.clone());

        let mut parts = Vec::new();
        let mut size = 0u64;
        let mut part = first;
        let mut number = 1;
        while !part.is_empty() {
            let full = part.len() == part_size;
            size += part.len() as u64;
            let uploaded = self
                .client
                .upload_part()
                .bucket(bucket)
                .key(&upload.key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(Bytes::from(part)))
                .send()
                .await
                .map_err(|e| self.fail("UploadPart", &upload.key, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(uploaded.e_tag().map(str::to_owned))
                    .build(),
            );
            if !full {
                break;
            }
            if number == MAX_PARTS {
                return Err(Error::Invalid(format!(
                    "the upload is larger than {MAX_PARTS} parts of {part_size} bytes"
                )));
            }
            number += 1;
            part = read_part(reader, part_size, &mut hasher).await?;
        }
        self.client
            .complete_multipart_upload()
            .bucket(bucket)
            .key(&upload.key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.fail("CompleteMultipartUpload", &upload.key, e))?;
        upload.upload_id = None;

        let sha256 = hex::encode(hasher.finalize());
        let key = self
            .blob_key(&sha256)
            .ok_or_else(|| Error::Invalid("bad digest".into()))?;
        if !self.exists(&key).await? {
            self.copy_create_only(&upload.key, &key, size).await?;
        }
        Ok(StoredBlob { sha256, size })
    }

    async fn put_create_only(&self, key: &str, body: Bytes) -> Result<()> {
        let mut if_none_match = true;
        loop {
            let result = self
                .client
                .put_object()
                .bucket(&self.settings.bucket)
                .key(key)
                .content_type("application/octet-stream")
                .set_if_none_match(if_none_match.then(|| "*".to_owned()))
                .body(ByteStream::from(body.clone()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) => match status(&e) {
                    Some(412 | 409) => return self.confirm_exists("PutObject", key).await,
                    // A service without conditional writes: the key is the hash, so writing
                    // it again writes the same bytes.
                    Some(501) if if_none_match => if_none_match = false,
                    _ => return Err(self.fail("PutObject", key, e)),
                },
            }
        }
    }
}

/// Reads up to `limit` bytes (fewer only at the end of `reader`), hashing them. The buffer grows
/// with what arrives, so a small blob costs a small buffer; it never exceeds `limit`.
async fn read_part(
    reader: &mut (impl AsyncRead + Unpin + Send),
    limit: usize,
    hasher: &mut Sha256,
) -> Result<Vec<u8>> {
    let mut part: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    while part.len() < limit {
        let want = chunk.len().min(limit - part.len());
        let n = reader.read(&mut chunk[..want]).await?;
        if n == 0 {
            break;
        }
        if part.len() + n > part.capacity() {
            let target = (part.capacity() * 2).max(part.len() + n).min(limit);
            part.reserve_exact(target - part.len());
        }
        part.extend_from_slice(&chunk[..n]);
    }
    hasher.update(&part);
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn read_part_is_bounded_and_hashes() {
        let data = vec![7u8; 300_000];
        let mut reader = &data[..];
        let mut hasher = Sha256::new();
        let a = read_part(&mut reader, 200_000, &mut hasher)
            .await
            .expect("a");
        assert_eq!(a.len(), 200_000);
        assert!(a.capacity() <= 200_000, "capacity {}", a.capacity());
        let b = read_part(&mut reader, 200_000, &mut hasher)
            .await
            .expect("b");
        assert_eq!(b.len(), 100_000);
        let c = read_part(&mut reader, 200_000, &mut hasher)
            .await
            .expect("c");
        assert!(c.is_empty());
        assert_eq!(hasher.finalize()[..], Sha256::digest(&data)[..]);
    }
}

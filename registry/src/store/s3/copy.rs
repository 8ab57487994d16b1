//! Server-side copies to a final key, create-only: one CopyObject, or UploadPartCopy by ranges
//! above S3's single-request limit.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::S3Store;
use super::errors::status;
use super::settings::MAX_PARTS;
use super::temp_upload::TempUpload;
use crate::{Error, Result};

impl S3Store {
    pub(super) async fn copy_create_only(&self, from: &str, to: &str, size: u64) -> Result<()> {
        if size > self.settings.max_single_copy {
            return self.copy_in_parts(from, to, size).await;
        }
        let source = copy_source(&self.settings.bucket, from);
        let mut if_none_match = true;
        loop {
            let result = self
                .client
                .copy_object()
                .bucket(&self.settings.bucket)
                .key(to)
                .copy_source(&source)
                .set_if_none_match(if_none_match.then(|| "*".to_owned()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) => match status(&e) {
                    Some(412 | 409) => return self.confirm_exists("CopyObject", to).await,
                    Some(501) if if_none_match => if_none_match = false,
                    _ => return Err(self.fail("CopyObject", to, e)),
                },
            }
        }
    }

    /// A copy above S3's single-request limit: UploadPartCopy by ranges into a multipart upload
    /// at the final key, completed create-only.
    async fn copy_in_parts(&self, from: &str, to: &str, size: u64) -> Result<()> {
        let bucket = &self.settings.bucket;
        let part = self
            .settings
            .copy_part_size
            .max(size.div_ceil(MAX_PARTS as u64));
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(to)
            .content_type("application/octet-stream")
            .send()
            .await
            .map_err(|e| self.fail("CreateMultipartUpload", to, e))?;
        let upload_id = created.upload_id().map(str::to_owned).ok_or_else(|| {
            Error::Store(format!(
                "S3 CreateMultipartUpload s3://{bucket}/{to} answered no upload id"
            ))
        })?;
        // Never leaves the final key's upload open: aborted on error or drop, and an aborted
        // upload does not touch the object (so no object is deleted: `key` is not ours to drop).
        let mut guard = TempUpload {
            client: self.client.clone(),
            bucket: bucket.clone(),
            key: to.to_owned(),
            upload_id: Some(upload_id.clone()),
            delete_object: false,
            armed: true,
        };
        let result = async {
            let source = copy_source(bucket, from);
            let mut parts = Vec::new();
            let mut start = 0u64;
            let mut number = 1;
            while start < size {
                let end = (start + part).min(size) - 1;
                let copied = self
                    .client
                    .upload_part_copy()
                    .bucket(bucket)
                    .key(to)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .copy_source(&source)
                    .copy_source_range(format!("bytes={start}-{end}"))
                    .send()
                    .await
                    .map_err(|e| self.fail("UploadPartCopy", to, e))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(
                            copied
                                .copy_part_result()
                                .and_then(|r| r.e_tag())
                                .map(str::to_owned),
                        )
                        .build(),
                );
                start = end + 1;
                number += 1;
            }
            let completed = self
                .client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(to)
                .upload_id(&upload_id)
                .if_none_match("*")
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await;
            match completed {
                Ok(_) => Ok(true),
                Err(e) if matches!(status(&e), Some(412 | 409)) => Ok(false),
                Err(e) => Err(self.fail("CompleteMultipartUpload", to, e)),
            }
        }
        .await;
        match result {
            Ok(true) => {
                guard.armed = false;
                Ok(())
            }
            Ok(false) => {
                guard.clean_up().await;
                self.confirm_exists("CompleteMultipartUpload", to).await
            }
            Err(e) => {
                guard.clean_up().await;
                Err(e)
            }
        }
    }
}

/// `bucket/key` URL-encoded, as CopyObject's `x-amz-copy-source` wants it.
fn copy_source(bucket: &str, key: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(&format!("{bucket}/{key}"), KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_is_url_encoded() {
        assert_eq!(
            copy_source("b", "my prefix/tmp/upload-ab"),
            "b/my%20prefix/tmp/upload-ab"
        );
        assert_eq!(copy_source("b.x", "a+b/c"), "b.x/a%2Bb/c");
    }
}

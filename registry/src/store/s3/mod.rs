//! S3 store: blobs live at `{prefix}/blobs/sha256/ab/cd/<hash>` in one bucket of any
//! S3-compatible service (AWS, MinIO, R2, Ceph, moto…).
//!
//! An upload is hashed while it streams and never buffers more than one part:
//! - a blob smaller than one part is whole in memory once read, so its hash is known before it is
//!   sent: it is written straight to its final key, create-only (`If-None-Match: *`);
//! - a larger one goes, part by part, into a multipart upload at `{prefix}/tmp/upload-<random>`;
//!   once complete (and hashed) it is copied server-side to its final key, create-only, and the
//!   temporary object is deleted. On any error, or if the upload is dropped half-way, the multipart
//!   upload is aborted and the temporary object deleted.
//!
//! A final key that already exists is success without a write: the key is the hash of the bytes,
//! so the bytes there are the same. `If-None-Match: *` only guards concurrent writers of the same
//! blob; a service that ignores it overwrites identical bytes.

mod blobs;
mod copy;
mod errors;
mod settings;
mod temp_upload;
mod upload;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;

pub use settings::S3Settings;

use crate::store::blob::blob_key;
use crate::{Error, Result};
use errors::{HttpResponse, chain, status};
use settings::MIN_PART_SIZE;

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    settings: S3Settings,
}

impl S3Store {
    /// Builds the client and checks the bucket answers (HeadBucket), failing with a message that
    /// names the bucket, the endpoint and the setting to fix.
    pub async fn connect(settings: S3Settings) -> Result<Self> {
        if settings.part_size < MIN_PART_SIZE {
            return Err(Error::Invalid(format!(
                "S3 part size {} is below S3's minimum of 5 MiB",
                settings.part_size
            )));
        }
        if settings.copy_part_size < MIN_PART_SIZE as u64
            || settings.max_single_copy < settings.copy_part_size
        {
            return Err(Error::Invalid(
                "S3 copy part size must be at least 5 MiB and at most the single-copy limit".into(),
            ));
        }
        let store = Self {
            client: settings.client().await,
            settings,
        };
        store.ping().await?;
        Ok(store)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    /// HeadBucket, with the failure explained.
    pub(super) async fn ping(&self) -> Result<()> {
        let s = &self.settings;
        let bucket = &s.bucket;
        let service = s.service();
        let err = match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let detail = chain(&err);
        let message = match &err {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                let hint = if s.endpoint.is_some() {
                    "TOLLGATE_S3_ENDPOINT"
                } else {
                    "network"
                };
                if detail.contains("credentials") {
                    format!(
                        "no usable AWS credentials for bucket {bucket} at {service} (set \
                         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): {detail}"
                    )
                } else {
                    format!("cannot connect to {service} (check {hint}): {detail}")
                }
            }
            _ => {
                let response = err.raw_response();
                let status = response.map(|r| r.status().as_u16());
                let bucket_region = response
                    .and_then(|r| r.headers().get("x-amz-bucket-region"))
                    .filter(|r| *r != s.region);
                match (status, bucket_region) {
                    (_, Some(actual)) => format!(
                        "bucket {bucket} is in region {actual}, not {}: set \
                         TOLLGATE_S3_REGION={actual}",
                        s.region
                    ),
                    (Some(404), _) => format!("bucket {bucket} not found at {service}"),
                    (Some(401 | 403), _) => format!(
                        "credentials rejected by {service} for bucket {bucket} (or they may not \
                         use it): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    ),
                    (Some(code), _) => format!(
                        "bucket {bucket} at {service} answered HTTP {code} to HeadBucket: {detail}"
                    ),
                    (None, _) => format!("cannot use bucket {bucket} at {service}: {detail}"),
                }
            }
        };
        Err(Error::Store(message))
    }

    /// `{prefix}/{rel}`, or `rel` with no prefix.
    fn key(&self, rel: &str) -> String {
        if self.settings.prefix.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.settings.prefix)
        }
    }

    fn blob_key(&self, sha256: &str) -> Option<String> {
        blob_key(sha256).map(|k| self.key(&k))
    }

    fn fail<E>(&self, what: &str, key: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Error::Store(format!(
            "S3 {what} s3://{}/{key} at {} failed: {}",
            self.settings.bucket,
            self.settings.service(),
            chain(&err)
        ))
    }

    /// HeadObject: whether `key` exists.
    async fn exists(&self, key: &str) -> Result<bool> {
        match self
            .client
            .head_object()
            .bucket(&self.settings.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if status(&e) == Some(404) => Ok(false),
            Err(e) => Err(self.fail("HeadObject", key, e)),
        }
    }

    /// After a conditional write was refused: fine if the object is there (a concurrent writer of
    /// the same bytes won), an error otherwise.
    async fn confirm_exists(&self, what: &str, key: &str) -> Result<()> {
        if self.exists(key).await? {
            Ok(())
        } else {
            Err(Error::Store(format!(
                "S3 {what} s3://{}/{key} was refused as a conflict, yet the object is absent",
                self.settings.bucket
            )))
        }
    }
}

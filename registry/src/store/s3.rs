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

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use bytes::Bytes;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{BlobStream, StoredBlob, blob_key, rand_suffix};
use crate::time::Timestamp;
use crate::{Error, Result};

const MIB: usize = 1024 * 1024;
/// S3's smallest part (all but the last) and largest part count.
const MIN_PART_SIZE: usize = 5 * MIB;
const MAX_PARTS: i32 = 10_000;

/// Where the bucket is and how to talk to it. Credentials come from the AWS SDK's default chain
/// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, web identity, container/instance roles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// Custom endpoint (MinIO, R2, moto…), without a trailing `/`; `None` means AWS.
    pub endpoint: Option<String>,
    /// `http://host/bucket/key` instead of `http://bucket.host/key`.
    pub path_style: bool,
    pub region: String,
    /// Uploads at least this large go multipart, in parts of this size; the most an upload
    /// buffers. At least 5 MiB.
    pub part_size: usize,
    /// Blobs larger than this are copied to their final key part by part (S3 copies at most
    /// 5 GiB in one request).
    pub max_single_copy: u64,
    /// Part size of such a copy.
    pub copy_part_size: u64,
}

impl S3Settings {
    /// Defaults for `bucket`/`prefix`: AWS, `us-east-1`, 8 MiB parts.
    pub fn new(bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: None,
            path_style: false,
            region: "us-east-1".into(),
            part_size: 8 * MIB,
            max_single_copy: 5 * 1024 * 1024 * 1024,
            copy_part_size: 1024 * 1024 * 1024,
        }
    }

    /// Reads `TOLLGATE_S3_ENDPOINT` (optional URL), `TOLLGATE_S3_PATH_STYLE` (`true`/`1` or
    /// `false`/`0`; default true when an endpoint is set) and `TOLLGATE_S3_REGION` (else
    /// `AWS_REGION`, else `us-east-1`) through `env`. Empty values count as unset.
    pub fn from_env(
        bucket: String,
        prefix: String,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let var = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut settings = Self::new(bucket, prefix);
        if let Some(endpoint) = var("TOLLGATE_S3_ENDPOINT") {
            let endpoint = endpoint.trim().trim_end_matches('/');
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(Error::Invalid(format!(
                    "TOLLGATE_S3_ENDPOINT={endpoint}: must be an http:// or https:// URL"
                )));
            }
            settings.endpoint = Some(endpoint.to_owned());
        }
        settings.path_style = match var("TOLLGATE_S3_PATH_STYLE") {
            None => settings.endpoint.is_some(),
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(Error::Invalid(format!(
                        "TOLLGATE_S3_PATH_STYLE={v}: expected true/1 or false/0"
                    )));
                }
            },
        };
        if let Some(region) = var("TOLLGATE_S3_REGION").or_else(|| var("AWS_REGION")) {
            settings.region = region.trim().to_owned();
        }
        Ok(settings)
    }

    /// An S3 client for these settings (no request is made). Credentials are resolved lazily
    /// by the SDK's default chain.
    pub async fn client(&self) -> Client {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .http_client(http)
            .load()
            .await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(self.path_style)
            // Checksums only where S3 requires them: many S3-compatible services reject the
            // SDK's default CRC headers, and every blob is hashed (sha256) by us anyway.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Client::from_conf(config.build())
    }

    /// How the service is named in messages.
    fn service(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("AWS S3 ({})", self.region),
        }
    }
}

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

    pub(super) async fn put(
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

    async fn copy_create_only(&self, from: &str, to: &str, size: u64) -> Result<()> {
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

    pub(super) async fn open(&self, sha256: &str) -> Result<BlobStream> {
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

    pub(super) async fn presigned_get(&self, sha256: &str, ttl: Duration) -> Result<String> {
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

    pub(super) async fn list_blobs(&self) -> Result<Vec<(String, Timestamp)>> {
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

    pub(super) async fn delete_blob(&self, sha256: &str) -> Result<()> {
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

type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

/// An error and its sources, `a: b: c`, each message once (the SDK's own `DisplayErrorContext`
/// appends a debug dump).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
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

/// A multipart upload in progress, and the temporary object it becomes:
/// [`TempUpload::clean_up`] aborts the upload if it is still open and, if `delete_object`, deletes
/// the object; if the future owning it is dropped first, `Drop` does the same on a spawned task.
struct TempUpload {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
    /// False for an upload to a final key, which is never ours to delete.
    delete_object: bool,
    armed: bool,
}

impl TempUpload {
    async fn clean_up(&mut self) {
        self.armed = false;
        clean_up(
            self.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
            self.upload_id.take(),
            self.delete_object,
        )
        .await;
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(clean_up(
                self.client.clone(),
                std::mem::take(&mut self.bucket),
                std::mem::take(&mut self.key),
                self.upload_id.take(),
                self.delete_object,
            ));
        }
    }
}

async fn clean_up(
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
    delete_object: bool,
) {
    if let Some(id) = upload_id
        && let Err(e) = client
            .abort_multipart_upload()
            .bucket(&bucket)
            .key(&key)
            .upload_id(id)
            .send()
            .await
    {
        tracing::warn!(bucket, key, error = %chain(&e), "could not abort an S3 multipart upload");
    }
    if delete_object
        && let Err(e) = client
            .delete_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
    {
        tracing::warn!(bucket, key, error = %chain(&e), "could not delete a temporary S3 object");
    }
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

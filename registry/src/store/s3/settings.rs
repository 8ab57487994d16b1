//! Where the bucket is, how to reach it, and S3's part limits.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{
    BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::{Error, Result};

const MIB: usize = 1024 * 1024;
/// S3's smallest part (all but the last) and largest part count.
pub(super) const MIN_PART_SIZE: usize = 5 * MIB;
pub(super) const MAX_PARTS: i32 = 10_000;

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
    pub(super) fn service(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => endpoint.clone(),
            None => format!("AWS S3 ({})", self.region),
        }
    }
}

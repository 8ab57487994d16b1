//! Sealing and opening: XChaCha20-Poly1305 under one key, bound to what the value is and whose.

use std::ffi::OsString;
use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};

use super::binding::Binding;
use super::error::SecretError;
use super::key::{load_or_create, parse_key};
use super::source::{KEY_ENV, KEY_FILE, KeySource};

const VERSION: &str = "v2:";
/// The unbound format of earlier versions, opened only by [`bind_legacy`](super::bind_legacy).
const LEGACY: &str = "v1:";
pub(super) const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Seals and opens secrets with one key. Its `Debug` never shows the key, and each copy wipes
/// its key from memory when dropped.
#[derive(Clone)]
pub struct SecretBox {
    pub(super) cipher: XChaCha20Poly1305,
    source: KeySource,
}

impl SecretBox {
    /// A box with the given key.
    pub fn new(key: &[u8; 32]) -> Self {
        Self::with_source(key, KeySource::Given)
    }

    /// The box of this installation: the key from `TOLLGATE_SECRET_KEY` if it is set, else from
    /// `data_dir/secret.key`, which is created (mode 0600) when it does not exist yet.
    pub fn from_env_or_file(data_dir: &Path) -> Result<Self, SecretError> {
        Self::from_sources(std::env::var_os(KEY_ENV), data_dir)
    }

    pub(super) fn from_sources(
        env: Option<OsString>,
        data_dir: &Path,
    ) -> Result<Self, SecretError> {
        if let Some(value) = env {
            let value = value
                .into_string()
                .map_err(|_| SecretError::EnvKey("is not UTF-8 text".into()))?;
            let key = parse_key(&value).map_err(SecretError::EnvKey)?;
            return Ok(Self::with_source(&key, KeySource::Env));
        }
        let path = data_dir.join(KEY_FILE);
        let key = load_or_create(&path)?;
        Ok(Self::with_source(&key, KeySource::File(path)))
    }

    fn with_source(key: &[u8; 32], source: KeySource) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&(*key).into()),
            source,
        }
    }

    /// Where the key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Encrypts `plaintext` for `binding` under a fresh random nonce: `v2:<base64>`.
    pub fn seal(&self, binding: &Binding, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let payload = Payload {
            msg: plaintext,
            aad: binding.0.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("XChaCha20-Poly1305 seals anything shorter than 256 GiB");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION}{}", STANDARD.encode(sealed))
    }

    /// Decrypts what [`SecretBox::seal`] returned for the same `binding`, checking that it was
    /// sealed with this key, for this row and purpose, and not altered since.
    pub fn open(&self, binding: &Binding, sealed: &str) -> Result<Vec<u8>, SecretError> {
        if sealed.starts_with(LEGACY) {
            return Err(SecretError::Unbound);
        }
        let Some(encoded) = sealed.strip_prefix(VERSION) else {
            return Err(match sealed.split_once(':') {
                Some((version, _)) if is_version(version) => {
                    SecretError::UnsupportedVersion(version.to_owned())
                }
                _ => SecretError::Malformed("it does not start with v2:"),
            });
        };
        self.decrypt(encoded, binding.0.as_bytes())
    }

    /// Opens a value in the unbound `v1` format: only [`bind_legacy`](super::bind_legacy) does,
    /// once per value.
    pub(super) fn open_legacy(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let encoded = sealed
            .strip_prefix(LEGACY)
            .ok_or(SecretError::Malformed("it does not start with v1:"))?;
        self.decrypt(encoded, b"")
    }

    fn decrypt(&self, encoded: &str, aad: &[u8]) -> Result<Vec<u8>, SecretError> {
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed("it is not base64"))?;
        let Some((nonce, ciphertext)) = bytes.split_first_chunk::<NONCE_LEN>() else {
            return Err(SecretError::Malformed("it is too short"));
        };
        if ciphertext.len() < TAG_LEN {
            return Err(SecretError::Malformed("it is too short"));
        }
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        self.cipher
            .decrypt(&XNonce::from(*nonce), payload)
            .map_err(|_| SecretError::WrongKey(self.source.clone()))
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBox")
            .field("key", &"<redacted>")
            .field("source", &self.source)
            .finish()
    }
}

/// `v2`, `v10`: what a later format's prefix looks like.
fn is_version(s: &str) -> bool {
    s.strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()))
}

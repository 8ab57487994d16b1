//! Encryption at rest for the secrets Tollgate keeps in its database: sellers' Stripe secret keys
//! and webhook secrets, Hex RSA private keys, license signing keys.
//!
//! One 32-byte key seals them all, with XChaCha20-Poly1305 (an AEAD: a wrong key and an altered
//! value are both refused, never decrypted to garbage). Its 24-byte nonce is random per value, so
//! no counter needs to be kept across replicas or restarts.
//!
//! The key comes from `TOLLGATE_SECRET_KEY` (32 bytes as 64 hex digits or as base64), or else
//! from `<data dir>/secret.key`, created on first use with mode 0600 and never overwritten.
//! Several replicas must share one key, so they must set `TOLLGATE_SECRET_KEY`: a key file is
//! per host.
//!
//! Sealed text: `v2:<base64 (standard, padded) of nonce ‖ ciphertext ‖ tag>`, sealed with
//! associated data naming what the value is and whose ([`Binding`], e.g.
//! `stripe-secret-key:seller:42`): a value copied into another seller's row, or into another
//! column of the same row, does not open there.
//!
//! # The unbound `v1` format
//!
//! Earlier versions sealed without associated data (`v1:`). Nothing in a `v1` value says which
//! row it belongs to, so any rule that opens `v1` on read accepts a moved value too. Instead,
//! [`bind_legacy`] runs once at start-up (every command opens the database through it): it
//! opens each `v1` value in the rows that existed at the upgrade and reseals it in place as `v2`
//! for that row (compare-and-swap, so replicas starting together agree). After that no code path
//! opens `v1`: [`SecretBox::open`] refuses it, so a `v1` value kept from a backup cannot be planted
//! in another row. (Opening `v1` on every read and resealing on the next write would leave the
//! never-rewritten values, such as Hex signing keys, movable forever.)

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use chacha20poly1305::aead::{Aead as _, Payload};
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};

use crate::db::Db;
use crate::ids::SellerId;

/// The environment variable that holds the key.
pub const KEY_ENV: &str = "TOLLGATE_SECRET_KEY";
/// The key file's name inside the data directory, used when [`KEY_ENV`] is not set.
pub const KEY_FILE: &str = "secret.key";

const VERSION: &str = "v2:";
/// The unbound format of earlier versions, opened only by [`bind_legacy`].
const LEGACY: &str = "v1:";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Why the key could not be loaded, or a stored secret could not be opened.
///
/// Its own enum rather than a variant of [`crate::Error`]: these are the operator's
/// configuration errors (shown at start-up, or logged as internal errors at request time), never
/// something to tell a client.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `TOLLGATE_SECRET_KEY` is set but is not a 32-byte key.
    #[error(
        "{KEY_ENV} {0}; it must be 32 bytes written as 64 hex digits or as base64 \
         (make one with `openssl rand -base64 32`)"
    )]
    EnvKey(String),
    /// The key file exists but does not hold a key.
    #[error("the key file {} {why}; it must hold 32 bytes as base64 or 64 hex digits", path.display())]
    KeyFile { path: PathBuf, why: String },
    /// The key file could not be read or created.
    #[error("cannot {action} the key file {}: {source}", path.display())]
    KeyFileIo {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A stored value is not sealed text at all (truncated, or never sealed).
    #[error("a stored secret is malformed: {0}")]
    Malformed(&'static str),
    /// A stored value sealed by a newer Tollgate.
    #[error("a stored secret has format {0:?}, which this version of Tollgate cannot read")]
    UnsupportedVersion(String),
    /// A value in the unbound `v1` format that start-up could not rebind (see [`bind_legacy`]).
    #[error(
        "a stored secret is in the unbound v1 format: it is rebound to its row at start-up, \
         and this one could not be (sealed with another key, or planted from elsewhere)"
    )]
    Unbound,
    /// The key differs from the one the value was sealed with, or the value was sealed for
    /// another row or purpose, or altered: an AEAD cannot tell these apart.
    #[error("cannot decrypt a stored secret: {} differs from the one it was sealed with{}, \
        or the value belongs to another row", .0.describe(), .0.hint())]
    WrongKey(KeySource),
}

/// What a sealed value is and whose: the associated data it is sealed with, so that it opens
/// only where it was stored. One constructor per kind of stored secret, so the names are made
/// in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding(String);

impl Binding {
    /// The seller's own Stripe secret key (`seller_stripe.secret_key`).
    pub fn stripe_secret_key(seller: SellerId) -> Self {
        Self(format!("stripe-secret-key:seller:{seller}"))
    }

    /// The signing secret of the seller's own webhook endpoint (`seller_stripe.webhook_secret`).
    pub fn stripe_webhook_secret(seller: SellerId) -> Self {
        Self(format!("stripe-webhook-secret:seller:{seller}"))
    }

    /// The private half of the seller's key pair for `purpose` (`seller_keys.secret`).
    pub fn seller_key(purpose: &str, seller: SellerId) -> Self {
        Self(format!("seller-key:{purpose}:seller:{seller}"))
    }

    /// A short-lived token handed to a client rather than stored in a row (the sign-in page's
    /// anonymous CSRF token): bound to its purpose, so nothing else sealed opens as one.
    pub fn token(purpose: &str) -> Self {
        Self(format!("token:{purpose}"))
    }

    /// The associated data as text (for tests and logs: it is no secret).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the key of a [`SecretBox`] came from, for error messages and the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `TOLLGATE_SECRET_KEY` environment variable.
    Env,
    /// A key file (found or created).
    File(PathBuf),
    /// Given by the program ([`SecretBox::new`]), as in tests.
    Given,
}

impl KeySource {
    fn describe(&self) -> String {
        match self {
            Self::Env => KEY_ENV.to_owned(),
            Self::File(path) => format!("the key in {}", path.display()),
            Self::Given => "the key".to_owned(),
        }
    }

    fn hint(&self) -> String {
        match self {
            Self::File(_) => format!(" (was {KEY_ENV} set when it was stored?)"),
            Self::Env | Self::Given => String::new(),
        }
    }
}

/// Seals and opens secrets with one key. Its `Debug` never shows the key, and each copy wipes
/// its key from memory when dropped.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
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

    fn from_sources(env: Option<OsString>, data_dir: &Path) -> Result<Self, SecretError> {
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

    /// Opens a value in the unbound `v1` format: only [`bind_legacy`] does, once per value.
    fn open_legacy(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
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

/// Reseals, in place, every value still in the unbound `v1` format as `v2` for the row it is
/// in (see the module docs); returns how many were rebound. A value that does not open with this
/// key is left as it is (it could not be read before either) and named in the log. Each update
/// is a compare-and-swap on the old value, so servers starting together rebind each value once.
pub async fn bind_legacy(db: &Db, secrets: &SecretBox) -> crate::Result<usize> {
    let mut rebound = 0;
    for cell in db.legacy_sealed().await? {
        let binding = cell.binding();
        match secrets.open_legacy(&cell.value) {
            Ok(plaintext) => {
                let sealed = secrets.seal(&binding, &plaintext);
                if db.reseal(&cell, &sealed).await? {
                    rebound += 1;
                }
            }
            Err(e) => tracing::warn!(
                secret = binding.as_str(),
                error = %e,
                "a stored secret in the old unbound format cannot be opened; left as it is"
            ),
        }
    }
    if rebound > 0 {
        tracing::info!(
            rebound,
            "stored secrets resealed, each bound to its row (format v2)"
        );
    }
    Ok(rebound)
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

/// 32 bytes from 64 hex digits or from base64 (standard or URL-safe alphabet, padded or not).
/// The error says what is wrong without repeating the value.
fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("is set but empty (unset it to use the key file instead)".into());
    }
    // 32 bytes in base64 are 43 or 44 characters, which may all happen to be hex digits.
    let base64_length = matches!(text.len(), 43 | 44);
    let bytes = if text.bytes().all(|b| b.is_ascii_hexdigit()) && !base64_length {
        if text.len() != 64 {
            return Err(format!("is {} hex digits, not 64", text.len()));
        }
        hex::decode(text).map_err(|_| "is not hex".to_owned())?
    } else {
        let standard: String = text
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        STANDARD_NO_PAD.decode(standard).map_err(|_| {
            format!(
                "is neither 64 hex digits nor base64 ({} characters)",
                text.chars().count()
            )
        })?
    };
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("decodes to {} bytes, not 32", bytes.len()))
}

/// Reads the key file, or creates it if it does not exist. Creation writes a temporary file
/// (mode 0600, synced) and hard-links it into place: the link fails rather than replace an
/// existing file, so two processes starting at once agree on one key, and a crash never leaves
/// a half-written key file. (The data directory holds the SQLite database too, so it is on a
/// local filesystem, which has hard links.)
fn load_or_create(path: &Path) -> Result<[u8; 32], SecretError> {
    if let Some(key) = read_key_file(path)? {
        return Ok(key);
    }
    let io_error = |action: &'static str| {
        move |source| SecretError::KeyFileIo {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error("create the folder of"))?;
    let key: [u8; 32] = rand::random();
    let tmp = dir.join(format!(
        ".{KEY_FILE}.{}.tmp",
        hex::encode(rand::random::<[u8; 8]>())
    ));
    let written = write_private(&tmp, format!("{}\n", STANDARD.encode(key)).as_bytes());
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    // The temporary name is never needed again, whatever happened.
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir);
            tracing::info!(path = %path.display(), "created a new secret key file; back it up");
            Ok(key)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read_key_file(path)?.ok_or_else(|| io_error("read")(io::ErrorKind::NotFound.into()))
        }
        Err(e) => Err(io_error("create")(e)),
    }
}

/// The key in `path`, or `None` if there is no such file.
fn read_key_file(path: &Path) -> Result<Option<[u8; 32]>, SecretError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SecretError::KeyFileIo {
                action: "read",
                path: path.to_owned(),
                source,
            });
        }
    };
    warn_if_shared(path);
    parse_key(&text)
        .map(Some)
        .map_err(|why| SecretError::KeyFile {
            path: path.to_owned(),
            why,
        })
}

/// Creates `path` (which must not exist) readable by its owner only, and syncs its contents.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes the new directory entry durable (best effort: some filesystems refuse).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A key file others can read is worth a warning, not a refusal: the operator may have reasons
/// (a group-readable secrets volume), but usually it is a mistake.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the secret key file is readable by other users; `chmod 600` it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn acme() -> Binding {
        Binding::stripe_secret_key(SellerId(42))
    }

    fn env(value: &str) -> Option<OsString> {
        Some(value.into())
    }

    #[test]
    fn seal_then_open_round_trips() {
        let secret_box = SecretBox::new(&KEY);
        for plaintext in [
            &b""[..],
            b"sk_test_123",
            &[0u8, 255, 10, 13],
            &[9u8; 100_000],
        ] {
            let sealed = secret_box.seal(&acme(), plaintext);
            assert!(sealed.starts_with("v2:"), "{sealed:.20}");
            assert_eq!(secret_box.open(&acme(), &sealed).expect("opens"), plaintext);
        }
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let secret_box = SecretBox::new(&KEY);
        assert_ne!(
            secret_box.seal(&acme(), b"same"),
            secret_box.seal(&acme(), b"same")
        );
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let secret_box = SecretBox::new(&KEY);
        let sealed = secret_box.seal(&acme(), b"whsec_abc");
        let bytes = STANDARD.decode(&sealed[3..]).expect("base64");
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 1;
            let text = format!("v2:{}", STANDARD.encode(&altered));
            assert!(
                matches!(
                    secret_box.open(&acme(), &text),
                    Err(SecretError::WrongKey(_))
                ),
                "byte {i}"
            );
        }
        let shortened = format!("v2:{}", STANDARD.encode(&bytes[..bytes.len() - 1]));
        assert!(secret_box.open(&acme(), &shortened).is_err());
    }

    #[test]
    fn a_wrong_key_says_so() {
        let sealed = SecretBox::new(&KEY).seal(&acme(), b"sk_live_x");
        let from_env =
            SecretBox::from_sources(env(&hex::encode([8u8; 32])), Path::new("/nonexistent"))
                .expect("env key");
        let err = from_env.open(&acme(), &sealed).expect_err("wrong key");
        assert_eq!(
            err.to_string(),
            "cannot decrypt a stored secret: TOLLGATE_SECRET_KEY differs from the one it was \
             sealed with, or the value belongs to another row"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let from_file = SecretBox::from_sources(None, dir.path()).expect("file key");
        let err = from_file
            .open(&acme(), &sealed)
            .expect_err("wrong key")
            .to_string();
        assert!(
            err.contains(KEY_FILE) && err.contains("TOLLGATE_SECRET_KEY set"),
            "{err}"
        );
    }

    #[test]
    fn malformed_and_future_values_are_named() {
        let secret_box = SecretBox::new(&KEY);
        for (sealed, expected) in [
            ("", "does not start with v2:"),
            ("sk_live_plaintext", "does not start with v2:"),
            ("v2:%%%", "not base64"),
            ("v2:", "too short"),
            ("v2:AAAA", "too short"),
        ] {
            let err = secret_box
                .open(&acme(), sealed)
                .expect_err(sealed)
                .to_string();
            assert!(
                err.starts_with("a stored secret is malformed") && err.contains(expected),
                "{err}"
            );
        }
        let err = secret_box
            .open(&acme(), "v3:AAAA")
            .expect_err("v3")
            .to_string();
        assert!(
            err.contains("\"v3\"") && err.contains("cannot read"),
            "{err}"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let shown = format!("{:?}", SecretBox::new(&KEY));
        assert!(
            shown.contains("<redacted>") && !shown.contains("7, 7"),
            "{shown}"
        );
    }

    #[test]
    fn env_key_accepts_hex_and_base64() {
        let sealed = SecretBox::new(&KEY).seal(&acme(), b"x");
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
        let url_sealed = SecretBox::new(&[0xfb; 32]).seal(&acme(), b"x");
        for (text, sealed) in [
            (hex::encode(KEY), &sealed),
            (hex::encode(KEY).to_uppercase(), &sealed),
            (STANDARD.encode(KEY), &sealed),
            (format!(" {}\n", STANDARD.encode(KEY)), &sealed),
            (STANDARD_NO_PAD.encode(KEY), &sealed),
            (url_safe, &url_sealed),
        ] {
            let secret_box =
                SecretBox::from_sources(env(&text), Path::new("/nonexistent")).expect(&text);
            assert_eq!(secret_box.source(), &KeySource::Env);
            assert_eq!(secret_box.open(&acme(), sealed).expect("same key"), b"x");
        }
    }

    #[test]
    fn env_key_errors_say_what_is_expected() {
        for (text, expected) in [
            ("", "is set but empty"),
            ("   ", "is set but empty"),
            ("not a key!", "neither 64 hex digits nor base64"),
            ("QUFB", "decodes to 3 bytes, not 32"),
            ("abcd", "is 4 hex digits, not 64"),
            (&hex::encode([1u8; 31]), "is 62 hex digits, not 64"),
            (&STANDARD.encode([1u8; 33]), "decodes to 33 bytes"),
        ] {
            let err = SecretBox::from_sources(env(text), Path::new("/nonexistent"))
                .expect_err(text)
                .to_string();
            assert!(err.starts_with("TOLLGATE_SECRET_KEY "), "{err}");
            assert!(err.contains(expected), "{err}");
            assert!(err.contains("64 hex digits or as base64"), "{err}");
        }
    }

    #[test]
    fn env_key_wins_over_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        SecretBox::from_sources(env(&hex::encode(KEY)), dir.path()).expect("env key");
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "no key file when the env sets one"
        );
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let first = SecretBox::from_sources(None, &data).expect("creates");
        let path = data.join(KEY_FILE);
        assert_eq!(first.source(), &KeySource::File(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).expect("key file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let contents = fs::read_to_string(&path).expect("key file");
        let sealed = first.seal(&acme(), b"rsa private key");
        let second = SecretBox::from_sources(None, &data).expect("reuses");
        assert_eq!(
            second.open(&acme(), &sealed).expect("same key"),
            b"rsa private key"
        );
        assert_eq!(fs::read_to_string(&path).expect("key file"), contents);
        let names: Vec<_> = fs::read_dir(&data)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, [KEY_FILE], "no temporary files left behind");
    }

    #[test]
    fn an_existing_key_file_is_used_never_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(KEY_FILE);
        fs::write(&path, format!("{}\n", hex::encode(KEY))).expect("write");
        let secret_box = SecretBox::from_sources(None, dir.path()).expect("reads");
        let sealed = SecretBox::new(&KEY).seal(&acme(), b"k");
        assert_eq!(secret_box.open(&acme(), &sealed).expect("same key"), b"k");

        fs::write(&path, "garbage").expect("write");
        let err = SecretBox::from_sources(None, dir.path())
            .expect_err("garbage")
            .to_string();
        assert!(
            err.contains(&path.display().to_string()) && err.contains("base64"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).expect("still there"), "garbage");
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let boxes: Vec<SecretBox> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| SecretBox::from_sources(None, dir.path())))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic").expect("key"))
                .collect()
        });
        let sealed = boxes[0].seal(&acme(), b"shared");
        for b in &boxes {
            assert_eq!(
                b.open(&acme(), &sealed).expect("one key for all"),
                b"shared"
            );
        }
    }

    #[test]
    fn a_value_opens_only_for_the_row_and_purpose_it_was_sealed_for() {
        let secret_box = SecretBox::new(&KEY);
        let sealed = secret_box.seal(&Binding::stripe_secret_key(SellerId(42)), b"sk_live_x");
        for elsewhere in [
            Binding::stripe_secret_key(SellerId(43)),
            Binding::stripe_secret_key(SellerId(4)),
            Binding::stripe_webhook_secret(SellerId(42)),
            Binding::seller_key("hex_rsa", SellerId(42)),
            Binding::seller_key("license_ed25519", SellerId(42)),
        ] {
            assert!(
                matches!(
                    secret_box.open(&elsewhere, &sealed),
                    Err(SecretError::WrongKey(_))
                ),
                "opened as {}",
                elsewhere.as_str()
            );
        }
        let hex = secret_box.seal(&Binding::seller_key("hex_rsa", SellerId(7)), b"pem");
        assert!(
            secret_box
                .open(&Binding::seller_key("license_ed25519", SellerId(7)), &hex)
                .is_err()
        );
        assert!(
            secret_box
                .open(&Binding::seller_key("hex_rsa", SellerId(8)), &hex)
                .is_err()
        );
        assert_eq!(
            secret_box
                .open(&Binding::seller_key("hex_rsa", SellerId(7)), &hex)
                .expect("its own row"),
            b"pem"
        );
    }

    #[test]
    fn bindings_name_purpose_and_owner() {
        assert_eq!(
            Binding::stripe_secret_key(SellerId(42)).as_str(),
            "stripe-secret-key:seller:42"
        );
        assert_eq!(
            Binding::stripe_webhook_secret(SellerId(42)).as_str(),
            "stripe-webhook-secret:seller:42"
        );
        assert_eq!(
            Binding::seller_key("hex_rsa", SellerId(42)).as_str(),
            "seller-key:hex_rsa:seller:42"
        );
        assert_eq!(Binding::token("csrf").as_str(), "token:csrf");
    }

    /// What earlier versions wrote: no associated data, `v1:`.
    fn seal_v1(secret_box: &SecretBox, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let ciphertext = secret_box
            .cipher
            .encrypt(&XNonce::from(nonce), plaintext)
            .expect("seal");
        format!("v1:{}", STANDARD.encode([&nonce[..], &ciphertext].concat()))
    }

    #[test]
    fn unbound_v1_values_open_only_through_the_start_up_rebinding() {
        let secret_box = SecretBox::new(&KEY);
        let old = seal_v1(&secret_box, b"sk_live_old");
        assert!(matches!(
            secret_box.open(&acme(), &old),
            Err(SecretError::Unbound)
        ));
        assert_eq!(
            secret_box.open_legacy(&old).expect("legacy"),
            b"sk_live_old"
        );
        assert!(
            SecretBox::new(&[8; 32]).open_legacy(&old).is_err(),
            "another key"
        );
        // v2 text is not v1.
        assert!(
            secret_box
                .open_legacy(&secret_box.seal(&acme(), b"x"))
                .is_err()
        );
    }

    #[tokio::test]
    async fn start_up_rebinds_old_values_to_their_rows_once() {
        use crate::db::{StoredKey, StripeConnection};
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&dir.path().join("t.db").display().to_string())
            .await
            .expect("db");
        let secret_box = SecretBox::new(&KEY);
        let acme = db
            .create_seller("acme", "Acme", "a@acme.example")
            .await
            .expect("seller");
        let globex = db
            .create_seller("globex", "Globex", "g@globex.example")
            .await
            .expect("seller");
        let old_key = seal_v1(&secret_box, b"sk_live_acme");
        db.set_stripe_connection(
            acme.id,
            &StripeConnection {
                secret_key: Some(old_key.clone()),
                account_id: None,
                webhook_secret: Some(seal_v1(&secret_box, b"whsec_acme")),
            },
        )
        .await
        .expect("stripe");
        db.insert_seller_key(
            acme.id,
            "hex_rsa",
            &StoredKey {
                secret: seal_v1(&secret_box, b"pem"),
                public: "public".into(),
            },
        )
        .await
        .expect("key");
        // Planted by hand with another key: left alone, still unreadable.
        let foreign = seal_v1(&SecretBox::new(&[9; 32]), b"x");
        db.insert_seller_key(
            globex.id,
            "hex_rsa",
            &StoredKey {
                secret: foreign.clone(),
                public: "public".into(),
            },
        )
        .await
        .expect("key");

        assert_eq!(bind_legacy(&db, &secret_box).await.expect("rebind"), 3);
        let stripe = db
            .stripe_connection(acme.id)
            .await
            .expect("read")
            .expect("row");
        let key = stripe.secret_key.expect("key");
        assert!(key.starts_with("v2:"), "{key}");
        assert_eq!(
            secret_box
                .open(&Binding::stripe_secret_key(acme.id), &key)
                .expect("bound to acme"),
            b"sk_live_acme"
        );
        assert!(
            secret_box
                .open(&Binding::stripe_secret_key(globex.id), &key)
                .is_err(),
            "moved to globex, it does not open"
        );
        let whsec = stripe.webhook_secret.expect("whsec");
        assert_eq!(
            secret_box
                .open(&Binding::stripe_webhook_secret(acme.id), &whsec)
                .expect("bound"),
            b"whsec_acme"
        );
        let hex = db
            .seller_key(acme.id, "hex_rsa")
            .await
            .expect("read")
            .expect("key");
        assert_eq!(
            secret_box
                .open(&Binding::seller_key("hex_rsa", acme.id), &hex.secret)
                .expect("bound"),
            b"pem"
        );
        let left = db
            .seller_key(globex.id, "hex_rsa")
            .await
            .expect("read")
            .expect("key");
        assert_eq!(left.secret, foreign);
        // Nothing left to do on the next start; the old text no longer opens anywhere.
        assert_eq!(bind_legacy(&db, &secret_box).await.expect("again"), 0);
        assert!(matches!(
            secret_box.open(&Binding::stripe_secret_key(acme.id), &old_key),
            Err(SecretError::Unbound)
        ));
    }
}

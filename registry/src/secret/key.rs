//! Reading the key: 32 bytes from the environment's text, or the key file (created once, 0600).

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::error::SecretError;
use super::source::KEY_FILE;

/// 32 bytes from 64 hex digits or from base64 (standard or URL-safe alphabet, padded or not).
/// The error says what is wrong without repeating the value.
pub(super) fn parse_key(text: &str) -> Result<[u8; 32], String> {
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
pub(super) fn load_or_create(path: &Path) -> Result<[u8; 32], SecretError> {
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

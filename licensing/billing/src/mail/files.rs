//! The file sink: each message as one `.eml` file (RFC 5322, as it would go over SMTP), for a
//! self-hosted instance without a mail server and for tests. Any mail client opens the files.

use std::path::{Path, PathBuf};

use super::error::MailError;

/// Writes `raw` into `dir` as `<UTC time>-<subject slug>-<random>.eml`, atomically: readers that
/// list `*.eml` never see a partial file (the temporary file is hidden, then renamed).
pub(crate) async fn write(dir: &Path, subject: &str, raw: &[u8]) -> Result<PathBuf, MailError> {
    let time = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ");
    // The random part keeps names apart when replicas share the directory; the time sorts them.
    let name = format!("{time}-{}-{}.eml", slug(subject), random_suffix());
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| MailError::Io { path, source }
    };
    write_private(&tmp, raw).await.map_err(io(&tmp))?;
    if let Err(e) = tokio::fs::rename(&tmp, &path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(io(&path)(e));
    }
    Ok(path)
}

/// Creates the file readable by its owner only (on Unix): mail holds sign-in links and tokens.
async fn write_private(path: &Path, raw: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt as _;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(raw).await?;
    file.sync_all().await
}

/// A file-name-safe form of the subject: ASCII letters and digits in lower case, every other run
/// of characters one `-`, at most 60 characters.
pub(crate) fn slug(subject: &str) -> String {
    let mut out = String::new();
    for c in subject.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "message".to_owned()
    } else {
        out.to_owned()
    }
}

pub(crate) fn random_suffix() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_short() {
        assert_eq!(
            slug("Your Acme Pro access from Acme, Inc."),
            "your-acme-pro-access-from-acme-inc"
        );
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("Über café — 東京"), "ber-caf");
        assert_eq!(slug("— 東京 —"), "message");
        assert_eq!(slug(""), "message");
        assert!(slug(&"a".repeat(500)).len() <= 60);
    }

    #[tokio::test]
    async fn writes_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "Same subject", b"one")
            .await
            .expect("write");
        let b = write(dir.path(), "Same subject", b"two")
            .await
            .expect("write");
        assert_ne!(
            a, b,
            "two messages with the same subject in the same instant"
        );
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".eml") && n.contains("-same-subject-")),
            "{names:?}"
        );
        assert_eq!(std::fs::read(&a).expect("read"), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&a)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }
}

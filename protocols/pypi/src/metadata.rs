//! Core metadata (`METADATA` in a wheel, `PKG-INFO` in an sdist): RFC 822 style headers, then
//! an optional body (the long description). Only the fields the index serves are kept; the
//! bytes are kept whole, since PEP 658 serves them as they are.

use serde::{Deserialize, Serialize};

/// The largest core metadata file read. Real ones are a few kilobytes, up to a few hundred
/// with a long README as the description.
pub const MAX_METADATA: u64 = 1 << 20;

/// The fields of a core metadata file that the index uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_dist: Vec<String>,
}

/// Reads the headers of a core metadata file, or says what is wrong with it (`what` names the
/// file in the sentence).
pub fn parse(bytes: &[u8], what: &str) -> Result<CoreMetadata, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8"))?;
    let mut meta = CoreMetadata::default();
    let mut current: Option<(String, String)> = None;
    let finish = |field: Option<(String, String)>, meta: &mut CoreMetadata| {
        if let Some((key, value)) = field {
            set(meta, &key, value.trim().to_owned());
        }
    };
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.as_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "{what} has a line that is not a `Field: value` header: '{}'",
                line.chars().take(60).collect::<String>()
            ));
        };
        finish(current.take(), &mut meta);
        current = Some((key.trim().to_ascii_lowercase(), value.to_owned()));
    }
    finish(current, &mut meta);
    for (field, value) in [
        ("Metadata-Version", &meta.metadata_version),
        ("Name", &meta.name),
        ("Version", &meta.version),
    ] {
        if value.is_empty() {
            return Err(format!("{what} has no {field} field"));
        }
    }
    Ok(meta)
}

fn set(meta: &mut CoreMetadata, key: &str, value: String) {
    match key {
        "metadata-version" => meta.metadata_version = value,
        "name" => meta.name = value,
        "version" => meta.version = value,
        "summary" => meta.summary = Some(value),
        "requires-python" => meta.requires_python = Some(value),
        "requires-dist" => meta.requires_dist.push(value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_the_index_serves() {
        let text = b"Metadata-Version: 2.1\nName: Acme-Pro\nVersion: 1.0.0\nSummary: Pro\n  tools\nRequires-Python: >=3.8\nRequires-Dist: acme-core>=1.0\nRequires-Dist: rich; extra == 'ui'\n\nName: not a header\n";
        let m = parse(text, "METADATA").expect("valid");
        assert_eq!(m.name, "Acme-Pro");
        assert_eq!(m.version, "1.0.0");
        assert_eq!(m.summary.as_deref(), Some("Pro\ntools"));
        assert_eq!(m.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(m.requires_dist.len(), 2);
    }

    #[test]
    fn says_what_is_missing() {
        let e = parse(b"Metadata-Version: 2.1\nName: a\n", "PKG-INFO").expect_err("no version");
        assert_eq!(e, "PKG-INFO has no Version field");
        assert!(parse(b"\xff\xfe", "METADATA").is_err());
        assert!(parse(b"garbage line\n", "METADATA").is_err());
    }
}

//! PEP 440 versions: parsed by `pep440_rs` (the parser uv uses), compared parsed (`1.0` is
//! `1.0.0`), and refused when local (`+…`), as the public index refuses them.

use std::str::FromStr;

use pep440_rs::Version;

/// The longest version string read.
const MAX_VERSION: usize = 64;

/// The parsed version of `text`, or the sentence that says why it is not one.
pub fn parse(text: &str) -> Result<Version, String> {
    if text.len() > MAX_VERSION {
        return Err(format!(
            "the version is {} characters; the most accepted is {MAX_VERSION}",
            text.len()
        ));
    }
    let version = Version::from_str(text)
        .map_err(|e| format!("'{text}' is an invalid version (PEP 440): {e}"))?;
    if !version.local().is_empty() {
        return Err(format!(
            "'{text}' is a local version (PEP 440 '+…'); local versions cannot be uploaded"
        ));
    }
    Ok(version)
}

/// The normalized spelling of a valid version (`1.0.0-RC1` → `1.0.0rc1`).
pub fn normalized(text: &str) -> Option<String> {
    parse(text).ok().map(|v| v.to_string())
}

/// Do two spellings name the same release (`1.0` and `1.0.0`)?
pub fn same(a: &str, b: &str) -> bool {
    matches!((parse(a), parse(b)), (Ok(a), Ok(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_parsed() {
        assert!(same("1.0", "1.0.0"));
        assert!(same("1.0.0-RC1", "1.0.0rc1"));
        assert!(!same("1.0", "1.0.1"));
        assert_eq!(normalized("1.0.0-RC1").as_deref(), Some("1.0.0rc1"));
    }

    #[test]
    fn refuses_local_and_invalid() {
        assert!(parse("1.0+local").is_err());
        assert!(parse("one").is_err());
        assert!(parse(&"1.".repeat(40)).is_err());
        assert!(parse("2!1.0.post1.dev3").is_ok());
    }
}

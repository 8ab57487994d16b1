//! The gem name rule, shared by the gemspec reader and the version/file-name splitter.

/// Longest accepted gem name.
pub const MAX_NAME: usize = 128;

/// RubyGems' name rule: letters, digits, `.`, `-`, `_`, with at least one letter or digit, at
/// most `MAX_NAME` bytes. Every name from a URL is checked with it before any lookup.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.bytes().any(|b| b.is_ascii_alphanumeric())
}

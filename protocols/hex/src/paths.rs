//! The path parameters of the Hex routes.

use serde::Deserialize;

/// Hex package names: a lowercase letter, then lowercase letters, digits and `_`, at most
/// [`MAX_NAME`] bytes. Checked before any lookup.
pub fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The longest package name accepted.
pub const MAX_NAME: usize = 100;

#[derive(Deserialize)]
pub struct SellerPath {
    pub seller: String,
}

#[derive(Deserialize)]
pub struct NamePath {
    pub seller: String,
    pub name: String,
}

#[derive(Deserialize)]
pub struct VersionPath {
    pub seller: String,
    pub name: String,
    pub version: String,
}

#[derive(Deserialize)]
pub struct FilePath {
    pub seller: String,
    pub file: String,
}

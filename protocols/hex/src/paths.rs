//! The path parameters of the Hex routes.

use serde::Deserialize;

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

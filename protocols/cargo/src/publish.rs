//! `cargo publish`'s body: `u32 LE` JSON length, the JSON metadata, `u32 LE` crate length, the
//! `.crate` (a gzipped tar). Checks it and turns it into the index line Cargo will read. Pure.
//!
//! Bounded: the metadata's size and shape are checked before serde reads it ([`json_shape`](tollgate_registry::json_shape)),
//! and the `.crate` is walked as a stream under limits on what it unpacks to ([`krate`]).
//! [`peek`] reads only the name and version, for the checks that come before the costly part.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::name::validate;

use tollgate_registry::json_shape;
pub mod krate;
mod toml_shape;

/// The largest JSON metadata accepted: crates.io's default upload limit, which it applies to
/// the metadata too. It carries the README, so it may be large, but not larger than this.
pub const MAX_METADATA: usize = 10 << 20;

/// The metadata may nest this deep (it is three levels deep: deps, a dep, its features).
const MAX_DEPTH: usize = 32;

/// The metadata may hold this many JSON values (counted as in [`json_shape`](tollgate_registry::json_shape), about two per
/// object field): the largest crates (a thousand features) hold tens of thousands; this many
/// (9 000 dependencies) cost some 20 MB parsed.
const MAX_VALUES: usize = 200_000;

/// `Cargo.toml` may hold this many values, keys and tables: the largest (a thousand features,
/// each listing a few others) hold a few thousand; parsed, 50 000 cost some 15 MB.
const MAX_MANIFEST_VALUES: usize = 50_000;

#[derive(Deserialize)]
struct Meta {
    name: String,
    vers: String,
    #[serde(default)]
    deps: Vec<Dep>,
    #[serde(default)]
    features: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    links: Option<String>,
    #[serde(default)]
    rust_version: Option<String>,
}

#[derive(Deserialize)]
struct Dep {
    name: String,
    version_req: String,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default = "yes")]
    default_features: bool,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    registry: Option<String>,
    #[serde(default)]
    explicit_name_in_toml: Option<String>,
}

fn yes() -> bool {
    true
}

/// A checked publish.
#[derive(Debug)]
pub struct Publish {
    pub name: String,
    pub version: semver::Version,
    /// The index line without `cksum`, `yanked` and `pubtime` (the registry adds those), plus
    /// `description` for search: stored as the release's metadata.
    pub metadata: Value,
    pub krate: Vec<u8>,
    pub sha256: String,
}

/// What [`peek`] reads: the crate name (checked) and version, from the metadata alone.
#[derive(Debug, PartialEq)]
pub struct Head {
    pub name: String,
    pub version: semver::Version,
}

/// The name and version the publish body claims, read from the JSON metadata alone: the
/// `.crate` is neither read nor inflated, so a handler can check the token's package scope
/// first. It needs only the body's first `4 + metadata length` bytes.
pub fn peek(body: &[u8]) -> Result<Head, String> {
    #[derive(Deserialize)]
    struct Named {
        name: String,
        vers: String,
    }
    let (json, _) = metadata_chunk(body)?;
    let named: Named = serde_json::from_slice(json)
        .map_err(|e| format!("the publish metadata is not valid: {e}"))?;
    validate(&named.name)?;
    let version = version(&named.vers)?;
    Ok(Head {
        name: named.name,
        version,
    })
}

/// Checks the whole body: metadata, then the `.crate` and its `Cargo.toml`.
pub fn parse(body: &[u8]) -> Result<Publish, String> {
    let (json, rest) = metadata_chunk(body)?;
    let (krate, rest) = chunk(rest, "crate")?;
    if !rest.is_empty() {
        return Err("the publish body has bytes after the crate file".into());
    }
    let meta: Meta = serde_json::from_slice(json)
        .map_err(|e| format!("the publish metadata is not valid: {e}"))?;
    validate(&meta.name)?;
    let version = version(&meta.vers)?;
    check_manifest(krate, &meta.name, &meta.vers)?;
    Ok(Publish {
        metadata: index_fields(&meta),
        name: meta.name,
        version,
        sha256: hex::encode(Sha256::digest(krate)),
        krate: krate.to_vec(),
    })
}

fn version(vers: &str) -> Result<semver::Version, String> {
    semver::Version::parse(vers).map_err(|e| format!("invalid version `{vers}`: {e}"))
}

/// The JSON metadata, its size and shape checked, and what follows it.
fn metadata_chunk(body: &[u8]) -> Result<(&[u8], &[u8]), String> {
    if let Some(len) = body.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
        let len = u32::from_le_bytes(len);
        if len as usize > MAX_METADATA {
            return Err(format!(
                "the publish metadata is {len} bytes; the most this registry accepts is {MAX_METADATA} (10 MiB)"
            ));
        }
    }
    let (json, rest) = chunk(body, "metadata")?;
    json_shape::check(json, "the publish metadata", MAX_DEPTH, MAX_VALUES)?;
    Ok((json, rest))
}

fn chunk<'a>(data: &'a [u8], what: &str) -> Result<(&'a [u8], &'a [u8]), String> {
    let truncated = || format!("the publish body is truncated (in the {what})");
    let len: [u8; 4] = data
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(truncated)?;
    let len = u32::from_le_bytes(len) as usize;
    let end = 4usize.checked_add(len).ok_or_else(truncated)?;
    let part = data.get(4..end).ok_or_else(truncated)?;
    Ok((part, &data[end..]))
}

/// The `Cargo.toml` inside the `.crate` must name the same crate and version.
fn check_manifest(krate: &[u8], name: &str, vers: &str) -> Result<(), String> {
    let prefix = format!("{name}-{vers}/");
    let wanted = format!("{prefix}Cargo.toml");
    let text = krate::manifest(krate, &prefix, krate::unpack_limit(krate.len()))?;
    toml_shape::check(&text, &wanted, MAX_MANIFEST_VALUES)?;
    // toml bounds nesting itself (inline tables, arrays and dotted keys alike).
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{wanted} is not valid TOML: {e}"))?;
    let package = manifest.get("package").and_then(|p| p.as_table());
    let field = |k: &str| package.and_then(|p| p.get(k)).and_then(|v| v.as_str());
    if field("name") != Some(name) || field("version") != Some(vers) {
        return Err(format!(
            "{wanted} names {}@{}, not {name}@{vers}",
            field("name").unwrap_or("?"),
            field("version").unwrap_or("?")
        ));
    }
    Ok(())
}

/// The index line's fields from the publish metadata (crates.io's conversion): deps renamed in
/// `Cargo.toml` keep the rename as `name` and the real crate as `package`; features using the
/// `dep:` or `?/` syntax go to `features2` (index format `v: 2`).
fn index_fields(meta: &Meta) -> Value {
    let deps: Vec<Value> = meta
        .deps
        .iter()
        .map(|d| {
            let (name, package) = match &d.explicit_name_in_toml {
                Some(rename) => (rename.clone(), Some(d.name.clone())),
                None => (d.name.clone(), None),
            };
            json!({
                "name": name, "req": d.version_req, "features": d.features,
                "optional": d.optional, "default_features": d.default_features,
                "target": d.target, "kind": d.kind.as_deref().unwrap_or("normal"),
                "registry": d.registry, "package": package,
            })
        })
        .collect();
    let (features2, features): (BTreeMap<_, _>, BTreeMap<_, _>) =
        meta.features.clone().into_iter().partition(|(_, values)| {
            values
                .iter()
                .any(|v| v.starts_with("dep:") || v.contains("?/"))
        });
    let mut line = Map::new();
    line.insert("name".into(), meta.name.clone().into());
    line.insert("vers".into(), meta.vers.clone().into());
    line.insert("deps".into(), deps.into());
    line.insert("features".into(), json!(features));
    if !features2.is_empty() {
        line.insert("features2".into(), json!(features2));
        line.insert("v".into(), 2.into());
    }
    line.insert("links".into(), json!(meta.links));
    if let Some(rv) = &meta.rust_version {
        line.insert("rust_version".into(), rv.clone().into());
    }
    json!({ "line": line, "description": meta.description })
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;

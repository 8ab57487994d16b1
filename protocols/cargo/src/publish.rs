//! `cargo publish`'s body: `u32 LE` JSON length, the JSON metadata, `u32 LE` crate length, the
//! `.crate` (a gzipped tar). Checks it and turns it into the index line Cargo will read. Pure.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::name::validate;

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

pub fn parse(body: &[u8]) -> Result<Publish, String> {
    let (json, rest) = chunk(body, "metadata")?;
    let (krate, rest) = chunk(rest, "crate")?;
    if !rest.is_empty() {
        return Err("the publish body has bytes after the crate file".into());
    }
    let meta: Meta = serde_json::from_slice(json)
        .map_err(|e| format!("the publish metadata is not valid: {e}"))?;
    validate(&meta.name)?;
    let version = semver::Version::parse(&meta.vers)
        .map_err(|e| format!("invalid version `{}`: {e}", meta.vers))?;
    check_manifest(krate, &meta.name, &meta.vers)?;
    Ok(Publish {
        metadata: index_fields(&meta),
        name: meta.name,
        version,
        sha256: hex::encode(Sha256::digest(krate)),
        krate: krate.to_vec(),
    })
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
    let bad = |e: std::io::Error| format!("the .crate file is not a valid gzipped tar: {e}");
    let wanted = format!("{name}-{vers}/Cargo.toml");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(krate));
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        if entry.path().map_err(bad)?.to_string_lossy() != wanted {
            continue;
        }
        let mut text = String::new();
        entry
            .take(1024 * 1024)
            .read_to_string(&mut text)
            .map_err(bad)?;
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
        return Ok(());
    }
    Err(format!("the .crate file has no {wanted}"))
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
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub fn krate(name: &str, vers: &str, toml_name: &str) -> Vec<u8> {
        let manifest = format!("[package]\nname = \"{toml_name}\"\nversion = \"{vers}\"\n");
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(manifest.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(
            &mut header,
            format!("{name}-{vers}/Cargo.toml"),
            manifest.as_bytes(),
        )
        .expect("tar entry");
        let tar = tar.into_inner().expect("tar");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).expect("gzip");
        gz.finish().expect("gzip")
    }

    pub fn body(meta: &Value, krate: &[u8]) -> Vec<u8> {
        let json = serde_json::to_vec(meta).expect("json");
        let mut out = (json.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&json);
        out.extend_from_slice(&(krate.len() as u32).to_le_bytes());
        out.extend_from_slice(krate);
        out
    }

    pub fn meta(name: &str, vers: &str) -> Value {
        json!({"name": name, "vers": vers, "deps": [
            {"name": "acme_macros", "version_req": "^1", "features": [], "optional": false,
             "default_features": true, "target": null, "kind": "normal", "registry": null,
             "explicit_name_in_toml": "macros"},
            {"name": "serde", "version_req": "^1", "features": ["derive"], "optional": true,
             "default_features": true, "target": null, "kind": "normal",
             "registry": "https://github.com/rust-lang/crates.io-index"}],
            "features": {"fast": [], "serde": ["dep:serde"]}, "description": "d",
            "rust_version": "1.70"})
    }

    #[test]
    fn accepts_a_cargo_publish() {
        let k = krate("acme-core", "1.0.0", "acme-core");
        let p = parse(&body(&meta("acme-core", "1.0.0"), &k)).expect("valid");
        assert_eq!(p.version.to_string(), "1.0.0");
        assert_eq!(p.krate, k);
        let line = &p.metadata["line"];
        assert_eq!(line["deps"][0]["name"], "macros");
        assert_eq!(line["deps"][0]["package"], "acme_macros");
        assert_eq!(line["deps"][0]["req"], "^1");
        assert_eq!(line["features"], json!({"fast": []}));
        assert_eq!(line["features2"], json!({"serde": ["dep:serde"]}));
        assert_eq!(line["v"], 2);
        assert_eq!(p.metadata["description"], "d");
    }

    #[test]
    fn refuses_bad_bodies() {
        let k = krate("acme-core", "1.0.0", "acme-core");
        let good = body(&meta("acme-core", "1.0.0"), &k);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 10].to_vec(), "truncated"),
            (vec![1, 2], "truncated"),
            ([good.clone(), vec![0]].concat(), "after the crate"),
            (body(&json!({"name": "acme-core"}), &k), "not valid"),
            (body(&meta("acme core", "1.0.0"), &k), "invalid crate name"),
            (body(&meta("acme-core", "1.0"), &k), "invalid version"),
            (
                body(&meta("acme-core", "1.0.0"), b"not gzip"),
                "not a valid gzipped tar",
            ),
            (
                body(
                    &meta("acme-core", "1.0.0"),
                    &krate("acme-core", "1.0.0", "other"),
                ),
                "names other",
            ),
            (
                body(&meta("acme-core", "1.0.1"), &k),
                "has no acme-core-1.0.1/Cargo.toml",
            ),
        ];
        for (bytes, text) in cases {
            let e = parse(&bytes).expect_err(text);
            assert!(e.contains(text), "{e} should mention {text}");
        }
    }
}

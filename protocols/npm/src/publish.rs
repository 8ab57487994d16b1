//! Parses and checks an `npm publish` body (libnpmpublish's PUT): one version, one `.tgz`
//! attachment whose length and digests must match what the manifest claims. Pure.
//!
//! Bounded: the body's size is the handler's limit; its shape (depth, number of values) is
//! checked before serde builds anything ([`json_shape`](tollgate_registry::json_shape)); the base64 tarball is borrowed from
//! the body, decoded once and never inflated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::name::{validate, validate_version};

use tollgate_registry::json_shape;

/// The publish document may nest this deep: a manifest is a few levels deep (`exports`
/// conditions are the deepest part), and serde's own limit is 128.
const MAX_DEPTH: usize = 64;

/// The publish document may hold this many JSON values besides the text of its strings: a
/// manifest with hundreds of dependencies and files holds a few thousand. Parsed, each value
/// costs tens of bytes, whatever it cost to send.
const MAX_VALUES: usize = 100_000;

#[derive(Deserialize)]
struct Body<'a> {
    name: Option<String>,
    #[serde(default)]
    versions: Map<String, Value>,
    #[serde(default, rename = "dist-tags")]
    dist_tags: Map<String, Value>,
    /// Borrowed from the request body: the base64 text is the largest part and is not copied.
    #[serde(default, rename = "_attachments", borrow)]
    attachments: BTreeMap<String, Attachment<'a>>,
}

#[derive(Deserialize)]
struct Attachment<'a> {
    #[serde(borrow)]
    data: Base64Text<'a>,
    length: Option<u64>,
}

/// The base64 text of an attachment, borrowed from the body. Base64 needs no JSON escapes;
/// text with them would have to be copied (several times over, as serde grows its buffer), so
/// it is refused, with a short message rather than serde's, which would quote the whole text.
struct Base64Text<'a>(&'a str);

impl<'de: 'a, 'a> Deserialize<'de> for Base64Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Borrowed;
        impl<'de> serde::de::Visitor<'de> for Borrowed {
            type Value = &'de str;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("base64 text")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<&'de str, E> {
                Ok(s)
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<&'de str, E> {
                Err(E::custom(
                    "the tarball attachment's base64 text has JSON escapes",
                ))
            }
        }
        d.deserialize_str(Borrowed).map(Base64Text)
    }
}

/// A checked publish, ready for the store and the database.
#[derive(Debug)]
pub struct Publish {
    pub name: String,
    pub version: String,
    /// The version's manifest as stored: the client's package.json with our `dist` digests.
    pub manifest: Value,
    pub tarball: Vec<u8>,
    pub sha256: String,
    pub tags: Vec<(String, String)>,
}

/// Parses the body of `PUT /{name}`. Errors are sentences npm prints after the status line.
pub fn parse(url_name: &str, body: &[u8]) -> Result<Publish, String> {
    json_shape::check(body, "the publish document", MAX_DEPTH, MAX_VALUES)?;
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| format!("the publish body is not a valid npm publish document: {e}"))?;
    let name = body.name.unwrap_or_else(|| url_name.to_owned());
    if name != url_name {
        return Err(format!(
            "the body names `{name}` but the URL names `{url_name}`"
        ));
    }
    validate(&name)?;
    if body.attachments.is_empty() {
        return Err("this registry only accepts publishes with a tarball; metadata updates (deprecate, unpublish) are not supported".into());
    }
    let mut versions = body.versions.into_iter();
    let (version, mut manifest) = match (versions.next(), versions.next()) {
        (Some(v), None) => v,
        _ => return Err("a publish must contain exactly one version".into()),
    };
    validate_version(&version)?;
    if manifest.get("name").and_then(Value::as_str) != Some(&name)
        || manifest.get("version").and_then(Value::as_str) != Some(&version)
    {
        return Err(format!(
            "the manifest of {version} does not name {name}@{version}"
        ));
    }
    let tarball = attachment(body.attachments)?;
    let integrity = format!("sha512-{}", BASE64.encode(Sha512::digest(&tarball)));
    let shasum = hex::encode(Sha1::digest(&tarball));
    let claimed = manifest.get("dist").cloned().unwrap_or(Value::Null);
    if let Some(c) = claimed.get("integrity").and_then(Value::as_str)
        && c != integrity
    {
        return Err(format!(
            "integrity mismatch: the manifest claims {c} but the tarball is {integrity}"
        ));
    }
    if let Some(c) = claimed.get("shasum").and_then(Value::as_str)
        && c != shasum
    {
        return Err(format!(
            "shasum mismatch: the manifest claims {c} but the tarball is {shasum}"
        ));
    }
    let mut dist = Map::new();
    dist.insert("integrity".into(), integrity.into());
    dist.insert("shasum".into(), shasum.into());
    for key in ["fileCount", "unpackedSize"] {
        if let Some(v) = claimed.get(key) {
            dist.insert(key.into(), v.clone());
        }
    }
    manifest["dist"] = dist.into();
    if let Some(obj) = manifest.as_object_mut() {
        obj.retain(|k, _| k != "_attachments");
    }
    let mut tags: Vec<(String, String)> = body
        .dist_tags
        .into_iter()
        .filter(|(_, v)| v.as_str() == Some(version.as_str()))
        .map(|(t, _)| t)
        .map(|t| validate_tag(&t).map(|()| (t, version.clone())))
        .collect::<Result<_, _>>()?;
    if tags.is_empty() {
        tags.push(("latest".into(), version.clone()));
    }
    Ok(Publish {
        sha256: hex::encode(Sha256::digest(&tarball)),
        name,
        version,
        manifest,
        tarball,
        tags,
    })
}

fn attachment(attachments: BTreeMap<String, Attachment<'_>>) -> Result<Vec<u8>, String> {
    let mut tgz = attachments
        .into_iter()
        .filter(|(k, _)| !k.ends_with(".sigstore"));
    let (_, att) = match (tgz.next(), tgz.next()) {
        (Some(a), None) => a,
        _ => return Err("a publish must carry exactly one tarball attachment".into()),
    };
    let bytes = BASE64
        .decode(att.data.0.as_bytes())
        .map_err(|_| "the tarball attachment is not valid base64".to_owned())?;
    if let Some(len) = att.length
        && len != bytes.len() as u64
    {
        return Err(format!(
            "the tarball is truncated: the attachment claims {len} bytes but carries {}",
            bytes.len()
        ));
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err("the tarball attachment is not a gzip file".into());
    }
    Ok(bytes)
}

/// A dist-tag may not look like a version or a range (npm would confuse it with one).
pub fn validate_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 64
        && !tag.contains('/')
        && tag.bytes().all(|b| b.is_ascii_graphic())
        && semver::VersionReq::parse(tag).is_err();
    if ok {
        Ok(())
    } else {
        Err(format!("invalid dist-tag `{tag}`"))
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;

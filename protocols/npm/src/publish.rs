//! Parses and checks an `npm publish` body (libnpmpublish's PUT): one version, one `.tgz`
//! attachment whose length and digests must match what the manifest claims. Pure.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::name::{validate, validate_version};

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
    data: Cow<'a, str>,
    length: Option<u64>,
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
        .decode(att.data.as_bytes())
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
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn body(name: &str, version: &str, tgz: &[u8]) -> Value {
        json!({
            "_id": name, "name": name, "dist-tags": {"latest": version},
            "versions": {version: {"name": name, "version": version,
                "dist": {"integrity": format!("sha512-{}", BASE64.encode(Sha512::digest(tgz))),
                         "shasum": hex::encode(Sha1::digest(tgz)),
                         "tarball": "http://client/whatever.tgz"}}},
            "_attachments": {format!("{name}-{version}.tgz"): {
                "content_type": "application/octet-stream",
                "data": BASE64.encode(tgz), "length": tgz.len()}}
        })
    }

    const TGZ: &[u8] = &[0x1f, 0x8b, 8, 0, 1, 2, 3];

    #[test]
    fn accepts_a_client_publish() {
        let b = body("@acme/ui", "1.0.0", TGZ);
        let p = parse("@acme/ui", &serde_json::to_vec(&b).expect("json")).expect("valid");
        assert_eq!(p.version, "1.0.0");
        assert_eq!(p.tarball, TGZ);
        assert_eq!(p.tags, vec![("latest".into(), "1.0.0".into())]);
        assert!(p.manifest["dist"].get("tarball").is_none());
    }

    fn refused(mut b: Value, edit: impl FnOnce(&mut Value), url: &str) -> String {
        edit(&mut b);
        parse(url, &serde_json::to_vec(&b).expect("json")).expect_err("must be refused")
    }

    #[test]
    fn refuses_bad_bodies() {
        let b = body("@acme/ui", "1.0.0", TGZ);
        assert!(parse("@acme/ui", b"{not json").is_err());
        assert!(parse("@acme/ui", &[0xff; 10]).is_err());
        let full = serde_json::to_vec(&b).expect("json");
        assert!(
            parse("@acme/ui", &full[..full.len() / 2]).is_err(),
            "truncated body"
        );
        assert!(refused(b.clone(), |_| {}, "@acme/other").contains("URL"));
        let e = refused(
            b.clone(),
            |b| b["versions"]["1.0.0"]["dist"]["integrity"] = "sha512-AAAA".into(),
            "@acme/ui",
        );
        assert!(e.contains("integrity mismatch"), "{e}");
        let e = refused(
            b.clone(),
            |b| b["_attachments"]["@acme/ui-1.0.0.tgz"]["length"] = 999.into(),
            "@acme/ui",
        );
        assert!(e.contains("truncated"), "{e}");
        let e = refused(
            b.clone(),
            |b| b["_attachments"]["@acme/ui-1.0.0.tgz"]["data"] = "%%%".into(),
            "@acme/ui",
        );
        assert!(e.contains("base64"), "{e}");
        let e = refused(b.clone(), |b| b["_attachments"] = json!({}), "@acme/ui");
        assert!(e.contains("tarball"), "{e}");
    }

    #[test]
    fn refuses_bad_names_and_versions() {
        let e = refused(body("UPPER", "1.0.0", TGZ), |_| {}, "UPPER");
        assert!(e.contains("lowercase"), "{e}");
        let e = refused(body("..", "1.0.0", TGZ), |_| {}, "..");
        assert!(e.contains("invalid package name"), "{e}");
        let e = refused(body("ui", "1.0", TGZ), |_| {}, "ui");
        assert!(e.contains("invalid version"), "{e}");
        let e = refused(body("ui", "1.0.0", b"plain text"), |_| {}, "ui");
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn tags_that_look_like_ranges_are_refused() {
        assert!(validate_tag("beta").is_ok());
        assert!(validate_tag("1.x").is_err());
        assert!(validate_tag("^1").is_err());
        assert!(validate_tag("").is_err());
    }
}

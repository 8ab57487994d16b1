//! Tests of `publish`: client bodies, bad bodies, and the shape bombs refused.

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

/// A `.tgz` as `npm pack` makes it: `package/package.json` and a source file, gzipped.
pub(crate) fn real_tgz(name: &str, version: &str) -> Vec<u8> {
    let manifest = serde_json::to_vec(&json!({"name": name, "version": version})).expect("json");
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("package/package.json", &manifest[..]),
        ("package/index.js", b"module.exports = 1;\n"),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, data).expect("tar entry");
    }
    let tar = tar.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    gz.finish().expect("gzip")
}

#[test]
fn accepts_a_real_tarball_without_inflating_it() {
    let tgz = real_tgz("@acme/ui", "1.0.0");
    let b = serde_json::to_vec(&body("@acme/ui", "1.0.0", &tgz)).expect("json");
    let p = parse("@acme/ui", &b).expect("valid");
    assert_eq!(p.tarball, tgz);
    assert_eq!(p.sha256, hex::encode(Sha256::digest(&tgz)));
}

#[test]
fn refuses_deep_and_wide_documents_before_parsing() {
    // 100 000 brackets deep: serde would stop at 128, but the answer comes first and in words.
    let text = serde_json::to_string(&body("ui", "1.0.0", TGZ)).expect("json");
    let nested = text.replacen(
        "\"dist\":",
        &format!(
            "\"x\":{}{},\"dist\":",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        1,
    );
    let e = parse("ui", nested.as_bytes()).expect_err("deep");
    assert_eq!(e, "the publish document nests deeper than 64 levels");
    // 300 000 zeros: 600 KB sent, some 10 MB parsed.
    let e = refused(
        body("ui", "1.0.0", TGZ),
        |b| b["versions"]["1.0.0"]["x"] = json!(vec![0; 300_000]),
        "ui",
    );
    assert_eq!(e, "the publish document holds more than 100000 values");
    // Brackets inside strings (a README, say) cost nothing.
    let mut b = body("ui", "1.0.0", TGZ);
    b["versions"]["1.0.0"]["readme"] = "[{".repeat(100_000).into();
    parse("ui", &serde_json::to_vec(&b).expect("json")).expect("brackets in a string are text");
}

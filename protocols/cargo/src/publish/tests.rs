//! Tests of `publish`: real bodies, bad bodies, and each bomb refused quickly.

use super::*;
use std::io::Write;

/// A `.crate` holding only a `Cargo.toml` that names `toml_name`.
pub fn krate(name: &str, vers: &str, toml_name: &str) -> Vec<u8> {
    let manifest = format!("[package]\nname = \"{toml_name}\"\nversion = \"{vers}\"\n");
    gzip(&tar_of(&[(
        &format!("{name}-{vers}/Cargo.toml"),
        manifest.as_bytes(),
    )]))
}

/// A tar of regular files, as cargo writes it (GNU headers, long names as GNU records).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, *data)
            .expect("tar entry");
    }
    tar.into_inner().expect("tar")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip");
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
            "`acme-core-1.0.0/Cargo.toml` in the .crate file is outside `acme-core-1.0.1/`",
        ),
        (
            body(
                &meta("acme-core", "1.0.0"),
                &gzip(&tar_of(&[("acme-core-1.0.0/src/lib.rs", b"")])),
            ),
            "has no acme-core-1.0.0/Cargo.toml",
        ),
    ];
    for (bytes, text) in cases {
        let e = parse(&bytes).expect_err(text);
        assert!(e.contains(text), "{e} should mention {text}");
    }
}

const NAME: &str = "acme-core";
const VERS: &str = "1.0.0";

fn manifest_text() -> String {
    format!("[package]\nname = \"{NAME}\"\nversion = \"{VERS}\"\n")
}

/// A header written as given (path, type, size), unchecked by the `tar` crate's builder.
fn raw_header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    let name = &mut header.as_old_mut().name;
    name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    header
}

/// The body of a publish of `acme-core@1.0.0` carrying `krate`.
fn publish_of(krate: &[u8]) -> Vec<u8> {
    body(&meta(NAME, VERS), krate)
}

fn refused(body: &[u8]) -> String {
    parse(body).expect_err("must be refused")
}

/// Raw deflate of `data` ending in a full flush, so that copies of it can follow each other.
fn deflate_flushed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 100 + 1024);
    flate2::Compress::new(flate2::Compression::best(), false)
        .compress_vec(data, &mut out, flate2::FlushCompress::Full)
        .expect("deflate");
    out
}

/// A gzip stream of `header` followed by `size` zeros, never finished: a reader must stop long
/// before its end. Built from one deflated MiB repeated, so 4 GiB costs 4 MB and no 4 GiB buffer.
fn zeros_bomb(header: &tar::Header, size: u64) -> Vec<u8> {
    let mut gz = vec![31, 139, 8, 0, 0, 0, 0, 0, 0, 255];
    gz.extend(deflate_flushed(header.as_bytes()));
    let mib = deflate_flushed(&vec![0; 1 << 20]);
    for _ in 0..size >> 20 {
        gz.extend_from_slice(&mib);
    }
    gz
}

#[test]
fn refuses_a_crate_inflating_to_4_gib_from_4_mb() {
    let size = 4u64 << 30;
    let header = raw_header(
        &format!("{NAME}-{VERS}/zeros"),
        tar::EntryType::Regular,
        size,
    );
    let bomb = zeros_bomb(&header, size);
    assert!(bomb.len() < 5 << 20, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let e = refused(&publish_of(&bomb));
    let limit = krate::unpack_limit(bomb.len());
    assert!(
        limit < 512 << 20,
        "the ratio bounds a 4 MB crate below 512 MiB"
    );
    assert!(
        e.contains(&format!("unpacks to more than {} MiB", limit >> 20)),
        "{e}"
    );
    eprintln!("4 GiB bomb refused in {:?}", started.elapsed());
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn inflation_stops_at_the_limit_not_at_the_end() {
    let data = vec![7u8; 300_000];
    let k = gzip(&tar_of(&[
        (
            &format!("{NAME}-{VERS}/Cargo.toml"),
            manifest_text().as_bytes(),
        ),
        (&format!("{NAME}-{VERS}/data"), &data),
    ]));
    let prefix = format!("{NAME}-{VERS}/");
    assert!(krate::manifest(&k, &prefix, 400_000).is_ok());
    // Cargo.toml comes first and is fine; the limit still applies to the whole walk.
    let e = krate::manifest(&k, &prefix, 100_000).expect_err("over the limit");
    assert!(e.contains("unpacks to more than"), "{e}");
    assert_eq!(krate::unpack_limit(0), krate::RATIO_FLOOR);
    assert_eq!(krate::unpack_limit(1 << 20), 100 << 20);
    assert_eq!(krate::unpack_limit(100 << 20), krate::MAX_UNPACKED);
}

#[test]
fn refuses_too_many_entries() {
    let names: Vec<String> = (0..=krate::MAX_ENTRIES)
        .map(|i| format!("{NAME}-{VERS}/{i}"))
        .collect();
    let mut files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let manifest = manifest_text();
    let path = format!("{NAME}-{VERS}/Cargo.toml");
    files.insert(0, (&path, manifest.as_bytes()));
    let e = refused(&publish_of(&gzip(&tar_of(&files))));
    assert!(e.contains("more than 100000 entries"), "{e}");
}

#[test]
fn refuses_oversized_parts_before_reading_them() {
    let path = format!("{NAME}-{VERS}/Cargo.toml");
    // A GNU long name claiming 100 MiB, with none of it sent.
    let long = raw_header("././@LongLink", tar::EntryType::GNULongName, 100 << 20);
    let e = refused(&publish_of(&gzip(long.as_bytes())));
    assert!(e.contains("104857600-byte tar extension header"), "{e}");
    // A Cargo.toml claiming 2 MiB.
    let big = raw_header(&path, tar::EntryType::Regular, 2 << 20);
    let e = refused(&publish_of(&gzip(big.as_bytes())));
    assert!(e.contains("Cargo.toml is 2097152 bytes"), "{e}");
    // Metadata whose length field says 4 GiB, or more than the body holds.
    let mut b = publish_of(&krate(NAME, VERS, NAME));
    b[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(refused(&b).contains("the most this registry accepts is 10485760 (10 MiB)"));
    let len = b.len() as u32;
    b[..4].copy_from_slice(&len.to_le_bytes());
    assert!(refused(&b).contains("truncated (in the metadata)"));
    // A crate length past the end of the body.
    let mut b = publish_of(&krate(NAME, VERS, NAME));
    let at = 4 + u32::from_le_bytes(b[..4].try_into().expect("4 bytes")) as usize;
    b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(refused(&b).contains("truncated (in the crate)"));
}

#[test]
fn refuses_deep_and_wide_metadata() {
    let deep = format!(
        "{{\"name\":\"{NAME}\",\"vers\":\"{VERS}\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let mut b = (deep.len() as u32).to_le_bytes().to_vec();
    b.extend_from_slice(deep.as_bytes());
    assert!(refused(&b).contains("nests deeper than 32 levels"));
    assert!(peek(&b).is_err());
    let wide = json!({"name": NAME, "vers": VERS, "x": vec![0; 300_000]});
    let e = refused(&publish_of_meta(&wide));
    assert!(e.contains("holds more than 200000 values"), "{e}");
}

fn publish_of_meta(meta: &Value) -> Vec<u8> {
    body(meta, &krate(NAME, VERS, NAME))
}

#[test]
fn refuses_deep_and_wide_toml_quickly() {
    let path = format!("{NAME}-{VERS}/Cargo.toml");
    let text = manifest_text();
    for (n, reason) in [
        (1_000, "is not valid TOML"),
        (100_000, "holds more than 50000 values"),
    ] {
        for deep in [
            format!("{text}{} = 1\n", vec!["a"; n].join(".")),
            format!("{text}x = {}1{}\n", "[".repeat(n), "]".repeat(n)),
            format!("{text}x = {}{}\n", "{a=".repeat(n), "}".repeat(n)),
        ] {
            let k = gzip(&tar_of(&[(&path, deep.as_bytes())]));
            let e = refused(&publish_of(&k));
            assert!(e.contains(reason), "{e}");
        }
    }
    // 120 KB of tiny values, which would cost some 20 MB parsed.
    let wide = format!("{text}x = [{}1]\n", "1,".repeat(60_000));
    let e = refused(&publish_of(&gzip(&tar_of(&[(&path, wide.as_bytes())]))));
    assert!(e.contains("holds more than 50000 values"), "{e}");
    // A manifest the size of the largest real ones (a thousand features) is read.
    let features: String = (0..1_000)
        .map(|i| format!("f{i} = [\"f{}\", \"dep:d{i}\"]\n", i + 1))
        .collect();
    let big = format!("{text}[features]\n{features}");
    let k = gzip(&tar_of(&[(&path, big.as_bytes())]));
    parse(&publish_of(&k)).expect("a thousand features");
}

#[test]
fn refuses_what_cargo_would_not_unpack() {
    let prefix = format!("{NAME}-{VERS}");
    let path = format!("{prefix}/Cargo.toml");
    let manifest = manifest_text();
    let outside = [
        ("other-1.0.0/x", "is outside `acme-core-1.0.0/`"),
        ("acme-core-1.0.0/../x", "is outside"),
        ("/etc/passwd", "is outside"),
    ];
    for (file, reason) in outside {
        let raw = raw_header(file, tar::EntryType::Regular, 0);
        let mut tar = tar_of(&[(&path, manifest.as_bytes())]);
        tar.truncate(tar.len() - 1024);
        tar.extend_from_slice(raw.as_bytes());
        let e = refused(&publish_of(&gzip(&tar)));
        assert!(e.contains(reason), "{file}: {e}");
    }
    for kind in [tar::EntryType::Symlink, tar::EntryType::Link] {
        let raw = raw_header(&format!("{prefix}/link"), kind, 0);
        let e = refused(&publish_of(&gzip(raw.as_bytes())));
        assert!(e.contains("is a link"), "{e}");
    }
    let raw = raw_header(&format!("{prefix}/dev"), tar::EntryType::Char, 0);
    assert!(refused(&publish_of(&gzip(raw.as_bytes()))).contains("unsupported type"));
    let twice = gzip(&tar_of(&[
        (&path, manifest.as_bytes()),
        (&path, manifest.as_bytes()),
    ]));
    assert!(refused(&publish_of(&twice)).contains("Cargo.toml twice"));
    // A PAX size record would make the `tar` crate read the archive differently.
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_pax_extensions([("size", &b"3"[..])])
        .expect("pax");
    let mut header = tar::Header::new_ustar();
    header.set_size(manifest.len() as u64);
    tar.append_data(&mut header, &path, manifest.as_bytes())
        .expect("entry");
    let e = refused(&publish_of(&gzip(&tar.into_inner().expect("tar"))));
    assert!(e.contains("PAX size records are not supported"), "{e}");
}

#[test]
fn reads_long_paths_as_cargo_writes_them() {
    let long = format!("{NAME}-{VERS}/{}/lib.rs", "deep/".repeat(40));
    let manifest = manifest_text();
    let path = format!("{NAME}-{VERS}/Cargo.toml");
    let k = gzip(&tar_of(&[
        (&long, b"fn f() {}"),
        (&path, manifest.as_bytes()),
    ]));
    parse(&publish_of(&k)).expect("a GNU long name inside the crate is fine");
    let outside = format!("{}/lib.rs", "deep/".repeat(40));
    let k = gzip(&tar_of(&[(&path, manifest.as_bytes()), (&outside, b"")]));
    assert!(refused(&publish_of(&k)).contains("is outside"));
    // A PAX path record (what other tar writers use for long names) is read too.
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_pax_extensions([("path", outside.as_bytes())])
        .expect("pax");
    let mut header = tar::Header::new_ustar();
    header.set_size(0);
    tar.append_data(&mut header, "acme-core-1.0.0/short", &b""[..])
        .expect("entry");
    let mut k = tar_of(&[(&path, manifest.as_bytes())]);
    k.truncate(k.len() - 1024);
    k.extend(tar.into_inner().expect("tar"));
    assert!(refused(&publish_of(&gzip(&k))).contains("is outside"));
}

#[test]
fn peek_reads_the_metadata_alone() {
    let full = publish_of(&krate(NAME, VERS, NAME));
    let json_end = 4 + u32::from_le_bytes(full[..4].try_into().expect("4 bytes")) as usize;
    let head = Head {
        name: NAME.into(),
        version: semver::Version::new(1, 0, 0),
    };
    assert_eq!(peek(&full), Ok(head));
    // The head of the body is enough, and the .crate is never looked at.
    assert_eq!(peek(&full[..json_end]).map(|h| h.name), Ok(NAME.into()));
    assert_eq!(
        peek(&body(&meta(NAME, VERS), b"not gzip")).map(|h| h.name),
        Ok(NAME.into())
    );
    assert!(peek(&full[..json_end - 1]).is_err());
    let e = peek(&body(&meta("acme core", VERS), b"")).expect_err("bad name");
    assert!(e.contains("invalid crate name"), "{e}");
    let e = peek(&body(&meta(NAME, "1.0"), b"")).expect_err("bad version");
    assert!(e.contains("invalid version"), "{e}");
}

//! Hostile archives, built in the test: `.gem` files around any gemspec text, a gzipped tar whose
//! one entry is gigabytes of zeros (written without ever holding them), and the publish bodies
//! of cargo and Hex around it.

use std::io::Write;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use sha2::{Digest, Sha256};

const MIB: u64 = 1 << 20;

/// hex_core's `mtime` for every entry (2000-01-01).
const Y2K: u64 = 946_684_800;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// A plain tar of `(path, bytes)` entries.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(Y2K);
        tar.append_data(&mut header, path, *data)
            .expect("tar entry");
    }
    tar.into_inner().expect("tar")
}

/// A `.gem` as `gem build` lays it out (`metadata.gz`, `data.tar.gz`, `checksums.yaml.gz`),
/// whose gemspec is `yaml`.
pub fn gem(yaml: &str) -> Vec<u8> {
    let data = gzip(&tar_of(&[("lib/acme_pro.rb", b"module AcmePro; end\n")]));
    tar_of(&[
        ("metadata.gz", &gzip(yaml.as_bytes())),
        ("data.tar.gz", &data),
        ("checksums.yaml.gz", &gzip(b"--- {}\n")),
    ])
}

/// Row 1: a gemspec whose `name` is a sequence nested `depth` deep (`- - - … x`).
pub fn nested_gemspec(depth: usize) -> String {
    format!(
        "--- !ruby/object:Gem::Specification\nname:\n{}x\nversion: !ruby/object:Gem::Version\n  version: 1.0.0\n",
        "- ".repeat(depth)
    )
}

/// Row 2: a billion-laughs gemspec (347 bytes; 9^7 strings once its aliases are expanded).
pub fn alias_bomb_gemspec() -> String {
    [
        "--- !ruby/object:Gem::Specification\n",
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "name: *g\n",
    ]
    .concat()
}

/// A gzipped tar holding one file, `entry`, of `size` zero bytes (a whole number of MiB), built
/// without holding it: one MiB of zeros that follows other zeros compresses to the same deflate
/// blocks wherever it stands (a sync flush ends them on a byte), so those blocks are made once
/// and repeated, and the CRC of the repeats is combined rather than computed. About 1 KiB of
/// gzip per MiB.
pub fn zero_bomb(entry: &str, size: u64) -> Vec<u8> {
    assert!(
        size.is_multiple_of(MIB) && size >= 2 * MIB,
        "whole MiB, at least two"
    );
    let mut header = tar::Header::new_gnu();
    header.set_path(entry).expect("entry path");
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(Y2K);
    header.set_cksum();
    let mib = vec![0u8; MIB as usize];
    let end_of_archive = [0u8; 1024];

    // gzip header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut crc = Crc::new();
    deflate_into(
        &mut deflate,
        header.as_bytes(),
        FlushCompress::None,
        &mut out,
    );
    crc.update(header.as_bytes());
    deflate_into(&mut deflate, &mib, FlushCompress::Sync, &mut out);
    crc.update(&mib);
    let mut repeat = Vec::new();
    deflate_into(&mut deflate, &mib, FlushCompress::Sync, &mut repeat);
    let mut mib_crc = Crc::new();
    mib_crc.update(&mib);
    for _ in 1..size / MIB {
        out.extend_from_slice(&repeat);
        crc.combine(&mib_crc);
    }
    deflate_into(
        &mut deflate,
        &end_of_archive,
        FlushCompress::Finish,
        &mut out,
    );
    crc.update(&end_of_archive);
    let total = 512 + size + end_of_archive.len() as u64;
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((total & 0xffff_ffff) as u32).to_le_bytes());
    out
}

/// Deflates all of `input` into `out`, then flushes as `flush` says.
fn deflate_into(c: &mut Compress, mut input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) {
    loop {
        out.reserve(64 * 1024);
        let before = c.total_in();
        let status = c.compress_vec(input, out, flush).expect("deflate");
        input = &input[usize::try_from(c.total_in() - before).expect("consumed")..];
        let drained = out.len() < out.capacity();
        match flush {
            FlushCompress::None if input.is_empty() => return,
            FlushCompress::Finish if status == Status::StreamEnd => return,
            FlushCompress::Sync if input.is_empty() && drained => return,
            _ => {}
        }
    }
}

/// Cargo's publish body: `u32` LE JSON length, the JSON metadata, `u32` LE crate length, the
/// `.crate`.
pub fn cargo_publish_body(name: &str, vers: &str, krate: &[u8]) -> Vec<u8> {
    let meta = serde_json::json!({
        "name": name, "vers": vers, "deps": [], "features": {}, "authors": ["Acme"],
        "description": "a crate", "license": "MIT", "links": null
    });
    let json = serde_json::to_vec(&meta).expect("metadata json");
    let mut body = u32::try_from(json.len())
        .expect("small")
        .to_le_bytes()
        .to_vec();
    body.extend_from_slice(&json);
    body.extend_from_slice(&u32::try_from(krate.len()).expect("< 4 GiB").to_le_bytes());
    body.extend_from_slice(krate);
    body
}

/// A Hex package tarball (`VERSION`, `CHECKSUM`, `metadata.config`, `contents.tar.gz`) with a
/// correct checksum around any `contents`.
pub fn hex_tarball(name: &str, version: &str, contents: &[u8]) -> Vec<u8> {
    let meta =
        format!("{{<<\"name\">>,<<\"{name}\">>}}.\n{{<<\"version\">>,<<\"{version}\">>}}.\n");
    let checksum = Sha256::new()
        .chain_update(b"3")
        .chain_update(meta.as_bytes())
        .chain_update(contents)
        .finalize();
    let checksum: String = checksum.iter().map(|b| format!("{b:02X}")).collect();
    tar_of(&[
        ("VERSION", b"3"),
        ("CHECKSUM", checksum.as_bytes()),
        ("metadata.config", meta.as_bytes()),
        ("contents.tar.gz", contents),
    ])
}

#[test]
fn a_zero_bomb_is_a_valid_gzip_of_its_tar() {
    // 3 MiB unpacks in a moment: checked with flate2's own reader and tar's.
    let bomb = zero_bomb("acme-pro-1.0.0/zeros.bin", 3 * MIB);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bomb[..]));
    let mut entries = archive.entries().expect("tar entries");
    let mut entry = entries.next().expect("one entry").expect("entry");
    assert_eq!(
        entry.path().expect("path").to_str(),
        Some("acme-pro-1.0.0/zeros.bin")
    );
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut data).expect("read entry");
    assert_eq!(data.len() as u64, 3 * MIB);
    assert!(data.iter().all(|&b| b == 0));
    drop(entry);
    assert!(entries.next().is_none(), "one entry only");
    // The whole gzip stream, CRC and length included.
    let mut all = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bomb[..]), &mut all)
        .expect("a valid gzip stream, CRC and length checked");
    assert_eq!(all.len() as u64, 512 + 3 * MIB + 1024);
}

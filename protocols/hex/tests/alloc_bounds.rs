//! The Hex parsers (package tarball, `metadata.config`, ETF) under attack with every allocation
//! counted: each bomb is refused having allocated a bounded number of bytes, whatever it claims
//! or inflates to. One test, so that no other test allocates while it counts.

use std::alloc::System;

use sha2::{Digest, Sha256};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tollgate_hex::{etf, metadata, tarball};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MIB: usize = 1 << 20;
const META: &str = "{<<\"name\">>,<<\"acme\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n";

/// `f`'s result and the bytes allocated while it ran (frees not subtracted: a bound on its peak).
fn allocated<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let change = region.change();
    let grown = usize::try_from(change.bytes_reallocated).unwrap_or(0);
    (out, change.bytes_allocated + grown)
}

/// A package tarball around `contents` (taken as is) with a correct CHECKSUM.
fn package(meta: &str, contents: &[u8]) -> Vec<u8> {
    let checksum = Sha256::new()
        .chain_update(b"3")
        .chain_update(meta)
        .chain_update(contents)
        .finalize();
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("VERSION", &b"3"[..]),
        ("CHECKSUM", hex::encode_upper(checksum).as_bytes()),
        ("metadata.config", meta.as_bytes()),
        ("contents.tar.gz", contents),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, data).expect("tar");
    }
    tar.into_inner().expect("tar")
}

fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    header
}

/// Raw deflate of `data` ending in a full flush, so that copies of it can follow each other.
fn deflate_flushed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 100 + 1024);
    flate2::Compress::new(flate2::Compression::best(), false)
        .compress_vec(data, &mut out, flate2::FlushCompress::Full)
        .expect("deflate");
    out
}

/// A gzip stream of `blocks` (tar bytes) and then `zeros` MiB of zeros, never finished.
fn gzip_then_zeros(blocks: &[u8], zeros: usize) -> Vec<u8> {
    let mut gz = vec![31, 139, 8, 0, 0, 0, 0, 0, 0, 255];
    gz.extend(deflate_flushed(blocks));
    let mib = deflate_flushed(&vec![0; MIB]);
    for _ in 0..zeros {
        gz.extend_from_slice(&mib);
    }
    gz
}

fn list_of_nils(n: u32) -> Vec<u8> {
    let mut bytes = vec![131, 108];
    bytes.extend(n.to_be_bytes());
    bytes.extend(std::iter::repeat_n(106, n as usize + 1));
    bytes
}

#[test]
fn bombs_are_refused_within_bounded_memory() {
    let tarballs: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "contents.tar.gz inflating to 1 GiB",
            package(
                META,
                &gzip_then_zeros(
                    header("zeros", tar::EntryType::Regular, 1 << 30).as_bytes(),
                    1024,
                ),
            ),
            "unpacks to more than",
        ),
        (
            "a GNU long name claiming 100 MiB, then 100 MiB of it",
            package(
                META,
                &gzip_then_zeros(
                    header("././@LongLink", tar::EntryType::GNULongName, 100 << 20).as_bytes(),
                    100,
                ),
            ),
            "tar extension header",
        ),
        (
            "metadata.config of 1 MiB of tiny terms",
            package(&format!("{META}{{x, [{}1]}}.\n", "1,".repeat(500_000)), b""),
            "more than 100000 terms",
        ),
        (
            "metadata.config nested 1 000 000 deep",
            package(&format!("{META}{{x, {}}}.\n", "[".repeat(1_000_000)), b""),
            "nested more than 32 deep",
        ),
    ];
    for (what, tar, reason) in tarballs {
        let started = std::time::Instant::now();
        // Both the cheap look and the full check: the first must not inflate anything.
        let (peeked, peek_bytes) = allocated(|| tarball::peek_name(&tar));
        let (result, bytes) = allocated(|| tarball::parse(&tar));
        eprintln!(
            "{what}: peek {} KiB, parse {} KiB allocated, {:?}",
            peek_bytes >> 10,
            bytes >> 10,
            started.elapsed()
        );
        let e = result.expect_err(what).to_string();
        assert!(e.contains(reason), "{what}: {e}");
        if !reason.contains("tar") && !reason.contains("unpacks") {
            assert!(peeked.is_err(), "{what}: peek reads metadata.config too");
        }
        // The outer files are copied once (at most the 16 MiB tarball); the rest is bounded.
        let bound = 2 * tar.len() + 24 * MIB;
        assert!(
            peek_bytes < bound,
            "{what}: peek allocated {peek_bytes} bytes"
        );
        assert!(bytes < bound, "{what}: {bytes} bytes allocated");
    }

    let mut map = vec![131, 116, 0, 16, 0, 0];
    map.extend(std::iter::repeat_n(106, MIB));
    let mut compressed = vec![131, 80];
    compressed.extend((MIB as u32).to_be_bytes());
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &list_of_nils(MIB as u32 - 6)[1..]).expect("zlib");
    compressed.extend(z.finish().expect("zlib"));
    let terms: Vec<(&str, Vec<u8>, &str, usize)> = vec![
        (
            "a list of 16 million empty lists",
            list_of_nils(16 << 20),
            "more than 100000 terms",
            16 * MIB,
        ),
        (
            "a map whose count is the bytes left",
            map,
            "more than 100000 terms",
            16 * MIB,
        ),
        (
            "1 KiB inflating to 1 MiB of terms",
            compressed,
            "more than 100000 terms",
            16 * MIB,
        ),
        (
            "a term nested 1 000 000 deep",
            [vec![131], [108, 0, 0, 0, 1].repeat(1_000_000)].concat(),
            "term nested more than 64 deep",
            MIB,
        ),
    ];
    for (what, bytes_in, reason, bound) in terms {
        let (result, bytes) = allocated(|| etf::decode(&bytes_in));
        eprintln!("{what}: {} KiB allocated", bytes >> 10);
        assert_eq!(result, Err(reason.to_owned()), "{what}");
        assert!(bytes < bound, "{what}: {bytes} bytes allocated");
    }

    // The most costly metadata.config accepted: 1 MiB holding just under 100 000 terms.
    let files: String = (0..45_000)
        .map(|i| format!("<<\"src/{i:0>8}\">>,"))
        .collect();
    let largest = format!("{META}{{<<\"files\">>, [{files}<<\"x\">>]}}.\n");
    assert!(largest.len() < MIB);
    let (result, bytes) = allocated(|| metadata::parse(&largest));
    eprintln!(
        "the largest metadata.config accepted: {} KiB allocated",
        bytes >> 10
    );
    assert_eq!(result.expect("accepted").files.len(), 45_001);
    assert!(bytes < 32 * MIB, "{bytes} bytes allocated");
}

//! `archive::core_metadata` on hostile uploads: zip and tar bombs are refused quickly and within
//! bounded memory (measured by a counting global allocator, one case at a time), and a wheel or
//! sdist that is not laid out as the PEPs say (no RECORD, two `.dist-info`, `../` paths, no
//! `PKG-INFO`, a truncated stream) is refused with a sentence that says why.

use std::io::{Cursor, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use peak_alloc::PeakAlloc;
use tollgate_pypi::archive::{MAX_ENTRIES, core_metadata};
use tollgate_pypi::filename::Kind;
use tollgate_pypi::metadata::MAX_METADATA;
mod sdists;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// The allocator's peak is one number per process: one measured call at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;
const INFO: &str = "acme_pro-1.0.0.dist-info";
const META: &str = "Metadata-Version: 2.1\nName: acme-pro\nVersion: 1.0.0\n";

/// `core_metadata(kind, bytes)`, the most bytes it held at once beyond what was allocated
/// before it, and how long it took.
fn measured(kind: Kind, bytes: &[u8]) -> (Result<Vec<u8>, String>, usize, Duration) {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let started = Instant::now();
    let out = core_metadata(kind, bytes);
    let took = started.elapsed();
    let peak = ALLOC.peak_usage().saturating_sub(before);
    (out, peak, took)
}

/// Refused, with `reason` in the sentence, holding less than `bound` bytes.
fn refused(what: &str, kind: Kind, bytes: &[u8], reason: &str, bound: usize) {
    let (out, peak, took) = measured(kind, bytes);
    eprintln!("{what}: {} KiB peak in {took:?}", peak >> 10);
    let e = match out {
        Ok(found) => panic!(
            "{what}: accepted, with {:?}",
            String::from_utf8_lossy(&found)
        ),
        Err(e) => e,
    };
    assert!(e.contains(reason), "{what}: {e}");
    assert!(peak < bound, "{what}: {peak} bytes held (bound {bound})");
}

fn accepted(what: &str, kind: Kind, bytes: &[u8]) -> Vec<u8> {
    let (out, peak, _) = measured(kind, bytes);
    assert!(
        peak < 8 * MIB + 2 * bytes.len(),
        "{what}: {peak} bytes held"
    );
    out.unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// A zip of `entries`, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (path, data) in entries {
        zip.start_file(*path, options).expect("zip entry");
        zip.write_all(data).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// A wheel laid out as PEP 427 says, with `metadata` as its `METADATA`.
fn wheel_with(metadata: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("acme_pro/__init__.py", b"X = 1\n"),
        (&format!("{INFO}/METADATA"), metadata),
        (&format!("{INFO}/WHEEL"), b"Wheel-Version: 1.0\n"),
        (&format!("{INFO}/RECORD"), b"acme_pro/__init__.py,,\n"),
    ])
}

/// Sets the uncompressed size that the local header and the central directory declare for
/// the entry `name` of `zip` (the CRC and the data stay as they are).
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    let mut at = 0;
    while at + 46 <= zip.len() {
        let (header, size_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (true, 22, 30),
            b"PK\x01\x02" => (false, 24, 46),
            _ => {
                at += 1;
                continue;
            }
        };
        let len_at = if header { at + 26 } else { at + 28 };
        let len = u16::from_le_bytes([zip[len_at], zip[len_at + 1]]) as usize;
        if zip.get(at + name_at..at + name_at + len) == Some(name.as_bytes()) {
            zip[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        at += 1;
    }
    assert_eq!(
        patched, 2,
        "the local header and the central directory entry"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip");
    gz.finish().expect("gzip")
}

/// A raw tar header (no checks on the path, unlike `tar::Builder`).
fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_cksum();
    h
}

/// Tar `entries` as they are (paths unchecked), each padded to 512 bytes, then the end.
fn tar_raw(entries: &[(tar::Header, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (h, data) in entries {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

fn file(path: &str, data: &'static [u8]) -> (tar::Header, &'static [u8]) {
    (
        header(path, tar::EntryType::Regular, data.len() as u64),
        data,
    )
}

/// A PAX extended header carrying `records` (`key=value` each).
fn pax(records: &[(&str, &str)]) -> (tar::Header, &'static [u8]) {
    let mut data = Vec::new();
    for (k, v) in records {
        let body = format!(" {k}={v}\n");
        let mut len = body.len() + 1;
        while format!("{len}{body}").len() != len {
            len += 1;
        }
        data.extend_from_slice(format!("{len}{body}").as_bytes());
    }
    let data: &'static [u8] = data.leak();
    (
        header("./PaxHeaders/x", tar::EntryType::XHeader, data.len() as u64),
        data,
    )
}

/// An sdist of `entries` (gzipped).
fn sdist_of(entries: &[(tar::Header, &[u8])]) -> Vec<u8> {
    gzip(&tar_raw(entries))
}

fn good_sdist() -> Vec<u8> {
    sdist_of(&[
        file("acme_pro-1.0.0/PKG-INFO", META.as_bytes()),
        file("acme_pro-1.0.0/pyproject.toml", b"[project]\n"),
        file("acme_pro-1.0.0/src/acme_pro/__init__.py", b"X = 1\n"),
    ])
}

/// Raw deflate of `data` ending in a full flush, so that copies of it can follow each other.
fn deflate_flushed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 100 + 1024);
    flate2::Compress::new(flate2::Compression::best(), false)
        .compress_vec(data, &mut out, flate2::FlushCompress::Full)
        .expect("deflate");
    out
}

/// A gzip stream of `blocks` and then `zeros` MiB of zeros, never finished.
fn gzip_then_zeros(blocks: &[u8], zeros: usize) -> Vec<u8> {
    let mut gz = vec![31, 139, 8, 0, 0, 0, 0, 0, 0, 255];
    gz.extend(deflate_flushed(blocks));
    let mib = deflate_flushed(&vec![0; MIB]);
    for _ in 0..zeros {
        gz.extend_from_slice(&mib);
    }
    gz
}

#[test]
fn a_wheel_gives_its_metadata_and_an_sdist_its_pkg_info() {
    assert_eq!(
        accepted("wheel", Kind::Wheel, &wheel_with(META.as_bytes())),
        META.as_bytes()
    );
    assert_eq!(
        accepted("sdist", Kind::Sdist, &good_sdist()),
        META.as_bytes()
    );
    // `./` in front of every path, as some tar writers put it.
    let dotted = sdist_of(&[
        file("./acme_pro-1.0.0/PKG-INFO", META.as_bytes()),
        file("./acme_pro-1.0.0/setup.py", b""),
    ]);
    assert_eq!(accepted("./ sdist", Kind::Sdist, &dotted), META.as_bytes());
    // A PKG-INFO whose path is in a PAX record (a long path) is found there.
    let long = sdist_of(&[
        pax(&[("path", "acme_pro-1.0.0/PKG-INFO")]),
        file("acme_pro-1.0.0/PKG-I", META.as_bytes()),
    ]);
    assert_eq!(accepted("PAX path", Kind::Sdist, &long), META.as_bytes());
}

/// METADATA of 50 MiB of zeros, deflated to a few kilobytes: refused before inflating when its
/// size is declared, and after at most `MAX_METADATA + 1` bytes when the zip lies about it.
#[test]
fn a_zip_bomb_metadata_is_refused_fast_and_small() {
    let started = Instant::now();
    let zeros = vec![0u8; 50 * MIB];
    let honest = wheel_with(&zeros);
    drop(zeros);
    eprintln!(
        "bomb of {} KiB built in {:?}",
        honest.len() >> 10,
        started.elapsed()
    );
    assert!(honest.len() < MIB);
    let name = format!("{INFO}/METADATA");
    refused(
        "declared 50 MiB",
        Kind::Wheel,
        &honest,
        "the most accepted is 1048576",
        2 * MIB,
    );

    // The zip lies: it declares 100 bytes. Whatever stops the inflating (the zip reader's
    // own check of the declared size, or the read bound after it), it stops early.
    let mut lying = honest.clone();
    declare_size(&mut lying, &name, 100);
    let (out, peak, took) = measured(Kind::Wheel, &lying);
    eprintln!("declared 100 bytes: {} KiB peak in {took:?}", peak >> 10);
    let e = out.expect_err("a METADATA inflating past what it declares");
    assert!(
        e.starts_with("Invalid wheel: acme_pro-1.0.0.dist-info/METADATA"),
        "{e}"
    );
    assert!(peak < 4 * MIB, "{peak} bytes held");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // The bound is exact: MAX_METADATA bytes pass, one more do not, declared or not.
    let limit = MAX_METADATA as usize;
    let at_limit = wheel_with(&vec![b'a'; limit]);
    assert_eq!(
        accepted("METADATA of exactly the limit", Kind::Wheel, &at_limit).len(),
        limit
    );
    let over = wheel_with(&vec![b'a'; limit + 1]);
    refused(
        "METADATA one byte over, declared",
        Kind::Wheel,
        &over,
        "is 1048577 bytes",
        4 * MIB,
    );
    let mut hidden = over.clone();
    declare_size(&mut hidden, &name, limit as u32);
    refused(
        "METADATA one byte over, declared at the limit",
        Kind::Wheel,
        &hidden,
        "Invalid wheel: acme_pro-1.0.0.dist-info/METADATA",
        4 * MIB,
    );
}

#[test]
fn a_wheel_of_too_many_entries_is_refused() {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, data) in [
        (format!("{INFO}/METADATA"), META.as_bytes()),
        (format!("{INFO}/WHEEL"), &b"Wheel-Version: 1.0\n"[..]),
        (format!("{INFO}/RECORD"), &b""[..]),
    ] {
        zip.start_file(path, options).expect("zip entry");
        zip.write_all(data).expect("zip write");
    }
    for i in 0..MAX_ENTRIES {
        zip.start_file(format!("f{i}"), options).expect("zip entry");
    }
    let many = zip.finish().expect("zip").into_inner();
    let (out, peak, took) = measured(Kind::Wheel, &many);
    eprintln!(
        "{} entries in {} KiB: {} KiB peak in {took:?}",
        MAX_ENTRIES + 3,
        many.len() >> 10,
        peak >> 10
    );
    let e = out.expect_err("too many entries");
    assert!(e.contains("more than 100000 entries"), "{e}");
    assert!(
        peak < 16 * many.len(),
        "{peak} bytes held for {} bytes",
        many.len()
    );
}

#[test]
fn a_wheel_must_be_laid_out_as_pep_427_says() {
    let meta = META.as_bytes();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "no RECORD",
            zip_of(&[
                (&format!("{INFO}/METADATA"), meta),
                (&format!("{INFO}/WHEEL"), b"Wheel-Version: 1.0\n"),
            ]),
            "acme_pro-1.0.0.dist-info/RECORD is missing",
        ),
        (
            "no WHEEL",
            zip_of(&[
                (&format!("{INFO}/METADATA"), meta),
                (&format!("{INFO}/RECORD"), b""),
            ]),
            "acme_pro-1.0.0.dist-info/WHEEL is missing",
        ),
        (
            "two dist-info directories",
            zip_of(&[
                (&format!("{INFO}/METADATA"), meta),
                (&format!("{INFO}/WHEEL"), b""),
                (&format!("{INFO}/RECORD"), b""),
                ("acme_core-1.0.0.dist-info/METADATA", meta),
                ("acme_core-1.0.0.dist-info/WHEEL", b""),
                ("acme_core-1.0.0.dist-info/RECORD", b""),
            ]),
            "exactly one NAME-VERSION.dist-info/METADATA, found 2",
        ),
        (
            "METADATA deeper than the top",
            zip_of(&[
                (&format!("lib/{INFO}/METADATA"), meta),
                (&format!("lib/{INFO}/WHEEL"), b""),
                (&format!("lib/{INFO}/RECORD"), b""),
            ]),
            "found 0",
        ),
        (
            "METADATA outside a .dist-info",
            zip_of(&[
                ("acme_pro-1.0.0.data/METADATA", meta),
                ("acme_pro-1.0.0.data/WHEEL", b""),
                ("acme_pro-1.0.0.data/RECORD", b""),
            ]),
            "found 0",
        ),
        (
            "not a zip",
            b"PK\x03\x04 not really".to_vec(),
            "not a readable zip",
        ),
        ("an sdist as a wheel", good_sdist(), "not a readable zip"),
        ("nothing", Vec::new(), "not a readable zip"),
    ];
    for (what, bytes, reason) in cases {
        refused(what, Kind::Wheel, &bytes, reason, 4 * MIB);
    }
    // A truncated wheel: its central directory is gone.
    let whole = wheel_with(META.as_bytes());
    refused(
        "a truncated wheel",
        Kind::Wheel,
        &whole[..whole.len() - 30],
        "not a readable zip",
        4 * MIB,
    );
}

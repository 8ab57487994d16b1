//! `publish::parse` under attack with every allocation counted: each bomb is refused having
//! allocated a bounded number of bytes, whatever it claims or inflates to. One test, so that no
//! other test allocates while it counts.

use std::alloc::System;

use serde_json::json;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tollgate_cargo::publish;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MIB: usize = 1 << 20;

/// `f`'s result and the bytes allocated while it ran (frees not subtracted: a bound on its peak).
fn allocated<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(GLOBAL);
    let out = f();
    let change = region.change();
    let grown = usize::try_from(change.bytes_reallocated).unwrap_or(0);
    (out, change.bytes_allocated + grown)
}

fn body(meta: &serde_json::Value, krate: &[u8]) -> Vec<u8> {
    let json = serde_json::to_vec(meta).expect("json");
    let mut out = (json.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out.extend_from_slice(&(krate.len() as u32).to_le_bytes());
    out.extend_from_slice(krate);
    out
}

fn meta() -> serde_json::Value {
    json!({"name": "acme-core", "vers": "1.0.0"})
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

fn crate_with_manifest(text: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, "acme-core-1.0.0/Cargo.toml", text.as_bytes())
        .expect("tar");
    let tar = tar.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).expect("gzip");
    gz.finish().expect("gzip")
}

#[test]
fn bombs_are_refused_within_bounded_memory() {
    let manifest = "[package]\nname = \"acme-core\"\nversion = \"1.0.0\"\n";
    let bombs: Vec<(&str, Vec<u8>, &str, usize)> = vec![
        (
            "a 4 MB .crate inflating to 4 GiB",
            body(
                &meta(),
                &gzip_then_zeros(
                    header("acme-core-1.0.0/zeros", tar::EntryType::Regular, 4 << 30).as_bytes(),
                    4096,
                ),
            ),
            "unpacks to more than",
            4 * MIB,
        ),
        (
            "a GNU long name claiming 500 MiB, then 500 MiB of it",
            body(
                &meta(),
                &gzip_then_zeros(
                    header("././@LongLink", tar::EntryType::GNULongName, 500 << 20).as_bytes(),
                    500,
                ),
            ),
            "tar extension header",
            4 * MIB,
        ),
        (
            "metadata of 1 000 000 zeros",
            body(
                &json!({"name": "acme-core", "vers": "1.0.0", "x": vec![0; 1_000_000]}),
                &[],
            ),
            "holds more than",
            MIB,
        ),
        (
            "metadata nested 1 000 000 deep",
            {
                let deep = format!("[{}", "[".repeat(1_000_000));
                let mut b = (deep.len() as u32).to_le_bytes().to_vec();
                b.extend(deep.as_bytes());
                b
            },
            "nests deeper",
            MIB,
        ),
        (
            "a Cargo.toml nested 300 000 deep",
            body(
                &meta(),
                &crate_with_manifest(&format!("{manifest}{} = 1\n", vec!["a"; 300_000].join("."))),
            ),
            "holds more than 50000 values",
            3 * MIB,
        ),
        (
            "a Cargo.toml of 1 MiB of tiny values",
            body(
                &meta(),
                &crate_with_manifest(&format!("{manifest}x = [{}1]\n", "1,".repeat(500_000))),
            ),
            "holds more than 50000 values",
            3 * MIB,
        ),
    ];
    for (what, bomb, reason, bound) in bombs {
        // The body is the handler's; what counts is what the parser adds.
        let started = std::time::Instant::now();
        let (result, bytes) = allocated(|| publish::parse(&bomb));
        eprintln!(
            "{what}: {} KiB allocated in {:?}",
            bytes >> 10,
            started.elapsed()
        );
        let e = result.expect_err(what);
        assert!(e.contains(reason), "{what}: {e}");
        assert!(bytes < bound, "{what}: {bytes} bytes allocated");
    }

    // The most costly Cargo.toml accepted: 1 MiB holding just under 50 000 values.
    let strings: String = (0..24_000).map(|i| format!("\"{i:0>30}\",")).collect();
    let largest = format!("{manifest}x = [{strings}]\n");
    assert!(largest.len() < MIB);
    let largest = body(&meta(), &crate_with_manifest(&largest));
    let (result, bytes) = allocated(|| publish::parse(&largest));
    eprintln!(
        "the largest Cargo.toml accepted: {} KiB allocated",
        bytes >> 10
    );
    result.expect("accepted");
    assert!(bytes < 64 * MIB, "{bytes} bytes allocated");
    // The most costly metadata accepted: just under 200 000 values, as dependencies.
    let deps: Vec<_> = (0..9_000)
        .map(|i| {
            json!({"name": format!("d{i}"), "version_req": "^1", "features": ["a"],
            "optional": false, "default_features": true, "target": null, "kind": "normal",
            "registry": null, "explicit_name_in_toml": null})
        })
        .collect();
    let meta = json!({"name": "acme-core", "vers": "1.0.0", "deps": deps});
    let largest = body(&meta, &crate_with_manifest(manifest));
    let (result, bytes) = allocated(|| publish::parse(&largest));
    eprintln!(
        "the largest metadata accepted: {} KiB allocated",
        bytes >> 10
    );
    result.expect("accepted");
    assert!(bytes < 64 * MIB, "{bytes} bytes allocated");
}

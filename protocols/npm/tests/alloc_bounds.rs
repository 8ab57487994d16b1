//! `publish::parse` under attack with every allocation counted: each bomb is refused having
//! allocated a bounded number of bytes, and an accepted body costs about its tarball. One test,
//! so that no other test allocates while it counts.

use std::alloc::System;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tollgate_npm::publish;

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

/// A publish of `ui@1.0.0` carrying `tgz`, with `extra` put into its manifest.
fn body(tgz: &[u8], extra: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_id": "ui", "name": "ui", "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {"name": "ui", "version": "1.0.0", "extra": extra}},
        "_attachments": {"ui-1.0.0.tgz": {"data": BASE64.encode(tgz), "length": tgz.len()}}
    }))
    .expect("json")
}

#[test]
fn bombs_are_refused_within_bounded_memory() {
    let tgz = [0x1f, 0x8b, 8, 0, 1, 2, 3];
    let deep = String::from_utf8(body(&tgz, json!("HERE")))
        .expect("utf-8")
        .replace("\"HERE\"", &"[".repeat(1_000_000));
    let bombs: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a manifest of 1 000 000 zeros",
            body(&tgz, json!(vec![0; 1_000_000])),
            "holds more than 100000 values",
        ),
        (
            "a manifest of 500 000 empty objects",
            body(&tgz, json!(vec![json!({}); 500_000])),
            "holds more than 100000 values",
        ),
        (
            "a manifest nested 1 000 000 deep",
            deep.into_bytes(),
            "nests deeper than 64 levels",
        ),
    ];
    for (what, bomb, reason) in bombs {
        let (result, bytes) = allocated(|| publish::parse("ui", &bomb));
        eprintln!("{what}: {} KiB allocated", bytes >> 10);
        let e = result.expect_err(what);
        assert!(e.contains(reason), "{what}: {e}");
        assert!(bytes < MIB, "{what}: {bytes} bytes allocated");
    }

    // An accepted body costs its decoded tarball. Base64 text with JSON escapes is refused
    // once serde has unescaped it into its buffer (which it grows by doubling): that costs a
    // few times the text, once, and is not kept.
    let mut tgz = vec![0x1f, 0x8b];
    tgz.extend((0..16 * MIB).map(|i| (i * 7 % 251) as u8));
    let plain = body(&tgz, json!(null));
    let (result, bytes) = allocated(|| publish::parse("ui", &plain));
    eprintln!("a 16 MiB tarball: {} KiB allocated", bytes >> 10);
    assert_eq!(result.expect("accepted").tarball.len(), tgz.len());
    assert!(bytes < tgz.len() + 2 * MIB, "{bytes}");
    let escaped = String::from_utf8(plain)
        .expect("utf-8")
        .replace('/', "\\/")
        .into_bytes();
    let (result, bytes) = allocated(|| publish::parse("ui", &escaped));
    eprintln!(
        "a 16 MiB tarball with JSON escapes: {} KiB allocated",
        bytes >> 10
    );
    let e = result.expect_err("escaped");
    assert!(e.contains("base64 text has JSON escapes"), "{e}");
    assert!(e.len() < 200, "{e}");
    assert!(bytes < 5 * tgz.len(), "{bytes}");

    // The most costly manifest accepted: just under 100 000 values.
    let deps: serde_json::Map<String, Value> = (0..45_000)
        .map(|i| (format!("dep-{i}"), json!("^1.0.0")))
        .collect();
    let largest = body(&[0x1f, 0x8b], Value::Object(deps));
    let (result, bytes) = allocated(|| publish::parse("ui", &largest));
    eprintln!(
        "the largest manifest accepted: {} KiB allocated",
        bytes >> 10
    );
    result.expect("accepted");
    assert!(bytes < 32 * MIB, "{bytes} bytes allocated");
}

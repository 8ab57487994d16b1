//! npm bodies and names for tests that talk to the npm API without the npm CLI.

/// The body `npm publish` sends for `name@version` with tarball bytes `tgz` (digests omitted:
/// the server computes them), for tests that publish without the npm CLI.
pub fn npm_publish_body(name: &str, version: &str, tgz: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(tgz);
    serde_json::to_vec(&serde_json::json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: {"name": name, "version": version}},
        "_attachments": {format!("{name}-{version}.tgz"): {
            "content_type": "application/octet-stream", "data": data, "length": tgz.len()}}
    }))
    .expect("publish body")
}

/// Deterministic pseudo-random bytes that start like a gzip file (the registry checks the magic).
pub fn fake_tgz(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = vec![0x1f, 0x8b, 8, 0];
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len.max(4));
    out
}

/// `npm:{name}` packument URL path segment: `@scope/name` → `@scope%2fname`.
pub fn npm_escape(name: &str) -> String {
    name.replace('/', "%2f")
}

//! `contents.tar.gz`, the package files: walked once, as a stream, under hex_core's limit on
//! its unpacked size. Nothing it unpacks to is kept.
//!
//! The tar is read raw (GNU long names and PAX records bounded by `registry::raw_tar`, not read
//! whole by the `tar` crate, whatever size they claim).

use std::io::{self, Read};

use tollgate_registry::capped::Capped;
use tollgate_registry::raw_tar::Extensions;

/// Walks `contents.tar.gz` to its end, decompressing at most `limit` bytes.
pub(super) fn check_contents(gzip: &[u8], limit: u64) -> Result<(), String> {
    let mut reader = Capped::new(flate2::read::GzDecoder::new(gzip), limit);
    let result = walk_contents(&mut reader);
    if reader.exceeded() {
        return Err(format!(
            "contents.tar.gz unpacks to more than the maximum of {limit} bytes ({} MiB)",
            limit >> 20
        ));
    }
    result
}

fn bad(e: io::Error) -> String {
    format!("contents.tar.gz is not a valid gzip-compressed tar: {e}")
}

fn walk_contents(reader: &mut Capped<impl Read>) -> Result<(), String> {
    let mut extensions = Extensions::default();
    for entry in tar::Archive::new(&mut *reader)
        .entries()
        .map_err(bad)?
        .raw(true)
    {
        let mut entry = entry.map_err(bad)?;
        if extensions.absorb(&mut entry).map_err(bad)? {
            continue;
        }
        let kind = entry.header().entry_type();
        let (path, link) = extensions.take(&entry);
        let path = String::from_utf8_lossy(&path).into_owned();
        check_path(&path)?;
        match kind {
            kind if kind.is_file() || kind.is_dir() => {}
            tar::EntryType::Symlink => {
                let target = link.unwrap_or_default();
                check_symlink(&path, &String::from_utf8_lossy(&target))?;
            }
            kind => return Err(format!("`{path}` has an unsupported entry type ({kind:?})")),
        }
    }
    extensions.finish().map_err(bad)?;
    // Read past the end-of-archive blocks so that the gzip trailer (CRC and length) is checked.
    io::copy(reader, &mut io::sink()).map_err(bad)?;
    Ok(())
}

/// A relative path that stays inside the package: not absolute, no drive letter, no `..`.
fn check_path(path: &str) -> Result<(), String> {
    let unsafe_path = || Err(format!("unsafe path `{path}`"));
    if path.is_empty() || path.starts_with(['/', '\\']) || has_drive(path) {
        return unsafe_path();
    }
    if path.split(['/', '\\']).any(|part| part == "..") {
        return unsafe_path();
    }
    Ok(())
}

fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// A symlink's target, taken from the link's directory, must stay inside the package.
fn check_symlink(path: &str, target: &str) -> Result<(), String> {
    let escapes = || {
        Err(format!(
            "symlink `{path}` points outside the package (`{target}`)"
        ))
    };
    if target.is_empty() || target.starts_with(['/', '\\']) || has_drive(target) {
        return escapes();
    }
    let mut parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    parts.pop();
    let mut depth = parts.iter().filter(|&&p| p != ".").count();
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if depth == 0 => return escapes(),
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    Ok(())
}

//! The `.crate` file: a gzipped tar that cargo unpacks under `NAME-VERSION/`. It is walked once,
//! as a stream, under limits on its unpacked size, its number of entries and the size of every
//! part that is held in memory; of what it unpacks to, only `Cargo.toml` is kept.
//!
//! The tar is read raw (GNU long names and PAX records bounded by `registry::raw_tar`, not read
//! whole by the `tar` crate, whatever size they claim).

use std::io::{self, Read};

use tollgate_registry::capped::Capped;
use tollgate_registry::raw_tar::Extensions;

/// The most a `.crate` may unpack to: crates.io's default `max_unpack_size` (its uploads are
/// limited to 10 MB, so real crates unpack to far less).
pub const MAX_UNPACKED: u64 = 512 << 20;

/// A `.crate` may also unpack to at most this many times its own size (source text compresses
/// about 5:1, gzip at most about 1000:1), so that a small upload cannot make the server inflate
/// hundreds of megabytes ...
pub const MAX_RATIO: u64 = 100;

/// ... except that anything may unpack to this much, whatever its size.
pub const RATIO_FLOOR: u64 = 64 << 20;

/// The most entries a `.crate` may hold: far more than the largest crates ship (a few thousand
/// files), few enough that walking them costs little.
pub const MAX_ENTRIES: u64 = 100_000;

/// The largest `Cargo.toml` read. Real ones are a few kilobytes (the largest, listing thousands
/// of features, a few hundred).
pub const MAX_MANIFEST: u64 = 1 << 20;

/// How much a `.crate` of `compressed` bytes may unpack to.
pub fn unpack_limit(compressed: usize) -> u64 {
    let ratio = u64::try_from(compressed)
        .unwrap_or(u64::MAX)
        .saturating_mul(MAX_RATIO);
    ratio.clamp(RATIO_FLOOR, MAX_UNPACKED)
}

/// Walks the whole `.crate` (so that a corrupt or truncated one is refused now, not when a buyer
/// installs it) and returns the text of `{prefix}Cargo.toml`. Every entry must lie under
/// `prefix` (`NAME-VERSION/`) and be a file or a directory, as cargo and crates.io require.
pub fn manifest(krate: &[u8], prefix: &str, limit: u64) -> Result<String, String> {
    let mut reader = Capped::new(flate2::read::GzDecoder::new(krate), limit);
    let result = walk(&mut reader, prefix);
    if reader.exceeded() {
        return Err(format!(
            "the .crate file unpacks to more than {} MiB, the most this registry accepts for a {} KiB upload",
            limit >> 20,
            krate.len() >> 10
        ));
    }
    result?.ok_or_else(|| format!("the .crate file has no {prefix}Cargo.toml"))
}

fn bad(e: io::Error) -> String {
    format!("the .crate file is not a valid gzipped tar: {e}")
}

fn walk(reader: &mut Capped<impl Read>, prefix: &str) -> Result<Option<String>, String> {
    let wanted = format!("{prefix}Cargo.toml");
    let mut manifest = None;
    let mut extensions = Extensions::default();
    let mut count = 0u64;
    for entry in tar::Archive::new(&mut *reader)
        .entries()
        .map_err(bad)?
        .raw(true)
    {
        let mut entry = entry.map_err(bad)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(format!(
                "the .crate file holds more than {MAX_ENTRIES} entries"
            ));
        }
        if extensions.absorb(&mut entry).map_err(bad)? {
            continue;
        }
        let kind = entry.header().entry_type();
        let (path, _) = extensions.take(&entry);
        let path = String::from_utf8(path)
            .map_err(|e| format!("the .crate file has a path that is not UTF-8: {e}"))?;
        check_path(&path, prefix)?;
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            let what = if kind.is_symlink() || kind.is_hard_link() {
                "a link".to_owned()
            } else {
                format!("of an unsupported type ({kind:?})")
            };
            return Err(format!(
                "`{path}` in the .crate file is {what}; a .crate holds only files and directories"
            ));
        }
        if path == wanted {
            if manifest.is_some() {
                return Err(format!("the .crate file holds {wanted} twice"));
            }
            manifest = Some(read_manifest(&mut entry, &wanted)?);
        }
    }
    extensions.finish().map_err(bad)?;
    // Read past the end-of-archive blocks so that the gzip trailer (CRC and length) is checked.
    io::copy(reader, &mut io::sink()).map_err(bad)?;
    Ok(manifest)
}

fn read_manifest(entry: &mut tar::Entry<impl Read>, wanted: &str) -> Result<String, String> {
    let size = entry.size();
    if size > MAX_MANIFEST {
        return Err(format!(
            "{wanted} is {size} bytes; the most this registry reads is {MAX_MANIFEST} (1 MiB)"
        ));
    }
    String::from_utf8(read_exactly(entry, size)?).map_err(|e| format!("{wanted} is not UTF-8: {e}"))
}

/// Exactly `size` bytes (at most [`MAX_MANIFEST`]); fewer means the archive was cut short.
fn read_exactly(entry: &mut tar::Entry<impl Read>, size: u64) -> Result<Vec<u8>, String> {
    let mut data = Vec::with_capacity(usize::try_from(size.min(MAX_MANIFEST)).unwrap_or(0));
    entry
        .take(MAX_MANIFEST)
        .read_to_end(&mut data)
        .map_err(bad)?;
    if data.len() as u64 != size {
        return Err(bad(io::Error::other("it is truncated")));
    }
    Ok(data)
}

/// A path under `prefix` that does not climb out of it.
fn check_path(path: &str, prefix: &str) -> Result<(), String> {
    let inside = path.starts_with(prefix) || Some(path) == prefix.strip_suffix('/');
    if !inside || path.split(['/', '\\']).any(|part| part == "..") {
        return Err(format!(
            "`{path}` in the .crate file is outside `{prefix}`; cargo would refuse to unpack it"
        ));
    }
    Ok(())
}

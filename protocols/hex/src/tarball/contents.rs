//! `contents.tar.gz`, the package files: walked once, as a stream, under hex_core's limit on
//! its unpacked size. Nothing it unpacks to is kept.
//!
//! The tar is read raw (GNU long names and PAX records handled here, not by the `tar` crate),
//! because the `tar` crate reads those records whole into memory, whatever size they claim.

use std::io::{self, Read};

use tollgate_registry::capped::Capped;

/// The largest GNU long name or PAX record set: a path is at most 4 KiB on Linux.
const MAX_EXTENSION: u64 = 64 << 10;

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

/// Records that describe the next entry (GNU `L`/`K`, PAX `x`), as the `tar` crate reads them.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax: bool,
}

fn walk_contents(reader: &mut Capped<impl Read>) -> Result<(), String> {
    let mut pending = Pending::default();
    for entry in tar::Archive::new(&mut *reader)
        .entries()
        .map_err(bad)?
        .raw(true)
    {
        let mut entry = entry.map_err(bad)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            extension(&mut entry)?;
            continue;
        }
        if kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions() {
            record(&mut pending, kind, extension(&mut entry)?)?;
            continue;
        }
        let Pending {
            long_name,
            long_link,
            pax_path,
            pax_link,
            ..
        } = std::mem::take(&mut pending);
        let path = long_name
            .or(pax_path)
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let path = String::from_utf8_lossy(&path).into_owned();
        check_path(&path)?;
        match kind {
            kind if kind.is_file() || kind.is_dir() => {}
            tar::EntryType::Symlink => {
                let target = long_link
                    .or(pax_link)
                    .or_else(|| entry.link_name_bytes().map(|t| t.into_owned()))
                    .unwrap_or_default();
                check_symlink(&path, &String::from_utf8_lossy(&target))?;
            }
            kind => return Err(format!("`{path}` has an unsupported entry type ({kind:?})")),
        }
    }
    if pending.long_name.is_some() || pending.long_link.is_some() || pending.pax {
        return Err(bad(io::Error::other(
            "it ends with a header that describes no entry",
        )));
    }
    // Read past the end-of-archive blocks so that the gzip trailer (CRC and length) is checked.
    io::copy(reader, &mut io::sink()).map_err(bad)?;
    Ok(())
}

/// Notes a long name, long link or PAX record set for the next entry.
fn record(pending: &mut Pending, kind: tar::EntryType, mut data: Vec<u8>) -> Result<(), String> {
    let twice = || bad(io::Error::other("two headers describe the same entry"));
    if kind.is_gnu_longname() || kind.is_gnu_longlink() {
        if data.last() == Some(&0) {
            data.pop();
        }
        let slot = if kind.is_gnu_longname() {
            &mut pending.long_name
        } else {
            &mut pending.long_link
        };
        if slot.replace(data).is_some() {
            return Err(twice());
        }
        return Ok(());
    }
    if std::mem::replace(&mut pending.pax, true) {
        return Err(twice());
    }
    for field in tar::PaxExtensions::new(&data) {
        let field = field.map_err(bad)?;
        match field.key_bytes() {
            b"path" => pending.pax_path = Some(field.value_bytes().to_vec()),
            b"linkpath" => pending.pax_link = Some(field.value_bytes().to_vec()),
            // The `tar` crate lets a PAX size override the header's; refusing it keeps the
            // archive meaning the same here and in the clients that unpack it.
            b"size" => return Err(bad(io::Error::other("PAX size records are not supported"))),
            _ => {}
        }
    }
    Ok(())
}

/// The data of an extension header, refused past [`MAX_EXTENSION`] before any of it is read.
fn extension(entry: &mut tar::Entry<impl Read>) -> Result<Vec<u8>, String> {
    let size = entry.size();
    if size > MAX_EXTENSION {
        return Err(format!(
            "contents.tar.gz has a {size}-byte tar extension header; the most accepted is {MAX_EXTENSION}"
        ));
    }
    let mut data = Vec::new();
    entry
        .take(MAX_EXTENSION)
        .read_to_end(&mut data)
        .map_err(bad)?;
    if data.len() as u64 != size {
        return Err(bad(io::Error::other("it is truncated")));
    }
    Ok(data)
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

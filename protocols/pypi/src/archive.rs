//! The core metadata inside an uploaded file, read under limits: a wheel is a zip whose
//! `{name}-{version}.dist-info/` holds `METADATA`, `WHEEL` and `RECORD` (PEP 427); an sdist is a
//! gzipped tar under `{name}-{version}/` with `PKG-INFO` at its top (PEP 625). Only the metadata
//! is inflated from a wheel; an sdist is walked once as a stream, within an unpacked-size cap.

use std::io::{self, Cursor, Read};

use tollgate_registry::capped::Capped;
use tollgate_registry::raw_tar::Extensions;

use crate::filename::Kind;
use crate::metadata::MAX_METADATA;

/// An sdist may unpack to at most this much (the cap of a `.crate`).
pub const MAX_UNPACKED: u64 = 512 << 20;

/// The most entries an archive may hold.
pub const MAX_ENTRIES: usize = 100_000;

/// The core metadata bytes of an uploaded file of `kind`, or why the file is refused.
pub fn core_metadata(kind: Kind, bytes: &[u8]) -> Result<Vec<u8>, String> {
    match kind {
        Kind::Wheel => wheel(bytes),
        Kind::Sdist => sdist(bytes),
    }
}

fn wheel(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |e: zip::result::ZipError| format!("Invalid wheel: not a readable zip file ({e})");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!("Invalid wheel: more than {MAX_ENTRIES} entries"));
    }
    let dist_infos: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .filter_map(|n| n.strip_suffix("/METADATA").map(str::to_owned))
        .filter(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
        .collect();
    let [dir] = dist_infos.as_slice() else {
        return Err(format!(
            "Invalid wheel: it must hold exactly one NAME-VERSION.dist-info/METADATA, found {}",
            dist_infos.len()
        ));
    };
    for needed in ["WHEEL", "RECORD"] {
        if zip.index_for_name(&format!("{dir}/{needed}")).is_none() {
            return Err(format!("Invalid wheel: {dir}/{needed} is missing"));
        }
    }
    let mut entry = zip.by_name(&format!("{dir}/METADATA")).map_err(bad)?;
    if entry.size() > MAX_METADATA {
        return Err(format!(
            "Invalid wheel: {dir}/METADATA is {} bytes; the most accepted is {MAX_METADATA}",
            entry.size()
        ));
    }
    let mut data = Vec::new();
    (&mut entry)
        .take(MAX_METADATA + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("Invalid wheel: {dir}/METADATA cannot be inflated ({e})"))?;
    if data.len() as u64 > MAX_METADATA {
        return Err(format!("Invalid wheel: {dir}/METADATA is too large"));
    }
    Ok(data)
}

fn sdist(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = Capped::new(flate2::read::GzDecoder::new(bytes), MAX_UNPACKED);
    let result = walk(&mut reader);
    if reader.exceeded() {
        return Err(format!(
            "Invalid sdist: it unpacks to more than {} MiB",
            MAX_UNPACKED >> 20
        ));
    }
    result
}

fn bad(e: io::Error) -> String {
    format!("Invalid sdist: not a valid gzipped tar ({e})")
}

/// Walks the whole tar (a truncated or corrupt one is refused now) and returns the one
/// `TOP/PKG-INFO` at depth one.
fn walk(reader: &mut Capped<impl Read>) -> Result<Vec<u8>, String> {
    let mut found: Option<Vec<u8>> = None;
    let mut top: Option<String> = None;
    let mut extensions = Extensions::default();
    let mut count = 0usize;
    for entry in tar::Archive::new(&mut *reader)
        .entries()
        .map_err(bad)?
        .raw(true)
    {
        let mut entry = entry.map_err(bad)?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(format!("Invalid sdist: more than {MAX_ENTRIES} entries"));
        }
        if extensions.absorb(&mut entry).map_err(bad)? {
            continue;
        }
        let (path, _) = extensions.take(&entry);
        let path = String::from_utf8_lossy(&path).into_owned();
        let path = path.trim_start_matches("./");
        let mut parts = path.splitn(2, '/');
        let first = parts.next().unwrap_or_default().to_owned();
        let rest = parts.next().unwrap_or_default();
        if path.split(['/', '\\']).any(|p| p == "..") || path.starts_with('/') {
            return Err(format!("Invalid sdist: '{path}' climbs out of the archive"));
        }
        match &top {
            Some(t) if *t != first => {
                return Err(format!(
                    "Invalid sdist: every file must be under one NAME-VERSION/ directory ('{t}/' and '{first}/')"
                ));
            }
            Some(_) => {}
            None => top = Some(first),
        }
        if rest == "PKG-INFO" && entry.header().entry_type().is_file() {
            if found.is_some() {
                return Err("Invalid sdist: PKG-INFO appears twice".into());
            }
            if entry.size() > MAX_METADATA {
                return Err(format!(
                    "Invalid sdist: PKG-INFO is {} bytes; the most accepted is {MAX_METADATA}",
                    entry.size()
                ));
            }
            let mut data = Vec::new();
            (&mut entry)
                .take(MAX_METADATA)
                .read_to_end(&mut data)
                .map_err(bad)?;
            found = Some(data);
        }
    }
    extensions.finish().map_err(bad)?;
    io::copy(reader, &mut io::sink()).map_err(bad)?;
    found.ok_or_else(|| "Invalid sdist: it has no NAME-VERSION/PKG-INFO".into())
}

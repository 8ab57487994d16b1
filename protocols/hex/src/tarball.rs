//! The Hex package tarball: validation of an uploaded `.tar` ([`parse`]) and, for tests and
//! fixtures, a builder of valid ones ([`build`]).
//!
//! Layout (hex_core `hex_tarball.erl`, specs `package_tarball.md`): an uncompressed tar holding
//! exactly `VERSION` (`3`), `CHECKSUM` (hex SHA-256 of `VERSION ++ metadata.config ++
//! contents.tar.gz`, the deprecated "inner" checksum that Mix still compares), `metadata.config`
//! and `contents.tar.gz` (the package files). The "outer" checksum is the SHA-256 of the whole
//! file. Limits are hex_core's defaults, which is what the clients enforce too.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::metadata::{self, Metadata};
use contents::check_contents;

mod contents;

/// Largest accepted tarball, in bytes (hex_core's `tarball_max_size`).
pub const MAX_TARBALL: usize = 16 * 1024 * 1024;

/// Largest accepted size of `contents.tar.gz` once decompressed (hex_core's
/// `tarball_max_uncompressed_size`).
pub const MAX_UNCOMPRESSED: u64 = 128 * 1024 * 1024;

/// hex_core refuses a `metadata.config` larger than this.
const MAX_METADATA: u64 = metadata::MAX_SIZE as u64;

/// Longest accepted package name.
const MAX_NAME: usize = 100;

/// The `mtime` hex_core gives every entry: 2000-01-01T00:00:00Z.
const Y2K: u64 = 946_684_800;

/// A tarball that passed every check.
#[derive(Debug)]
pub struct Package {
    pub metadata: Metadata,
    /// SHA-256 of `VERSION ++ metadata.config ++ contents.tar.gz` (the `CHECKSUM` file).
    pub inner_checksum: [u8; 32],
    /// SHA-256 of the whole tarball.
    pub outer_checksum: [u8; 32],
}

/// Hex's message for a `422`.
const MESSAGE: &str = "Validation error(s)";

/// Why a tarball was refused, in the shape of Hex's `422` reply: a message and a reason per
/// field. Fields used: `tar` (the outer tar, its size, `VERSION`, `CHECKSUM`), `contents`
/// (`contents.tar.gz`), `metadata` (`metadata.config` unreadable or lacking a field), `name`
/// and `version` (present but malformed).
#[derive(Debug, PartialEq)]
pub struct Invalid {
    pub message: String,
    pub errors: Vec<(String, String)>,
}

impl Invalid {
    fn new(field: &str, reason: impl Into<String>) -> Invalid {
        Invalid {
            message: MESSAGE.into(),
            errors: vec![(field.into(), reason.into())],
        }
    }

    /// The `422` body Mix prints: `#{"status" => 422, "message" => .., "errors" => #{field => reason}}`.
    pub fn to_term(&self) -> crate::etf::Term {
        use crate::etf::Term;
        Term::map([
            ("status", Term::Int(422)),
            ("message", Term::str(&self.message)),
            (
                "errors",
                Term::Map(
                    self.errors
                        .iter()
                        .map(|(field, reason)| (Term::str(field), Term::str(reason)))
                        .collect(),
                ),
            ),
        ])
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for (field, reason) in &self.errors {
            write!(f, "; {field}: {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

/// Validates a package tarball and returns its metadata and both checksums.
///
/// Checks, in order: size, the four outer files and nothing else, `VERSION`, `CHECKSUM`,
/// `metadata.config` (name `^[a-z][a-z0-9_]*$`, SemVer version), then `contents.tar.gz`: a gzip
/// tar of relative paths without `..`, at most [`MAX_UNCOMPRESSED`] bytes once decompressed.
pub fn parse(tar: &[u8]) -> Result<Package, Invalid> {
    check_size(tar)?;
    let outer_checksum: [u8; 32] = Sha256::digest(tar).into();
    let [version, checksum, metadata_config, contents] = outer_files(tar)?;

    if version != b"3" {
        return Err(Invalid::new(
            "tar",
            format!(
                "unsupported package format version {:?}, expected \"3\"",
                String::from_utf8_lossy(&version)
            ),
        ));
    }
    let inner_checksum: [u8; 32] = Sha256::new()
        .chain_update(&version)
        .chain_update(&metadata_config)
        .chain_update(&contents)
        .finalize()
        .into();
    let stated = hex::decode(&checksum)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| Invalid::new("tar", "CHECKSUM is not a hex-encoded SHA-256"))?;
    if stated != inner_checksum {
        return Err(Invalid::new(
            "tar",
            format!(
                "CHECKSUM does not match the package (stated {}, computed {})",
                hex::encode_upper(stated),
                hex::encode_upper(inner_checksum)
            ),
        ));
    }

    let metadata =
        metadata::parse_bytes(&metadata_config).map_err(|e| Invalid::new("metadata", e))?;
    let mut errors = Vec::new();
    if let Err(reason) = check_name(&metadata.name) {
        errors.push(("name".to_string(), reason));
    }
    if let Err(e) = semver::Version::parse(&metadata.version) {
        errors.push((
            "version".to_string(),
            format!("`{}` is not a SemVer 2.0 version: {e}", metadata.version),
        ));
    }
    if !errors.is_empty() {
        return Err(Invalid {
            message: MESSAGE.into(),
            errors,
        });
    }

    check_contents(&contents, MAX_UNCOMPRESSED).map_err(|e| Invalid::new("contents", e))?;
    Ok(Package {
        metadata,
        inner_checksum,
        outer_checksum,
    })
}

/// The package name in `metadata.config`, read from the outer tar alone: `contents.tar.gz` is
/// neither checked nor inflated, so a handler can check the token's package scope before the
/// costly part of [`parse`].
pub fn peek_name(tar: &[u8]) -> Result<String, Invalid> {
    check_size(tar)?;
    let [_, _, metadata_config, _] = outer_files(tar)?;
    let metadata =
        metadata::parse_bytes(&metadata_config).map_err(|e| Invalid::new("metadata", e))?;
    check_name(&metadata.name).map_err(|e| Invalid::new("name", e))?;
    Ok(metadata.name)
}

fn check_size(tar: &[u8]) -> Result<(), Invalid> {
    if tar.len() > MAX_TARBALL {
        return Err(Invalid::new(
            "tar",
            format!(
                "package is {} bytes, more than the maximum of {MAX_TARBALL} (16 MiB)",
                tar.len()
            ),
        ));
    }
    Ok(())
}

const OUTER_FILES: [&str; 4] = ["VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz"];

/// The four outer files, in [`OUTER_FILES`] order; anything missing, repeated or extra is refused.
fn outer_files(tar: &[u8]) -> Result<[Vec<u8>; 4], Invalid> {
    let not_tar = |e: io::Error| Invalid::new("tar", format!("not a valid tar archive: {e}"));
    let mut found: [Option<Vec<u8>>; 4] = Default::default();
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            continue;
        }
        let Some(index) = OUTER_FILES.iter().position(|&name| name == path) else {
            return Err(Invalid::new(
                "tar",
                format!("unexpected file `{path}` (a package holds only {OUTER_FILES:?})"),
            ));
        };
        if !kind.is_file() {
            return Err(Invalid::new(
                "tar",
                format!("`{path}` is not a regular file"),
            ));
        }
        if found[index].is_some() {
            return Err(Invalid::new("tar", format!("`{path}` appears twice")));
        }
        let limit = match index {
            0 => 32,
            1 => 128,
            2 => MAX_METADATA,
            _ => MAX_TARBALL as u64,
        };
        let size = entry.size();
        if size > limit {
            return Err(Invalid::new(
                "tar",
                format!("`{path}` is {size} bytes, more than the maximum of {limit}"),
            ));
        }
        let mut data = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut data).map_err(not_tar)?;
        // The tar reader stops quietly at the end of the input: a short entry means truncation.
        if data.len() as u64 != size {
            return Err(Invalid::new("tar", format!("truncated in `{path}`")));
        }
        found[index] = Some(data);
    }
    let missing: Vec<&str> = OUTER_FILES
        .iter()
        .zip(&found)
        .filter(|(_, data)| data.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(Invalid::new(
            "tar",
            format!("missing files: {}", missing.join(", ")),
        ));
    }
    Ok(found.map(Option::unwrap_or_default))
}

/// Hex package names: a lowercase letter, then lowercase letters, digits and `_`.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` must start with a lowercase letter and hold only lowercase letters, digits and `_`"
        ));
    }
    if name.len() > MAX_NAME {
        return Err(format!("is longer than {MAX_NAME} characters"));
    }
    Ok(())
}

/// Builds a valid package tarball from the text of `metadata.config` and the package files
/// (`(path, contents)`), laid out as hex_core's `create` does. For tests and fixtures: it panics
/// on a path the tar format cannot hold, and does not check the metadata.
pub fn build(metadata_config: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let contents = gzip(&tar_of(files));
    let checksum = Sha256::new()
        .chain_update(b"3")
        .chain_update(metadata_config)
        .chain_update(&contents)
        .finalize();
    tar_of(&[
        ("VERSION", b"3"),
        ("CHECKSUM", hex::encode_upper(checksum).as_bytes()),
        ("metadata.config", metadata_config.as_bytes()),
        ("contents.tar.gz", &contents),
    ])
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(Y2K);
        builder
            .append_data(&mut header, path, *data)
            .expect("a tar entry for a relative path is written to memory");
    }
    builder.into_inner().expect("an in-memory tar is finished")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    io::Write::write_all(&mut encoder, data).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod fuzz;

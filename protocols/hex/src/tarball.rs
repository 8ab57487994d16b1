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

/// Largest accepted tarball, in bytes (hex_core's `tarball_max_size`).
pub const MAX_TARBALL: usize = 16 * 1024 * 1024;

/// Largest accepted size of `contents.tar.gz` once decompressed (hex_core's
/// `tarball_max_uncompressed_size`).
pub const MAX_UNCOMPRESSED: u64 = 128 * 1024 * 1024;

/// hex_core refuses a `metadata.config` larger than this.
const MAX_METADATA: u64 = 1024 * 1024;

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
    if tar.len() > MAX_TARBALL {
        return Err(Invalid::new(
            "tar",
            format!(
                "package is {} bytes, more than the maximum of {MAX_TARBALL} (16 MiB)",
                tar.len()
            ),
        ));
    }
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

/// Walks `contents.tar.gz` to its end, decompressing at most `limit` bytes.
fn check_contents(gzip: &[u8], limit: u64) -> Result<(), String> {
    let mut reader = Counted {
        inner: flate2::read::GzDecoder::new(gzip),
        left: limit,
        over: false,
    };
    let result = walk_contents(&mut reader);
    if reader.over {
        return Err(format!(
            "contents.tar.gz unpacks to more than the maximum of {limit} bytes ({} MiB)",
            limit >> 20
        ));
    }
    result
}

fn walk_contents(reader: &mut Counted<impl Read>) -> Result<(), String> {
    let bad = |e: io::Error| format!("contents.tar.gz is not a valid gzip-compressed tar: {e}");
    for entry in tar::Archive::new(&mut *reader).entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_path(&path)?;
        match entry.header().entry_type() {
            kind if kind.is_file() || kind.is_dir() => {}
            tar::EntryType::XGlobalHeader => {}
            tar::EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default();
                let target = String::from_utf8_lossy(&target);
                check_symlink(&path, &target)?;
            }
            kind => return Err(format!("`{path}` has an unsupported entry type ({kind:?})")),
        }
    }
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

/// A reader that fails once more than `left` bytes have come through it.
struct Counted<R> {
    inner: R,
    left: u64,
    over: bool,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for at most one byte past the limit, so a bomb is stopped as soon as it is seen.
        let want = buf
            .len()
            .min(usize::try_from(self.left + 1).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over = true;
            return Err(io::Error::other("size limit exceeded"));
        }
        self.left -= n as u64;
        Ok(n)
    }
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
mod tests {
    use super::*;

    const META: &str = "{<<\"name\">>,<<\"acme\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n";

    /// Made by `r3_hex_tarball:create/2` (hex_core 0.7.1 in rebar3 3.19, OTP 25) with two
    /// requirements and two source files; see `metadata::tests::HEX_CORE_0_7_1` for its metadata.
    const FIXTURE: &[u8] = include_bytes!("../tests/fixtures/hex_core_0.7.1.tar");

    /// The outer tar with a correct CHECKSUM unless `checksum` is given.
    fn outer(version: &[u8], checksum: Option<&str>, meta: &str, contents: &[u8]) -> Vec<u8> {
        let computed = Sha256::new()
            .chain_update(version)
            .chain_update(meta)
            .chain_update(contents)
            .finalize();
        let computed = hex::encode_upper(computed);
        tar_of(&[
            ("VERSION", version),
            ("CHECKSUM", checksum.unwrap_or(&computed).as_bytes()),
            ("metadata.config", meta.as_bytes()),
            ("contents.tar.gz", contents),
        ])
    }

    /// A tar whose entry names (and link targets) are written as given, unchecked.
    fn raw_tar(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, link) in entries {
            let mut header = tar::Header::new_ustar();
            let old = header.as_old_mut();
            old.name[..path.len()].copy_from_slice(path.as_bytes());
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            header.set_size(0);
            header.set_cksum();
            builder.append(&header, io::empty()).expect("in memory");
        }
        builder.into_inner().expect("in memory")
    }

    fn refused(tar: &[u8]) -> (String, String) {
        let invalid = parse(tar).expect_err("refused");
        assert_eq!(invalid.message, "Validation error(s)");
        assert_eq!(invalid.errors.len(), 1, "{invalid:?}");
        invalid.errors.into_iter().next().expect("one error")
    }

    fn assert_refused(tar: &[u8], field: &str, reason: &str) {
        let (f, r) = refused(tar);
        assert_eq!(f, field, "{r}");
        assert!(r.contains(reason), "{r:?} lacks {reason:?}");
    }

    #[test]
    fn accepts_a_tarball_made_by_hex_core() {
        let package = parse(FIXTURE).expect("valid");
        assert_eq!(
            hex::encode(package.outer_checksum),
            "8b2bed48a4b4883cd69d93ed9b4809b572cb0589a463f325061e1cf20d8fa7cb"
        );
        assert_eq!(
            hex::encode_upper(package.inner_checksum),
            "30C65FB4C877AED64E08306506CF690502DD2385617F9F0E8B199EE4A71F943B"
        );
        let meta = package.metadata;
        assert_eq!(
            (meta.name.as_str(), meta.version.as_str()),
            ("tollgate_fixture", "1.2.3")
        );
        let deps: Vec<_> = meta
            .requirements
            .iter()
            .map(|r| (r.name.as_str(), r.optional))
            .collect();
        assert_eq!(deps, [("acme_dep", true), ("cowlib", false)]);
        assert_eq!(meta.requirements[1].repository.as_deref(), Some("hexpm"));
    }

    #[test]
    fn build_makes_a_valid_tarball() {
        let tar = build(
            META,
            &[
                ("src/acme.erl", b"-module(acme).\n"),
                ("rebar.config", b"{deps, []}.\n"),
            ],
        );
        let package = parse(&tar).expect("valid");
        assert_eq!(
            package.outer_checksum,
            <[u8; 32]>::from(Sha256::digest(&tar))
        );
        assert_eq!(package.metadata.name, "acme");
        // The CHECKSUM file holds the inner checksum in uppercase hex; lowercase is accepted too.
        let upper = hex::encode_upper(package.inner_checksum);
        assert!(tar.windows(64).any(|w| w == upper.as_bytes()));
        let contents = gzip(&tar_of(&[("a", b"x")]));
        let lower = hex::encode(
            Sha256::new()
                .chain_update(b"3")
                .chain_update(META)
                .chain_update(&contents)
                .finalize(),
        );
        parse(&outer(b"3", Some(&lower), META, &contents)).expect("lowercase CHECKSUM");
    }

    #[test]
    fn refuses_other_format_versions() {
        let contents = gzip(&tar_of(&[("a", b"x")]));
        assert_refused(&outer(b"2", None, META, &contents), "tar", "version \"2\"");
        assert_refused(&outer(b"3\n", None, META, &contents), "tar", "version");
    }

    #[test]
    fn refuses_a_wrong_or_malformed_checksum() {
        let contents = gzip(&tar_of(&[("a", b"x")]));
        let zeros = "0".repeat(64);
        assert_refused(
            &outer(b"3", Some(&zeros), META, &contents),
            "tar",
            "does not match",
        );
        assert_refused(
            &outer(b"3", Some("XYZ"), META, &contents),
            "tar",
            "not a hex",
        );
        // Editing metadata.config after the fact.
        let mut tar = build(META, &[("a", b"hello")]);
        let pos = tar.windows(4).position(|w| w == b"acme").expect("name");
        tar[pos + 3] = b'f';
        assert_refused(&tar, "tar", "does not match");
    }

    #[test]
    fn refuses_missing_extra_and_repeated_files() {
        let contents = gzip(&tar_of(&[("a", b"x")]));
        let mut files = vec![
            ("VERSION", &b"3"[..]),
            ("CHECKSUM", b"00"),
            ("metadata.config", META.as_bytes()),
        ];
        assert_refused(&tar_of(&files), "tar", "missing files: contents.tar.gz");
        assert_refused(&tar_of(&[]), "tar", "missing files: VERSION, CHECKSUM");
        files.push(("contents.tar.gz", &contents));
        files.push(("README", b"hi"));
        assert_refused(&tar_of(&files), "tar", "unexpected file `README`");
        files.pop();
        files.push(("VERSION", b"3"));
        assert_refused(&tar_of(&files), "tar", "`VERSION` appears twice");
        assert_refused(
            &raw_tar(&[("VERSION", tar::EntryType::Symlink, "/etc/passwd")]),
            "tar",
            "not a regular file",
        );
    }

    #[test]
    fn refuses_what_is_not_a_tar() {
        assert_refused(
            &b"definitely not a tarball\n".repeat(50),
            "tar",
            "not a valid tar",
        );
        // A gzip-compressed tarball (an easy mistake) is not a tar either.
        assert_refused(&gzip(FIXTURE), "tar", "not a valid tar");
    }

    #[test]
    fn refuses_a_truncated_tarball() {
        // Cut inside a header, inside metadata.config, inside contents.tar.gz, and before the
        // last entry (which then is missing).
        for (cut, reason) in [
            (700, "not a valid tar"),
            (2600, "truncated in `metadata.config`"),
            (4200, "truncated in `contents.tar.gz`"),
            (3584, "missing files: contents.tar.gz"),
        ] {
            assert_refused(&FIXTURE[..cut], "tar", reason);
        }
    }

    #[test]
    fn refuses_bad_metadata() {
        let tar = build("{<<\"name\">>, <<\"acme\">>", &[]);
        assert_refused(&tar, "metadata", "line 1");
        let tar = build("{<<\"name\">>, <<\"acme\">>}.\n", &[]);
        assert_refused(&tar, "metadata", "`version` is missing");
    }

    #[test]
    fn refuses_a_bad_name_and_version_together() {
        let tar = build(
            "{<<\"name\">>,<<\"Acme-Lib\">>}.\n{<<\"version\">>,<<\"1.0\">>}.\n",
            &[],
        );
        let invalid = parse(&tar).expect_err("refused");
        let fields: Vec<&str> = invalid.errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "version"]);
        for name in ["9lives", "_x", "a-b", "café", ""] {
            assert!(check_name(name).is_err(), "{name}");
        }
        assert!(check_name(&"a".repeat(101)).is_err());
        for name in ["a", "plug_cowboy", "x509", &"a".repeat(100)] {
            assert_eq!(check_name(name), Ok(()));
        }
        for version in ["01.0.0", "1.0.0-", "v1.0.0", "1.0.0.0"] {
            let tar = build(&META.replace("1.0.0", version), &[]);
            assert_refused(&tar, "version", "SemVer");
        }
        let tar = build(&META.replace("1.0.0", "1.0.0-rc.1+build.7"), &[]);
        assert_eq!(
            parse(&tar).expect("valid").metadata.version,
            "1.0.0-rc.1+build.7"
        );
    }

    #[test]
    fn refuses_an_oversized_tarball() {
        assert_refused(&vec![0; MAX_TARBALL + 1], "tar", "16 MiB");
    }

    #[test]
    fn refuses_paths_that_leave_the_package() {
        use tar::EntryType::{Directory, Regular, Symlink};
        let bad = [
            ("../evil", Regular, ""),
            ("lib/../../evil", Regular, ""),
            ("/etc/passwd", Regular, ""),
            ("C:/evil", Regular, ""),
            ("lib\\..\\..\\evil", Regular, ""),
            ("lib/link", Symlink, "../../etc/passwd"),
            ("link", Symlink, "/etc/passwd"),
        ];
        for entry in bad {
            let contents = gzip(&raw_tar(&[("lib/", Directory, ""), entry]));
            let (field, reason) = refused(&outer(b"3", None, META, &contents));
            assert_eq!(field, "contents");
            assert!(reason.contains(entry.0), "{reason}");
        }
        let contents = gzip(&raw_tar(&[
            ("lib/", Directory, ""),
            ("lib/link", Symlink, "../README.md"),
        ]));
        parse(&outer(b"3", None, META, &contents)).expect("a symlink inside the package is fine");
        let contents = gzip(&raw_tar(&[("dev", tar::EntryType::Char, "")]));
        assert_refused(
            &outer(b"3", None, META, &contents),
            "contents",
            "unsupported entry type",
        );
    }

    #[test]
    fn refuses_contents_that_are_not_a_gzip_tar() {
        assert_refused(
            &outer(b"3", None, META, b"plain text"),
            "contents",
            "not a valid gzip",
        );
        let contents = gzip(&tar_of(&[("a", &[7; 5000])]));
        let cut = &contents[..contents.len() - 4];
        assert_refused(
            &outer(b"3", None, META, cut),
            "contents",
            "not a valid gzip",
        );
        let not_tar = gzip(&b"no tar header here ".repeat(40));
        assert_refused(
            &outer(b"3", None, META, &not_tar),
            "contents",
            "not a valid gzip",
        );
    }

    #[test]
    fn refuses_a_gzip_bomb() {
        // One entry claiming MAX_UNCOMPRESSED + 1 MiB of zeros. Rather than compress 129 MiB,
        // deflate 1 MiB once with a full flush (later blocks then need nothing before them) and
        // repeat it; the stream never ends, as the reader must stop long before its end.
        let size = MAX_UNCOMPRESSED + (1 << 20);
        let mut header = tar::Header::new_ustar();
        header.set_path("zeros").expect("path");
        header.set_size(size);
        header.set_cksum();
        let deflate = |data: &[u8]| {
            let mut out = Vec::with_capacity(data.len() / 100 + 1024);
            flate2::Compress::new(flate2::Compression::best(), false)
                .compress_vec(data, &mut out, flate2::FlushCompress::Full)
                .expect("deflate");
            out
        };
        let mut contents = vec![31, 139, 8, 0, 0, 0, 0, 0, 0, 255];
        contents.extend(deflate(header.as_bytes()));
        let zeros = deflate(&[0; 1 << 20]);
        for _ in 0..size >> 20 {
            contents.extend_from_slice(&zeros);
        }
        assert!(contents.len() < MAX_TARBALL / 16);
        assert_refused(
            &outer(b"3", None, META, &contents),
            "contents",
            "more than the maximum",
        );
        // The same check with a small limit shows that it stops at the limit, not at the end.
        let small = gzip(&tar_of(&[("a", &[1; 10_000])]));
        assert_eq!(check_contents(&small, 20_000), Ok(()));
        assert!(check_contents(&small, 5_000).is_err());
    }

    #[test]
    fn invalid_renders_as_hex_422_body() {
        let invalid = Invalid::new("tar", "missing files: VERSION");
        let term = invalid.to_term();
        assert_eq!(term.get("status"), Some(&crate::etf::Term::Int(422)));
        let errors = term.get("errors").expect("errors");
        assert_eq!(
            errors.get("tar").and_then(|t| t.as_str()),
            Some("missing files: VERSION")
        );
        assert_eq!(
            invalid.to_string(),
            "Validation error(s); tar: missing files: VERSION"
        );
    }
}

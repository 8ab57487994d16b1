//! Tests of `tarball`.

use super::*;

const META: &str = "{<<\"name\">>,<<\"acme\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n";

/// Made by `r3_hex_tarball:create/2` (hex_core 0.7.1 in rebar3 3.19, OTP 25) with two
/// requirements and two source files; see `metadata::tests::HEX_CORE_0_7_1` for its metadata.
const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/hex_core_0.7.1.tar");

/// The outer tar with a correct CHECKSUM unless `checksum` is given.
pub(super) fn outer(
    version: &[u8],
    checksum: Option<&str>,
    meta: &str,
    contents: &[u8],
) -> Vec<u8> {
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

/// A header written as given (path, type, size), unchecked by the `tar` crate's builder.
fn raw_header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(size);
    header.set_cksum();
    header
}

#[test]
fn refuses_an_extension_header_before_reading_it() {
    // A GNU long name claiming 100 MiB (which the `tar` crate would read into memory whole),
    // with none of it sent: refused from the header alone.
    let long = raw_header("././@LongLink", tar::EntryType::GNULongName, 100 << 20);
    assert_refused(
        &outer(b"3", None, META, &gzip(long.as_bytes())),
        "contents",
        "104857600-byte tar extension header",
    );
    // A PAX size record would make the `tar` crate read the archive differently.
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_pax_extensions([("size", &b"3"[..])])
        .expect("pax");
    let mut header = tar::Header::new_ustar();
    header.set_size(1);
    tar.append_data(&mut header, "a", &b"x"[..]).expect("entry");
    let contents = gzip(&tar.into_inner().expect("tar"));
    assert_refused(
        &outer(b"3", None, META, &contents),
        "contents",
        "PAX size records are not supported",
    );
}

#[test]
fn reads_long_names_and_long_link_targets() {
    let long = format!("{}mod.erl", "deep/".repeat(40));
    let mut gnu = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    gnu.append_data(&mut header, &long, &b"x"[..])
        .expect("entry");
    // Its first 100 bytes (all the header holds) stay inside; the whole target climbs out.
    let escape = format!("{}{}", "x/".repeat(60), "../".repeat(62));
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    gnu.append_link(&mut link, "lib/link", &escape)
        .expect("long link");
    let contents = gzip(&gnu.into_inner().expect("tar"));
    // The long target (a GNU `K` record) is read whole, so its escape is seen.
    assert_refused(
        &outer(b"3", None, META, &contents),
        "contents",
        "points outside the package",
    );
    // A long name outside the package, as a PAX record (what erl_tar writes).
    let mut pax = tar::Builder::new(Vec::new());
    pax.append_pax_extensions([("path", format!("../{long}").as_bytes())])
        .expect("pax");
    let mut header = tar::Header::new_ustar();
    header.set_size(0);
    pax.append_data(&mut header, "short", &b""[..])
        .expect("entry");
    let contents = gzip(&pax.into_inner().expect("tar"));
    assert_refused(
        &outer(b"3", None, META, &contents),
        "contents",
        "unsafe path",
    );
    let fine = gzip(&tar_of(&[(long.as_str(), b"x")]));
    parse(&outer(b"3", None, META, &fine)).expect("a long name inside the package is fine");
}

#[test]
fn peek_name_reads_the_outer_tar_alone() {
    assert_eq!(peek_name(FIXTURE), Ok("tollgate_fixture".into()));
    // contents.tar.gz is neither checked nor inflated.
    assert_eq!(
        peek_name(&outer(b"3", None, META, b"not gzip")),
        Ok("acme".into())
    );
    let e = peek_name(&build(&META.replace("acme", "Acme"), &[])).expect_err("bad name");
    assert_eq!(e.errors[0].0, "name");
    let e = peek_name(&tar_of(&[("VERSION", b"3")])).expect_err("missing files");
    assert_eq!(e.errors[0].0, "tar");
    assert!(peek_name(&vec![0; MAX_TARBALL + 1]).is_err());
}

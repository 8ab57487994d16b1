//! Property tests of what reads untrusted input before anything is stored: file names
//! (`filename::parse`), core metadata (`metadata::parse`), the upload form (`form::parse`), the
//! `Accept` header (`simple::negotiate`) and the archives (`archive::core_metadata`). None
//! panics on any input; what parses round-trips; the archive reader stays within a memory bound
//! (a counting global allocator, one case at a time).
//!
//! A few seconds by default; a longer run is one variable, e.g.
//! `PROPTEST_CASES=100000 cargo test -p tollgate-pypi --release --test parser_props`.

use std::io::{Cursor, Write};
use std::sync::Mutex;

use bytes::Bytes;
use peak_alloc::PeakAlloc;
use proptest::prelude::*;
use proptest::test_runner::Config;
use tollgate_pypi::archive::core_metadata;
use tollgate_pypi::filename::{self, Kind};
use tollgate_pypi::simple::{Form, negotiate};
use tollgate_pypi::{form, metadata, name, version};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// The most one `core_metadata` may hold at once beyond its input: the metadata (1 MiB, in a
/// `Vec` that may double while growing), the zip's central directory and inflate windows.
const ALLOC_LIMIT: usize = 8 << 20;

/// The allocator's peak is one number per process: cases run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn cases(default: u32) -> Config {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default;
    }
    config
}

/// `core_metadata(kind, bytes)` under the allocation bound.
fn core_bounded(kind: Kind, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let answer = core_metadata(kind, bytes);
    let used = ALLOC.peak_usage().saturating_sub(before);
    assert!(
        used <= ALLOC_LIMIT + 2 * bytes.len(),
        "core_metadata({kind:?}) held {used} bytes for {} input bytes",
        bytes.len()
    );
    answer
}

// ---- generators of valid pieces ----

/// A project name as people write it (PEP 508): letters and digits, `.-_` between them.
fn project_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]([A-Za-z0-9._-]{0,30}[A-Za-z0-9])?"
}

/// A PEP 440 version without a local part, as build tools write it.
fn pep440() -> impl Strategy<Value = String> {
    (
        prop::option::of(1u32..5),
        prop::collection::vec(0u32..1000, 1..5),
        prop::option::of((prop_oneof![Just("a"), Just("b"), Just("rc")], 0u32..100)),
        prop::option::of(0u32..100),
        prop::option::of(0u32..100),
    )
        .prop_map(|(epoch, release, pre, post, dev)| {
            let mut v = String::new();
            if let Some(e) = epoch {
                v.push_str(&format!("{e}!"));
            }
            let release: Vec<String> = release.iter().map(u32::to_string).collect();
            v.push_str(&release.join("."));
            if let Some((kind, n)) = pre {
                v.push_str(&format!("{kind}{n}"));
            }
            if let Some(n) = post {
                v.push_str(&format!(".post{n}"));
            }
            if let Some(n) = dev {
                v.push_str(&format!(".dev{n}"));
            }
            v
        })
}

fn wheel_tags() -> impl Strategy<Value = (Option<String>, &'static str, &'static str, &'static str)>
{
    (
        prop::option::of("[0-9][A-Za-z0-9_.]{0,6}"),
        prop_oneof![Just("py3"), Just("cp312"), Just("py2.py3"), Just("pp310")],
        prop_oneof![Just("none"), Just("abi3"), Just("cp312")],
        prop_oneof![
            Just("any"),
            Just("manylinux_2_17_x86_64.manylinux2014_x86_64"),
            Just("win_amd64"),
            Just("macosx_11_0_arm64"),
            Just("musllinux_1_2_aarch64"),
        ],
    )
}

// ---- filename::parse ----

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn a_file_name_never_panics(text in any::<String>()) {
        check_parsed(&text);
    }

    /// Long names of any characters: the error quotes the start of the name, on a character
    /// boundary.
    #[test]
    fn a_long_unicode_file_name_never_panics(text in "\\PC{40,300}(\\.whl|\\.tar\\.gz)?") {
        check_parsed(&text);
        let e = filename::parse(&text).expect_err("not ASCII");
        prop_assert!(e.len() < 300, "{}", e);
    }

    #[test]
    fn a_file_name_of_name_characters_never_panics(
        text in "[A-Za-z0-9._+!-]{0,300}(\\.whl|\\.tar\\.gz|\\.zip)?",
    ) {
        check_parsed(&text);
    }

    /// A wheel name as build tools write it parses to its project and version.
    #[test]
    fn a_wheel_name_round_trips(
        project in project_name(),
        v in pep440(),
        (build, py, abi, platform) in wheel_tags(),
    ) {
        let build = build.map(|b| format!("-{b}")).unwrap_or_default();
        let file = format!("{}-{v}{build}-{py}-{abi}-{platform}.whl", name::in_filename(&project));
        let parsed = filename::parse(&file).map_err(|e| TestCaseError::fail(format!("{file}: {e}")))?;
        prop_assert_eq!(parsed.project, name::normalize(&project));
        prop_assert_eq!(parsed.version, v);
        prop_assert_eq!(parsed.kind, Kind::Wheel);
    }

    /// An sdist name (PEP 625) parses to its project and version.
    #[test]
    fn an_sdist_name_round_trips(project in project_name(), v in pep440()) {
        let file = format!("{}-{v}.tar.gz", name::in_filename(&project));
        let parsed = filename::parse(&file).map_err(|e| TestCaseError::fail(format!("{file}: {e}")))?;
        prop_assert_eq!(parsed.project, name::normalize(&project));
        prop_assert_eq!(parsed.version, v);
        prop_assert_eq!(parsed.kind, Kind::Sdist);
    }

    /// A local version (`+…`) is never accepted in a file name.
    #[test]
    fn a_local_version_is_refused(project in project_name(), v in pep440(), local in "[a-z0-9]{1,8}") {
        let stem = format!("{}-{v}+{local}", name::in_filename(&project));
        let sdist = format!("{stem}.tar.gz");
        let wheel = format!("{stem}-py3-none-any.whl");
        prop_assert!(filename::parse(&sdist).is_err(), "{}", sdist);
        prop_assert!(filename::parse(&wheel).is_err(), "{}", wheel);
    }
}

/// What any parsed file name must be: a normalized valid project, a PEP 440 version, the kind
/// its extension says, and no character that could leave a path.
fn check_parsed(text: &str) {
    let Ok(d) = filename::parse(text) else {
        return;
    };
    assert!(text.len() <= filename::MAX_FILENAME, "{text}");
    assert!(
        !text.contains(['/', '\\']) && text.bytes().all(|b| b.is_ascii_graphic()),
        "{text}"
    );
    assert!(name::is_valid(&d.project), "{text}: {d:?}");
    assert_eq!(name::normalize(&d.project), d.project, "{text}");
    assert!(version::parse(&d.version).is_ok(), "{text}: {d:?}");
    let kind = if text.ends_with(".whl") {
        Kind::Wheel
    } else {
        assert!(text.ends_with(".tar.gz"), "{text}");
        Kind::Sdist
    };
    assert_eq!(d.kind, kind, "{text}");
}

// ---- metadata::parse ----

/// A header value as core metadata writes it: one line, no surrounding spaces.
fn header_value() -> impl Strategy<Value = String> {
    "[^\\s:][^\r\n\u{85}\u{2028}\u{2029}]{0,40}".prop_map(|s| s.trim().to_owned())
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn metadata_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = metadata::parse(&bytes, "METADATA");
    }

    #[test]
    fn metadata_of_header_lines_never_panics(
        lines in prop::collection::vec("[A-Za-z-]{0,16}:?[ \t]?[^\n]{0,30}|[ \t][^\n]{0,20}|", 0..20),
    ) {
        let text = lines.join("\n");
        if let Ok(m) = metadata::parse(text.as_bytes(), "METADATA") {
            prop_assert!(!m.name.is_empty() && !m.version.is_empty() && !m.metadata_version.is_empty());
        }
    }

    /// The fields the index serves come back as written, in any case of the field names, with
    /// continuation lines and a body that looks like headers.
    #[test]
    fn metadata_round_trips(
        name in header_value(),
        v in header_value(),
        summary in prop::option::of(header_value()),
        more in prop::option::of(header_value()),
        requires_python in prop::option::of(header_value()),
        deps in prop::collection::vec(header_value(), 0..5),
        upper in any::<bool>(),
        body in "[^\r]{0,80}",
    ) {
        prop_assume!(!name.is_empty() && !v.is_empty());
        let key = |k: &str| if upper { k.to_ascii_uppercase() } else { k.to_owned() };
        let mut text = format!("{}: 2.1\n{}: {name}\n{}:   {v}\n", key("Metadata-Version"), key("Name"), key("Version"));
        let mut want_summary = None;
        if let Some(s) = &summary {
            text.push_str(&format!("{}: {s}\n", key("Summary")));
            let mut w = s.clone();
            if let Some(m) = &more {
                text.push_str(&format!("        {m}\n"));
                w.push('\n');
                w.push_str(m);
            }
            want_summary = Some(w.trim().to_owned());
        }
        if let Some(r) = &requires_python {
            text.push_str(&format!("Requires-Python: {r}\n"));
        }
        for d in &deps {
            text.push_str(&format!("Requires-Dist: {d}\n"));
        }
        text.push_str(&format!("Description-Content-Type: text/markdown\n\nName: not-this\nVersion: 0\n{body}"));
        let m = metadata::parse(text.as_bytes(), "METADATA")
            .map_err(|e| TestCaseError::fail(format!("{e}: {text:?}")))?;
        prop_assert_eq!(&m.metadata_version, "2.1");
        prop_assert_eq!(&m.name, &name);
        prop_assert_eq!(&m.version, &v);
        prop_assert_eq!(m.summary, want_summary);
        prop_assert_eq!(m.requires_python, requires_python);
        prop_assert_eq!(m.requires_dist, deps);
    }
}

// ---- form::parse ----

const BOUNDARY: &str = "8f2d1c3b4a5e6f708192a3b4c5d6e7f8";

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A form body of `fields`, then `content` as the file `filename`.
fn form_body(fields: &[(String, String)], content: Option<&(String, Vec<u8>)>) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .expect("write");
    }
    if let Some((file, bytes)) = content {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{file}\"\r\n\r\n"
        )
        .expect("write");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").expect("write");
    body
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn a_form_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024), boundary in "[A-Za-z0-9'()+_,./:=?-]{1,70}") {
        let _ = block_on(form::parse(Bytes::from(bytes), &boundary));
    }

    /// Random edits of a real form: never a panic.
    #[test]
    fn an_edited_form_never_panics(
        fields in prop::collection::vec(("[a-z_:]{1,12}", "[^\r]{0,30}"), 0..6),
        content in prop::collection::vec(any::<u8>(), 0..256),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let fields: Vec<(String, String)> = fields;
        let mut body = form_body(&fields, Some(&("a-1.0.tar.gz".to_owned(), content)));
        for (at, b) in edits {
            let at = at % body.len();
            body[at] = b;
        }
        let _ = block_on(form::parse(Bytes::from(body), BOUNDARY));
    }

    /// Fields (repeated ones included) and the file come back as sent. (A value's leading
    /// byte order mark is dropped as text is decoded: no generated value starts with one.)
    #[test]
    fn a_form_round_trips(
        fields in prop::collection::vec(("[a-z_:]{1,12}", "([^\r\u{feff}][^\r]{0,39})?"), 0..12),
        file in "[A-Za-z0-9_.+-]{1,60}",
        content in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .filter(|(k, _)| k != "content")
            .collect();
        let body = form_body(&fields, Some(&(file.clone(), content.clone())));
        let form = block_on(form::parse(Bytes::from(body), BOUNDARY))
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(&form.fields, &fields);
        let (got_file, got) = form.content.clone().expect("content");
        prop_assert_eq!(got_file, file);
        prop_assert_eq!(&got[..], &content[..]);
        for (k, _) in &fields {
            let first = fields.iter().find(|(k2, v)| k2 == k && !v.is_empty()).map(|(_, v)| v.as_str());
            prop_assert_eq!(form.field(k), first);
        }
    }
}

// ---- simple::negotiate ----

#[derive(Debug, Clone, Copy, PartialEq)]
enum Media {
    Json,
    Html,
    Other,
}

fn media_range() -> impl Strategy<Value = (Media, String)> {
    prop_oneof![
        Just((Media::Json, "application/vnd.pypi.simple.v1+json")),
        Just((Media::Json, "application/vnd.pypi.simple.latest+json")),
        Just((Media::Json, "Application/VND.PyPI.Simple.V1+JSON")),
        Just((Media::Html, "application/vnd.pypi.simple.v1+html")),
        Just((Media::Html, "application/vnd.pypi.simple.latest+html")),
        Just((Media::Html, "text/html")),
        Just((Media::Html, "*/*")),
        Just((Media::Other, "application/json")),
        Just((Media::Other, "application/vnd.pypi.simple.v2+json")),
        Just((Media::Other, "text/plain")),
        Just((Media::Other, "text/*")),
    ]
    .prop_map(|(m, s)| (m, s.to_owned()))
}

/// `q` values as clients write them (`None`: no `q`, which is 1).
fn quality() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop_oneof![
        Just("0"),
        Just("0.0"),
        Just("0.001"),
        Just("0.01"),
        Just("0.1"),
        Just("0.2"),
        Just("0.5"),
        Just("0.9"),
        Just("1"),
        Just("1.0"),
    ])
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn negotiation_never_panics(accept in any::<String>()) {
        let _ = negotiate(Some(&accept));
    }

    /// JSON when a JSON type is acceptable (q > 0) and no HTML type is preferred to it; HTML
    /// otherwise. Parameters, spaces and unknown types change nothing.
    #[test]
    fn negotiation_takes_the_best_quality(
        ranges in prop::collection::vec((media_range(), quality(), any::<bool>()), 0..6),
    ) {
        let mut parts = Vec::new();
        let (mut best_json, mut best_html) = (0.0f32, 0.0f32);
        for ((media, text), q, spaced) in &ranges {
            let qv: f32 = q.map_or(1.0, |q| q.parse().expect("q"));
            match media {
                Media::Json => best_json = best_json.max(qv),
                Media::Html => best_html = best_html.max(qv),
                Media::Other => {}
            }
            let sep = if *spaced { " ; " } else { ";" };
            parts.push(match q {
                Some(q) => format!("{text}{sep}charset=utf-8{sep}q={q}"),
                None => text.clone(),
            });
        }
        let accept = parts.join(", ");
        let want = if best_json > 0.0 && best_json >= best_html { Form::Json } else { Form::Html };
        prop_assert_eq!(negotiate(Some(&accept)), want, "{}", accept);
    }
}

#[test]
fn negotiation_without_accept_is_html() {
    assert_eq!(negotiate(None), Form::Html);
    assert_eq!(negotiate(Some("")), Form::Html);
}

// ---- archive::core_metadata ----

const META: &str = "Metadata-Version: 2.1\nName: acme-pro\nVersion: 1.0.0\nSummary: x\n\nbody\n";

fn wheel(stored: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if stored {
        zip::CompressionMethod::Stored
    } else {
        zip::CompressionMethod::Deflated
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    let info = "acme_pro-1.0.0.dist-info";
    for (path, text) in [
        ("acme_pro/__init__.py".to_owned(), "X = 1\n"),
        (format!("{info}/METADATA"), META),
        (format!("{info}/WHEEL"), "Wheel-Version: 1.0\n"),
        (format!("{info}/RECORD"), "acme_pro/__init__.py,,\n"),
    ] {
        zip.start_file(path, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

fn sdist_tar() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, text) in [
        ("acme_pro-1.0.0/PKG-INFO", META),
        ("acme_pro-1.0.0/pyproject.toml", "[project]\n"),
        ("acme_pro-1.0.0/src/acme_pro/__init__.py", "X = 1\n"),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, text.as_bytes()).expect("tar");
    }
    tar.into_inner().expect("tar")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// Byte edits: set, insert or remove at a position (taken modulo the length).
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Remove(i, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        match e {
            Edit::Set(i, b) if len > 0 => bytes[i % len] = *b,
            Edit::Insert(i, b) => {
                let at = i % (len + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Remove(i, n) if len > 0 => {
                let at = i % len;
                let end = (at + n).min(len);
                bytes.drain(at..end);
            }
            Edit::Truncate(i) => bytes.truncate(i % (len + 1)),
            _ => {}
        }
    }
    bytes
}

#[test]
fn the_unedited_archives_are_accepted() {
    for stored in [true, false] {
        assert_eq!(
            core_bounded(Kind::Wheel, &wheel(stored)).expect("wheel"),
            META.as_bytes()
        );
    }
    assert_eq!(
        core_bounded(Kind::Sdist, &gzip(&sdist_tar())).expect("sdist"),
        META.as_bytes()
    );
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn archives_of_random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = core_bounded(Kind::Wheel, &bytes);
        let _ = core_bounded(Kind::Sdist, &bytes);
        // The same bytes behind a zip's and a gzip's magic, to get past the first check.
        let mut zipish = b"PK\x03\x04".to_vec();
        zipish.extend_from_slice(&bytes);
        let _ = core_bounded(Kind::Wheel, &zipish);
        let _ = core_bounded(Kind::Sdist, &gzip(&bytes));
    }

    /// Edits of a real wheel (stored, so that edits reach names and data) and of a real sdist
    /// (the tar edited, then gzipped, so that edits reach the tar headers): never a panic, and
    /// what is accepted is a PKG-INFO or METADATA that was in the archive.
    #[test]
    fn edited_archives_never_panic(
        edits in prop::collection::vec(edit(), 1..6),
        stored in any::<bool>(),
    ) {
        let edited = apply(wheel(stored), &edits);
        if let Ok(m) = core_bounded(Kind::Wheel, &edited) {
            prop_assert!(m.len() as u64 <= metadata::MAX_METADATA);
        }
        let edited = gzip(&apply(sdist_tar(), &edits));
        if let Ok(m) = core_bounded(Kind::Sdist, &edited) {
            prop_assert!(m.len() as u64 <= metadata::MAX_METADATA);
        }
        let edited = apply(gzip(&sdist_tar()), &edits);
        let _ = core_bounded(Kind::Sdist, &edited);
    }
}

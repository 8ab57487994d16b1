//! Property tests of the whole `.gem` reader (`parse_gem`: tar, gzip, YAML gemspec) on random
//! bytes and on mutations of a real `gem build` fixture: it never panics, always answers `Ok`
//! or `Err`, and never allocates more than `ALLOC_LIMIT` while doing so (measured by a
//! counting global allocator, one case at a time).
//!
//! A few seconds by default; a longer run is one variable, e.g.
//! `PROPTEST_CASES=100000 cargo test -p tollgate-rubygems --release --test gem_parser_props`
//! (`SHOW_PEAK=1 … -- --nocapture` prints each case's peak above 1 MiB).

use std::io::Write;
use std::sync::Mutex;

use peak_alloc::PeakAlloc;
use proptest::prelude::*;
use proptest::test_runner::Config;
use tollgate_rubygems::gemspec::{GemSpec, MAX_GEMSPEC_BYTES, parse_gem};

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Most bytes one `parse_gem` may hold at once: the inflated gemspec (at most 2 MiB, in a
/// `String` that may double while growing), a tree of at most 100 000 values (about 18 MB
/// when they are all one-entry mappings) and the scanner's queue of tokens read ahead (at
/// most 64 KiB of text, about 16 MB).
const ALLOC_LIMIT: usize = 48 * 1024 * 1024;

/// The allocator's peak is one number per process: cases run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `metadata.gz` of a gem built by `gem build` (RubyGems 3.3.15).
const REAL_YAML: &str = include_str!("fixtures/demo_gem-0.3.1.pre2-x86_64-linux.gemspec.yaml");

/// `parse_gem(bytes)` under the allocation bound; what it answered.
fn parse_bounded(bytes: &[u8]) -> Result<GemSpec, String> {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let before = ALLOC.current_usage();
    ALLOC.reset_peak_usage();
    let answer = parse_gem(bytes);
    let used = ALLOC.peak_usage().saturating_sub(before);
    if std::env::var_os("SHOW_PEAK").is_some() && used > 1 << 20 {
        eprintln!("peak {used} for {} bytes", bytes.len());
    }
    assert!(
        used <= ALLOC_LIMIT,
        "parse_gem held {used} bytes (limit {ALLOC_LIMIT}) for {} input bytes",
        bytes.len()
    );
    answer
}

/// The default case count, unless `PROPTEST_CASES` says otherwise. A failure prints its
/// minimal input; nothing is written next to the sources.
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

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// A `.gem` as `gem build` lays it out, from the raw `metadata.gz` bytes.
fn gem_of_metadata(metadata: &[u8]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (name, bytes) in [
        ("metadata.gz", metadata),
        ("data.tar.gz", &gzip(b"")[..]),
        ("checksums.yaml.gz", &gzip(b"---\n")[..]),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o444);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes)
            .expect("tar entry");
    }
    tar.into_inner().expect("tar")
}

fn gem(yaml: &str) -> Vec<u8> {
    gem_of_metadata(&gzip(yaml.as_bytes()))
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

fn apply(mut bytes: Vec<u8>, edits: &[Edit], within: usize) -> Vec<u8> {
    for e in edits {
        // Positions fall in the first `within` bytes.
        let len = bytes.len().min(within);
        match e {
            Edit::Set(i, b) if len > 0 => bytes[i % len] = *b,
            Edit::Insert(i, b) => {
                let at = i % (len + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Remove(i, n) if len > 0 => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Truncate(i) => bytes.truncate(i % (bytes.len() + 1)),
            _ => {}
        }
    }
    bytes
}

/// YAML-ish text edits: pieces that change structure (indentation, flow, anchors, tags).
fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("- ".to_owned()),
        Just("  ".to_owned()),
        Just("\n".to_owned()),
        Just(": ".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(",".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("!ruby/object:Gem::Version ".to_owned()),
        Just("!!int ".to_owned()),
        Just("? ".to_owned()),
        Just("|\n".to_owned()),
        Just("'".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("#".to_owned()),
        Just("%YAML 1.1\n".to_owned()),
        Just("---\n".to_owned()),
        Just("...\n".to_owned()),
        "[a-z0-9._]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn yaml_edits() -> impl Strategy<Value = Vec<(usize, usize, String)>> {
    prop::collection::vec((any::<usize>(), 0usize..8, yaml_piece()), 1..12)
}

/// Replaces `remove` bytes at `at` (both modulo the text, on char boundaries) by `piece`.
fn edit_yaml(mut text: String, edits: &[(usize, usize, String)]) -> String {
    for (at, remove, piece) in edits {
        let mut start = at % (text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + remove).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        text.replace_range(start..end, piece);
    }
    text
}

#[test]
fn the_fixture_parses() {
    let spec = parse_bounded(&gem(REAL_YAML)).expect("fixture");
    assert_eq!(spec.full_name(), "demo_gem-0.3.1.pre2-x86_64-linux");
}

/// A gzip bomb: 16 MiB of one byte (16 KiB compressed) in metadata.gz.
#[test]
fn a_gzip_bomb_is_refused_within_the_limit() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..16 {
        gz.write_all(&chunk).expect("gzip");
    }
    let bomb = gem_of_metadata(&gz.finish().expect("gzip"));
    let e = parse_bounded(&bomb).expect_err("too large");
    assert!(e.contains("larger than 2 MiB"), "{e}");
}

/// The largest gemspec accepted, as values: close to 100 000 one-line list items.
#[test]
fn the_largest_accepted_gemspec_stays_within_the_limit() {
    let yaml = format!("{REAL_YAML}test_files:\n{}", "- t\n".repeat(99_000));
    assert!((yaml.len() as u64) < MAX_GEMSPEC_BYTES);
    parse_bounded(&gem(&yaml)).expect("within every limit");
    let keys: String = (0..49_000).map(|i| format!("k{i}: v\n")).collect();
    let yaml = format!("{REAL_YAML}metadata_:\n{}", keys.replace('k', "  k"));
    parse_bounded(&gem(&yaml)).expect("within every limit");
    let maps = format!("{REAL_YAML}maps_:\n{}", "- {k: v}\n".repeat(33_000));
    parse_bounded(&gem(&maps)).expect("within every limit");
    // Both at once: a tree near its limit, then a flow collection near the read-ahead limit
    // where it could be a key (`- [a,…]: x`), so the scanner reads all of it ahead.
    let flow = format!("[{}]", "a,".repeat(30_000));
    let both = format!(
        "{REAL_YAML}maps_:\n{}- {flow}\n",
        "- {k: v}\n".repeat(21_000)
    );
    parse_bounded(&gem(&both)).expect("within every limit");
    let flow = format!("{{{}}}", "a,".repeat(40_000));
    let e = parse_bounded(&gem(&format!("{REAL_YAML}flow_:\n- {flow}\n"))).expect_err("long flow");
    assert!(e.contains("flow collection"), "{e}");
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = parse_bounded(&bytes);
    }

    #[test]
    fn mutated_gem_bytes(edits in prop::collection::vec(edit(), 1..8)) {
        let _ = parse_bounded(&apply(gem(REAL_YAML), &edits, usize::MAX));
    }

    /// Edits inside the first tar header (name, mode, size, checksum, magic).
    #[test]
    fn mutated_tar_headers(edits in prop::collection::vec(edit(), 1..6)) {
        let _ = parse_bounded(&apply(gem(REAL_YAML), &edits, 512));
    }

    /// Edits of the gzip stream of metadata.gz (header, deflate blocks, CRC, length).
    #[test]
    fn mutated_gzip(edits in prop::collection::vec(edit(), 1..6)) {
        let metadata = apply(gzip(REAL_YAML.as_bytes()), &edits, usize::MAX);
        let _ = parse_bounded(&gem_of_metadata(&metadata));
    }

    /// Structural edits of the gemspec text.
    #[test]
    fn mutated_yaml(edits in yaml_edits()) {
        let _ = parse_bounded(&gem(&edit_yaml(REAL_YAML.to_owned(), &edits)));
    }

}

// Large inputs: fewer cases by default.
proptest! {
    #![proptest_config(cases(64))]

    /// Nesting of every style at any depth: refused past 64 levels, never a stack overflow.
    #[test]
    fn deep_nesting(depth in 0usize..30_000, style in 0u8..4) {
        let nested = match style {
            0 => "- ".repeat(depth) + "x\n",
            1 => "[".repeat(depth) + &"]".repeat(depth),
            2 => "{a: ".repeat(depth) + "x" + &"}".repeat(depth),
            _ => (0..depth).map(|i| format!("{}k:\n", " ".repeat(i % 200))).collect(),
        };
        let yaml = format!("{REAL_YAML}extra:\n{nested}");
        let answer = parse_bounded(&gem(&yaml));
        if depth > 64 && style < 3 {
            let e = answer.expect_err("too deep");
            prop_assert!(e.contains("nests deeper than 64 levels") || e.contains("not valid YAML"), "{}", e);
        }
    }

    /// Billion laughs of any shape: refused, whatever the number of levels and the fan-out.
    #[test]
    fn alias_chains(levels in 1usize..12, fanout in 1usize..12, flow in any::<bool>()) {
        let mut yaml = format!("{REAL_YAML}l0: &l0 x\n");
        for level in 1..levels {
            let refs = vec![format!("*l{}", level - 1); fanout];
            if flow {
                yaml += &format!("l{level}: &l{level} [{}]\n", refs.join(","));
            } else {
                yaml += &format!("l{level}: &l{level}\n");
                for r in refs {
                    yaml += &format!("- {r}\n");
                }
            }
        }
        let e = parse_bounded(&gem(&yaml)).expect_err("aliases");
        prop_assert!(e.contains("anchors or aliases"), "{}", e);
    }
}

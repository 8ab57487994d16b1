//! Property tests of `tarball` (and, through it, `metadata`): the tarball made by hex_core,
//! mutated (bytes changed, cut, spliced, repeated) as a whole, in its `metadata.config` and in
//! its `contents.tar` before compression, and random input. [`parse`] and [`peek_name`] never
//! panic, and nothing is accepted that unpacks past the limit. `PROPTEST_CASES=100000` runs
//! them longer. The mutator is shared with the `etf` and `metadata` property tests.

use std::io::Read;

use proptest::prelude::*;

use super::tests::outer;
use super::*;

const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/hex_core_0.7.1.tar");

/// One change to a byte string; positions are taken modulo its length.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Set(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Overwrite(usize, Vec<u8>),
    Repeat { from: usize, len: usize, to: usize },
}

pub(crate) fn edits() -> impl Strategy<Value = Vec<Edit>> {
    // Values that make length fields lie: zero, one, the largest, octal tar sizes.
    let word = prop_oneof![
        Just(vec![0, 0, 0, 0]),
        Just(vec![0, 0, 0, 1]),
        Just(vec![255, 255, 255, 255]),
        Just(vec![127, 255, 255, 255]),
        Just(b"77777777777".to_vec()),
        prop::collection::vec(any::<u8>(), 1..12),
    ];
    let edit =
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
            any::<usize>().prop_map(Edit::Cut),
            (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
                .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
            (any::<usize>(), word).prop_map(|(at, bytes)| Edit::Overwrite(at, bytes)),
            (any::<usize>(), 1usize..1024, any::<usize>())
                .prop_map(|(from, len, to)| Edit::Repeat { from, len, to }),
        ];
    prop::collection::vec(edit, 1..6)
}

pub(crate) fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let n = bytes.len().max(1);
        match edit {
            Edit::Set(at, b) => {
                if let Some(x) = bytes.get_mut(at % n) {
                    *x = *b;
                }
            }
            Edit::Cut(at) => bytes.truncate(at % n),
            Edit::Insert(at, new) => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, new.iter().copied());
            }
            Edit::Overwrite(at, new) => {
                for (i, b) in new.iter().enumerate() {
                    if let Some(x) = bytes.get_mut(at % n + i) {
                        *x = *b;
                    }
                }
            }
            Edit::Repeat { from, len, to } => {
                let from = from % n;
                let part: Vec<u8> = bytes.iter().skip(from).take(*len).copied().collect();
                let to = (to % n).min(bytes.len());
                bytes.splice(to..to, part);
            }
        }
    }
    bytes
}

/// Both entry points on one tarball: no panic, and they agree when it is accepted.
fn check(tar: &[u8]) {
    let peeked = peek_name(tar);
    if let Ok(package) = parse(tar) {
        assert_eq!(peeked, Ok(package.metadata.name));
    }
}

/// The four outer files of the fixture.
fn fixture_parts() -> [Vec<u8>; 4] {
    outer_files(FIXTURE).expect("the fixture is valid")
}

fn ungzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .expect("the fixture's contents inflate");
    out
}

proptest! {
    #[test]
    fn mutated_tarballs_never_panic(edits in edits()) {
        check(&apply(FIXTURE.to_vec(), &edits));
    }

    #[test]
    fn mutated_metadata_never_panics(edits in edits()) {
        // With a correct CHECKSUM, so that the metadata parser sees the damage.
        let [version, _, meta, contents] = fixture_parts();
        let meta = String::from_utf8_lossy(&apply(meta, &edits)).into_owned();
        check(&outer(&version, None, &meta, &contents));
    }

    #[test]
    fn mutated_contents_never_panic(edits in edits()) {
        // Mutated before compression, so that the tar reader sees the damage.
        let [version, _, meta, contents] = fixture_parts();
        let contents = gzip(&apply(ungzip(&contents), &edits));
        check(&outer(&version, None, &String::from_utf8_lossy(&meta), &contents));
    }

    #[test]
    fn random_tarballs_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes);
        let [version, _, meta, _] = fixture_parts();
        check(&outer(&version, None, &String::from_utf8_lossy(&meta), &bytes));
    }

    #[test]
    fn nothing_past_the_limit_is_accepted(
        edits in prop::collection::vec(any::<(usize, u8)>(), 0..4),
        padding in 0usize..200_000,
        limit in 1u64..300_000,
    ) {
        let [_, _, _, contents] = fixture_parts();
        let mut tar = ungzip(&contents);
        tar.truncate(tar.len() - 1024);
        tar.extend(tar_of(&[("padding", &vec![0u8; padding])]));
        let mut gz = gzip(&tar);
        for (at, b) in edits {
            let n = gz.len();
            gz[at % n] = b;
        }
        let mut decoder = flate2::read::GzDecoder::new(&gz[..]).take(limit + 1);
        let size = io::copy(&mut decoder, &mut io::sink()).unwrap_or(0);
        match check_contents(&gz, limit) {
            Ok(()) => prop_assert!(size <= limit, "{size} > {limit} accepted"),
            Err(e) if e.contains("unpacks to more than") => prop_assert!(size > limit),
            Err(_) => {}
        }
    }
}

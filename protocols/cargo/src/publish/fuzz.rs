//! Property tests of `publish`: real bodies, mutated (bytes changed, cut, spliced, repeated)
//! before or after compression, and random input. `parse` and `peek` never panic, and nothing
//! is accepted that unpacks past the limit. `PROPTEST_CASES=100000` runs them longer.

use std::io::Read;

use proptest::prelude::*;

use super::tests::{body, gzip, meta, tar_of};
use super::*;

const PREFIX: &str = "acme-core-1.0.0/";

/// The tar of a real crate: `Cargo.toml` with dependencies and features, sources, a long path.
fn real_tar() -> Vec<u8> {
    let manifest = "[package]\nname = \"acme-core\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\
        [dependencies]\nserde = { version = \"1\", features = [\"derive\"], optional = true }\n\
        [features]\nfast = []\nserde = [\"dep:serde\"]\n";
    let long = format!("{PREFIX}{}mod.rs", "nested/".repeat(20));
    tar_of(&[
        (&format!("{PREFIX}Cargo.toml"), manifest.as_bytes()),
        (&format!("{PREFIX}src/lib.rs"), b"pub fn f() -> u8 { 1 }\n"),
        (&long, b"// deep\n"),
    ])
}

fn real_body() -> Vec<u8> {
    body(&meta("acme-core", "1.0.0"), &gzip(&real_tar()))
}

/// One change to a byte string; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Overwrite(usize, Vec<u8>),
    Repeat { from: usize, len: usize, to: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    // Values that make length fields lie: zero, one, the largest, past the body.
    let word = prop_oneof![
        Just(vec![0, 0, 0, 0]),
        Just(vec![1, 0, 0, 0]),
        Just(vec![255, 255, 255, 255]),
        Just(vec![255, 255, 255, 127]),
        Just(b"77777777777".to_vec()),
        prop::collection::vec(any::<u8>(), 1..12),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
        any::<usize>().prop_map(Edit::Cut),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<usize>(), word).prop_map(|(at, bytes)| Edit::Overwrite(at, bytes)),
        (any::<usize>(), 1usize..1024, any::<usize>()).prop_map(|(from, len, to)| Edit::Repeat {
            from,
            len,
            to
        }),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
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

/// Both entry points on one body: no panic, and they agree when the body is accepted.
fn check(body: &[u8]) {
    let peeked = peek(body);
    if let Ok(p) = parse(body) {
        let peeked = peeked.expect("peek accepts what parse accepts");
        assert_eq!((peeked.name, peeked.version), (p.name, p.version));
    }
}

/// How many bytes the gzip stream inflates to, counting at most `cap + 1`.
fn inflated(gz: &[u8], cap: u64) -> u64 {
    let mut decoder = flate2::read::GzDecoder::new(gz).take(cap + 1);
    std::io::copy(&mut decoder, &mut std::io::sink()).unwrap_or(0)
}

proptest! {
    #[test]
    fn mutated_bodies_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        check(&apply(real_body(), &edits));
    }

    #[test]
    fn mutated_crates_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        // Mutated before compression, so that the tar and TOML readers see the damage.
        let tar = apply(real_tar(), &edits);
        check(&body(&meta("acme-core", "1.0.0"), &gzip(&tar)));
    }

    #[test]
    fn random_bodies_never_panic(
        json in prop::collection::vec(any::<u8>(), 0..512),
        krate in prop::collection::vec(any::<u8>(), 0..512),
        framed in any::<bool>(),
    ) {
        if framed {
            let mut b = (json.len() as u32).to_le_bytes().to_vec();
            b.extend(&json);
            b.extend((krate.len() as u32).to_le_bytes());
            b.extend(&krate);
            check(&b);
        } else {
            check(&[json, krate].concat());
        }
    }

    #[test]
    fn random_manifests_never_panic(text in "[\\[\\]{}=.,\"'#a1 \\n]{0,400}") {
        let manifest = format!("[package]\nname = \"acme-core\"\nversion = \"1.0.0\"\n{text}");
        let tar = tar_of(&[(&format!("{PREFIX}Cargo.toml"), manifest.as_bytes())]);
        check(&body(&meta("acme-core", "1.0.0"), &gzip(&tar)));
    }

    #[test]
    fn nothing_past_the_limit_is_accepted(
        edits in prop::collection::vec(edit(), 0..4),
        padding in 0usize..200_000,
        limit in 1u64..300_000,
    ) {
        let mut tar = real_tar();
        let end = tar.len() - 1024;
        let mut filler = tar::Header::new_gnu();
        filler.set_size(padding as u64);
        let mut extra = tar::Builder::new(Vec::new());
        extra.append_data(&mut filler, format!("{PREFIX}padding"), &vec![0u8; padding][..])
            .expect("tar entry");
        tar.splice(end.., extra.into_inner().expect("tar"));
        let gz = apply(gzip(&tar), &edits);
        let size = inflated(&gz, limit);
        match krate::manifest(&gz, PREFIX, limit) {
            Ok(_) => prop_assert!(size <= limit, "{size} > {limit} accepted"),
            Err(e) if e.contains("unpacks to more than") => prop_assert!(size > limit),
            Err(_) => {}
        }
    }
}

//! Property tests of `publish`: a body built as npm builds it around a real `.tgz`, mutated
//! (bytes changed, cut, spliced, repeated), with random JSON put into its manifest, and random
//! input. [`parse`] never panics, and what it accepts is what was sent. `PROPTEST_CASES=100000`
//! runs them longer.

use proptest::prelude::*;
use serde_json::json;

use super::tests::{body, real_tgz};
use super::*;

const NAME: &str = "@acme/ui";

fn real_body() -> Vec<u8> {
    serde_json::to_vec(&body(NAME, "1.0.0", &real_tgz(NAME, "1.0.0"))).expect("json")
}

/// One change to a byte string; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Repeat { from: usize, len: usize, to: usize },
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    // JSON's own characters, so that many mutations still parse.
    let token = prop_oneof![
        Just(b"{".to_vec()),
        Just(b"[".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b",".to_vec()),
        Just(b"null".to_vec()),
        Just(b"\"length\":0,".to_vec()),
        prop::collection::vec(any::<u8>(), 1..16),
    ];
    let edit =
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Set(at, b)),
            any::<usize>().prop_map(Edit::Cut),
            (any::<usize>(), token).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
            (any::<usize>(), 1usize..256, any::<usize>())
                .prop_map(|(from, len, to)| Edit::Repeat { from, len, to }),
        ];
    prop::collection::vec(edit, 1..6)
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

/// No panic; an accepted body names the URL's package and its tarball is what was hashed.
fn check(url: &str, body: &[u8]) {
    if let Ok(p) = parse(url, body) {
        assert_eq!(p.name, url);
        assert_eq!(p.sha256, hex::encode(Sha256::digest(&p.tarball)));
        assert_eq!(p.manifest["version"], p.version.as_str());
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z\\[\\]{}\"\\\\]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn mutated_bodies_never_panic(edits in edits()) {
        check(NAME, &apply(real_body(), &edits));
    }

    #[test]
    fn random_manifest_fields_never_panic(
        key in prop_oneof![Just("dist"), Just("name"), Just("version"), Just("x")],
        value in json_value(),
        top in any::<bool>(),
    ) {
        let mut b = body(NAME, "1.0.0", &real_tgz(NAME, "1.0.0"));
        if top {
            b[key] = value;
        } else {
            b["versions"]["1.0.0"][key] = value;
        }
        check(NAME, &serde_json::to_vec(&b).expect("json"));
    }

    #[test]
    fn random_attachments_never_panic(
        data in "[A-Za-z0-9+/=%]{0,64}",
        length in prop::option::of(0u64..64),
    ) {
        let mut b = body(NAME, "1.0.0", &real_tgz(NAME, "1.0.0"));
        b["_attachments"] = json!({"x.tgz": {"data": data, "length": length}});
        check(NAME, &serde_json::to_vec(&b).expect("json"));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        check(NAME, &bytes);
    }
}

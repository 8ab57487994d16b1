//! Property tests of the term codec: random terms round-trip; their encodings mutated (bytes
//! changed, cut, spliced, lengths made to lie) and random bytes never make [`decode`] panic.
//! `PROPTEST_CASES=100000` runs them longer.

use proptest::prelude::*;

use super::*;
use crate::tarball::fuzz::{apply, edits};

fn term() -> impl Strategy<Value = Term> {
    let leaf = prop_oneof![
        Just(Term::Nil),
        any::<bool>().prop_map(Term::Bool),
        any::<i64>().prop_map(Term::Int),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Term::Binary),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Term::List),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Term::Tuple),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Term::Map),
        ]
    })
}

proptest! {
    #[test]
    fn terms_round_trip(t in term()) {
        prop_assert_eq!(decode(&encode(&t)), Ok(t));
    }

    #[test]
    fn mutated_terms_never_panic(t in term(), edits in edits()) {
        let _ = decode(&apply(encode(&t), &edits));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
        let _ = decode(&[&[131][..], &bytes].concat());
    }
}

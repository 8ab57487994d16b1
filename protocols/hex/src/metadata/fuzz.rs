//! Property tests of the `metadata.config` reader: hex_core's text mutated, and text made of
//! the term syntax's own characters. [`parse_bytes`] never panics and answers a value or an
//! error. `PROPTEST_CASES=100000` runs them longer.

use proptest::prelude::*;

use super::tests::HEX_CORE_0_7_1;
use super::*;
use crate::tarball::fuzz::{apply, edits};

proptest! {
    #[test]
    fn mutated_metadata_never_panics(edits in edits()) {
        let _ = parse_bytes(&apply(HEX_CORE_0_7_1.as_bytes().to_vec(), &edits));
    }

    #[test]
    fn term_syntax_never_panics(text in "[{}\\[\\]#<>=,.\"'$\\\\%a-zA-Z0-9_/ \\n+-]{0,300}") {
        let _ = parse(&text);
        let _ = parse(&format!("{{<<\"name\">>, {text}}}.\n"));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_bytes(&bytes);
    }
}

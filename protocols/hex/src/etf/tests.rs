use super::*;

// Every byte string below was printed by Erlang/OTP 25 (`binary_to_list(term_to_binary(T))`,
// with `[{minor_version, 2}]` where atoms are involved, the default from OTP 26 on).

#[test]
fn error_document_matches_term_to_binary() {
    // #{<<"errors">> => #{<<"name">> => <<"has invalid format">>},
    //   <<"message">> => <<"Validation error(s)">>, <<"status">> => 422}
    let expected: &[u8] = &[
        131, 116, 0, 0, 0, 3, 109, 0, 0, 0, 6, 101, 114, 114, 111, 114, 115, 116, 0, 0, 0, 1, 109,
        0, 0, 0, 4, 110, 97, 109, 101, 109, 0, 0, 0, 18, 104, 97, 115, 32, 105, 110, 118, 97, 108,
        105, 100, 32, 102, 111, 114, 109, 97, 116, 109, 0, 0, 0, 7, 109, 101, 115, 115, 97, 103,
        101, 109, 0, 0, 0, 19, 86, 97, 108, 105, 100, 97, 116, 105, 111, 110, 32, 101, 114, 114,
        111, 114, 40, 115, 41, 109, 0, 0, 0, 6, 115, 116, 97, 116, 117, 115, 98, 0, 0, 1, 166,
    ];
    // term_to_binary writes a small map's keys in term order; we write ours in that order.
    let term = Term::map([
        (
            "errors",
            Term::map([("name", Term::str("has invalid format"))]),
        ),
        ("message", Term::str("Validation error(s)")),
        ("status", Term::Int(422)),
    ]);
    assert_eq!(encode(&term), expected);
    assert_eq!(decode(expected), Ok(term));
}

#[test]
fn users_me_document_matches_term_to_binary() {
    // #{<<"organizations">> => [], <<"username">> => <<"alice">>}
    let expected: &[u8] = &[
        131, 116, 0, 0, 0, 2, 109, 0, 0, 0, 13, 111, 114, 103, 97, 110, 105, 122, 97, 116, 105,
        111, 110, 115, 106, 109, 0, 0, 0, 8, 117, 115, 101, 114, 110, 97, 109, 101, 109, 0, 0, 0,
        5, 97, 108, 105, 99, 101,
    ];
    let term = Term::map([
        ("organizations", Term::List(vec![])),
        ("username", Term::str("alice")),
    ]);
    assert_eq!(encode(&term), expected);
    let decoded = decode(expected).expect("decodes");
    assert_eq!(
        decoded.get("username").and_then(Term::as_str),
        Some("alice")
    );
}

#[test]
fn integers_pick_small_integer_and_big_encodings() {
    // [0, 255, 256, -1, -2147483648, 2147483647, 2147483648, -2147483649,
    //  9223372036854775807, -9223372036854775808]
    let expected: &[u8] = &[
        131, 108, 0, 0, 0, 10, 97, 0, 97, 255, 98, 0, 0, 1, 0, 98, 255, 255, 255, 255, 98, 128, 0,
        0, 0, 98, 127, 255, 255, 255, 110, 4, 0, 0, 0, 0, 128, 110, 4, 1, 1, 0, 0, 128, 110, 8, 0,
        255, 255, 255, 255, 255, 255, 255, 127, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128, 106,
    ];
    let values = [
        0,
        255,
        256,
        -1,
        i64::from(i32::MIN),
        i64::from(i32::MAX),
        1 << 31,
        -(1 << 31) - 1,
        i64::MAX,
        i64::MIN,
    ];
    let term = Term::List(values.iter().map(|&n| Term::Int(n)).collect());
    assert_eq!(encode(&term), expected);
    assert_eq!(decode(expected), Ok(term));
}

#[test]
fn atoms_are_small_utf8_atoms() {
    // {true, false, nil}
    let expected: &[u8] = &[
        131, 104, 3, 119, 4, 116, 114, 117, 101, 119, 5, 102, 97, 108, 115, 101, 119, 3, 110, 105,
        108,
    ];
    let term = Term::Tuple(vec![Term::Bool(true), Term::Bool(false), Term::Nil]);
    assert_eq!(encode(&term), expected);
    assert_eq!(decode(expected), Ok(term));
}

#[test]
fn empty_list_is_nil_ext() {
    assert_eq!(encode(&Term::List(vec![])), [131, 106]);
    assert_eq!(decode(&[131, 106]), Ok(Term::List(vec![])));
}

#[test]
fn nested_lists_tuples_and_empty_binary() {
    // [[<<"a">>, [true]], [], <<>>, {1, [nil]}] as OTP 25 writes it by default (ATOM_EXT)
    let otp25: &[u8] = &[
        131, 108, 0, 0, 0, 4, 108, 0, 0, 0, 2, 109, 0, 0, 0, 1, 97, 108, 0, 0, 0, 1, 100, 0, 4,
        116, 114, 117, 101, 106, 106, 106, 109, 0, 0, 0, 0, 104, 2, 97, 1, 108, 0, 0, 0, 1, 100, 0,
        3, 110, 105, 108, 106, 106,
    ];
    let term = Term::List(vec![
        Term::List(vec![Term::str("a"), Term::List(vec![Term::Bool(true)])]),
        Term::List(vec![]),
        Term::Binary(vec![]),
        Term::Tuple(vec![Term::Int(1), Term::List(vec![Term::Nil])]),
    ]);
    assert_eq!(decode(otp25), Ok(term.clone()));
    // The same term with `[{minor_version, 2}]`: atoms as SMALL_ATOM_UTF8_EXT.
    let modern: &[u8] = &[
        131, 108, 0, 0, 0, 4, 108, 0, 0, 0, 2, 109, 0, 0, 0, 1, 97, 108, 0, 0, 0, 1, 119, 4, 116,
        114, 117, 101, 106, 106, 106, 109, 0, 0, 0, 0, 104, 2, 97, 1, 108, 0, 0, 0, 1, 119, 3, 110,
        105, 108, 106, 106,
    ];
    assert_eq!(decode(modern), Ok(term.clone()));
    assert_eq!(encode(&term), modern);
}

#[test]
fn large_tuple_and_utf8_binary() {
    let term = Term::Tuple((1..=256).map(Term::Int).collect());
    let bytes = encode(&term);
    // {1, 2, ..., 256} begins [131,105,0,0,1,0,97,1,97,2,...]
    assert_eq!(bytes[..10], [131, 105, 0, 0, 1, 0, 97, 1, 97, 2]);
    assert_eq!(decode(&bytes), Ok(term));
    // <<"ünï"/utf8>>
    let expected: &[u8] = &[131, 109, 0, 0, 0, 5, 195, 188, 110, 195, 175];
    assert_eq!(encode(&Term::str("ünï")), expected);
}

#[test]
fn decodes_string_ext_and_compressed_terms() {
    // "abc"
    assert_eq!(
        decode(&[131, 107, 0, 3, 97, 98, 99]),
        Ok(Term::List(vec![
            Term::Int(97),
            Term::Int(98),
            Term::Int(99)
        ]))
    );
    // term_to_binary(lists:duplicate(100, <<"x">>), [compressed])
    let compressed: &[u8] = &[
        131, 80, 0, 0, 2, 94, 120, 156, 203, 97, 96, 96, 72, 201, 5, 18, 140, 21, 163, 228, 40, 73,
        93, 50, 11, 0, 184, 109, 91, 19,
    ];
    assert_eq!(
        decode(compressed),
        Ok(Term::List(vec![Term::str("x"); 100]))
    );
}

#[test]
fn round_trips() {
    let term = Term::map([
        ("status", Term::Int(-5)),
        ("list", Term::List(vec![Term::Nil, Term::Bool(false)])),
        (
            "nested",
            Term::Map(vec![(Term::Int(1), Term::Tuple(vec![]))]),
        ),
        ("big", Term::Int(-(1 << 40))),
    ]);
    assert_eq!(decode(&encode(&term)), Ok(term));
}

#[test]
fn refuses_what_hex_core_refuses() {
    // ok (an atom other than true/false/nil)
    assert!(decode(&[131, 119, 2, 111, 107]).is_err());
    // 1.5 (floats are outside the subset)
    assert!(decode(&[131, 70, 63, 248, 0, 0, 0, 0, 0, 0]).is_err());
    // not version 131, empty, truncated, trailing bytes, improper list [1|2]
    assert!(decode(&[130, 106]).is_err());
    assert!(decode(&[]).is_err());
    assert!(decode(&[131, 109, 0, 0, 0, 5, 1]).is_err());
    assert!(decode(&[131, 106, 0]).is_err());
    assert!(decode(&[131, 108, 0, 0, 0, 1, 97, 1, 97, 2]).is_err());
    // a list claiming 4 billion elements
    assert!(decode(&[131, 108, 255, 255, 255, 255, 106]).is_err());
    // 2^64 does not fit
    assert!(decode(&[131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
}

#[test]
fn refuses_deep_nesting() {
    let mut bytes = vec![131];
    for _ in 0..10_000 {
        bytes.extend_from_slice(&[108, 0, 0, 0, 1]);
    }
    bytes.push(106);
    bytes.extend(std::iter::repeat_n(106, 10_000));
    assert_eq!(decode(&bytes), Err("term nested more than 64 deep".into()));
}

#[test]
fn refuses_declared_lengths_past_the_input() {
    // Maps, lists, tuples, binaries and atoms claiming more than the bytes that follow.
    for header in [
        &[131, 116, 255, 255, 255, 255][..],
        &[131, 108, 0, 1, 0, 0],
        &[131, 105, 0, 0, 1, 0],
        &[131, 109, 255, 255, 255, 255],
        &[131, 119, 200],
        &[131, 118, 255, 255],
        &[131, 111, 255, 255, 255, 255, 0],
        &[131, 107, 255, 255],
    ] {
        let mut bytes = header.to_vec();
        bytes.extend([106; 100]);
        assert!(decode(&bytes).is_err(), "{header:?}");
    }
    // A map whose count matches the bytes left (a megabyte of them) is refused by the
    // term budget, not answered with a gigabyte allocation.
    let mut bytes = vec![131, 116, 0, 16, 0, 0];
    bytes.extend(std::iter::repeat_n(106, 1 << 20));
    assert_eq!(decode(&bytes), Err("more than 100000 terms".into()));
}

#[test]
fn refuses_more_terms_than_the_budget() {
    // A list of 200 000 empty lists: 5 bytes each way, 32 bytes each decoded.
    let mut bytes = vec![131, 108];
    bytes.extend(200_000u32.to_be_bytes());
    bytes.extend(std::iter::repeat_n(106, 200_001));
    assert_eq!(decode(&bytes), Err("more than 100000 terms".into()));
    // STRING_EXT: one tag, 65 535 terms; two of them pass the budget.
    let mut bytes = vec![131, 104, 2];
    for _ in 0..2 {
        bytes.extend([107, 255, 255]);
        bytes.extend([b'a'; 65_535]);
    }
    assert_eq!(decode(&bytes), Err("more than 100000 terms".into()));
    // A compressed term that would inflate past 1 MiB is refused from its size field.
    let mut bytes = vec![131, 80];
    bytes.extend(u32::MAX.to_be_bytes());
    bytes.extend([120, 156, 3, 0, 0, 0, 0, 1]);
    assert!(
        decode(&bytes)
            .expect_err("big")
            .contains("larger than the maximum")
    );
}

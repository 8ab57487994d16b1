//! A pass over JSON text that bounds its shape before serde builds anything from it. Parsed, a
//! document of tiny values (`[0,0,0,…]`) takes ten to thirty times the memory it took to send,
//! so the number of values is bounded first; the depth bound answers in the client's words
//! before serde's own recursion limit would.

/// Refuses `json` when it nests deeper than `max_depth` or holds more than `max_values` values
/// (counted as opening brackets, commas and colons outside strings: at least one per value).
/// Invalid JSON may pass: serde reports that.
pub fn check(json: &[u8], what: &str, max_depth: usize, max_values: usize) -> Result<(), String> {
    let mut depth = 0usize;
    let mut values = 0usize;
    let mut i = 0;
    while let Some(&byte) = json.get(i) {
        match byte {
            b'"' => i = string_end(json, i + 1),
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > max_depth {
                    return Err(format!("{what} nests deeper than {max_depth} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => values += 1,
            _ => {}
        }
        if values > max_values {
            return Err(format!("{what} holds more than {max_values} values"));
        }
        i += 1;
    }
    Ok(())
}

/// The index of the quote closing the string whose text starts at `from` (or the end).
fn string_end(json: &[u8], mut from: usize) -> usize {
    loop {
        let Some(rest) = json.get(from..) else {
            return json.len();
        };
        match rest.iter().position(|&b| b == b'"' || b == b'\\') {
            None => return json.len(),
            Some(at) if rest[at] == b'\\' => from += at + 2,
            Some(at) => return from + at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_values_and_depth_outside_strings() {
        assert_eq!(check(br#"{"a":[1,2,{"b":null}]}"#, "x", 3, 8), Ok(()));
        assert!(check(br#"{"a":[1,2,{"b":null}]}"#, "x", 2, 8).is_err());
        assert!(check(br#"{"a":[1,2,{"b":null}]}"#, "x", 3, 6).is_err());
        // Brackets, commas and escaped quotes inside strings do not count.
        assert_eq!(check(br#"["[[[,,,:\"[[[", "\\"]"#, "x", 1, 2), Ok(()));
        let e = check(&[b'['; 100], "the document", 64, 1000).expect_err("deep");
        assert_eq!(e, "the document nests deeper than 64 levels");
        let e = check(b"[0", "d", 1, 0).expect_err("too many");
        assert_eq!(e, "d holds more than 0 values");
        // Unterminated strings and stray escapes at the end do not panic.
        for text in [&b"\""[..], b"\"\\", b"[\"\\\"", b"]]]"] {
            let _ = check(text, "x", 2, 2);
        }
    }
}

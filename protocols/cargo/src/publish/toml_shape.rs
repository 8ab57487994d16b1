//! A pass over `Cargo.toml` text that bounds its number of values before `toml` parses it:
//! parsed, a value costs some 300 bytes (tokens, events, tables), so a megabyte of `1,1,1,…`
//! or of `a.a.a.…` would cost 100 MB or more. `toml` bounds nesting itself.

/// Refuses `text` when it holds more than `max` separators (`,` `=` `.` `[` `{` outside
/// strings and comments: at least one per value, key or table). Invalid TOML may pass: `toml`
/// reports that.
pub fn check(text: &str, what: &str, max: usize) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut count = 0usize;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        i = match byte {
            b'#' => find(bytes, i + 1, b"\n"),
            b'"' if bytes[i..].starts_with(b"\"\"\"") => escaped_end(bytes, i + 3, b"\"\"\""),
            b'"' => escaped_end(bytes, i + 1, b"\""),
            b'\'' if bytes[i..].starts_with(b"'''") => find(bytes, i + 3, b"'''"),
            b'\'' => find(bytes, i + 1, b"'"),
            b',' | b'=' | b'.' | b'[' | b'{' => {
                count += 1;
                if count > max {
                    return Err(format!("{what} holds more than {max} values"));
                }
                i + 1
            }
            _ => i + 1,
        };
    }
    Ok(())
}

/// The index just past the first `close` at or after `from` (or the end).
fn find(bytes: &[u8], from: usize, close: &[u8]) -> usize {
    bytes
        .get(from..)
        .and_then(|rest| rest.windows(close.len()).position(|w| w == close))
        .map_or(bytes.len(), |at| from + at + close.len())
}

/// As [`find`], skipping backslash escapes (basic strings).
fn escaped_end(bytes: &[u8], mut from: usize, close: &[u8]) -> usize {
    while let Some(rest) = bytes.get(from..) {
        if rest.starts_with(close) {
            return from + close.len();
        }
        from += if rest.first() == Some(&b'\\') { 2 } else { 1 };
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_separators_outside_strings_and_comments() {
        let text = "[package]\nname = \"a,b.c=[\"\nx = { a = 1, b = [2, 3] }\n";
        // [ = = { = , = [ ,
        assert_eq!(check(text, "t", 9), Ok(()));
        assert_eq!(
            check(text, "t", 8),
            Err("t holds more than 8 values".into())
        );
        let quiet = "# a, b, c = [\ns = '''\n,,,\n'''\nt = \"\"\"\\\"\"\",,\"\"\"\nu = 'x,y'\n";
        assert_eq!(check(quiet, "t", 4), Ok(()));
        assert!(check(&format!("{} = 1", vec!["a"; 100].join(".")), "t", 50).is_err());
        // Unterminated strings and stray escapes at the end do not panic.
        for text in ["\"", "\"\\", "'''", "\"\"\"\\", "#"] {
            assert_eq!(check(text, "t", 0), Ok(()));
        }
    }
}

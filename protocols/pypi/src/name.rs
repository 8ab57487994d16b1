//! Project names: what the public index accepts (PEP 508) and the one form they are stored,
//! compared and requested in (PEP 503 normalization).

/// The longest name accepted. The public index has no fixed limit; real names stay far below.
pub const MAX_NAME: usize = 128;

/// Is `name` a valid project name: ASCII letters and digits, with `.`, `_` or `-` only between
/// them (PEP 508)?
pub fn is_valid(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    !name.is_empty()
        && name.len() <= MAX_NAME
        && edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// PEP 503: lowercase, every run of `-`, `_` and `.` as one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_run = false;
        }
    }
    out
}

/// The name as wheel and sdist file names write it (PEP 427, PEP 625): normalized, with `_`.
pub fn in_filename(name: &str) -> String {
    normalize(name).replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_as_pep_503() {
        for (raw, want) in [
            ("Acme-Pro", "acme-pro"),
            ("acme_pro", "acme-pro"),
            ("acme.._-pro", "acme-pro"),
            ("ACME", "acme"),
        ] {
            assert_eq!(normalize(raw), want, "{raw}");
        }
        assert_eq!(in_filename("Acme.Pro"), "acme_pro");
    }

    #[test]
    fn validates_as_pep_508() {
        for ok in ["a", "acme-pro", "Acme_Pro.2", "x1"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a b",
            "a/b",
            "ü",
            "a%2e",
            "..",
            &"a".repeat(129),
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}

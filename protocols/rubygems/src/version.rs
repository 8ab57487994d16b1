//! Gem versions and platforms: prerelease test, RubyGems' ordering, full names
//! (`name-version[-platform]`) and the registry's version key (`version[-platform]`). Pure.

use std::cmp::Ordering;

pub const RUBY: &str = "ruby";

/// `Gem::Version#prerelease?`: any letter.
pub fn is_prerelease(version: &str) -> bool {
    version.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A version as `Gem::Version.correct?` accepts it (after RubyGems normalized it in the gemspec).
pub fn is_valid(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 128
        && version.as_bytes()[0].is_ascii_digit()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.')
        && !version.ends_with('.')
        && !version.contains("..")
}

#[derive(Debug, PartialEq, Eq, Clone)]
enum Segment {
    Num(u64),
    Word(String),
}

fn segments(version: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Segment>| {
        if cur.is_empty() {
            return;
        }
        let seg = match cur.parse() {
            Ok(n) => Segment::Num(n),
            Err(_) => Segment::Word(cur.clone()),
        };
        out.push(seg);
        cur.clear();
    };
    for c in version.chars() {
        let switch = cur
            .chars()
            .last()
            .is_some_and(|l| l.is_ascii_digit() != c.is_ascii_digit());
        if c == '.' || switch {
            flush(&mut cur, &mut out);
        }
        if c != '.' {
            cur.push(c);
        }
    }
    flush(&mut cur, &mut out);
    // Canonical: trailing zeros of the release part do not count (1.0 == 1).
    let release_end = out
        .iter()
        .position(|s| matches!(s, Segment::Word(_)))
        .unwrap_or(out.len());
    let mut keep = release_end;
    while keep > 0 && out[keep - 1] == Segment::Num(0) {
        keep -= 1;
    }
    out.drain(keep..release_end);
    out
}

/// `Gem::Version#<=>`.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (segments(a), segments(b));
    for i in 0..a.len().max(b.len()) {
        let l = a.get(i).cloned().unwrap_or(Segment::Num(0));
        let r = b.get(i).cloned().unwrap_or(Segment::Num(0));
        let ord = match (&l, &r) {
            (Segment::Num(x), Segment::Num(y)) => x.cmp(y),
            (Segment::Word(x), Segment::Word(y)) => x.cmp(y),
            (Segment::Word(_), Segment::Num(_)) => Ordering::Less,
            (Segment::Num(_), Segment::Word(_)) => Ordering::Greater,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The registry's version key: `1.2.0` or `1.2.0-x86_64-linux` (unique per name).
pub fn key(version: &str, platform: &str) -> String {
    if platform == RUBY {
        version.to_owned()
    } else {
        format!("{version}-{platform}")
    }
}

/// `(version, platform)` of a version key.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('-').unwrap_or((key, RUBY))
}

/// `Gem::Platform`'s parts `(cpu, os, version)` of a platform string, as `Gem::Platform.new`
/// splits the common forms (`x86_64-linux`, `arm64-darwin-22`, `java`).
pub fn platform_parts(platform: &str) -> (Option<&str>, &str, Option<&str>) {
    let mut parts = platform.splitn(3, '-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(cpu), Some(os), version) => (Some(cpu), os, version),
        (Some(os), None, _) => (None, os, None),
        _ => (None, platform, None),
    }
}

/// Candidate `(name, version key)` splits of a full name (`acme-pro-1.0.0-java`): the version
/// starts at a `-` followed by a digit.
pub fn split_full_name(full: &str) -> Vec<(&str, &str)> {
    full.match_indices('-')
        .filter(|(i, _)| full[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|(i, _)| (&full[..i], &full[i + 1..]))
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_like_rubygems() {
        let sorted = [
            "0.9",
            "1.0.0.a",
            "1.0.0.a2",
            "1.0.0.b1",
            "1.0.0.pre",
            "1.0.0.rc1",
            "1",
            "1.0.1",
            "1.2",
            "1.10",
        ];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
        }
        assert_eq!(compare("1.0", "1"), Ordering::Equal);
        assert_eq!(compare("1.0.0", "1"), Ordering::Equal);
    }

    #[test]
    fn prerelease_and_validity() {
        assert!(is_prerelease("2.0.0.pre1"));
        assert!(!is_prerelease("2.0.0"));
        assert!(is_valid("1.2.0") && is_valid("2.0.0.rc1"));
        assert!(!is_valid("") && !is_valid("a1") && !is_valid("1..2") && !is_valid("1-2"));
    }

    #[test]
    fn keys_and_full_names() {
        assert_eq!(key("1.0", "ruby"), "1.0");
        assert_eq!(key("1.0", "x86_64-linux"), "1.0-x86_64-linux");
        assert_eq!(split_key("1.0-x86_64-linux"), ("1.0", "x86_64-linux"));
        assert_eq!(split_key("1.0"), ("1.0", "ruby"));
        assert_eq!(
            split_full_name("acme-pro-1.0.0-x86_64-linux"),
            vec![("acme-pro", "1.0.0-x86_64-linux")]
        );
        assert_eq!(
            split_full_name("a-2fa-1.0"),
            vec![("a", "2fa-1.0"), ("a-2fa", "1.0")]
        );
        assert_eq!(
            platform_parts("x86_64-linux"),
            (Some("x86_64"), "linux", None)
        );
        assert_eq!(
            platform_parts("arm64-darwin-22"),
            (Some("arm64"), "darwin", Some("22"))
        );
        assert_eq!(platform_parts("java"), (None, "java", None));
    }
}

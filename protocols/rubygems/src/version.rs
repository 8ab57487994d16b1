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

/// Longest accepted platform (real ones, such as `universal-darwin-22`, are under 25 bytes).
pub const MAX_PLATFORM: usize = 64;

/// A platform as `Gem::Platform#to_s` writes it: `ruby`, or 1 to 3 `-`-separated parts
/// (`java`, `x86_64-linux`, `arm64-darwin-22`, `x64-mingw-ucrt`) of letters, digits, `_`, `.`.
pub fn valid_platform(platform: &str) -> bool {
    platform.len() <= MAX_PLATFORM
        && platform.split('-').count() <= 3
        && platform.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._".contains(&b))
        })
}

/// Longest full name: a name, a version and a platform at their longest, with two dashes.
pub const MAX_FULL_NAME: usize = crate::gemspec::MAX_NAME + 128 + MAX_PLATFORM + 2;

/// A `(name, version key)` reading of a full name.
pub type Split<'a> = (&'a str, &'a str);

/// Candidate `(name, version key)` splits of a full name (`acme-pro-1.0.0-java`), each with a
/// valid name, version and platform: a version has no `-` and starts with a digit, and a
/// platform has at most 3 parts, so the version starts at one of the last 4 dashes and there
/// are at most 4 candidates. Anything else (too long, bad characters) has none, and is
/// answered "not found" before any lookup.
pub fn split_full_name(full: &str) -> Vec<Split<'_>> {
    if full.len() > MAX_FULL_NAME {
        return Vec::new();
    }
    let mut out: Vec<Split<'_>> = full
        .rmatch_indices('-')
        .take(4)
        .map(|(i, _)| (&full[..i], &full[i + 1..]))
        .filter(|(name, key)| {
            let (version, platform) = split_key(key);
            crate::gemspec::valid_name(name)
                && is_valid(version)
                && (platform == RUBY || valid_platform(platform))
        })
        .collect();
    out.reverse();
    out
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
            split_full_name("acme_pro-1.2.0"),
            vec![("acme_pro", "1.2.0")]
        );
        assert_eq!(
            split_full_name("nokogiri-1.16.0-x64-mingw-ucrt"),
            vec![("nokogiri", "1.16.0-x64-mingw-ucrt")]
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

    #[test]
    fn platforms() {
        for ok in [
            "ruby",
            "java",
            "x86_64-linux",
            "arm64-darwin-22",
            "x64-mingw-ucrt",
        ] {
            assert!(valid_platform(ok), "{ok}");
        }
        for bad in [
            "",
            "a-b-c-d",
            "x86_64--linux",
            "-linux",
            "linux-",
            "lin ux",
            "a/b",
        ] {
            assert!(!valid_platform(bad), "{bad}");
        }
        assert!(valid_platform(&"x".repeat(MAX_PLATFORM)));
        assert!(!valid_platform(&"x".repeat(MAX_PLATFORM + 1)));
    }

    /// Issue 16 row 4: `a-1-1-…` 30 000 times gave 30 000 candidate names, each a query and a
    /// cached "not found". Now: too long, no candidate at all.
    #[test]
    fn full_names_are_split_a_bounded_number_of_ways() {
        let hostile = format!("a{}", "-1".repeat(30_000));
        let started = std::time::Instant::now();
        assert!(split_full_name(&hostile).is_empty());
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        // At the longest accepted length, still at most 4 candidates, each with a valid name.
        let longest = format!("a{}", "-1".repeat(MAX_FULL_NAME / 2));
        let longest = &longest[..MAX_FULL_NAME];
        let splits = split_full_name(longest);
        assert!(splits.len() <= 4, "{splits:?}");
        assert!(splits.iter().all(|(n, _)| crate::gemspec::valid_name(n)));
        assert_eq!(
            split_full_name("a-1-1-1-1-1"),
            vec![
                ("a-1", "1-1-1-1"),
                ("a-1-1", "1-1-1"),
                ("a-1-1-1", "1-1"),
                ("a-1-1-1-1", "1"),
            ]
        );
        // The name part too long by itself: none.
        let long_name = format!("{}-1.0", "a".repeat(crate::gemspec::MAX_NAME + 1));
        assert!(split_full_name(&long_name).is_empty());
        let at_limit = format!("{}-1.0", "a".repeat(crate::gemspec::MAX_NAME));
        assert_eq!(split_full_name(&at_limit).len(), 1);
        // Bad characters, empty parts, no version: none.
        for bad in [
            "",
            "-1.0",
            "a b-1.0",
            "a-",
            "a-x",
            "a-1.0-",
            "a-1.0-b-c-d-e",
            "a/b-1.0",
            "é-1.0",
        ] {
            assert!(split_full_name(bad).is_empty(), "{bad}");
        }
        // Splits where the version does not start at one of the last four dashes are not tried.
        assert_eq!(
            split_full_name("a-1-b-c-d-e-1.0"),
            vec![("a-1-b-c-d-e", "1.0")]
        );
    }
}

//! The compact index bodies: `/versions`, `/info/NAME`, `/names`. Pure.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest, Md5};
use sha2::Sha256;
use tollgate_registry::access::Visibility;
use tollgate_registry::ids::PackageId;

use crate::gemspec::{GemSpec, Requirement};

/// One visible, unyanked release: its version key, `.gem` SHA-256 hex and gemspec.
pub struct Entry<'a> {
    pub key: &'a str,
    pub sha256: &'a str,
    pub spec: &'a GemSpec,
}

/// `>= 0&< 2`: a requirement as the compact index writes it.
fn requirement(req: &Requirement) -> String {
    req.iter()
        .map(|(op, v)| format!("{op} {v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn is_trivial(req: &Requirement) -> bool {
    req.is_empty() || req.iter().all(|(op, v)| op == ">=" && v == "0")
}

/// `/info/NAME`: `---`, then `VERSION[-PLATFORM] deps|checksum:…[,ruby:…][,rubygems:…]`.
pub fn info(entries: &[Entry]) -> Vec<u8> {
    let mut out = String::from("---\n");
    for e in entries {
        let deps = e
            .spec
            .dependencies
            .iter()
            .map(|d| format!("{}:{}", d.name, requirement(&d.requirement)))
            .collect::<Vec<_>>()
            .join(",");
        out.push_str(&format!("{} {deps}|checksum:{}", e.key, e.sha256));
        if !is_trivial(&e.spec.required_ruby_version) {
            out.push_str(&format!(
                ",ruby:{}",
                requirement(&e.spec.required_ruby_version)
            ));
        }
        if !is_trivial(&e.spec.required_rubygems_version) {
            let req = requirement(&e.spec.required_rubygems_version);
            out.push_str(&format!(",rubygems:{req}"));
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// MD5 hex of a body (the `/versions` column and the ETag Bundler ≤ 2.4 checks).
pub fn md5_hex(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// `/versions`: a `created_at` line, `---`, then `name v1,v2 md5(info)` per gem.
pub fn versions(created_at: &str, gems: &[(String, Vec<String>, String)]) -> Vec<u8> {
    let mut out = format!("created_at: {created_at}\n---\n");
    for (name, keys, md5) in gems {
        out.push_str(&format!("{name} {} {md5}\n", keys.join(",")));
    }
    out.into_bytes()
}

/// `/names`: `---`, then one name per line.
pub fn names(names: &[String]) -> Vec<u8> {
    let mut out = String::from("---\n");
    for n in names {
        out.push_str(n);
        out.push('\n');
    }
    out.into_bytes()
}

/// A rendered compact-index body with its MD5 (the ETag) and SHA-256 (`Repr-Digest`).
pub struct Listing {
    pub(crate) body: bytes::Bytes,
    pub(crate) md5: String,
    pub(crate) digest: String,
    /// How many gems it lists.
    pub(crate) gems: usize,
    /// The view it was built for: compared on every hit, so a hash collision can never show one
    /// org another's listing.
    pub(crate) view: Vec<(PackageId, Visibility)>,
}

impl Listing {
    pub(crate) fn new(body: Vec<u8>, gems: usize) -> Self {
        Self {
            view: Vec::new(),
            md5: md5_hex(&body),
            digest: format!(
                "sha-256=:{}:",
                BASE64.encode(<Sha256 as sha2::Digest>::digest(&body))
            ),
            body: body.into(),
            gems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemspec::fixtures::YAML;
    use crate::gemspec::parse_yaml;
    use crate::version::RUBY;

    fn spec() -> GemSpec {
        parse_yaml(YAML).expect("fixture")
    }

    #[test]
    fn info_lines() {
        let mut plain = spec();
        plain.platform = RUBY.into();
        plain.dependencies.clear();
        plain.required_ruby_version = vec![(">=".into(), "0".into())];
        plain.required_rubygems_version = vec![(">".into(), "1.3.1".into())];
        let rich = spec();
        let body = info(&[
            Entry {
                key: "1.0.0",
                sha256: "aa",
                spec: &plain,
            },
            Entry {
                key: "1.2.0-x86_64-linux",
                sha256: "bb",
                spec: &rich,
            },
        ]);
        assert_eq!(
            String::from_utf8(body).expect("utf-8"),
            "---\n1.0.0 |checksum:aa,rubygems:> 1.3.1\n\
             1.2.0-x86_64-linux acme_base:~> 1.0&>= 1.0.1|checksum:bb,ruby:>= 2.7.0\n"
        );
    }

    #[test]
    fn versions_and_names() {
        let gems = vec![(
            "a".into(),
            vec!["1.0".into(), "1.1-java".into()],
            "ff".into(),
        )];
        assert_eq!(
            versions("2024-01-01T00:00:00Z", &gems),
            b"created_at: 2024-01-01T00:00:00Z\n---\na 1.0,1.1-java ff\n".to_vec()
        );
        assert_eq!(versions("x", &[]), b"created_at: x\n---\n".to_vec());
        assert_eq!(names(&["a".into(), "b".into()]), b"---\na\nb\n".to_vec());
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }
}

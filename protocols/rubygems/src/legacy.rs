//! The legacy index: `specs.4.8.gz`, `latest_specs.4.8.gz`, `prerelease_specs.4.8.gz`
//! (gzipped Marshal arrays of `[name, Gem::Version, platform]`) and
//! `quick/Marshal.4.8/FULLNAME.gemspec.rz` (zlib-deflated Marshal of a `Gem::Specification`).
//! Pure.

use std::io::Write;

use crate::gemspec::GemSpec;
use crate::marshal::{self, Value};
use crate::version::{self, RUBY};

/// Which releases a legacy specs file lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecsFile {
    /// `specs.4.8.gz`: every release version.
    Released,
    /// `latest_specs.4.8.gz`: the highest release version per name and platform.
    Latest,
    /// `prerelease_specs.4.8.gz`: prerelease versions only.
    Prerelease,
}

/// gzip(Marshal([[name, Gem::Version, platform], …])) of `(name, version key)` pairs.
pub fn specs(file: SpecsFile, releases: &[(String, String)]) -> Vec<u8> {
    let mut tuples: Vec<(&str, &str, &str)> = releases
        .iter()
        .map(|(name, key)| {
            let (v, p) = version::split_key(key);
            (name.as_str(), v, p)
        })
        .filter(|(_, v, _)| version::is_prerelease(v) == (file == SpecsFile::Prerelease))
        .collect();
    if file == SpecsFile::Latest {
        let mut latest: Vec<(&str, &str, &str)> = Vec::new();
        for t in tuples {
            match latest.iter_mut().find(|l| l.0 == t.0 && l.2 == t.2) {
                Some(l) if version::compare(t.1, l.1).is_gt() => *l = t,
                Some(_) => {}
                None => latest.push(t),
            }
        }
        tuples = latest;
    }
    let array = tuples
        .into_iter()
        .map(|(n, v, p)| Value::Array(vec![Value::str(n), Value::gem_version(v), Value::str(p)]))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&marshal::dump(&Value::Array(array)));
    gz.finish().unwrap_or_default()
}

/// `quick/Marshal.4.8/FULLNAME.gemspec.rz`: zlib(Marshal(Gem::Specification)), the
/// `Gem::Specification#_dump` array with only SafeMarshal's classes.
pub fn gemspec_rz(spec: &GemSpec) -> Vec<u8> {
    let opt = |s: &Option<String>| s.clone().map_or(Value::Nil, Value::Str);
    let list = |v: &[String]| Value::Array(v.iter().cloned().map(Value::Str).collect());
    let deps = spec
        .dependencies
        .iter()
        .map(|d| {
            Value::Object(
                "Gem::Dependency".into(),
                vec![
                    ("@name".into(), Value::str(d.name.as_str())),
                    (
                        "@requirement".into(),
                        Value::gem_requirement(&d.requirement),
                    ),
                    ("@type".into(), Value::Symbol("runtime".into())),
                    ("@prerelease".into(), Value::Bool(false)),
                ],
            )
        })
        .collect();
    let email = match spec.email.as_slice() {
        [] => Value::Nil,
        [one] => Value::str(one.as_str()),
        many => list(many),
    };
    let platform = if spec.platform == RUBY {
        Value::str(RUBY)
    } else {
        let (cpu, os, v) = version::platform_parts(&spec.platform);
        let s = |x: Option<&str>| x.map_or(Value::Nil, Value::str);
        Value::Object(
            "Gem::Platform".into(),
            vec![
                ("@cpu".into(), s(cpu)),
                ("@os".into(), Value::str(os)),
                ("@version".into(), s(v)),
            ],
        )
    };
    let fields = Value::Array(vec![
        Value::str(spec.rubygems_version.as_str()),
        Value::Int(4),
        Value::str(spec.name.as_str()),
        Value::gem_version(&spec.version),
        Value::str(spec.date.as_str()),
        Value::str(spec.summary.as_str()),
        Value::gem_requirement(&spec.required_ruby_version),
        Value::gem_requirement(&spec.required_rubygems_version),
        Value::str(spec.platform.as_str()),
        Value::Array(deps),
        Value::str(""),
        email,
        list(&spec.authors),
        opt(&spec.description),
        opt(&spec.homepage),
        Value::Bool(true),
        platform,
        list(&spec.licenses),
        Value::Hash(Vec::new()),
    ]);
    let outer = Value::UserDump("Gem::Specification".into(), marshal::dump(&fields));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&marshal::dump(&outer));
    z.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemspec::fixtures::YAML;
    use crate::gemspec::{Dependency, parse_yaml};
    use std::io::Read;

    fn spec() -> GemSpec {
        parse_yaml(YAML).expect("fixture")
    }

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(b)
            .read_to_end(&mut out)
            .expect("gzip");
        out
    }

    #[test]
    fn specs_files_pick_their_versions() {
        let rel = |n: &str, k: &str| (n.to_owned(), k.to_owned());
        let all = [
            rel("a", "1.0"),
            rel("a", "1.10"),
            rel("a", "1.2"),
            rel("a", "2.0.pre"),
        ];
        let tuple = |n: &str, v: &str, p: &str| {
            Value::Array(vec![Value::str(n), Value::gem_version(v), Value::str(p)])
        };
        let latest = gunzip(&specs(SpecsFile::Latest, &all));
        assert_eq!(
            latest,
            marshal::dump(&Value::Array(vec![tuple("a", "1.10", "ruby")]))
        );
        let pre = gunzip(&specs(SpecsFile::Prerelease, &all));
        assert_eq!(
            pre,
            marshal::dump(&Value::Array(vec![tuple("a", "2.0.pre", "ruby")]))
        );
        let released = gunzip(&specs(SpecsFile::Released, &[rel("b", "1.0-java")]));
        assert_eq!(
            released,
            marshal::dump(&Value::Array(vec![tuple("b", "1.0", "java")]))
        );
    }

    #[test]
    fn gemspec_rz_is_a_zlib_stream_of_a_user_dump() {
        let mut s = spec();
        s.dependencies.push(Dependency {
            name: "x".into(),
            requirement: vec![],
        });
        let rz = gemspec_rz(&s);
        assert_eq!(&rz[..2], &[0x78, 0x9c]);
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(rz.as_slice())
            .read_to_end(&mut raw)
            .expect("zlib");
        assert!(raw.starts_with(b"\x04\x08u:\x17Gem::Specification"));
        let text = String::from_utf8_lossy(&raw);
        for needle in [
            "acme_pro",
            "Gem::Platform",
            "x86_64",
            "Gem::Dependency",
            "runtime",
        ] {
            assert!(text.contains(needle), "{needle} in {text:?}");
        }
    }
}

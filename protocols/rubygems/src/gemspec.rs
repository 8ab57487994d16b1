//! A pushed `.gem`: a plain tar holding `metadata.gz` (the gzipped YAML gemspec with Ruby tags
//! such as `!ruby/object:Gem::Specification`), `data.tar.gz` and `checksums.yaml.gz`. Reads
//! what the indexes need from the gemspec. Pure.

use std::io::Read;

use serde::{Deserialize, Serialize};
use yaml_rust2::{Yaml, YamlLoader};

use crate::version::{self, RUBY};

/// Largest accepted `metadata.gz` once decompressed.
const MAX_METADATA: u64 = 16 * 1024 * 1024;

/// `(operator, version)` pairs of a `Gem::Requirement`, in gemspec order.
pub type Requirement = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    pub requirement: Requirement,
}

/// What the indexes need of one gem, stored as the release's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GemSpec {
    pub name: String,
    pub version: String,
    pub platform: String,
    /// Runtime dependencies only.
    pub dependencies: Vec<Dependency>,
    pub required_ruby_version: Requirement,
    pub required_rubygems_version: Requirement,
    pub summary: String,
    #[serde(default)]
    pub description: Option<String>,
    pub authors: Vec<String>,
    #[serde(default)]
    pub email: Vec<String>,
    #[serde(default)]
    pub homepage: Option<String>,
    pub licenses: Vec<String>,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub rubygems_version: String,
}

impl GemSpec {
    /// `name-version[-platform]`.
    pub fn full_name(&self) -> String {
        format!("{}-{}", self.name, self.key())
    }

    /// The registry's version: `version[-platform]`.
    pub fn key(&self) -> String {
        version::key(&self.version, &self.platform)
    }
}

/// RubyGems' name rule: letters, digits, `.`, `-`, `_`, with at least one letter or digit.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// Reads and checks the gemspec of a `.gem`.
pub fn parse_gem(gem: &[u8]) -> Result<GemSpec, String> {
    let bad = |e: std::io::Error| format!("the .gem file is not a valid gem archive: {e}");
    let mut archive = tar::Archive::new(gem);
    let (mut metadata, mut data) = (None, false);
    for entry in archive.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        match path.as_str() {
            "metadata.gz" => {
                let mut text = String::new();
                flate2::read::GzDecoder::new(entry)
                    .take(MAX_METADATA)
                    .read_to_string(&mut text)
                    .map_err(|e| format!("metadata.gz is not gzipped UTF-8 text: {e}"))?;
                metadata = Some(text);
            }
            "data.tar.gz" => data = true,
            _ => {}
        }
    }
    let metadata = metadata.ok_or("the .gem file has no metadata.gz")?;
    if !data {
        return Err("the .gem file has no data.tar.gz".into());
    }
    parse_yaml(&metadata)
}

/// Reads a gemspec YAML document (`Gem::Specification#to_yaml`).
pub fn parse_yaml(text: &str) -> Result<GemSpec, String> {
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| format!("the gemspec in metadata.gz is not valid YAML: {e}"))?;
    let doc = docs.first().ok_or("the gemspec in metadata.gz is empty")?;
    let name = scalar(&doc["name"]).ok_or("the gemspec has no name")?;
    if !valid_name(&name) {
        return Err(format!("invalid gem name `{name}`"));
    }
    let version = scalar(&doc["version"]["version"]).ok_or("the gemspec has no version")?;
    if !version::is_valid(&version) {
        return Err(format!("invalid gem version `{version}`"));
    }
    let platform = scalar(&doc["platform"]).unwrap_or_else(|| RUBY.into());
    if platform.is_empty()
        || !platform
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(format!("invalid gem platform `{platform}`"));
    }
    let mut dependencies = Vec::new();
    for dep in doc["dependencies"]
        .as_vec()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let kind = scalar(&dep["type"]).unwrap_or_else(|| ":runtime".into());
        if kind.trim_start_matches(':') != "runtime" {
            continue;
        }
        let dep_name = scalar(&dep["name"]).ok_or("a dependency has no name")?;
        if !valid_name(&dep_name) {
            return Err(format!("invalid dependency name `{dep_name}`"));
        }
        dependencies.push(Dependency {
            name: dep_name,
            requirement: requirement(&dep["requirement"])?,
        });
    }
    let date = scalar(&doc["date"])
        .filter(|d| d.len() >= 10 && d.is_char_boundary(10))
        .map(|d| d[..10].to_owned())
        .filter(|d| {
            d.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
        })
        .unwrap_or_else(|| "1980-01-02".into());
    Ok(GemSpec {
        name,
        version,
        platform,
        dependencies,
        required_ruby_version: requirement(&doc["required_ruby_version"])?,
        required_rubygems_version: requirement(&doc["required_rubygems_version"])?,
        summary: scalar(&doc["summary"]).unwrap_or_default(),
        description: scalar(&doc["description"]),
        authors: strings(&doc["authors"]),
        email: strings(&doc["email"]),
        homepage: scalar(&doc["homepage"]),
        licenses: strings(&doc["licenses"]),
        date,
        rubygems_version: scalar(&doc["rubygems_version"]).unwrap_or_else(|| "3.3.0".into()),
    })
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string or a list of strings.
fn strings(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

const OPERATORS: [&str; 7] = ["=", "!=", ">", "<", ">=", "<=", "~>"];

/// `!ruby/object:Gem::Requirement {requirements: [[op, !ruby/object:Gem::Version {version}]]}`;
/// a missing requirement means `>= 0`.
fn requirement(y: &Yaml) -> Result<Requirement, String> {
    let Some(items) = y["requirements"].as_vec() else {
        return Ok(vec![(">=".into(), "0".into())]);
    };
    let mut out = Vec::new();
    for item in items {
        let op = scalar(&item[0]).ok_or("a requirement has no operator")?;
        let v = scalar(&item[1]["version"]).ok_or("a requirement has no version")?;
        if !OPERATORS.contains(&op.as_str()) || !version::is_valid(&v) {
            return Err(format!("invalid requirement `{op} {v}`"));
        }
        out.push((op, v));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    pub const YAML: &str = r#"--- !ruby/object:Gem::Specification
name: acme_pro
version: !ruby/object:Gem::Version
  version: 1.2.0
platform: x86_64-linux
authors:
- Acme
autorequire:
bindir: bin
cert_chain: []
date: 2026-11-25 00:00:00.000000000 Z
dependencies:
- !ruby/object:Gem::Dependency
  name: acme_base
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - "~>"
      - !ruby/object:Gem::Version
        version: '1.0'
    - - ">="
      - !ruby/object:Gem::Version
        version: 1.0.1
  type: :runtime
  prerelease: false
  version_requirements: !ruby/object:Gem::Requirement
    requirements:
    - - "~>"
      - !ruby/object:Gem::Version
        version: '1.0'
- !ruby/object:Gem::Dependency
  name: rake
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - ">="
      - !ruby/object:Gem::Version
        version: '0'
  type: :development
  prerelease: false
description:
email: dev@acme.example
executables: []
files:
- lib/acme_pro.rb
homepage:
licenses:
- MIT
metadata: {}
required_ruby_version: !ruby/object:Gem::Requirement
  requirements:
  - - ">="
    - !ruby/object:Gem::Version
      version: 2.7.0
required_rubygems_version: !ruby/object:Gem::Requirement
  requirements:
  - - ">="
    - !ruby/object:Gem::Version
      version: '0'
rubygems_version: 3.3.15
specification_version: 4
summary: Acme Pro
test_files: []
"#;

    pub fn gem(yaml: &str, with_data: bool) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(yaml.as_bytes()).expect("gzip");
        let metadata = gz.finish().expect("gzip");
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |name: &str, bytes: &[u8]| {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o444);
            header.set_cksum();
            tar.append_data(&mut header, name, bytes)
                .expect("tar entry");
        };
        add("metadata.gz", &metadata);
        if with_data {
            add("data.tar.gz", b"\x1f\x8b");
        }
        tar.into_inner().expect("tar")
    }

    #[test]
    fn reads_a_gemspec() {
        let spec = parse_gem(&gem(YAML, true)).expect("valid");
        assert_eq!(spec.name, "acme_pro");
        assert_eq!(spec.version, "1.2.0");
        assert_eq!(spec.platform, "x86_64-linux");
        assert_eq!(spec.full_name(), "acme_pro-1.2.0-x86_64-linux");
        assert_eq!(spec.dependencies.len(), 1, "development deps are left out");
        assert_eq!(spec.dependencies[0].name, "acme_base");
        assert_eq!(
            spec.dependencies[0].requirement,
            vec![("~>".into(), "1.0".into()), (">=".into(), "1.0.1".into())]
        );
        assert_eq!(
            spec.required_ruby_version,
            vec![(">=".into(), "2.7.0".into())]
        );
        assert_eq!(spec.authors, vec!["Acme".to_owned()]);
        assert_eq!(spec.email, vec!["dev@acme.example".to_owned()]);
        assert_eq!(spec.licenses, vec!["MIT".to_owned()]);
        assert_eq!(spec.date, "2026-11-25");
        assert_eq!(spec.description, None);
    }

    fn tar_of_nothing() -> Vec<u8> {
        tar::Builder::new(Vec::new()).into_inner().expect("tar")
    }

    #[test]
    fn refuses_malformed_gems() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not a tar".to_vec(), "not a valid gem archive"),
            (tar_of_nothing(), "no metadata.gz"),
            (gem(YAML, false), "no data.tar.gz"),
            (gem("--- [", true), "not valid YAML"),
            (
                gem(&YAML.replace("name: acme_pro", "name: 'a b'"), true),
                "invalid gem name",
            ),
            (
                gem(&YAML.replace("version: 1.2.0\n", "version: 1..2\n"), true),
                "invalid gem version",
            ),
            (
                gem(&YAML.replace("\"~>\"", "\"=~\""), true),
                "invalid requirement",
            ),
            (gem("--- {}\n", true), "no name"),
        ];
        for (bytes, text) in cases {
            let e = parse_gem(&bytes).expect_err(text);
            assert!(e.contains(text), "{e} should mention {text}");
        }
    }
}

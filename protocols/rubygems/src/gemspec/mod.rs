//! A pushed `.gem`: a plain tar holding `metadata.gz` (the gzipped YAML gemspec with Ruby tags
//! such as `!ruby/object:Gem::Specification`), `data.tar.gz` and `checksums.yaml.gz`. Reads
//! what the indexes need from the gemspec. Pure.

use std::io::Read;

use serde::{Deserialize, Serialize};
use yaml_rust2::Yaml;

use crate::version::{self, RUBY};
use crate::yaml;

/// Largest accepted gemspec (`metadata.gz` decompressed). A gemspec's size is its `files`
/// list, 50 to 100 bytes a file: 2 MiB is 20 000 to 40 000 files, far more than gems ship
/// (`gem build` of a typical gem writes 2 to 20 KiB). A larger one is refused, not truncated.
pub const MAX_GEMSPEC_BYTES: u64 = 2 * 1024 * 1024;

/// Largest accepted `metadata.gz` as stored: deflate never grows 2 MiB by more than a few
/// KiB, and a gzip header's name and comment are at most 64 KiB each (flate2's limit).
const MAX_METADATA_GZ: u64 = MAX_GEMSPEC_BYTES + 256 * 1024;

/// Most tar entries looked at. `gem build` writes three (`metadata.gz`, `data.tar.gz`,
/// `checksums.yaml.gz`), a signed gem three more (`*.sig`).
pub const MAX_ENTRIES: usize = 16;

/// Most items kept of one list (runtime dependencies, authors, e-mail addresses, licenses).
/// The largest real lists are meta-gems depending on a few hundred gems.
pub const MAX_LIST: usize = 1024;

/// Most `(operator, version)` pairs of one requirement (real ones have one or two).
pub const MAX_REQUIREMENTS: usize = 32;

/// Longest kept text (summary, description, homepage, each author, …): a description is a
/// paragraph or a README, not a megabyte; it is stored per release and served in every
/// `.gemspec.rz`.
pub const MAX_TEXT: usize = 32 * 1024;

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

/// Longest accepted gem name.
pub const MAX_NAME: usize = 128;

/// RubyGems' name rule: letters, digits, `.`, `-`, `_`, with at least one letter or digit, at
/// most `MAX_NAME` bytes. Every name from a URL is checked with it before any lookup.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.bytes().any(|b| b.is_ascii_alphanumeric())
}

/// Reads and checks the gemspec of a `.gem`. Bounded: at most `MAX_ENTRIES` tar headers are
/// read (each name at most 256 bytes), `metadata.gz` is inflated to at most `MAX_GEMSPEC_BYTES`, the YAML is read by
/// `yaml::load_first`. Errors are sentences `gem push` prints.
pub fn parse_gem(gem: &[u8]) -> Result<GemSpec, String> {
    let bad = |e: std::io::Error| format!("the .gem file is not a valid gem archive: {e}");
    let mut archive = tar::Archive::new(gem);
    let (mut metadata, mut data) = (None, false);
    let mut names: Vec<Vec<u8>> = Vec::new();
    // Raw: GNU long names and PAX headers are not expanded (nor buffered); `gem build` writes
    // neither, and RubyGems reads entry names from the plain header.
    for entry in archive.entries().map_err(bad)?.raw(true) {
        if names.len() == MAX_ENTRIES {
            return Err(format!(
                "the .gem file has more than {MAX_ENTRIES} entries; `gem build` writes 3"
            ));
        }
        let entry = entry.map_err(bad)?;
        let path = entry.path_bytes().into_owned();
        // `gem install` refuses a gem holding a name twice; so does this, rather than index a
        // gemspec the client would not read.
        if names.contains(&path) {
            return Err(format!(
                "the .gem file holds `{}` twice",
                shown(&String::from_utf8_lossy(&path))
            ));
        }
        match &path[..] {
            b"metadata.gz" => metadata = Some(inflate(entry)?),
            b"data.tar.gz" => data = true,
            _ => {}
        }
        names.push(path);
    }
    let metadata = metadata.ok_or("the .gem file has no metadata.gz")?;
    if !data {
        return Err("the .gem file has no data.tar.gz".into());
    }
    parse_yaml(&metadata)
}

/// `metadata.gz` as text, refused past `MAX_METADATA_GZ` stored or `MAX_GEMSPEC_BYTES`
/// inflated.
fn inflate<R: Read>(entry: tar::Entry<'_, R>) -> Result<String, String> {
    let too_large = || {
        format!(
            "the gemspec in metadata.gz is larger than {} MiB",
            MAX_GEMSPEC_BYTES >> 20
        )
    };
    if entry.size() > MAX_METADATA_GZ {
        return Err(too_large());
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(entry)
        .take(MAX_GEMSPEC_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("metadata.gz is not gzipped UTF-8 text: {e}"))?;
    if text.len() as u64 > MAX_GEMSPEC_BYTES {
        return Err(too_large());
    }
    Ok(text)
}

/// Reads a gemspec YAML document (`Gem::Specification#to_yaml`).
pub fn parse_yaml(text: &str) -> Result<GemSpec, String> {
    let doc = yaml::load_first(text)?;
    let name = scalar(&doc["name"]).ok_or("the gemspec has no name")?;
    if !valid_name(&name) {
        return Err(format!("invalid gem name `{}`", shown(&name)));
    }
    let version = scalar(&doc["version"]["version"]).ok_or("the gemspec has no version")?;
    if !version::is_valid(&version) {
        return Err(format!("invalid gem version `{}`", shown(&version)));
    }
    let platform = scalar(&doc["platform"]).unwrap_or_else(|| RUBY.into());
    if !version::valid_platform(&platform) {
        return Err(format!("invalid gem platform `{}`", shown(&platform)));
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
        if dependencies.len() == MAX_LIST {
            return Err(format!(
                "the gemspec has more than {MAX_LIST} runtime dependencies"
            ));
        }
        let dep_name = scalar(&dep["name"]).ok_or("a dependency has no name")?;
        if !valid_name(&dep_name) {
            return Err(format!("invalid dependency name `{}`", shown(&dep_name)));
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
    let rubygems_version = scalar(&doc["rubygems_version"]).unwrap_or_else(|| "3.3.0".into());
    if !version::is_valid(&rubygems_version) {
        return Err(format!(
            "invalid rubygems_version `{}`",
            shown(&rubygems_version)
        ));
    }
    Ok(GemSpec {
        name,
        version,
        platform,
        dependencies,
        required_ruby_version: requirement(&doc["required_ruby_version"])?,
        required_rubygems_version: requirement(&doc["required_rubygems_version"])?,
        summary: field_text(&doc, "summary")?.unwrap_or_default(),
        description: field_text(&doc, "description")?,
        authors: strings(&doc, "authors")?,
        email: strings(&doc, "email")?,
        homepage: field_text(&doc, "homepage")?,
        licenses: strings(&doc, "licenses")?,
        date,
        rubygems_version,
    })
}

/// At most the first 64 characters of a refused value, for an error message.
pub fn shown(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The text of a top-level field, refused past `MAX_TEXT` bytes.
fn field_text(doc: &Yaml, field: &str) -> Result<Option<String>, String> {
    match scalar(&doc[field]) {
        Some(s) if s.len() > MAX_TEXT => Err(format!(
            "the gemspec's {field} is longer than {} KiB",
            MAX_TEXT / 1024
        )),
        s => Ok(s),
    }
}

/// A top-level field holding a string or a list of strings, at most `MAX_LIST` of at most
/// `MAX_TEXT` bytes each.
fn strings(doc: &Yaml, field: &str) -> Result<Vec<String>, String> {
    let one = std::slice::from_ref(&doc[field]);
    let items = doc[field].as_vec().map_or(one, Vec::as_slice);
    if items.len() > MAX_LIST {
        return Err(format!("the gemspec lists more than {MAX_LIST} {field}"));
    }
    let items: Vec<String> = items.iter().filter_map(scalar).collect();
    if items.iter().any(|s| s.len() > MAX_TEXT) {
        return Err(format!(
            "an entry of the gemspec's {field} is longer than {} KiB",
            MAX_TEXT / 1024
        ));
    }
    Ok(items)
}

const OPERATORS: [&str; 7] = ["=", "!=", ">", "<", ">=", "<=", "~>"];

/// `!ruby/object:Gem::Requirement {requirements: [[op, !ruby/object:Gem::Version {version}]]}`;
/// a missing requirement means `>= 0`.
fn requirement(y: &Yaml) -> Result<Requirement, String> {
    let Some(items) = y["requirements"].as_vec() else {
        return Ok(vec![(">=".into(), "0".into())]);
    };
    if items.len() > MAX_REQUIREMENTS {
        return Err(format!(
            "a requirement has more than {MAX_REQUIREMENTS} parts"
        ));
    }
    let mut out = Vec::new();
    for item in items {
        let op = scalar(&item[0]).ok_or("a requirement has no operator")?;
        let v = scalar(&item[1]["version"]).ok_or("a requirement has no version")?;
        if !OPERATORS.contains(&op.as_str()) || !version::is_valid(&v) {
            return Err(format!(
                "invalid requirement `{} {}`",
                shown(&op),
                shown(&v)
            ));
        }
        out.push((op, v));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use std::time::{Duration, Instant};

    /// `metadata.gz` of a gem built by `gem build` (RubyGems 3.3.15): two runtime
    /// dependencies, a development one, a platform, a multi-line description, metadata.
    pub const REAL_YAML: &str =
        include_str!("../tests/fixtures/demo_gem-0.3.1.pre2-x86_64-linux.gemspec.yaml");

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

    #[test]
    fn reads_a_gemspec_written_by_gem_build() {
        let spec = parse_gem(&gem(REAL_YAML, true)).expect("valid");
        assert_eq!(spec.full_name(), "demo_gem-0.3.1.pre2-x86_64-linux");
        let deps: Vec<_> = spec.dependencies.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(deps, ["rake", "json"]);
        assert_eq!(
            spec.dependencies[0].requirement,
            vec![("~>".into(), "13.0".into()), (">=".into(), "13.0.1".into())]
        );
        assert_eq!(
            spec.required_ruby_version,
            vec![(">=".into(), "2.7".into())]
        );
        assert_eq!(
            spec.required_rubygems_version,
            vec![(">".into(), "1.3.1".into())]
        );
        assert_eq!(spec.authors, ["A One", "B Two"]);
        assert_eq!(spec.email, ["a@x.example", "b@x.example"]);
        assert_eq!(spec.homepage.as_deref(), Some("https://x.example/demo"));
        assert_eq!(
            spec.description.as_deref(),
            Some("A longer\nmultiline description: with colons & ampersands * stars")
        );
        assert_eq!(spec.rubygems_version, "3.3.15");
    }

    /// Where `gem` is installed: a gem fresh from `gem build` in a temporary directory parses,
    /// `.gem` file and all (signatures, checksums, tar layout of this RubyGems).
    #[test]
    fn reads_a_gem_fresh_from_gem_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("lib")).expect("lib");
        std::fs::write(dir.path().join("lib/fresh.rb"), "module Fresh; end\n").expect("rb");
        std::fs::write(
            dir.path().join("fresh.gemspec"),
            r#"Gem::Specification.new do |s|
  s.name = "fresh"
  s.version = "2.0.1"
  s.summary = "Fresh"
  s.authors = ["Acme"]
  s.files = ["lib/fresh.rb"]
  s.license = "MIT"
  s.add_dependency "rake", ">= 12"
end
"#,
        )
        .expect("gemspec");
        if !tollgate_testkit::tool("gem", "apt-get install ruby") {
            return;
        }
        let built = std::process::Command::new("gem")
            .args(["build", "fresh.gemspec"])
            .current_dir(dir.path())
            .output()
            .expect("run gem build");
        assert!(built.status.success(), "{built:?}");
        let bytes = std::fs::read(dir.path().join("fresh-2.0.1.gem")).expect("built gem");
        let spec = parse_gem(&bytes).expect("a gem from gem build parses");
        assert_eq!(spec.full_name(), "fresh-2.0.1");
        assert_eq!(
            spec.dependencies,
            vec![Dependency {
                name: "rake".into(),
                requirement: vec![(">=".into(), "12".into())]
            }]
        );
    }

    /// Issue 16 rows 1 and 2 as `gem push` sends them: refused at once, with a sentence.
    #[test]
    fn refuses_hostile_gemspecs_quickly() {
        let deep = format!(
            "--- !ruby/object:Gem::Specification\nname:\n{}x\n",
            "- ".repeat(20_000)
        );
        let bomb = [
            "--- !ruby/object:Gem::Specification\n",
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
            "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
            "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
            "name: *g\n",
        ]
        .concat();
        for (yaml, says) in [
            (deep, "nests deeper than 64 levels"),
            (bomb, "anchors or aliases"),
        ] {
            let gem = gem(&yaml, true);
            let started = Instant::now();
            let e = parse_gem(&gem).expect_err(says);
            assert!(e.contains(says), "{e}");
            assert!(started.elapsed() < Duration::from_millis(500));
        }
    }

    #[test]
    fn bounds_the_gemspec_and_what_is_kept() {
        let stored = vec![0u8; (MAX_METADATA_GZ + 1) as usize];
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(stored.len() as u64);
        header.set_cksum();
        tar.append_data(&mut header, "metadata.gz", &stored[..])
            .expect("tar entry");
        let e = parse_gem(&tar.into_inner().expect("tar")).expect_err("too large");
        assert!(e.contains("larger than 2 MiB"), "{e}");
        let big = format!(
            "{YAML}files:\n{}",
            "- lib/a_file_of_a_very_large_gem.rb\n".repeat(60_000)
        );
        assert!(big.len() as u64 > MAX_GEMSPEC_BYTES);
        let e = parse_gem(&gem(&big, true)).expect_err("too large");
        assert!(e.contains("larger than 2 MiB"), "{e}");
        // Just under the limit and under the value count: accepted.
        let fits = format!("{YAML}files:\n{}", "- lib/a.rb\n".repeat(90_000));
        assert!((fits.len() as u64) < MAX_GEMSPEC_BYTES);
        parse_gem(&gem(&fits, true)).expect("a large but real-shaped gemspec");

        let authors = format!("{}\n", "- Someone\n".repeat(MAX_LIST + 1));
        let many = YAML.replace("authors:\n- Acme\n", &format!("authors:\n{authors}"));
        let e = parse_yaml(&many).expect_err("too many authors");
        assert!(e.contains("more than 1024 authors"), "{e}");
        let long = YAML.replace(
            "summary: Acme Pro",
            &format!("summary: {}", "x".repeat(MAX_TEXT + 1)),
        );
        let e = parse_yaml(&long).expect_err("too long");
        assert!(e.contains("summary is longer than 32 KiB"), "{e}");
        let pairs = "  - - \">=\"\n    - !ruby/object:Gem::Version\n      version: '1'\n"
            .repeat(MAX_REQUIREMENTS + 1);
        let section = "required_rubygems_version: !ruby/object:Gem::Requirement\n  requirements:\n";
        let reqs = YAML.replace(section, &format!("{section}{pairs}"));
        assert_ne!(reqs, YAML);
        let e = parse_yaml(&reqs).expect_err("too many pairs");
        assert!(e.contains("more than 32 parts"), "{e}");
    }

    #[test]
    fn looks_at_a_bounded_number_of_tar_entries() {
        let mut tar = tar::Builder::new(Vec::new());
        for i in 0..MAX_ENTRIES {
            let mut header = tar::Header::new_ustar();
            header.set_size(0);
            header.set_cksum();
            tar.append_data(&mut header, format!("junk{i}"), &[][..])
                .expect("tar entry");
        }
        let mut bytes = tar.into_inner().expect("tar");
        bytes.truncate(bytes.len() - 1024);
        bytes.extend(gem(YAML, true));
        let e = parse_gem(&bytes).expect_err("too many entries");
        assert!(e.contains("more than 16 entries"), "{e}");
        // A name twice, as `gem install` would refuse it.
        let mut twice = gem(YAML, true);
        twice.truncate(twice.len() - 1024);
        twice.extend(gem("--- {}\n", false));
        let e = parse_gem(&twice).expect_err("twice");
        assert!(e.contains("holds `metadata.gz` twice"), "{e}");
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

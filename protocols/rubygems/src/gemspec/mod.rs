//! A pushed `.gem`: a plain tar holding `metadata.gz` (the gzipped YAML gemspec with Ruby tags
//! such as `!ruby/object:Gem::Specification`), `data.tar.gz` and `checksums.yaml.gz`. Reads
//! what the indexes need from the gemspec. Pure.

use std::io::Read;

use serde::{Deserialize, Serialize};
use yaml_rust2::Yaml;

use crate::version::{self, RUBY};
use crate::yaml;

mod name;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

pub use name::{MAX_NAME, valid_name};

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

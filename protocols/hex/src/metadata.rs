//! `metadata.config`, the package description inside a Hex tarball: Erlang term text as
//! `file:consult` reads it, one `{Key, Value}.` term per entry.
//!
//! [`parse`] reads the term syntax that hex_core and Mix write (tuples, lists, maps, binaries,
//! strings, atoms, numbers, `%` comments) and picks out the fields a registry needs. It accepts
//! the three shapes of `requirements` seen in real tarballs (see [`Requirement`]).

use std::collections::BTreeMap;
use terms::{Parser, Value};

use serde::{Deserialize, Serialize};

/// The fields of `metadata.config` that the registry uses; unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    /// OTP application name, when it differs from the package name.
    pub app: Option<String>,
    pub description: Option<String>,
    pub licenses: Vec<String>,
    pub build_tools: Vec<String>,
    /// Dependencies, sorted by name.
    pub requirements: Vec<Requirement>,
    pub files: Vec<String>,
    /// Elixir version requirement (`~> 1.14`), Mix packages only.
    pub elixir: Option<String>,
    /// Link name and URL, in the order written.
    pub links: Vec<(String, String)>,
}

/// One dependency. `metadata.config` spells the list three ways, all accepted:
/// `[{<<"dep">>, [{<<"app">>, ..}, ..]}]` (hex_core's `create`, so rebar3 and Mix today),
/// `#{<<"dep">> => #{..}}` (a hand-written map) and `[[{<<"name">>, <<"dep">>}, ..]]` (old Mix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    pub name: String,
    /// Elixir-style version requirement, e.g. `~> 1.0`.
    pub requirement: String,
    pub optional: bool,
    pub app: Option<String>,
    /// Repository the dependency lives in, when not the depending package's own.
    pub repository: Option<String>,
}

/// Reads `metadata.config` text. An error names the line and key at fault.
pub fn parse(text: &str) -> Result<Metadata, String> {
    let mut fields = Fields(BTreeMap::new());
    for (line, term) in Parser::new(text).terms()? {
        let not_pair = || format!("line {line}: expected a {{Key, Value}} tuple");
        let Value::Tuple(pair) = term else {
            return Err(not_pair());
        };
        let [key, value] = <[Value; 2]>::try_from(pair).map_err(|_| not_pair())?;
        let key = match key {
            Value::Atom(a) => a,
            key => as_text(&key).ok_or_else(|| format!("line {line}: key is not a string"))?,
        };
        // file:consult then maps:from_list, as hex_core does: the last of a repeated key wins.
        fields.0.insert(key, (line, value));
    }
    let mut requirements = fields
        .get("requirements", requirements)?
        .unwrap_or_default();
    requirements.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Metadata {
        name: fields.required("name")?,
        version: fields.required("version")?,
        app: fields.text("app")?,
        description: fields.text("description")?,
        licenses: fields.get("licenses", text_list)?.unwrap_or_default(),
        build_tools: fields.get("build_tools", text_list)?.unwrap_or_default(),
        requirements,
        files: fields.get("files", text_list)?.unwrap_or_default(),
        elixir: fields.text("elixir")?,
        links: fields.get("links", links)?.unwrap_or_default(),
    })
}

/// The top-level `{Key, Value}` terms by key, each with its line.
struct Fields(BTreeMap<String, (usize, Value)>);

impl Fields {
    /// `read` applied to the value of `key`, if present; errors name the line and key.
    fn get<T>(
        &self,
        key: &str,
        read: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match self.0.get(key) {
            Some((line, v)) => read(v)
                .map(Some)
                .map_err(|e| format!("line {line}: `{key}`: {e}")),
            None => Ok(None),
        }
    }

    /// An optional string; `nil` and `undefined` count as absent.
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.get(key, optional_text)?.flatten())
    }

    fn required(&self, key: &str) -> Result<String, String> {
        self.text(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("`{key}` is missing"))
    }
}

fn optional_text(v: &Value) -> Result<Option<String>, String> {
    if is_null(v) {
        Ok(None)
    } else {
        as_text(v)
            .map(Some)
            .ok_or_else(|| "expected a string".into())
    }
}

fn links(v: &Value) -> Result<Vec<(String, String)>, String> {
    pairs(v)?
        .into_iter()
        .map(|(name, url)| Ok((name, as_text(url).ok_or("a link URL is not a string")?)))
        .collect()
}

/// The largest `metadata.config` read: hex_core refuses larger ones.
pub const MAX_SIZE: usize = 1024 * 1024;

/// Reads `metadata.config` bytes the way hex_core does: as UTF-8, or as Latin-1 when the bytes
/// are not valid UTF-8.
pub fn parse_bytes(bytes: &[u8]) -> Result<Metadata, String> {
    if bytes.len() > MAX_SIZE {
        return Err(format!(
            "metadata.config is {} bytes, more than the maximum of {MAX_SIZE}",
            bytes.len()
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(_) => parse(&latin1(bytes)),
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn is_null(v: &Value) -> bool {
    matches!(v, Value::Atom(a) if a == "nil" || a == "undefined")
}

/// The text of a binary or a character list.
///
/// A binary's bytes are read as UTF-8, or as Latin-1 when invalid. That undoes both ways hex_core
/// has written text: current versions write `<<"ü"/utf8>>`; 0.7.1 (rebar3 3.19) writes the UTF-8
/// bytes bare, `<<"ü">>`, which `file:consult` reads back as the Latin-1 byte 252.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Binary(bytes) => Some(match String::from_utf8(bytes.clone()) {
            Ok(s) => s,
            Err(_) => latin1(bytes),
        }),
        Value::Str(s) => Some(s.clone()),
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Int(c) => u32::try_from(*c).ok().and_then(char::from_u32),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn text_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| as_text(item).ok_or_else(|| format!("item {} is not a string", i + 1)))
            .collect(),
        Value::Str(s) if s.is_empty() => Ok(Vec::new()),
        _ => Err("expected a list of strings".into()),
    }
}

/// The entries of a map or of a list of `{Key, Value}` tuples, keys as text.
fn pairs(v: &Value) -> Result<Vec<(String, &Value)>, String> {
    let entries: Vec<(&Value, &Value)> = match v {
        Value::Map(entries) => entries.iter().map(|(k, v)| (k, v)).collect(),
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Tuple(t) if t.len() == 2 => Ok((&t[0], &t[1])),
                _ => Err("expected {Key, Value} tuples".to_string()),
            })
            .collect::<Result<_, _>>()?,
        Value::Str(s) if s.is_empty() => Vec::new(),
        _ => return Err("expected a map or a list of {Key, Value} tuples".into()),
    };
    entries
        .into_iter()
        .map(|(k, v)| {
            let key = match k {
                Value::Atom(a) => Some(a.clone()),
                k => as_text(k),
            };
            Ok((key.ok_or("a key is not a string")?, v))
        })
        .collect()
}

fn requirements(v: &Value) -> Result<Vec<Requirement>, String> {
    let reqs: Vec<Requirement> = match v {
        Value::Map(entries) => entries
            .iter()
            .map(|(name, spec)| requirement(Some(name), spec))
            .collect::<Result<_, _>>()?,
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Tuple(t) if t.len() == 2 => requirement(Some(&t[0]), &t[1]),
                // The old shape: a kv-list (or map) that carries its own `name`.
                Value::List(_) | Value::Map(_) => requirement(None, item),
                _ => Err("expected {Name, [{Key, Value}]} entries".into()),
            })
            .collect::<Result<_, _>>()?,
        Value::Str(s) if s.is_empty() => Vec::new(),
        _ => return Err("expected a map or a list".into()),
    };
    let mut names: Vec<&str> = reqs.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    if let Some(dup) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("`{}` is listed twice", dup[0]));
    }
    Ok(reqs)
}

fn requirement(name: Option<&Value>, spec: &Value) -> Result<Requirement, String> {
    let spec = pairs(spec)?;
    let get = |key: &str| spec.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v);
    let name = match name.or_else(|| get("name")) {
        Some(v) => as_text(v).ok_or("a dependency name is not a string")?,
        None => return Err("a dependency has no `name`".into()),
    };
    if name.is_empty() {
        return Err("a dependency has an empty name".into());
    }
    let opt = |key: &str| match get(key) {
        None => Ok(None),
        Some(v) if is_null(v) => Ok(None),
        Some(v) => as_text(v)
            .map(Some)
            .ok_or_else(|| format!("`{name}`: `{key}` is not a string")),
    };
    let requirement = opt("requirement")?
        .filter(|r| !r.is_empty())
        .ok_or_else(|| format!("`{name}`: `requirement` is missing"))?;
    let optional = match get("optional") {
        None => false,
        Some(Value::Atom(a)) if a == "true" => true,
        Some(Value::Atom(a)) if a == "false" || a == "nil" || a == "undefined" => false,
        Some(_) => return Err(format!("`{name}`: `optional` is not true or false")),
    };
    Ok(Requirement {
        app: opt("app")?,
        repository: opt("repository")?,
        name,
        requirement,
        optional,
    })
}

mod terms;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;

//! A bounded YAML reader for gemspecs. `YamlLoader` recurses once per nesting level (20 000
//! nested `- ` kill the process with a stack overflow) and copies every alias (a few hundred
//! bytes of anchors expand to gigabytes). This reader pulls events from yaml-rust2's `Parser`
//! (an explicit state stack, no recursion) and builds the value itself on its own stack,
//! refusing anchors and aliases, more than `MAX_DEPTH` levels and more than `MAX_NODES`
//! values before building them. A value it returns nests at most `MAX_DEPTH` deep, so even
//! dropping it recurses only that far. The scanner under the parser queues every token of a
//! flow collection (`[a,b,…]`) before the parser sees the first (about 100 bytes of queue per
//! byte of text), so its input is cut off `MAX_READ_AHEAD` bytes past the last event. Pure.

use std::cell::Cell;
use std::rc::Rc;

use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;
use yaml_rust2::yaml::Hash;

/// Deepest accepted nesting. `Gem::Specification#to_yaml` nests 7 levels (the document, its
/// `dependencies`, a dependency, its requirement, the list of pairs, a pair, a version).
pub const MAX_DEPTH: usize = 64;

/// Most accepted values (scalars, lists, mappings; keys count). A gemspec is dominated by its
/// `files` list, one value per file; 100 000 is more files than any gem ships, and keeps the
/// tree a few tens of MB at most.
pub const MAX_NODES: usize = 100_000;

/// Most text the scanner may read for one event: twice the longest kept text
/// (`gemspec::MAX_TEXT`), as a block scalar is one event. `Gem::Specification#to_yaml` writes
/// flow style only for empty collections (`[]`, `{}`), so no real gemspec comes near it; a
/// flow collection this long queues up to 16 MB of tokens.
pub const MAX_READ_AHEAD: usize = 64 * 1024;

/// What `gem push` prints when a gemspec uses anchors or aliases.
pub const ALIASES: &str = "the gemspec in metadata.gz uses YAML anchors or aliases (`&`, `*`), \
     which `gem build` never writes; build the gem with `gem build`";

/// A collection being read.
enum Open {
    Seq(Vec<Yaml>),
    /// The mapping so far and the key waiting for its value.
    Map(Hash, Option<Yaml>),
}

/// How much more text the scanner may read before the next event; shared between the reader
/// and the text it feeds the parser.
#[derive(Default)]
struct Meter {
    left: Cell<usize>,
    /// The text was cut off: whatever the parser makes of it is not the gemspec.
    cut: Cell<bool>,
}

/// `text` as the parser's input, ending early once `meter` runs out.
struct Metered<'a> {
    chars: std::str::Chars<'a>,
    meter: Rc<Meter>,
}

impl Iterator for Metered<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        let left = self.meter.left.get();
        if left == 0 {
            self.meter.cut.set(true);
            return None;
        }
        let c = self.chars.next()?;
        self.meter.left.set(left.saturating_sub(c.len_utf8()));
        Some(c)
    }
}

/// The first document of `text`, read under the limits above; any later document is not read.
pub fn load_first(text: &str) -> Result<Yaml, String> {
    let meter = Rc::new(Meter::default());
    meter.left.set(MAX_READ_AHEAD);
    let mut parser = Parser::new(Metered {
        chars: text.chars(),
        meter: meter.clone(),
    });
    let mut stack: Vec<Open> = Vec::new();
    let mut nodes = 0usize;
    loop {
        let next = parser.next_token();
        if meter.cut.get() {
            return Err(format!(
                "the gemspec in metadata.gz has a YAML value or flow collection (`[…]`, `{{…}}`) \
                 longer than {} KiB",
                MAX_READ_AHEAD / 1024
            ));
        }
        meter.left.set(MAX_READ_AHEAD);
        let (event, _) =
            next.map_err(|e| format!("the gemspec in metadata.gz is not valid YAML: {e}"))?;
        if matches!(
            event,
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
        ) {
            nodes += 1;
            if nodes > MAX_NODES {
                return Err(format!(
                    "the gemspec in metadata.gz holds more than {MAX_NODES} values"
                ));
            }
        }
        let node = match event {
            Event::Alias(_)
            | Event::Scalar(_, _, 1.., _)
            | Event::SequenceStart(1.., _)
            | Event::MappingStart(1.., _) => return Err(ALIASES.into()),
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "the gemspec in metadata.gz nests deeper than {MAX_DEPTH} levels"
                    ));
                }
                stack.push(match event {
                    Event::SequenceStart(..) => Open::Seq(Vec::new()),
                    _ => Open::Map(Hash::new(), None),
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(items)) => Yaml::Array(items),
                _ => return Err(unbalanced()),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(map, None)) => Yaml::Hash(map),
                _ => return Err(unbalanced()),
            },
            Event::Scalar(value, style, _, tag) => scalar(value, style, tag.as_ref()),
            Event::StreamEnd => return Err("the gemspec in metadata.gz is empty".into()),
            Event::StreamStart | Event::DocumentStart | Event::DocumentEnd | Event::Nothing => {
                continue;
            }
        };
        match stack.last_mut() {
            None => return Ok(node),
            Some(Open::Seq(items)) => items.push(node),
            Some(Open::Map(map, key)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    map.insert(k, node);
                }
            },
        }
    }
}

/// The parser never ends a collection it did not start; should it, the gem is refused rather
/// than the server trusting it.
fn unbalanced() -> String {
    "the gemspec in metadata.gz is not valid YAML: unbalanced collection".into()
}

/// A scalar resolved as `YamlLoader` resolves it (YAML 1.2 core schema, `!!` tags).
fn scalar(value: String, style: TScalarStyle, tag: Option<&Tag>) -> Yaml {
    if style != TScalarStyle::Plain {
        return Yaml::String(value);
    }
    match tag {
        None => Yaml::from_str(&value),
        Some(tag) if tag.handle == "tag:yaml.org,2002:" => match tag.suffix.as_str() {
            "bool" => match value.as_str() {
                "true" | "True" | "TRUE" => Yaml::Boolean(true),
                "false" | "False" | "FALSE" => Yaml::Boolean(false),
                _ => Yaml::BadValue,
            },
            "int" => value.parse().map_or(Yaml::BadValue, Yaml::Integer),
            "float" => match value.parse::<f64>() {
                Ok(_) => Yaml::Real(value),
                Err(_) => Yaml::BadValue,
            },
            "null" => match value.as_str() {
                "~" | "null" => Yaml::Null,
                _ => Yaml::BadValue,
            },
            _ => Yaml::String(value),
        },
        Some(_) => Yaml::String(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};
    use yaml_rust2::YamlLoader;

    /// What the loader would make of `text` (first document), for comparison.
    fn reference(text: &str) -> Yaml {
        YamlLoader::load_from_str(text)
            .expect("valid")
            .into_iter()
            .next()
            .expect("a document")
    }

    #[test]
    fn reads_like_the_loader() {
        for text in [
            crate::gemspec::fixtures::YAML,
            crate::gemspec::fixtures::REAL_YAML,
            "--- 1\n",
            "--- [1, 1.5, 0x1f, true, ~, 'x', \"y\", !!int 3, !!bool false, !!str 4]\n",
            "--- {a: {b: [c, {d: e}]}, ? [k] : v}\n",
            "---\n",
            "plain: |\n  block\n  text\nfolded: >\n  a\n  b\n",
        ] {
            assert_eq!(load_first(text), Ok(reference(text)), "{text}");
        }
    }

    #[test]
    fn reads_only_the_first_document() {
        let text = "--- a\n--- [\n";
        assert_eq!(load_first(text), Ok(Yaml::String("a".into())));
    }

    /// The stack overflow of issue 16: 20 000 nested `- ` (and `[`), refused fast.
    #[test]
    fn refuses_deep_nesting_quickly() {
        let block = "- ".repeat(20_000) + "x\n";
        let flow = "[".repeat(20_000) + &"]".repeat(20_000);
        let mapping: String = (0..20_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        for text in [block, flow, mapping] {
            let started = Instant::now();
            let e = load_first(&text).expect_err("too deep");
            // The scanner has its own limit of 255 `[`/`{` levels, met before ours when it
            // reads ahead on one line.
            assert!(
                e.contains("nests deeper than 64 levels") || e.contains("recursion limit"),
                "{e}"
            );
            assert!(started.elapsed() < Duration::from_secs(1));
        }
        // The limit itself is accepted.
        let at_limit = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(load_first(&at_limit).is_ok());
        let over = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(load_first(&over).is_err());
    }

    /// Billion laughs (issue 16 row 2): 347 bytes, 7 levels of anchors and aliases.
    pub const ALIAS_BOMB: &str = "--- !ruby/object:Gem::Specification\n\
        a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n\
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n\
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n\
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
        name: *g\n";

    #[test]
    fn refuses_anchors_and_aliases() {
        let started = Instant::now();
        assert_eq!(load_first(ALIAS_BOMB), Err(ALIASES.into()));
        assert!(started.elapsed() < Duration::from_millis(200));
        for text in [
            "a: &x 1\n",
            "a: &x [1]\n",
            "a: &x {b: 1}\n",
            "- &x a\n- *x\n",
        ] {
            assert_eq!(load_first(text), Err(ALIASES.into()), "{text}");
        }
    }

    #[test]
    fn refuses_too_many_values() {
        let at_limit = "- x\n".repeat(MAX_NODES - 1);
        assert!(load_first(&at_limit).is_ok());
        let over = "- x\n".repeat(MAX_NODES);
        let e = load_first(&over).expect_err("too many");
        assert!(e.contains("more than 100000 values"), "{e}");
    }

    /// A flow collection is tokenized whole before its first event: cut off, not queued.
    #[test]
    fn refuses_long_flow_collections() {
        for text in [
            format!("[{}]", "a,".repeat(MAX_READ_AHEAD)),
            format!("{{{}}}", "a: b,\n".repeat(MAX_READ_AHEAD / 4)),
        ] {
            let e = load_first(&text).expect_err("too long");
            assert!(e.contains("flow collection"), "{e}");
        }
        // Block collections of any length stream: each item is an event.
        let block = "- a\n".repeat(MAX_READ_AHEAD);
        assert!(load_first(&block).is_ok());
        // One long scalar, up to the limit.
        let scalar = format!("a: |\n  {}\n", "x".repeat(MAX_READ_AHEAD - 100));
        assert!(load_first(&scalar).is_ok());
        let scalar = format!("a: |\n  {}\n", "x".repeat(MAX_READ_AHEAD));
        assert!(load_first(&scalar).is_err());
    }

    #[test]
    fn refuses_broken_yaml() {
        for text in ["--- [", "a: b: c", "- a\nb: c\n", "\"unterminated"] {
            let e = load_first(text).expect_err(text);
            assert!(
                e.starts_with("the gemspec in metadata.gz is not valid YAML"),
                "{e}"
            );
        }
        assert_eq!(
            load_first(""),
            Err("the gemspec in metadata.gz is empty".into())
        );
    }
}

//! A Ruby `Marshal` 4.8 writer for exactly the values RubyGems' legacy index needs (and
//! `Gem::SafeMarshal` accepts): nil, booleans, small integers, UTF-8 and binary strings,
//! symbols, arrays, hashes, plain objects (`o`), `marshal_dump` objects (`U`) and `_dump`
//! objects (`u`). Symbols are written once per stream and linked (`;`) afterwards. Pure.

use std::collections::HashMap;

/// A Ruby value to marshal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    Bool(bool),
    /// A Fixnum that fits in 4 bytes (Marshal's limit before Bignum).
    Int(i32),
    /// A UTF-8 `String` (written with the `E: true` encoding ivar).
    Str(String),
    /// A binary (ASCII-8BIT) `String`: no encoding ivar.
    Bytes(Vec<u8>),
    Symbol(String),
    Array(Vec<Value>),
    Hash(Vec<(Value, Value)>),
    /// `o`: an object of `class` with instance variables (names include the `@`).
    Object(String, Vec<(String, Value)>),
    /// `U`: an object restored by `class#marshal_load(data)`.
    UserMarshal(String, Box<Value>),
    /// `u`: an object restored by `class._load(bytes)`.
    UserDump(String, Vec<u8>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// `Gem::Version.new(v)`.
    pub fn gem_version(v: &str) -> Self {
        Self::UserMarshal(
            "Gem::Version".into(),
            Box::new(Self::Array(vec![Self::str(v)])),
        )
    }

    /// `Gem::Requirement` of `(op, version)` pairs (`>= 0` when empty).
    pub fn gem_requirement(reqs: &[(String, String)]) -> Self {
        let pairs = if reqs.is_empty() {
            vec![Self::Array(vec![Self::str(">="), Self::gem_version("0")])]
        } else {
            reqs.iter()
                .map(|(op, v)| Self::Array(vec![Self::str(op.as_str()), Self::gem_version(v)]))
                .collect()
        };
        Self::UserMarshal(
            "Gem::Requirement".into(),
            Box::new(Self::Array(vec![Self::Array(pairs)])),
        )
    }
}

/// `Marshal.dump(value)`.
pub fn dump(value: &Value) -> Vec<u8> {
    let mut w = Writer {
        out: vec![4, 8],
        symbols: HashMap::new(),
    };
    w.value(value);
    w.out
}

struct Writer {
    out: Vec<u8>,
    symbols: HashMap<String, usize>,
}

impl Writer {
    fn value(&mut self, v: &Value) {
        match v {
            Value::Nil => self.out.push(b'0'),
            Value::Bool(true) => self.out.push(b'T'),
            Value::Bool(false) => self.out.push(b'F'),
            Value::Int(n) => {
                self.out.push(b'i');
                self.int(*n);
            }
            Value::Str(s) => {
                self.out.extend_from_slice(b"I\"");
                self.bytes(s.as_bytes());
                self.int(1);
                self.symbol("E");
                self.out.push(b'T');
            }
            Value::Bytes(b) => {
                self.out.push(b'"');
                self.bytes(b);
            }
            Value::Symbol(s) => self.symbol(s),
            Value::Array(items) => {
                self.out.push(b'[');
                self.len(items.len());
                for item in items {
                    self.value(item);
                }
            }
            Value::Hash(pairs) => {
                self.out.push(b'{');
                self.len(pairs.len());
                for (k, v) in pairs {
                    self.value(k);
                    self.value(v);
                }
            }
            Value::Object(class, ivars) => {
                self.out.push(b'o');
                self.symbol(class);
                self.len(ivars.len());
                for (name, v) in ivars {
                    self.symbol(name);
                    self.value(v);
                }
            }
            Value::UserMarshal(class, data) => {
                self.out.push(b'U');
                self.symbol(class);
                self.value(data);
            }
            Value::UserDump(class, data) => {
                self.out.push(b'u');
                self.symbol(class);
                self.bytes(data);
            }
        }
    }

    fn symbol(&mut self, s: &str) {
        if let Some(&i) = self.symbols.get(s) {
            self.out.push(b';');
            self.len(i);
            return;
        }
        let next = self.symbols.len();
        self.symbols.insert(s.to_owned(), next);
        self.out.push(b':');
        self.bytes(s.as_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }

    fn len(&mut self, n: usize) {
        self.int(i32::try_from(n).unwrap_or(i32::MAX));
    }

    /// Marshal's packed integer: 0; 1..=122 as n+5; -123..=-1 as n-5; else 1–4 little-endian
    /// bytes preceded by their count (negated for negative numbers).
    fn int(&mut self, n: i32) {
        match n {
            0 => self.out.push(0),
            1..=122 => self.out.push((n + 5) as u8),
            -123..=-1 => self.out.push((n - 5) as u8),
            _ => {
                let bytes = n.to_le_bytes();
                let count = if n > 0 {
                    4 - bytes.iter().rev().take_while(|&&b| b == 0).count()
                } else {
                    4 - bytes.iter().rev().take_while(|&&b| b == 0xff).count()
                };
                let count = count.max(1);
                let tag = if n > 0 { count as i8 } else { -(count as i8) };
                self.out.push(tag as u8);
                self.out.extend_from_slice(&bytes[..count]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_ruby() {
        // Marshal.dump(n).bytes for each n, from Ruby 3.1.
        let cases: &[(i32, &[u8])] = &[
            (0, &[0x69, 0x00]),
            (1, &[0x69, 0x06]),
            (4, &[0x69, 0x09]),
            (122, &[0x69, 0x7f]),
            (123, &[0x69, 0x01, 0x7b]),
            (256, &[0x69, 0x02, 0x00, 0x01]),
            (-1, &[0x69, 0xfa]),
            (-123, &[0x69, 0x80]),
            (-124, &[0x69, 0xff, 0x84]),
            (-256, &[0x69, 0xff, 0x00]),
            (70000, &[0x69, 0x03, 0x70, 0x11, 0x01]),
        ];
        for (n, want) in cases {
            let got = dump(&Value::Int(*n));
            assert_eq!(&got[2..], *want, "{n}");
        }
    }

    #[test]
    fn strings_symbols_and_links() {
        // Marshal.dump(["a", :b, :b, "c"]) in Ruby 3.1.
        let v = Value::Array(vec![
            Value::str("a"),
            Value::Symbol("b".into()),
            Value::Symbol("b".into()),
            Value::str("c"),
        ]);
        let want = b"\x04\x08[\x09I\"\x06a\x06:\x06ET:\x06b;\x06I\"\x06c\x06;\x00T";
        assert_eq!(dump(&v), want.to_vec());
    }

    #[test]
    fn gem_version_and_requirement() {
        // Marshal.dump(Gem::Version.new("1.0")) with a UTF-8 version string.
        let want = b"\x04\x08U:\x11Gem::Version[\x06I\"\x081.0\x06:\x06ET";
        assert_eq!(dump(&Value::gem_version("1.0")), want.to_vec());
        let req = dump(&Value::gem_requirement(&[]));
        let want = b"\x04\x08U:\x15Gem::Requirement[\x06[\x06[\x07I\"\x07>=\x06:\x06ETU:\x11Gem::Version[\x06I\"\x060\x06;\x06T";
        assert_eq!(req, want.to_vec());
    }

    #[test]
    fn objects_hashes_and_user_dumps() {
        let v = Value::Array(vec![
            Value::Object(
                "Gem::Platform".into(),
                vec![
                    ("@cpu".into(), Value::str("x")),
                    ("@version".into(), Value::Nil),
                ],
            ),
            Value::Hash(vec![(Value::str("k"), Value::Bool(false))]),
            Value::UserDump("Gem::Specification".into(), vec![4, 8, b'T']),
            Value::Bytes(b"raw".to_vec()),
        ]);
        let mut want = b"\x04\x08[\x09o:\x12Gem::Platform\x07:\x09@cpuI\"\x06x\x06:\x06ET".to_vec();
        want.extend_from_slice(b":\x0d@version0{\x06I\"\x06k\x06;\x07TF");
        want.extend_from_slice(b"u:\x17Gem::Specification\x08\x04\x08T\"\x08raw");
        assert_eq!(dump(&v), want);
    }
}

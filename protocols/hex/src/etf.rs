//! Erlang External Term Format (`application/vnd.hex+erlang`): the body of every Hex API reply.
//!
//! [`encode`] writes what `erlang:term_to_binary(T, [{minor_version, 2}])` writes for the subset
//! Hex uses (maps, binaries, lists, tuples, integers and the atoms `true`, `false`, `nil`), with
//! no compression. [`decode`] reads the same subset back, plus the older atom tags and the
//! compressed wrapper that other encoders emit, so that tests can read our replies the way
//! hex_core does. hex_core decodes with `binary_to_term(Body, [safe])` and refuses any other atom;
//! so does [`decode`].

use std::io::Read;

/// A term in the subset of Erlang terms that the Hex API exchanges.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// The atom `nil` (Elixir's `nil`).
    Nil,
    /// The atoms `true` and `false`.
    Bool(bool),
    /// An integer; written in the smallest of the three integer encodings.
    Int(i64),
    /// An Erlang binary; Hex strings are UTF-8 binaries.
    Binary(Vec<u8>),
    /// A proper list.
    List(Vec<Term>),
    /// A tuple.
    Tuple(Vec<Term>),
    /// A map, written in the order given. Keys must be distinct: `binary_to_term` rejects a map
    /// with a repeated key.
    Map(Vec<(Term, Term)>),
}

impl Term {
    /// A UTF-8 binary, which is what Hex means by a string.
    pub fn str(s: &str) -> Term {
        Term::Binary(s.as_bytes().to_vec())
    }

    /// A map with binary keys, the shape of every Hex API document
    /// (`Term::map([("status", Term::Int(422)), ...])`).
    pub fn map<I: IntoIterator<Item = (&'static str, Term)>>(pairs: I) -> Term {
        Term::Map(
            pairs
                .into_iter()
                .map(|(key, value)| (Term::str(key), value))
                .collect(),
        )
    }

    /// The value under binary key `key`, when this is a map.
    pub fn get(&self, key: &str) -> Option<&Term> {
        match self {
            Term::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Term::Binary(b) if b == key.as_bytes()))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a binary, when this is a UTF-8 binary.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Term::Binary(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }
}

const VERSION: u8 = 131;
const COMPRESSED: u8 = 80;
const SMALL_INTEGER_EXT: u8 = 97;
const INTEGER_EXT: u8 = 98;
const ATOM_EXT: u8 = 100;
const SMALL_TUPLE_EXT: u8 = 104;
const LARGE_TUPLE_EXT: u8 = 105;
const NIL_EXT: u8 = 106;
const STRING_EXT: u8 = 107;
const LIST_EXT: u8 = 108;
const BINARY_EXT: u8 = 109;
const SMALL_BIG_EXT: u8 = 110;
const LARGE_BIG_EXT: u8 = 111;
const SMALL_ATOM_EXT: u8 = 115;
const MAP_EXT: u8 = 116;
const ATOM_UTF8_EXT: u8 = 118;
const SMALL_ATOM_UTF8_EXT: u8 = 119;

/// Nesting deeper than this is refused by [`decode`]: Hex documents are a few levels deep, and
/// the limit keeps a hostile body from exhausting the stack.
const MAX_DEPTH: usize = 64;

/// A decompressed term larger than this is refused by [`decode`]: Hex request bodies are a few
/// hundred bytes (and hex_core does not compress them).
const MAX_DECOMPRESSED: usize = 1024 * 1024;

/// [`decode`] refuses input holding more terms than this: a term takes 32 bytes or more decoded
/// for as little as one sent (`NIL_EXT`), and Hex request bodies hold a handful.
const MAX_TERMS: usize = 100_000;

/// Encodes `term` as `term_to_binary` does: version byte 131, then the term, uncompressed.
pub fn encode(term: &Term) -> Vec<u8> {
    let mut out = vec![VERSION];
    encode_into(term, &mut out);
    out
}

fn encode_into(term: &Term, out: &mut Vec<u8>) {
    match term {
        Term::Nil => atom(out, "nil"),
        Term::Bool(true) => atom(out, "true"),
        Term::Bool(false) => atom(out, "false"),
        Term::Int(n) => integer(out, *n),
        Term::Binary(bytes) => {
            out.push(BINARY_EXT);
            out.extend_from_slice(&len32(bytes.len()).to_be_bytes());
            out.extend_from_slice(bytes);
        }
        Term::List(items) if items.is_empty() => out.push(NIL_EXT),
        Term::List(items) => {
            out.push(LIST_EXT);
            out.extend_from_slice(&len32(items.len()).to_be_bytes());
            for item in items {
                encode_into(item, out);
            }
            out.push(NIL_EXT);
        }
        Term::Tuple(items) => {
            match u8::try_from(items.len()) {
                Ok(arity) => out.extend_from_slice(&[SMALL_TUPLE_EXT, arity]),
                Err(_) => {
                    out.push(LARGE_TUPLE_EXT);
                    out.extend_from_slice(&len32(items.len()).to_be_bytes());
                }
            }
            for item in items {
                encode_into(item, out);
            }
        }
        Term::Map(pairs) => {
            out.push(MAP_EXT);
            out.extend_from_slice(&len32(pairs.len()).to_be_bytes());
            for (key, value) in pairs {
                encode_into(key, out);
                encode_into(value, out);
            }
        }
    }
}

fn atom(out: &mut Vec<u8>, name: &str) {
    // Only our three short ASCII atoms come here, so the one-byte length always fits.
    out.push(SMALL_ATOM_UTF8_EXT);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
}

fn integer(out: &mut Vec<u8>, n: i64) {
    if let Ok(small) = u8::try_from(n) {
        out.extend_from_slice(&[SMALL_INTEGER_EXT, small]);
    } else if let Ok(int) = i32::try_from(n) {
        out.push(INTEGER_EXT);
        out.extend_from_slice(&int.to_be_bytes());
    } else {
        let magnitude = n.unsigned_abs().to_le_bytes();
        let digits = magnitude.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        out.extend_from_slice(&[SMALL_BIG_EXT, digits as u8, u8::from(n < 0)]);
        out.extend_from_slice(&magnitude[..digits]);
    }
}

/// Lengths in ETF are 32-bit; no Hex document comes near 4 GiB.
fn len32(len: usize) -> u32 {
    u32::try_from(len).expect("an ETF length fits in 32 bits")
}

/// Decodes one `term_to_binary` term (the whole input, nothing may follow it).
///
/// Reads the subset of [`Term`] plus what other encoders write for it: `STRING_EXT` (a list of
/// small integers), Latin-1 atoms, big integers that fit in an `i64`, and the zlib-compressed
/// wrapper. Atoms other than `true`, `false` and `nil` are an error, as in hex_core.
pub fn decode(bytes: &[u8]) -> Result<Term, String> {
    let rest = match bytes.split_first() {
        Some((&VERSION, rest)) => rest,
        Some((v, _)) => return Err(format!("not an external term: version byte {v}, not 131")),
        None => return Err("empty input".into()),
    };
    if rest.first() == Some(&COMPRESSED) {
        let mut reader = Reader {
            bytes: &rest[1..],
            terms: 0,
        };
        let size = reader.u32()? as usize;
        if size > MAX_DECOMPRESSED {
            return Err(format!(
                "compressed term of {size} bytes is larger than the maximum of {MAX_DECOMPRESSED}"
            ));
        }
        let mut inflated = Vec::new();
        flate2::read::ZlibDecoder::new(reader.bytes)
            .take(size as u64 + 1)
            .read_to_end(&mut inflated)
            .map_err(|e| format!("bad compressed term: {e}"))?;
        if inflated.len() != size {
            return Err("compressed term has the wrong size".into());
        }
        return decode_body(&inflated);
    }
    decode_body(rest)
}

fn decode_body(bytes: &[u8]) -> Result<Term, String> {
    let mut reader = Reader { bytes, terms: 0 };
    let term = reader.term(0)?;
    if !reader.bytes.is_empty() {
        return Err(format!("{} bytes after the term", reader.bytes.len()));
    }
    Ok(term)
}

struct Reader<'a> {
    bytes: &'a [u8],
    /// Terms decoded so far, against [`MAX_TERMS`].
    terms: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("truncated term".into());
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count of items that each take at least one byte; larger than the input means a lie.
    fn count(&mut self) -> Result<usize, String> {
        let n = self.u32()? as usize;
        if n > self.bytes.len() {
            return Err("truncated term".into());
        }
        Ok(n)
    }

    fn terms(&mut self, n: usize, depth: usize) -> Result<Vec<Term>, String> {
        (0..n).map(|_| self.term(depth + 1)).collect()
    }

    /// Counts `n` more terms against [`MAX_TERMS`].
    fn spend(&mut self, n: usize) -> Result<(), String> {
        self.terms = self.terms.saturating_add(n);
        if self.terms > MAX_TERMS {
            return Err(format!("more than {MAX_TERMS} terms"));
        }
        Ok(())
    }

    /// One term, recursing into its elements: [`MAX_DEPTH`] bounds the stack, [`MAX_TERMS`]
    /// the memory, and declared lengths are checked against the input left before use.
    fn term(&mut self, depth: usize) -> Result<Term, String> {
        if depth > MAX_DEPTH {
            return Err(format!("term nested more than {MAX_DEPTH} deep"));
        }
        self.spend(1)?;
        match self.u8()? {
            SMALL_INTEGER_EXT => Ok(Term::Int(i64::from(self.u8()?))),
            INTEGER_EXT => Ok(Term::Int(i64::from(self.u32()? as i32))),
            SMALL_BIG_EXT => {
                let n = usize::from(self.u8()?);
                self.big(n)
            }
            LARGE_BIG_EXT => {
                let n = self.u32()? as usize;
                self.big(n)
            }
            ATOM_EXT | ATOM_UTF8_EXT => {
                let n = usize::from(self.u16()?);
                atom_term(self.take(n)?)
            }
            SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT => {
                let n = usize::from(self.u8()?);
                atom_term(self.take(n)?)
            }
            BINARY_EXT => {
                let n = self.u32()? as usize;
                Ok(Term::Binary(self.take(n)?.to_vec()))
            }
            NIL_EXT => Ok(Term::List(Vec::new())),
            STRING_EXT => {
                let n = usize::from(self.u16()?);
                let chars = self.take(n)?;
                self.spend(n)?;
                Ok(Term::List(
                    chars.iter().map(|&c| Term::Int(i64::from(c))).collect(),
                ))
            }
            LIST_EXT => {
                let n = self.count()?;
                let items = self.terms(n, depth)?;
                match self.u8()? {
                    NIL_EXT => Ok(Term::List(items)),
                    _ => Err("improper list".into()),
                }
            }
            SMALL_TUPLE_EXT => {
                let n = usize::from(self.u8()?);
                Ok(Term::Tuple(self.terms(n, depth)?))
            }
            LARGE_TUPLE_EXT => {
                let n = self.count()?;
                Ok(Term::Tuple(self.terms(n, depth)?))
            }
            MAP_EXT => {
                let n = self.count()?;
                // Grown as pairs arrive: `n` is only known not to exceed the bytes left.
                let mut pairs = Vec::new();
                for _ in 0..n {
                    let key = self.term(depth + 1)?;
                    let value = self.term(depth + 1)?;
                    pairs.push((key, value));
                }
                Ok(Term::Map(pairs))
            }
            tag => Err(format!("unsupported term tag {tag}")),
        }
    }

    fn big(&mut self, n: usize) -> Result<Term, String> {
        let sign = self.u8()?;
        let digits = self.take(n)?;
        let too_big = || "integer does not fit in 64 bits".to_string();
        if digits.iter().skip(8).any(|&d| d != 0) {
            return Err(too_big());
        }
        let magnitude = digits
            .iter()
            .take(8)
            .rev()
            .fold(0u64, |acc, &d| (acc << 8) | u64::from(d));
        let value = if sign == 0 {
            i64::try_from(magnitude).map_err(|_| too_big())?
        } else {
            0i64.checked_sub_unsigned(magnitude).ok_or_else(too_big)?
        };
        Ok(Term::Int(value))
    }
}

fn atom_term(name: &[u8]) -> Result<Term, String> {
    match name {
        b"nil" => Ok(Term::Nil),
        b"true" => Ok(Term::Bool(true)),
        b"false" => Ok(Term::Bool(false)),
        other => Err(format!(
            "unsupported atom '{}'",
            String::from_utf8_lossy(other)
        )),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fuzz;

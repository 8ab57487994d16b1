//! Readers for the two binary listing formats the table checks, written from the formats' specs
//! (not from the server's writers), so that a listing is read the way a client reads it:
//!
//! - Hex `names` / `versions` / `packages/NAME`: `gzip(Signed{payload = 1, signature = 2})`,
//!   payloads in protobuf (hex_core's `names.proto`, `versions.proto`, `package.proto`);
//! - RubyGems `specs.4.8.gz` and friends: `gzip(Marshal.dump([[name, Gem::Version, platform]…]))`.
//!
//! Anything unexpected is an error naming what was found, never a silent empty list.

use std::io::Read;

fn gunzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut raw)
        .map_err(|e| format!("not gzip ({} bytes): {e}", body.len()))?;
    Ok(raw)
}

// ---- protobuf ----------------------------------------------------------------------------------

/// One protobuf field's value: length-delimited bytes, or a varint (whose value no field read
/// here needs).
enum Field<'a> {
    Varint,
    Bytes(&'a [u8]),
}

fn varint(b: &mut &[u8]) -> Result<u64, String> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = b.split_first().ok_or("truncated varint")?;
        *b = rest;
        out |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn fields(mut b: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b)?;
        let (number, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => {
                varint(&mut b)?;
                Field::Varint
            }
            2 => {
                let len = usize::try_from(varint(&mut b)?).map_err(|e| e.to_string())?;
                if len > b.len() {
                    return Err(format!("field {number}: {len} bytes, {} left", b.len()));
                }
                let (v, rest) = b.split_at(len);
                b = rest;
                Field::Bytes(v)
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                b = b.get(n..).ok_or("truncated fixed field")?;
                continue;
            }
            other => return Err(format!("field {number}: wire type {other}")),
        };
        out.push((number, value));
    }
    Ok(out)
}

fn string(f: &Field<'_>) -> Result<String, String> {
    match f {
        Field::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|e| e.to_string()),
        Field::Varint => Err("a varint where a string belongs".into()),
    }
}

fn message<'a>(f: &Field<'a>) -> Result<&'a [u8], String> {
    match f {
        Field::Bytes(b) => Ok(b),
        Field::Varint => Err("a varint where a message belongs".into()),
    }
}

/// The payload of a gzipped `Signed` message (after checking a signature is present).
fn signed_payload(body: &[u8]) -> Result<Vec<u8>, String> {
    let raw = gunzip(body)?;
    let mut payload = None;
    let mut signed = false;
    for (n, f) in fields(&raw)? {
        match n {
            1 => payload = Some(message(&f)?.to_vec()),
            2 => signed = !message(&f)?.is_empty(),
            _ => {}
        }
    }
    if !signed {
        return Err("Signed without a signature".into());
    }
    payload.ok_or_else(|| "Signed without a payload".into())
}

/// A decoded Hex listing: its repository and, per package, the versions it lists (for
/// `names`, none: that resource lists names only).
#[derive(Debug, Default)]
pub(crate) struct HexListing {
    pub repository: String,
    pub packages: Vec<(String, Vec<String>)>,
}

/// `names` (payload: `repeated Package packages = 1 {name = 1}`, `repository = 2`) and
/// `versions` (`Package {name = 1, repeated string versions = 2, repeated int32 retired = 3}`).
pub(crate) fn hex_listing(body: &[u8]) -> Result<HexListing, String> {
    let payload = signed_payload(body)?;
    let mut out = HexListing::default();
    for (n, f) in fields(&payload)? {
        match n {
            1 => {
                let mut name = None;
                let mut versions = Vec::new();
                for (m, g) in fields(message(&f)?)? {
                    match m {
                        1 => name = Some(string(&g)?),
                        2 => versions.push(string(&g)?),
                        _ => {}
                    }
                }
                out.packages
                    .push((name.ok_or("a package without a name")?, versions));
            }
            2 => out.repository = string(&f)?,
            _ => {}
        }
    }
    Ok(out)
}

/// One release of `packages/NAME`: version (1) and outer checksum (5).
#[derive(Debug)]
pub(crate) struct HexRelease {
    pub version: String,
    pub outer_checksum: Vec<u8>,
}

/// `packages/NAME` (payload: `repeated Release releases = 1`, `name = 2`, `repository = 3`):
/// the package's name and its releases.
pub(crate) fn hex_package(body: &[u8]) -> Result<(String, Vec<HexRelease>), String> {
    let payload = signed_payload(body)?;
    let mut name = String::new();
    let mut releases = Vec::new();
    for (n, f) in fields(&payload)? {
        match n {
            1 => {
                let mut version = None;
                let mut outer_checksum = Vec::new();
                for (m, g) in fields(message(&f)?)? {
                    match m {
                        1 => version = Some(string(&g)?),
                        5 => outer_checksum = message(&g)?.to_vec(),
                        _ => {}
                    }
                }
                releases.push(HexRelease {
                    version: version.ok_or("a release without a version")?,
                    outer_checksum,
                });
            }
            2 => name = string(&f)?,
            _ => {}
        }
    }
    Ok((name, releases))
}

// ---- Ruby Marshal 4.8 ----------------------------------------------------------------------------

/// A Ruby value, as far as a specs file needs.
#[derive(Debug, Clone, PartialEq)]
enum Ruby {
    Nil,
    Bool(bool),
    Int(i64),
    Str(Vec<u8>),
    Sym(String),
    Array(Vec<Ruby>),
    Hash(Vec<(Ruby, Ruby)>),
    Object(String, Vec<(String, Ruby)>),
    /// `U`: class and the value given to `marshal_load`.
    UserMarshal(String, Box<Ruby>),
    /// `u`: class and the bytes given to `_load`.
    UserDump(String, Vec<u8>),
}

struct Loader<'a> {
    b: &'a [u8],
    symbols: Vec<String>,
    /// Objects in the order Marshal numbers them, for `@` links.
    objects: Vec<Ruby>,
}

impl Loader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let (&c, rest) = self.b.split_first().ok_or("truncated Marshal")?;
        self.b = rest;
        Ok(c)
    }

    /// Marshal's packed integer (`w_long`).
    fn long(&mut self) -> Result<i64, String> {
        let c = i64::from(self.byte()? as i8);
        Ok(match c {
            0 => 0,
            5..=127 => c - 5,
            -128..=-5 => c + 5,
            1..=4 => {
                let mut n = 0i64;
                for i in 0..c {
                    n |= i64::from(self.byte()?) << (8 * i);
                }
                n
            }
            _ => {
                let mut n = -1i64;
                for i in 0..-c {
                    n &= !(0xff << (8 * i));
                    n |= i64::from(self.byte()?) << (8 * i);
                }
                n
            }
        })
    }

    fn len(&mut self) -> Result<usize, String> {
        usize::try_from(self.long()?).map_err(|e| format!("negative length: {e}"))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.len()?;
        if n > self.b.len() {
            return Err(format!("{n} bytes wanted, {} left", self.b.len()));
        }
        let (v, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(v.to_vec())
    }

    fn symbol(&mut self) -> Result<String, String> {
        let tag = self.byte()?;
        self.symbol_tagged(tag)
    }

    fn symbol_tagged(&mut self, tag: u8) -> Result<String, String> {
        match tag {
            b':' => {
                let s = String::from_utf8(self.bytes()?).map_err(|e| e.to_string())?;
                self.symbols.push(s.clone());
                Ok(s)
            }
            b';' => {
                let i = self.len()?;
                self.symbols
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("symbol link {i} to nothing"))
            }
            other => Err(format!("a symbol expected, found {:?}", other as char)),
        }
    }

    /// Reserves the next object number; `fill` stores the finished value there.
    fn reserve(&mut self) -> usize {
        self.objects.push(Ruby::Nil);
        self.objects.len() - 1
    }

    fn fill(&mut self, at: usize, v: Ruby) -> Ruby {
        self.objects[at] = v.clone();
        v
    }

    fn value(&mut self, depth: usize) -> Result<Ruby, String> {
        if depth > 32 {
            return Err("nested too deep".into());
        }
        let tag = self.byte()?;
        Ok(match tag {
            b'0' => Ruby::Nil,
            b'T' => Ruby::Bool(true),
            b'F' => Ruby::Bool(false),
            b'i' => Ruby::Int(self.long()?),
            b':' | b';' => Ruby::Sym(self.symbol_tagged(tag)?),
            b'"' => {
                let at = self.reserve();
                let s = Ruby::Str(self.bytes()?);
                self.fill(at, s)
            }
            b'I' => {
                // An object with instance variables (a String's encoding): the value, then them.
                let v = self.value(depth + 1)?;
                for _ in 0..self.len()? {
                    self.symbol()?;
                    self.value(depth + 1)?;
                }
                v
            }
            b'[' => {
                let at = self.reserve();
                let n = self.len()?;
                let items = (0..n)
                    .map(|_| self.value(depth + 1))
                    .collect::<Result<_, _>>()?;
                self.fill(at, Ruby::Array(items))
            }
            b'{' => {
                let at = self.reserve();
                let n = self.len()?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    pairs.push((self.value(depth + 1)?, self.value(depth + 1)?));
                }
                self.fill(at, Ruby::Hash(pairs))
            }
            b'o' => {
                let at = self.reserve();
                let class = self.symbol()?;
                let mut ivars = Vec::new();
                for _ in 0..self.len()? {
                    ivars.push((self.symbol()?, self.value(depth + 1)?));
                }
                self.fill(at, Ruby::Object(class, ivars))
            }
            b'U' => {
                let at = self.reserve();
                let class = self.symbol()?;
                let data = self.value(depth + 1)?;
                self.fill(at, Ruby::UserMarshal(class, Box::new(data)))
            }
            b'u' => {
                let at = self.reserve();
                let class = self.symbol()?;
                let data = self.bytes()?;
                self.fill(at, Ruby::UserDump(class, data))
            }
            b'@' => {
                let i = self.len()?;
                self.objects
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("object link {i} to nothing"))?
            }
            other => return Err(format!("Marshal type {:?} not expected", other as char)),
        })
    }
}

fn marshal_load(raw: &[u8]) -> Result<Ruby, String> {
    let Some(([4, 8], rest)) = raw.split_first_chunk::<2>().map(|(v, r)| (*v, r)) else {
        return Err(format!("not Marshal 4.8: {:?}", raw.get(..2)));
    };
    let mut loader = Loader {
        b: rest,
        symbols: Vec::new(),
        objects: Vec::new(),
    };
    let v = loader.value(0)?;
    if !loader.b.is_empty() {
        return Err(format!("{} bytes after the value", loader.b.len()));
    }
    Ok(v)
}

/// `specs.4.8.gz` and friends: `(name, version, platform)` of each entry.
pub(crate) fn gem_specs(body: &[u8]) -> Result<Vec<(String, String, String)>, String> {
    let text = |v: &Ruby| match v {
        Ruby::Str(s) => String::from_utf8(s.clone()).map_err(|e| e.to_string()),
        other => Err(format!("a String expected, found {other:?}")),
    };
    let Ruby::Array(entries) = marshal_load(&gunzip(body)?)? else {
        return Err("the specs file is not an Array".into());
    };
    entries
        .iter()
        .map(|e| match e {
            Ruby::Array(t) if t.len() == 3 => {
                let version = match &t[1] {
                    Ruby::UserMarshal(class, data) if class == "Gem::Version" => match &**data {
                        Ruby::Array(v) if v.len() == 1 => text(&v[0])?,
                        other => return Err(format!("Gem::Version of {other:?}")),
                    },
                    other => return Err(format!("a Gem::Version expected, found {other:?}")),
                };
                Ok((text(&t[0])?, version, text(&t[2])?))
            }
            other => Err(format!(
                "a [name, version, platform] expected, found {other:?}"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ruby -e 'print Marshal.dump([["a_b", Gem::Version.new("1.0.0"), "ruby"]])'` prints
    /// (RubyGems 3.3), checked byte for byte.
    #[test]
    fn reads_what_ruby_writes() {
        let mut raw = b"\x04\x08[\x06[\x08I\"\x08a_b\x06:\x06ET".to_vec();
        raw.extend_from_slice(b"U:\x11Gem::Version[\x06I\"\n1.0.0\x06;\x00TI\"\truby\x06;\x00T");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).expect("gzip");
        let body = gz.finish().expect("gzip");
        assert_eq!(
            gem_specs(&body).expect("decodes"),
            [("a_b".into(), "1.0.0".into(), "ruby".into())]
        );
    }

    #[test]
    fn packed_integers() {
        for (bytes, n) in [
            (&b"\x00"[..], 0),
            (b"\x06", 1),
            (b"\x7f", 122),
            (b"\x01\x7b", 123),
            (b"\x02\x00\x01", 256),
            (b"\xfa", -1),
            (b"\x80", -123),
            (b"\xff\x85", -123),
        ] {
            let mut l = Loader {
                b: bytes,
                symbols: vec![],
                objects: vec![],
            };
            assert_eq!(l.long().expect("long"), n, "{bytes:?}");
        }
    }
}

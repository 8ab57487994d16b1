//! Walking an untrusted tar raw (`tar::Entries::raw(true)`): the `tar` crate would read GNU long
//! names and PAX records whole into memory, whatever size they claim, so they are read here,
//! each at most [`MAX_EXTENSION`] bytes, and applied to the entry that follows them.

use std::io::{self, Read};

/// The largest GNU long name or PAX record set: a path is at most 4 KiB on Linux.
pub const MAX_EXTENSION: u64 = 64 << 10;

/// What GNU `L`/`K` and PAX `x` records say about the next entry.
#[derive(Default)]
pub struct Extensions {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax: bool,
}

impl Extensions {
    /// Reads `entry` if it is an extension record (`Ok(true)`: skip it) and notes what it says;
    /// `Ok(false)` for an entry of the archive itself. A PAX `size` is refused: the `tar` crate
    /// would let it override the header's, and clients would read the archive differently.
    pub fn absorb(&mut self, entry: &mut tar::Entry<impl Read>) -> io::Result<bool> {
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            read_record(entry)?;
            return Ok(true);
        }
        let twice = || io::Error::other("two headers describe the same entry");
        if kind.is_gnu_longname() || kind.is_gnu_longlink() {
            let mut data = read_record(entry)?;
            if data.last() == Some(&0) {
                data.pop();
            }
            let slot = if kind.is_gnu_longname() {
                &mut self.long_name
            } else {
                &mut self.long_link
            };
            if slot.replace(data).is_some() {
                return Err(twice());
            }
            return Ok(true);
        }
        if !kind.is_pax_local_extensions() {
            return Ok(false);
        }
        let data = read_record(entry)?;
        if std::mem::replace(&mut self.pax, true) {
            return Err(twice());
        }
        for field in tar::PaxExtensions::new(&data) {
            let field = field?;
            match field.key_bytes() {
                b"path" => self.pax_path = Some(field.value_bytes().to_vec()),
                b"linkpath" => self.pax_link = Some(field.value_bytes().to_vec()),
                b"size" => return Err(io::Error::other("PAX size records are not supported")),
                _ => {}
            }
        }
        Ok(true)
    }

    /// The path and link target of `entry` as the records before it say, which are then spent.
    pub fn take(&mut self, entry: &tar::Entry<impl Read>) -> (Vec<u8>, Option<Vec<u8>>) {
        let Extensions {
            long_name,
            long_link,
            pax_path,
            pax_link,
            ..
        } = std::mem::take(self);
        let path = long_name
            .or(pax_path)
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let link = long_link
            .or(pax_link)
            .or_else(|| entry.link_name_bytes().map(|t| t.into_owned()));
        (path, link)
    }

    /// Fails when records are left with no entry after them (a truncated archive).
    pub fn finish(&self) -> io::Result<()> {
        if self.long_name.is_some() || self.long_link.is_some() || self.pax {
            return Err(io::Error::other(
                "it ends with a header that describes no entry",
            ));
        }
        Ok(())
    }
}

/// An extension record's bytes, refused before reading when it claims too many.
fn read_record(entry: &mut tar::Entry<impl Read>) -> io::Result<Vec<u8>> {
    let size = entry.size();
    if size > MAX_EXTENSION {
        return Err(io::Error::other(format!(
            "a {size}-byte tar extension header; the most accepted is {MAX_EXTENSION}"
        )));
    }
    let mut data = Vec::new();
    entry.take(MAX_EXTENSION).read_to_end(&mut data)?;
    if data.len() as u64 != size {
        return Err(io::Error::other("it is truncated"));
    }
    Ok(data)
}

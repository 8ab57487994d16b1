//! A reader that gives out at most a set number of bytes, for inflating untrusted archives: a
//! decompression bomb is stopped at the first byte past the limit, and the caller can tell that
//! apart from a corrupt archive.

use std::io::{self, Read};

/// Fails once more than `limit` bytes have come through it; [`Capped::exceeded`] then says so.
pub struct Capped<R> {
    inner: R,
    left: u64,
    over: bool,
}

impl<R> Capped<R> {
    pub fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            left: limit,
            over: false,
        }
    }

    /// Whether a read failed because the limit was passed.
    pub fn exceeded(&self) -> bool {
        self.over
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Ask for at most one byte past the limit, so a bomb is stopped as soon as it is seen.
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.over = true;
            return Err(io::Error::other("size limit exceeded"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_one_byte_past_the_limit() {
        let mut capped = Capped::new(io::repeat(0), 10);
        let mut out = Vec::new();
        let err = capped.read_to_end(&mut out).expect_err("endless input");
        assert!(capped.exceeded(), "{err}");
        assert!(out.len() <= 10, "gave out {} bytes", out.len());

        let mut exact = Capped::new(&[1u8; 10][..], 10);
        let mut out = Vec::new();
        exact.read_to_end(&mut out).expect("fits");
        assert!(!exact.exceeded());
        assert_eq!(out.len(), 10);
    }
}

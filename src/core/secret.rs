//! Bytes that hold private key material or passwords: zeroed when dropped,
//! so no copy we own outlives its use.

use std::sync::atomic::{compiler_fence, Ordering};

pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The bytes, to fill in place (a random draw, say).
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.0
    }
    /// Appends `bytes`. Size the secret up front (`Vec::with_capacity`): a
    /// reallocation would leave an unwiped copy behind.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    /// The bytes as text (PEM is ASCII); None when they are not UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl Secret {
    /// Overwrites every byte (the whole capacity) with zeros: volatile writes,
    /// which the compiler may not elide, eight bytes at a time where aligned.
    fn wipe(&mut self) {
        let len = self.0.len();
        self.0.resize(self.0.capacity(), 0);
        let bytes = self.0.as_mut_slice();
        // SAFETY: u64 has no invalid bit patterns and `align_to_mut` hands out
        // only the aligned middle as u64s; all three parts are our own buffer.
        let (head, words, tail) = unsafe { bytes.align_to_mut::<u64>() };
        for b in head.iter_mut().chain(tail.iter_mut()) {
            // SAFETY: `b` is a valid, exclusive reference into our own buffer.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
        for w in words.iter_mut() {
            // SAFETY: `w` is a valid, aligned, exclusive reference into our own buffer.
            unsafe { std::ptr::write_volatile(w, 0) };
        }
        compiler_fence(Ordering::SeqCst);
        self.0.truncate(len);
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Clone for Secret {
    fn clone(&self) -> Self {
        Secret(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_zeroes_the_whole_buffer() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"-----BEGIN PRIVATE KEY-----");
        let mut s = Secret::new(v);
        s.wipe();
        assert!(s.as_bytes().iter().all(|b| *b == 0));
        assert_eq!(s.as_bytes().len(), 27);
    }

    #[test]
    fn holds_bytes() {
        let s = Secret::new(b"pw".to_vec());
        assert_eq!(s.as_bytes(), b"pw");
        assert_eq!(s.as_str(), Some("pw"));
    }
}

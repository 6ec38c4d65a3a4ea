//! Certificate serial numbers: positive integers of at most 20 octets
//! (RFC 5280 §4.1.2.2), stored inline so millions of them cost no allocations.

use std::collections::HashSet;
use std::fmt;

use super::error::{CaError, CaResult};
use super::error::shown;

/// The longest [`Serial::write_hex`]: "0x" and 40 digits.
pub const HEX_MAX: usize = 42;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial {
    len: u8,
    /// Big-endian magnitude, left-aligned; bytes past `len` are zero.
    bytes: [u8; 20],
}

impl Serial {
    /// From a big-endian magnitude (leading zeros ignored). Zero is refused:
    /// serials are positive.
    pub fn from_be_bytes(b: &[u8]) -> CaResult<Serial> {
        let skip = b.iter().take_while(|x| **x == 0).count();
        let m = &b[skip..];
        if m.is_empty() {
            return Err(CaError::param("serial must be positive, got 0"));
        }
        // RFC 5280: at most 20 octets as a DER INTEGER, sign octet included.
        if m.len() > 20 || (m.len() == 20 && m[0] & 0x80 != 0) {
            return Err(CaError::param("serial is longer than 20 octets (RFC 5280)"));
        }
        let mut bytes = [0u8; 20];
        bytes[..m.len()].copy_from_slice(m);
        Ok(Serial { len: m.len() as u8, bytes })
    }

    pub fn from_u64(v: u64) -> CaResult<Serial> {
        Serial::from_be_bytes(&v.to_be_bytes())
    }

    /// Parses "0x1f..." (case-insensitive hex, at most 40 digits).
    pub fn from_hex(s: &str, what: &str) -> CaResult<Serial> {
        let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).ok_or_else(|| {
            CaError::param(format!("{what} as a string must be hex like \"0x1f\", got {}", shown(s)))
        })?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CaError::param(format!("{what} {} is not a hex number", shown(s))));
        }
        let digits = digits.trim_start_matches('0');
        if digits.len() > 40 {
            return Err(CaError::param(format!("{what} {} is longer than 20 octets (RFC 5280)", shown(s))));
        }
        let padded = if digits.len() % 2 == 1 { format!("0{digits}") } else { digits.to_string() };
        let mut raw = Vec::with_capacity(padded.len() / 2);
        for pair in padded.as_bytes().chunks(2) {
            let hi = (pair[0] as char).to_digit(16).unwrap_or(0) as u8;
            let lo = (pair[1] as char).to_digit(16).unwrap_or(0) as u8;
            raw.push(hi << 4 | lo);
        }
        Serial::from_be_bytes(&raw).map_err(|e| CaError::param(format!("{what}: {}", e.message)))
    }

    /// Fresh random serial from the CSPRNG: 16 octets, top bits 01, so it is
    /// positive, has >= 120 random bits, and is above every 64-bit counter value.
    pub fn random() -> CaResult<Serial> {
        let mut b = [0u8; 16];
        openssl::rand::rand_bytes(&mut b).map_err(|e| CaError::ssl("drawing a random serial", e))?;
        b[0] = (b[0] & 0x3f) | 0x40;
        Serial::from_be_bytes(&b)
    }

    /// The magnitude followed by zeros to 20 bytes (for fixed-size copies).
    pub fn padded(&self) -> &[u8; 20] {
        &self.bytes
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The value when it fits an i64 (what Janet sees as int/s64).
    pub fn to_i64(&self) -> Option<i64> {
        if self.len > 8 {
            return None;
        }
        let v = self.as_bytes().iter().fold(0u64, |a, b| a << 8 | *b as u64);
        i64::try_from(v).ok()
    }

    pub fn to_hex(&self) -> String {
        let mut buf = [0u8; HEX_MAX];
        let n = self.write_hex(&mut buf);
        // Only ASCII was written.
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// Writes "0x" and two lowercase hex digits per octet (what [`Serial::to_hex`]
    /// returns) into `out`; returns how many bytes were written.
    pub fn write_hex(&self, out: &mut [u8; HEX_MAX]) -> usize {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        out[0] = b'0';
        out[1] = b'x';
        for (i, b) in self.as_bytes().iter().enumerate() {
            out[2 + 2 * i] = DIGITS[(b >> 4) as usize];
            out[3 + 2 * i] = DIGITS[(b & 15) as usize];
        }
        2 + 2 * self.len as usize
    }

    /// Bytes of the DER INTEGER [`Serial::write`] appends.
    pub fn der_len(&self) -> usize {
        // a 0x00 goes before a magnitude whose top bit is set; len <= 20: short form
        2 + self.len as usize + usize::from(self.bytes[0] & 0x80 != 0)
    }

    /// Appends the DER INTEGER.
    pub fn write(&self, out: &mut Vec<u8>) {
        super::der::uint(out, self.as_bytes())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The serials a CA has put on certificates. Counter serials come in runs,
/// so values that fit a u64 are kept as sorted, merged ranges: a million
/// issued certificates cost one range, not a million set entries.
#[derive(Debug, Clone, Default)]
pub struct UsedSerials {
    /// Sorted, non-overlapping, non-adjacent `[start, end)` ranges.
    runs: Vec<(u64, u64)>,
    /// Serials too wide for a u64.
    wide: HashSet<Serial>,
}

impl UsedSerials {
    fn as_u64(s: &Serial) -> Option<u64> {
        (s.len <= 8).then(|| s.as_bytes().iter().fold(0u64, |a, b| a << 8 | *b as u64))
    }

    /// Index of the run containing `v`, if any.
    fn run_of(&self, v: u64) -> Option<usize> {
        let i = self.runs.partition_point(|(start, _)| *start <= v);
        (i > 0 && v < self.runs[i - 1].1).then(|| i - 1)
    }

    pub fn contains(&self, s: &Serial) -> bool {
        match Self::as_u64(s) {
            Some(u64::MAX) => self.wide.contains(s),
            Some(v) => self.run_of(v).is_some(),
            None => self.wide.contains(s),
        }
    }

    pub fn insert(&mut self, s: Serial) {
        let Some(v) = Self::as_u64(&s) else {
            self.wide.insert(s);
            return;
        };
        if v == u64::MAX {
            // a run's end would not fit: keep it with the wide ones
            self.wide.insert(s);
            return;
        }
        if self.run_of(v).is_some() {
            return;
        }
        let i = self.runs.partition_point(|(start, _)| *start <= v);
        let joins_prev = i > 0 && self.runs[i - 1].1 == v;
        let joins_next = i < self.runs.len() && self.runs[i].0 == v + 1;
        match (joins_prev, joins_next) {
            (true, true) => {
                self.runs[i - 1].1 = self.runs[i].1;
                self.runs.remove(i);
            }
            (true, false) => self.runs[i - 1].1 = v + 1,
            (false, true) => self.runs[i].0 = v,
            (false, false) => self.runs.insert(i, (v, v + 1)),
        }
    }

    /// Every used serial at or above `floor` (wide ones included), for moving
    /// the set into a store.
    pub fn at_or_above(&self, floor: u64) -> Vec<Serial> {
        let mut out: Vec<Serial> = self.wide.iter().copied().collect();
        for (start, end) in &self.runs {
            for v in (*start).max(floor)..*end {
                if let Ok(s) = Serial::from_u64(v) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// The first value at or after `from` that is not used.
    pub fn next_free(&self, from: u64) -> u64 {
        match self.run_of(from) {
            Some(i) => self.runs[i].1,
            None => from,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_serials_merge_runs() {
        let mut u = UsedSerials::default();
        for v in [1u64, 2, 3, 10, 5, 4, 11] {
            u.insert(Serial::from_u64(v).unwrap());
        }
        assert_eq!(u.runs, vec![(1, 6), (10, 12)]);
        assert_eq!(u.next_free(1), 6);
        assert_eq!(u.next_free(7), 7);
        assert_eq!(u.next_free(10), 12);
        assert!(u.contains(&Serial::from_u64(4).unwrap()));
        assert!(!u.contains(&Serial::from_u64(9).unwrap()));
        let wide = Serial::random().unwrap();
        u.insert(wide);
        assert!(u.contains(&wide));
    }

    #[test]
    fn hex_and_ints() {
        let s = Serial::from_hex("0x00ff", "serial").unwrap();
        assert_eq!(s.as_bytes(), &[0xff]);
        assert_eq!(s.to_i64(), Some(255));
        assert_eq!(s, Serial::from_u64(255).unwrap());
        let big = Serial::from_hex("0x0123456789abcdef0123456789abcdef", "serial").unwrap();
        assert_eq!(big.to_i64(), None);
        assert_eq!(big.to_hex(), "0x0123456789abcdef0123456789abcdef");
        assert!(Serial::from_hex("0x", "s").is_err());
        assert!(Serial::from_hex("12", "s").is_err());
        assert!(Serial::from_hex("0xzz", "s").is_err());
        assert!(Serial::from_hex("0x0", "s").is_err());
        assert!(Serial::from_hex(&format!("0x{}", "f".repeat(41)), "s").is_err());
        let r = Serial::random().unwrap();
        assert_eq!(r.as_bytes().len(), 16);
        // the table-driven hex is the formatted one, for every length
        for len in 1..=20usize {
            let mut b = [0u8; 20];
            for (i, x) in b.iter_mut().enumerate().take(len) {
                *x = (i as u8).wrapping_mul(37).wrapping_add(0x5b) | u8::from(i == 0);
            }
            b[0] &= 0x7f;
            let s = Serial::from_be_bytes(&b[..len]).unwrap();
            let formatted: String = std::iter::once("0x".to_string())
                .chain(s.as_bytes().iter().map(|x| format!("{x:02x}")))
                .collect();
            assert_eq!(s.to_hex(), formatted);
        }
        assert!(r.to_i64().is_none());
    }
}

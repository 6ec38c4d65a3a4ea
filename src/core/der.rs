//! Minimal DER: a writer for the structures we sign (certificates, CRLs, OCSP
//! responses) and a strict reader for the ones we parse (CSRs, certificates,
//! OCSP requests).
//!
//! We encode by hand instead of going through OpenSSL's config-string
//! extension API: it is faster, and no user string can ever be interpreted as
//! OpenSSL config syntax (`critical,`, `@section`, commas splitting names).

use super::error::{CaError, CaResult};

pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const ENUMERATED: u8 = 0x0a;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const TELETEX_STRING: u8 = 0x14;
    pub const IA5_STRING: u8 = 0x16;
    pub const UNIVERSAL_STRING: u8 = 0x1c;
    pub const BMP_STRING: u8 = 0x1e;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// Context-specific constructed `[n]` (EXPLICIT tagging).
    pub const fn explicit(n: u8) -> u8 {
        0xa0 | n
    }
    /// Context-specific primitive `[n]` (IMPLICIT tagging of a primitive).
    pub const fn implicit(n: u8) -> u8 {
        0x80 | n
    }
}

// ---------------------------------------------------------------- writing

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Appends a TLV whose content is already encoded.
pub fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Appends a constructed TLV whose content `body` writes in place; the length
/// is patched afterwards (one move of the content when it exceeds 127 bytes).
pub fn nested(out: &mut Vec<u8>, tag: u8, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(tag);
    let len_at = out.len();
    out.push(0);
    let start = out.len();
    body(out);
    let len = out.len() - start;
    if len < 0x80 {
        out[len_at] = len as u8;
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out[len_at] = 0x80 | (bytes.len() - skip) as u8;
        out.splice(start..start, bytes[skip..].iter().copied());
    }
}

pub fn sequence(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    nested(out, tag::SEQUENCE, body)
}

/// INTEGER from an unsigned big-endian magnitude (leading zeros trimmed, a 0x00
/// prepended when the high bit is set so the value stays positive).
pub fn uint(out: &mut Vec<u8>, magnitude: &[u8]) {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let m = &magnitude[skip..];
    out.push(tag::INTEGER);
    if m.is_empty() {
        out.extend_from_slice(&[1, 0]);
    } else if m[0] & 0x80 != 0 {
        push_len(out, m.len() + 1);
        out.push(0);
        out.extend_from_slice(m);
    } else {
        push_len(out, m.len());
        out.extend_from_slice(m);
    }
}

pub fn small_uint(out: &mut Vec<u8>, v: u64) {
    uint(out, &v.to_be_bytes())
}

pub fn boolean(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(&[tag::BOOLEAN, 1, if v { 0xff } else { 0 }]);
}

pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(&[tag::NULL, 0]);
}

/// An OID given as its encoded content bytes (see [`oid`]).
pub fn oid(out: &mut Vec<u8>, encoded: &[u8]) {
    tlv(out, tag::OID, encoded)
}

pub fn octet_string(out: &mut Vec<u8>, v: &[u8]) {
    tlv(out, tag::OCTET_STRING, v)
}

/// BIT STRING with no unused bits.
pub fn bit_string(out: &mut Vec<u8>, v: &[u8]) {
    out.push(tag::BIT_STRING);
    push_len(out, v.len() + 1);
    out.push(0);
    out.extend_from_slice(v);
}

/// BIT STRING of named bits (bit 0 = MSB of the first byte), DER-minimal:
/// trailing zero bits are dropped and counted as unused.
pub fn named_bits(out: &mut Vec<u8>, bits: u16) {
    if bits == 0 {
        out.extend_from_slice(&[tag::BIT_STRING, 1, 0]);
        return;
    }
    // bit i of `bits` is named bit i; place it at MSB-first position i.
    let mut bytes = [0u8; 2];
    let mut highest = 0;
    for i in 0..16 {
        if bits & (1 << i) != 0 {
            bytes[i / 8] |= 0x80 >> (i % 8);
            highest = i;
        }
    }
    let nbytes = highest / 8 + 1;
    let unused = 7 - (highest % 8);
    out.push(tag::BIT_STRING);
    out.push(nbytes as u8 + 1);
    out.push(unused as u8);
    out.extend_from_slice(&bytes[..nbytes]);
}

/// Encodes a dotted OID string ("1.2.840.10045.4.3.2") to content bytes.
pub fn encode_oid(dotted: &str) -> CaResult<Vec<u8>> {
    let bad = || CaError::param(format!("{dotted:?} is not a dotted OID such as \"1.3.6.1.4.1.99999.1\""));
    let mut arcs = Vec::new();
    for part in dotted.split('.') {
        if part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err(bad());
        }
        arcs.push(part.parse::<u64>().map_err(|_| bad())?);
    }
    if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39) || arcs[1] > u64::MAX - 80 {
        return Err(bad());
    }
    let mut out = Vec::new();
    let mut push_arc = |mut v: u64| {
        let mut tmp = [0u8; 10];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        let last = tmp.len() - 1;
        for (j, b) in tmp.iter().enumerate().skip(i) {
            out.push(if j == last { *b } else { *b | 0x80 });
        }
    };
    push_arc(arcs[0] * 40 + arcs[1]);
    for a in &arcs[2..] {
        push_arc(*a);
    }
    Ok(out)
}

/// Checks OID content: non-empty, every arc minimally encoded (no leading
/// 0x80 octet), the last octet ends an arc, and every arc fits in 64 bits.
pub fn check_oid(encoded: &[u8]) -> Result<(), &'static str> {
    if encoded.is_empty() {
        return Err("empty OBJECT IDENTIFIER");
    }
    if encoded.last().is_some_and(|b| b & 0x80 != 0) {
        return Err("truncated OBJECT IDENTIFIER (its last arc is unfinished)");
    }
    let mut arc_start = true;
    let mut arc_len = 0;
    for b in encoded {
        if arc_start && *b == 0x80 {
            return Err("OBJECT IDENTIFIER arc is not minimally encoded");
        }
        arc_len += 1;
        if arc_len > 9 {
            return Err("OBJECT IDENTIFIER arc is too large");
        }
        arc_start = b & 0x80 == 0;
        if arc_start {
            arc_len = 0;
        }
    }
    Ok(())
}

/// Dotted form of encoded OID content (for messages).
pub fn oid_to_string(encoded: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for b in encoded {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = if v < 80 { v / 40 } else { 2 };
                arcs.push(first);
                arcs.push(v - first * 40);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    arcs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(".")
}

// ---------------------------------------------------------------- reading

/// One parsed TLV: its tag, its content, and the whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// This TLV if it has `tag`, else a parse error naming `what`.
    pub fn tagged(self, tag: u8, what: &str) -> CaResult<Tlv<'a>> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(CaError::parse(format!("{what}: expected tag 0x{tag:02x}, found 0x{:02x}", self.tag)))
        }
    }
    /// A DER BOOLEAN: one octet, 0x00 or 0xFF (BER's other non-zero values
    /// for TRUE are refused, never read as FALSE).
    pub fn boolean(self, what: &str) -> CaResult<bool> {
        match self.tagged(tag::BOOLEAN, what)?.content {
            [0xff] => Ok(true),
            [0x00] => Ok(false),
            _ => Err(CaError::parse(format!("{what}: a DER BOOLEAN is one octet, 00 or FF"))),
        }
    }
    /// An OBJECT IDENTIFIER's content, checked to be a complete, minimally
    /// encoded OID (see [`check_oid`]).
    pub fn oid(self, what: &str) -> CaResult<&'a [u8]> {
        let c = self.tagged(tag::OID, what)?.content;
        check_oid(c).map_err(|m| CaError::parse(format!("{what}: {m}")))?;
        Ok(c)
    }
    /// A reader over this TLV's content (for constructed types).
    pub fn reader(self) -> Reader<'a> {
        Reader::new(self.content)
    }
    /// Positive INTEGER magnitude, leading zero octet removed.
    pub fn uint_bytes(self, what: &str) -> CaResult<&'a [u8]> {
        let t = self.tagged(tag::INTEGER, what)?;
        let c = t.content;
        if c.is_empty() {
            return Err(CaError::parse(format!("{what}: empty INTEGER")));
        }
        if c[0] & 0x80 != 0 {
            return Err(CaError::parse(format!("{what}: negative INTEGER")));
        }
        if c.len() > 1 && c[0] == 0 && c[1] & 0x80 == 0 {
            return Err(CaError::parse(format!("{what}: INTEGER is not minimally encoded")));
        }
        Ok(if c[0] == 0 && c.len() > 1 { &c[1..] } else { c })
    }
}

/// A cursor over a run of DER TLVs. Only definite lengths, low tag numbers.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }
    pub fn read(&mut self, what: &str) -> CaResult<Tlv<'a>> {
        let err = |m: &str| CaError::parse(format!("{what}: {m}"));
        let start = self.pos;
        let rest = &self.data[start..];
        if rest.len() < 2 {
            return Err(err("truncated DER"));
        }
        let t = rest[0];
        if t & 0x1f == 0x1f {
            return Err(err("high tag numbers are not supported"));
        }
        let first = rest[1];
        let (len, hdr) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 {
                return Err(err("indefinite length is not DER"));
            }
            if n > 4 {
                return Err(err("length too large"));
            }
            if rest.len() < 2 + n {
                return Err(err("truncated DER length"));
            }
            let mut len = 0usize;
            for b in &rest[2..2 + n] {
                len = (len << 8) | *b as usize;
            }
            if len < 0x80 || rest[2] == 0 {
                return Err(err("length is not minimally encoded"));
            }
            (len, 2 + n)
        };
        if rest.len() - hdr < len {
            return Err(err("truncated DER content"));
        }
        self.pos = start + hdr + len;
        Ok(Tlv { tag: t, content: &rest[hdr..hdr + len], raw: &rest[..hdr + len] })
    }
    pub fn read_tag(&mut self, tag: u8, what: &str) -> CaResult<Tlv<'a>> {
        self.read(what)?.tagged(tag, what)
    }
    /// Reads the next TLV if it has `tag`.
    pub fn read_optional(&mut self, tag: u8, what: &str) -> CaResult<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.read(what).map(Some)
        } else {
            Ok(None)
        }
    }
    /// Reads an optional DER field `DEFAULT FALSE` of type BOOLEAN: absent is
    /// false; present it must be TRUE (DER never encodes a default value).
    pub fn default_false(&mut self, what: &str) -> CaResult<bool> {
        match self.read_optional(tag::BOOLEAN, what)? {
            None => Ok(false),
            Some(b) if b.boolean(what)? => Ok(true),
            Some(_) => Err(CaError::parse(format!("{what}: FALSE is the default and is not encoded in DER"))),
        }
    }
    pub fn finish(&self, what: &str) -> CaResult<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(CaError::parse(format!("{what}: unexpected trailing data")))
        }
    }
}

/// DER `SET OF` (X.690 §11.6): the elements in `content` are in ascending
/// order of their encodings (shorter encodings padded with zeros compare as
/// such; for the equal-length prefix rule a plain byte comparison suffices).
pub fn check_set_order(content: &[u8], what: &str) -> CaResult<()> {
    let mut r = Reader::new(content);
    let mut prev: Option<&[u8]> = None;
    while !r.is_empty() {
        let t = r.read(what)?;
        if prev.is_some_and(|p| p > t.raw) {
            return Err(CaError::parse(format!("{what}: a SET OF is not in DER order")));
        }
        prev = Some(t.raw);
    }
    Ok(())
}

/// Parses exactly one TLV spanning all of `data`.
pub fn parse_one<'a>(data: &'a [u8], what: &str) -> CaResult<Tlv<'a>> {
    let mut r = Reader::new(data);
    let t = r.read(what)?;
    r.finish(what)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_round_trip() {
        let e = encode_oid("1.2.840.10045.4.3.2").unwrap();
        assert_eq!(e, vec![0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
        assert_eq!(oid_to_string(&e), "1.2.840.10045.4.3.2");
        assert!(encode_oid("1").is_err());
        assert!(encode_oid("3.1").is_err());
        assert!(encode_oid("1.2.x").is_err());
        assert!(encode_oid("1..2").is_err());
    }

    #[test]
    fn long_lengths_and_nesting() {
        let mut out = Vec::new();
        sequence(&mut out, |o| octet_string(o, &vec![7u8; 300]));
        let t = parse_one(&out, "t").unwrap();
        assert_eq!(t.tag, tag::SEQUENCE);
        let inner = t.reader().read_tag(tag::OCTET_STRING, "o").unwrap();
        assert_eq!(inner.content.len(), 300);
    }

    #[test]
    fn integers() {
        let mut out = Vec::new();
        uint(&mut out, &[0x00, 0x80]);
        assert_eq!(out, vec![2, 2, 0, 0x80]);
        out.clear();
        small_uint(&mut out, 0);
        assert_eq!(out, vec![2, 1, 0]);
        let t = parse_one(&[2, 2, 0, 0x80], "i").unwrap();
        assert_eq!(t.uint_bytes("i").unwrap(), &[0x80]);
        assert!(parse_one(&[2, 1, 0x80], "i").unwrap().uint_bytes("i").is_err());
    }

    #[test]
    fn named_bit_strings() {
        let mut out = Vec::new();
        named_bits(&mut out, 1 << 0); // digitalSignature
        assert_eq!(out, vec![3, 2, 7, 0x80]);
        out.clear();
        named_bits(&mut out, (1 << 5) | (1 << 6)); // keyCertSign, cRLSign
        assert_eq!(out, vec![3, 2, 1, 0x06]);
        out.clear();
        named_bits(&mut out, 1 << 8); // decipherOnly
        assert_eq!(out, vec![3, 3, 7, 0, 0x80]);
    }

    #[test]
    fn strict_booleans_and_oids() {
        assert!(parse_one(&[1, 1, 0xff], "b").unwrap().boolean("b").unwrap());
        assert!(!parse_one(&[1, 1, 0], "b").unwrap().boolean("b").unwrap());
        assert!(parse_one(&[1, 1, 1], "b").unwrap().boolean("b").is_err());
        assert!(parse_one(&[1, 2, 0xff, 0xff], "b").unwrap().boolean("b").is_err());
        assert!(Reader::new(&[1, 1, 0]).default_false("c").is_err());
        assert!(check_oid(&encode_oid("1.3.6.1.5.5.7.3.9").unwrap()).is_ok());
        assert!(check_oid(&[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x80, 0x09]).is_err(), "non-minimal arc");
        assert!(check_oid(&[0x2b, 0x06, 0x81]).is_err(), "truncated");
        assert!(check_oid(&[]).is_err());
    }

    #[test]
    fn rejects_bad_der() {
        assert!(parse_one(&[], "x").is_err());
        assert!(parse_one(&[0x30], "x").is_err());
        assert!(parse_one(&[0x30, 0x80, 0, 0], "x").is_err());
        assert!(parse_one(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0], "x").is_err());
        assert!(parse_one(&[0x30, 0x05, 0], "x").is_err());
        assert!(parse_one(&[0x30, 0x00, 0x00], "x").is_err());
        assert!(parse_one(&[0x1f, 0x00], "x").is_err());
    }
}

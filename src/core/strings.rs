//! ASN.1 character strings, decoded to UTF-8 before anything looks at them.
//!
//! Only the types RFC 5280 uses for names are known: the DirectoryString
//! choices (PrintableString, UTF8String, BMPString, UniversalString) and
//! IA5String. TeletexString is refused: its T.61 repertoire has no exact
//! mapping to Unicode, so we could not re-encode it as what was asked.

use super::der::{tag, Tlv};
use super::error::{CaError, CaResult};

/// Which string types a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DirectoryString (RFC 5280 §4.1.2.4).
    Directory,
    /// IA5String only (emailAddress, dNSName, ...).
    Ia5,
}

pub fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)
}

/// Decodes `t` as a string of `kind`, strictly: the content must be valid for
/// its type (PrintableString alphabet, UTF-8, UCS-2 without surrogates, UCS-4
/// scalar values, ASCII).
pub fn decode(t: Tlv<'_>, kind: Kind, what: &str) -> CaResult<String> {
    let bad = |m: &str| CaError::parse(format!("{what}: {m}"));
    let c = t.content;
    match (t.tag, kind) {
        (tag::IA5_STRING, _) => {
            if !c.is_ascii() {
                return Err(bad("IA5String holds a byte above 0x7f"));
            }
            Ok(String::from_utf8_lossy(c).into_owned())
        }
        (_, Kind::Ia5) => Err(bad(&format!("expected an IA5String, found tag 0x{:02x}", t.tag))),
        (tag::PRINTABLE_STRING, _) => {
            if !c.iter().all(|b| is_printable(*b)) {
                return Err(bad("PrintableString holds a character outside its alphabet"));
            }
            Ok(String::from_utf8_lossy(c).into_owned())
        }
        (tag::UTF8_STRING, _) => std::str::from_utf8(c).map(str::to_string).map_err(|_| bad("UTF8String is not valid UTF-8")),
        (tag::BMP_STRING, _) => {
            if c.len() % 2 != 0 {
                return Err(bad("BMPString has an odd number of octets"));
            }
            let units: Vec<u16> = c.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            if units.iter().any(|u| (0xd800..0xe000).contains(u)) {
                return Err(bad("BMPString holds a surrogate, which UCS-2 does not have"));
            }
            String::from_utf16(&units).map_err(|_| bad("BMPString is not valid UCS-2"))
        }
        (tag::UNIVERSAL_STRING, _) => {
            if c.len() % 4 != 0 {
                return Err(bad("UniversalString length is not a multiple of 4"));
            }
            c.chunks_exact(4)
                .map(|q| char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]])))
                .collect::<Option<String>>()
                .ok_or_else(|| bad("UniversalString holds a value that is not a Unicode scalar"))
        }
        (tag::TELETEX_STRING, _) => Err(bad("TeletexString is not supported (no exact Unicode mapping); send UTF8String")),
        _ => Err(bad(&format!("expected a DirectoryString (PrintableString, UTF8String, BMPString or UniversalString), found tag 0x{:02x}", t.tag))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Tlv<'_> {
        Tlv { tag, content, raw: content }
    }

    #[test]
    fn decodes_each_type() {
        assert_eq!(decode(tlv(tag::BMP_STRING, &[0, b'a', 0, b'.']), Kind::Directory, "x").unwrap(), "a.");
        assert_eq!(decode(tlv(tag::UNIVERSAL_STRING, &[0, 0, 0, b'z']), Kind::Directory, "x").unwrap(), "z");
        assert_eq!(decode(tlv(tag::UTF8_STRING, "é".as_bytes()), Kind::Directory, "x").unwrap(), "é");
        assert!(decode(tlv(tag::PRINTABLE_STRING, b"a@b"), Kind::Directory, "x").is_err());
        assert!(decode(tlv(tag::BMP_STRING, &[0xd8, 0]), Kind::Directory, "x").is_err());
        assert!(decode(tlv(tag::BMP_STRING, &[0]), Kind::Directory, "x").is_err());
        assert!(decode(tlv(tag::UNIVERSAL_STRING, &[0, 0x11, 0, 0]), Kind::Directory, "x").is_err());
        assert!(decode(tlv(tag::TELETEX_STRING, b"a"), Kind::Directory, "x").is_err());
        assert!(decode(tlv(tag::INTEGER, &[1]), Kind::Directory, "x").is_err());
        assert!(decode(tlv(tag::IA5_STRING, &[0x80]), Kind::Ia5, "x").is_err());
        assert!(decode(tlv(tag::UTF8_STRING, b"a"), Kind::Ia5, "x").is_err());
        assert!(decode(tlv(tag::UTF8_STRING, &[0xff]), Kind::Directory, "x").is_err());
    }
}

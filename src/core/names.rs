//! Distinguished names: validated attribute values in, DER `Name` out.

use super::der::{self, tag};
use super::oid;
use super::error::{CaError, CaResult};
use super::error::shown;
use super::strings::{self, Kind};

/// Subject attributes we build. Each knows its OID, string type and RFC 5280 bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Country,
    State,
    Locality,
    Organization,
    OrganizationalUnit,
    CommonName,
    SerialNumber,
    Email,
}

impl Attr {
    /// Attribute and the Janet option that sets it alone, in the order a subject is built.
    pub const ALL: [(Attr, &'static str); 8] = [
        (Attr::Country, "country"),
        (Attr::State, "state"),
        (Attr::Locality, "locality"),
        (Attr::Organization, "organization"),
        (Attr::OrganizationalUnit, "organizational-unit"),
        (Attr::CommonName, "common-name"),
        (Attr::SerialNumber, "serial-number"),
        (Attr::Email, "email"),
    ];

    pub fn oid(self) -> &'static [u8] {
        match self {
            Attr::CommonName => oid::AT_COMMON_NAME,
            Attr::SerialNumber => oid::AT_SERIAL_NUMBER,
            Attr::Country => oid::AT_COUNTRY,
            Attr::Locality => oid::AT_LOCALITY,
            Attr::State => oid::AT_STATE,
            Attr::Organization => oid::AT_ORGANIZATION,
            Attr::OrganizationalUnit => oid::AT_ORGANIZATIONAL_UNIT,
            Attr::Email => oid::AT_EMAIL,
        }
    }

    /// Short name used in `:subject` pairs and in display strings.
    pub fn short(self) -> &'static str {
        match self {
            Attr::CommonName => "CN",
            Attr::SerialNumber => "serialNumber",
            Attr::Country => "C",
            Attr::Locality => "L",
            Attr::State => "ST",
            Attr::Organization => "O",
            Attr::OrganizationalUnit => "OU",
            Attr::Email => "emailAddress",
        }
    }

    /// Parses a `:subject` attribute name ("CN", "commonName", "O", ...).
    pub fn from_short(name: &str) -> CaResult<Attr> {
        let lower = name.to_ascii_lowercase();
        let attr = match lower.as_str() {
            "cn" | "commonname" | "common-name" => Attr::CommonName,
            "c" | "countryname" | "country" => Attr::Country,
            "st" | "s" | "stateorprovincename" | "state" => Attr::State,
            "l" | "localityname" | "locality" => Attr::Locality,
            "o" | "organizationname" | "organization" => Attr::Organization,
            "ou" | "organizationalunitname" | "organizational-unit" => Attr::OrganizationalUnit,
            "serialnumber" | "serial-number" => Attr::SerialNumber,
            "emailaddress" | "email" => Attr::Email,
            _ => {
                return Err(CaError::param(format!(
                    ":subject attribute {} is not supported; use C, ST, L, O, OU, CN, serialNumber or emailAddress",
                    shown(name)
                )))
            }
        };
        Ok(attr)
    }

    fn from_oid(oid: &[u8]) -> Option<Attr> {
        Attr::ALL.iter().map(|(a, _)| *a).find(|a| a.oid() == oid)
    }

    /// The string type we encode this attribute's values with (RFC 5280 §4.1.2.4:
    /// UTF8String; PrintableString where the attribute's syntax requires it).
    fn string_tag(self) -> u8 {
        match self {
            Attr::Country | Attr::SerialNumber => tag::PRINTABLE_STRING,
            Attr::Email => tag::IA5_STRING,
            _ => tag::UTF8_STRING,
        }
    }

    /// The string types a requester may send for this attribute.
    fn string_kind(self) -> Kind {
        match self {
            Attr::Email => Kind::Ia5,
            _ => Kind::Directory,
        }
    }

    /// RFC 5280 Appendix A upper bounds (characters).
    fn max_len(self) -> usize {
        match self {
            Attr::Country => 2,
            Attr::State | Attr::Locality => 128,
            Attr::Organization | Attr::OrganizationalUnit | Attr::CommonName | Attr::SerialNumber => 64,
            Attr::Email => 255,
        }
    }
}

/// Validates one attribute value; `what` names the option (":country").
pub fn check_value(attr: Attr, value: &str, what: &str) -> CaResult<()> {
    if value.is_empty() {
        return Err(CaError::param(format!("{what} must not be empty")));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(CaError::param(format!("{what} must not contain control characters (NUL, newline, ...), got {}", shown(value))));
    }
    match attr {
        Attr::Country => {
            if value.len() != 2 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(CaError::param(format!("{what} must be a two-letter code, got {}", shown(value))));
            }
        }
        Attr::SerialNumber => {
            if !value.bytes().all(strings::is_printable) {
                return Err(CaError::param(format!(
                    "{what} may hold only letters, digits, spaces and '()+,-./:=? (PrintableString), got {}",
                    shown(value)
                )));
            }
        }
        Attr::Email => {
            if let Err(m) = super::name_forms::email::parse(value) {
                return Err(CaError::param(format!("{what} must be an ASCII address like user@example.com, got {}: {m}", shown(value))));
            }
        }
        _ => {}
    }
    let n = value.chars().count();
    if n > attr.max_len() {
        return Err(CaError::param(format!(
            "{what} is {n} characters long; RFC 5280 allows at most {}",
            attr.max_len()
        )));
    }
    Ok(())
}

/// An ordered list of validated (attribute, value) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub attrs: Vec<(Attr, String)>,
}

impl Subject {
    pub fn common_name(&self) -> Option<&str> {
        self.attrs.iter().find(|(a, _)| *a == Attr::CommonName).map(|(_, v)| v.as_str())
    }

    /// DER `Name`: one single-valued RDN per attribute, in order.
    pub fn to_der(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 16 * self.attrs.len());
        der::sequence(&mut out, |o| {
            for (attr, value) in &self.attrs {
                der::nested(o, tag::SET, |o| {
                    der::sequence(o, |o| {
                        der::oid(o, attr.oid());
                        der::tlv(o, attr.string_tag(), value.as_bytes());
                    })
                })
            }
        });
        out
    }
}

impl Subject {
    /// Decodes a DER `Name` a requester sent, strictly, into attributes we know:
    /// single-valued RDNs of C, ST, L, O, OU, CN, serialNumber and emailAddress,
    /// each value a string of an allowed type, decoded to UTF-8 and checked like
    /// the option that sets it. Anything else is refused, so [`Subject::to_der`]
    /// re-encodes exactly the names that were asked for.
    pub fn decode(name_der: &[u8], what: &str) -> CaResult<Subject> {
        let seq = der::parse_one(name_der, what)?.tagged(tag::SEQUENCE, what)?;
        let mut rdns = seq.reader();
        let mut attrs = Vec::new();
        while !rdns.is_empty() {
            let mut atvs = rdns.read_tag(tag::SET, what)?.reader();
            let mut atv = atvs.read_tag(tag::SEQUENCE, what)?.reader();
            if !atvs.is_empty() {
                return Err(CaError::parse(format!(
                    "{what}: a relative distinguished name holds several attributes (a multi-valued RDN), \
                     which this CA does not certify; put each attribute in its own RDN"
                )));
            }
            let oid = atv.read(what)?.oid(&format!("{what} attribute type"))?;
            let attr = Attr::from_oid(oid).ok_or_else(|| {
                CaError::param(format!(
                    "{what}: attribute {} is not one this CA certifies; use C, ST, L, O, OU, CN, serialNumber or emailAddress",
                    der::oid_to_string(oid)
                ))
            })?;
            let field = format!("{what} {}", attr.short());
            let value = strings::decode(atv.read(&field)?, attr.string_kind(), &field)?;
            atv.finish(&field)?;
            check_value(attr, &value, &field)?;
            attrs.push((attr, value));
        }
        Ok(Subject { attrs })
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

/// A DER `Name` in a form for comparison (RFC 5280 §7.1, simplified the
/// cautious way): per RDN, its attributes as (type, value) with string values
/// decoded, case-folded and their white space collapsed. Names equal here may
/// be taken for each other by a validator.
pub fn comparable(name_der: &[u8]) -> Vec<Vec<(Vec<u8>, String)>> {
    let mut out = Vec::new();
    let Ok(seq) = der::parse_one(name_der, "name") else { return out };
    let mut rdns = seq.reader();
    while let Ok(rdn) = rdns.read("rdn") {
        let mut set = Vec::new();
        let mut atvs = rdn.reader();
        while let Ok(atv) = atvs.read("atv") {
            let mut r = atv.reader();
            let (Ok(oid), Ok(val)) = (r.read("oid"), r.read("value")) else { continue };
            let text = strings::decode(val, Kind::Directory, "value")
                .or_else(|_| strings::decode(val, Kind::Ia5, "value"))
                .unwrap_or_else(|_| String::from_utf8_lossy(val.raw).into_owned());
            let folded = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            set.push((oid.content.to_vec(), folded));
        }
        set.sort();
        out.push(set);
    }
    out
}

/// "CN=Root CA, O=Acme" for display, read from a DER `Name` (best effort).
pub fn display_name(name_der: &[u8]) -> String {
    let mut parts = Vec::new();
    let Ok(seq) = der::parse_one(name_der, "name") else { return String::from("?") };
    let mut rdns = seq.reader();
    while let Ok(rdn) = rdns.read("rdn") {
        let mut atvs = rdn.reader();
        while let Ok(atv) = atvs.read("atv") {
            let mut r = atv.reader();
            let (Ok(oid), Ok(val)) = (r.read("oid"), r.read("value")) else { continue };
            let key = Attr::ALL
                .iter()
                .find(|(a, _)| a.oid() == oid.content)
                .map(|(a, _)| a.short().to_string())
                .unwrap_or_else(|| der::oid_to_string(oid.content));
            parts.push(format!("{key}={}", String::from_utf8_lossy(val.content)));
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_displays() {
        let s = Subject {
            attrs: vec![(Attr::Country, "DE".into()), (Attr::Organization, "Acme".into()), (Attr::CommonName, "Grüße".into())],
        };
        let d = s.to_der();
        assert_eq!(display_name(&d), "C=DE, O=Acme, CN=Grüße");
        assert_eq!(Subject::decode(&d, "s").unwrap(), s);
        let n = openssl::x509::X509Name::from_der(&d).unwrap();
        assert_eq!(n.entries().count(), 3);
    }

    #[test]
    fn validates() {
        assert!(check_value(Attr::Country, "USA", ":country").unwrap_err().message.contains("two-letter"));
        assert!(check_value(Attr::CommonName, "a\nb", ":common-name").is_err());
        assert!(check_value(Attr::CommonName, "", ":common-name").is_err());
        assert!(check_value(Attr::CommonName, &"x".repeat(65), ":common-name").is_err());
        assert!(check_value(Attr::CommonName, &"é".repeat(64), ":common-name").is_ok());
    }
}

//! Distinguished names: validated attribute values in, DER `Name` out.

use super::der::{self, tag};
use super::error::{CaError, CaResult};
use super::keys::shown;

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

    fn oid(self) -> &'static [u8] {
        match self {
            Attr::CommonName => &[0x55, 0x04, 0x03],
            Attr::SerialNumber => &[0x55, 0x04, 0x05],
            Attr::Country => &[0x55, 0x04, 0x06],
            Attr::Locality => &[0x55, 0x04, 0x07],
            Attr::State => &[0x55, 0x04, 0x08],
            Attr::Organization => &[0x55, 0x04, 0x0a],
            Attr::OrganizationalUnit => &[0x55, 0x04, 0x0b],
            Attr::Email => &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
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
            // PrintableString alphabet
            if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b)) {
                return Err(CaError::param(format!(
                    "{what} may hold only letters, digits, spaces and '()+,-./:=? (PrintableString), got {}",
                    shown(value)
                )));
            }
        }
        Attr::Email => {
            if !value.is_ascii() || value.contains(' ') || value.split('@').count() != 2 || value.starts_with('@') || value.ends_with('@') {
                return Err(CaError::param(format!("{what} must be an ASCII address like user@example.com, got {}", shown(value))));
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
                        let t = match attr {
                            Attr::Country | Attr::SerialNumber => tag::PRINTABLE_STRING,
                            Attr::Email => tag::IA5_STRING,
                            _ => tag::UTF8_STRING,
                        };
                        der::tlv(o, t, value.as_bytes());
                    })
                })
            }
        });
        out
    }
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

/// Checks a DER `Name` strictly: RDNs are non-empty SETs of
/// `SEQUENCE { OID, value }`. A CSR's subject is copied into certificates
/// byte for byte, so it must be exactly what validators will read.
pub fn check_name_der(name_der: &[u8], what: &str) -> CaResult<()> {
    let seq = der::parse_one(name_der, what)?.tagged(tag::SEQUENCE, what)?;
    let mut rdns = seq.reader();
    while !rdns.is_empty() {
        let rdn = rdns.read_tag(tag::SET, what)?;
        let mut atvs = rdn.reader();
        if atvs.is_empty() {
            return Err(CaError::parse(format!("{what}: empty relative distinguished name")));
        }
        while !atvs.is_empty() {
            let mut atv = atvs.read_tag(tag::SEQUENCE, what)?.reader();
            atv.read_tag(tag::OID, what)?;
            atv.read(what)?;
            atv.finish(what)?;
        }
    }
    Ok(())
}

/// The values of attribute `attr` in a DER `Name` (for name-constraint checks).
pub fn values_of(name_der: &[u8], attr: Attr) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(seq) = der::parse_one(name_der, "name") else { return out };
    let mut rdns = seq.reader();
    while let Ok(rdn) = rdns.read("rdn") {
        let mut atvs = rdn.reader();
        while let Ok(atv) = atvs.read("atv") {
            let mut r = atv.reader();
            if let (Ok(oid), Ok(val)) = (r.read("oid"), r.read("value")) {
                if oid.content == attr.oid() {
                    out.push(String::from_utf8_lossy(val.content).into_owned());
                }
            }
        }
    }
    out
}

/// The CN values of a DER `Name`.
pub fn common_names(name_der: &[u8]) -> Vec<String> {
    values_of(name_der, Attr::CommonName)
}

/// True when a DER `Name` has no RDNs.
pub fn is_empty_name(name_der: &[u8]) -> bool {
    matches!(der::parse_one(name_der, "name"), Ok(t) if t.content.is_empty())
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
        assert_eq!(common_names(&d), vec!["Grüße".to_string()]);
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

//! Key usage and extended key usage names, as OpenSSL spells them
//! ("digitalSignature", "serverAuth") or kebab-cased (:digital-signature).

use once_cell::sync::Lazy;

use super::der;
use super::error::{CaError, CaResult};
use super::error::shown;

/// Key usage bits (RFC 5280 §4.2.1.3): bit i = named bit i.
pub mod ku {
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub const NON_REPUDIATION: u16 = 1 << 1;
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    pub const DATA_ENCIPHERMENT: u16 = 1 << 3;
    pub const KEY_AGREEMENT: u16 = 1 << 4;
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    pub const CRL_SIGN: u16 = 1 << 6;
    pub const ENCIPHER_ONLY: u16 = 1 << 7;
    pub const DECIPHER_ONLY: u16 = 1 << 8;
}

const KEY_USAGE_NAMES: &[(&str, u16)] = &[
    ("digitalSignature", ku::DIGITAL_SIGNATURE),
    ("nonRepudiation", ku::NON_REPUDIATION),
    ("contentCommitment", ku::NON_REPUDIATION),
    ("keyEncipherment", ku::KEY_ENCIPHERMENT),
    ("dataEncipherment", ku::DATA_ENCIPHERMENT),
    ("keyAgreement", ku::KEY_AGREEMENT),
    ("keyCertSign", ku::KEY_CERT_SIGN),
    ("cRLSign", ku::CRL_SIGN),
    ("encipherOnly", ku::ENCIPHER_ONLY),
    ("decipherOnly", ku::DECIPHER_ONLY),
];

/// OpenSSL's short names for extended key usages (`openssl x509 -addext`).
const EKU_NAMES: &[(&str, &str)] = &[
    ("serverAuth", "1.3.6.1.5.5.7.3.1"),
    ("clientAuth", "1.3.6.1.5.5.7.3.2"),
    ("codeSigning", "1.3.6.1.5.5.7.3.3"),
    ("emailProtection", "1.3.6.1.5.5.7.3.4"),
    ("ipsecEndSystem", "1.3.6.1.5.5.7.3.5"),
    ("ipsecTunnel", "1.3.6.1.5.5.7.3.6"),
    ("ipsecUser", "1.3.6.1.5.5.7.3.7"),
    ("timeStamping", "1.3.6.1.5.5.7.3.8"),
    ("OCSPSigning", "1.3.6.1.5.5.7.3.9"),
    ("DVCS", "1.3.6.1.5.5.7.3.10"),
    ("ipsecIKE", "1.3.6.1.5.5.7.3.17"),
    ("secureShellClient", "1.3.6.1.5.5.7.3.21"),
    ("secureShellServer", "1.3.6.1.5.5.7.3.22"),
    ("msCodeInd", "1.3.6.1.4.1.311.2.1.21"),
    ("msCodeCom", "1.3.6.1.4.1.311.2.1.22"),
    ("msCTLSign", "1.3.6.1.4.1.311.10.3.1"),
    ("msSGC", "1.3.6.1.4.1.311.10.3.3"),
    ("msEFS", "1.3.6.1.4.1.311.10.3.4"),
    ("msSmartcardLogin", "1.3.6.1.4.1.311.20.2.2"),
    ("nsSGC", "2.16.840.1.113730.4.1"),
    ("anyExtendedKeyUsage", "2.5.29.37.0"),
];

/// The DER of each of [`EKU_NAMES`]' OIDs, encoded once.
static EKU_OIDS: Lazy<Vec<Vec<u8>>> =
    Lazy::new(|| EKU_NAMES.iter().map(|(_, dotted)| der::encode_oid(dotted).unwrap_or_default()).collect());

/// Whether two usage names are the same ignoring case, '-' and '_':
/// "serverAuth", "server-auth" and "SERVER_AUTH" are one name. Compared
/// without building either (a name is looked up on every issuance).
fn same_name(a: &str, b: &str) -> bool {
    let folded = |s: &str| s.chars().filter(|c| *c != '-' && *c != '_').flat_map(char::to_lowercase).collect::<Vec<_>>();
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    if plain(a) && plain(b) {
        return a.eq_ignore_ascii_case(b);
    }
    folded(a) == folded(b)
}

/// A parsed usage list: the items plus whether "critical" was among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsage {
    pub bits: u16,
}

/// The names of the usages set in `bits`, comma-separated, as OpenSSL spells them.
pub fn key_usage_names(bits: u16) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (name, b) in KEY_USAGE_NAMES {
        if bits & b != 0 && !names.iter().any(|n| KEY_USAGE_NAMES.iter().any(|(m, c)| m == n && c == b)) {
            names.push(name);
        }
    }
    names.join(", ")
}

pub fn parse_key_usage(items: &[String]) -> CaResult<KeyUsage> {
    let mut bits = 0;
    for item in items {
        let item = item.trim();
        if same_name(item, "critical") {
            continue; // key usage is always critical
        }
        let Some((_, b)) = KEY_USAGE_NAMES.iter().find(|(name, _)| same_name(name, item)) else {
            let valid: Vec<&str> = KEY_USAGE_NAMES.iter().map(|(n, _)| *n).collect();
            return Err(CaError::param(format!(
                ":key-usage {} is not a key usage; valid: {}",
                shown(item),
                valid.join(", ")
            )));
        };
        bits |= b;
    }
    if bits == 0 {
        return Err(CaError::param(":key-usage must name at least one usage"));
    }
    Ok(KeyUsage { bits })
}

/// A parsed extended key usage list (encoded OIDs) and its criticality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtKeyUsage {
    pub oids: Vec<Vec<u8>>,
    pub critical: bool,
}


pub fn parse_ext_key_usage(items: &[String]) -> CaResult<ExtKeyUsage> {
    let mut oids: Vec<Vec<u8>> = Vec::new();
    let mut critical = false;
    for item in items {
        let item = item.trim();
        if same_name(item, "critical") {
            critical = true;
            continue;
        }
        let oid = match EKU_NAMES.iter().position(|(name, _)| same_name(name, item)) {
            Some(i) => EKU_OIDS[i].clone(),
            None if item.starts_with(|c: char| c.is_ascii_digit()) => {
                der::encode_oid(item).map_err(|e| CaError::param(format!(":extended-key-usage {}", e.message)))?
            }
            None => {
                let valid: Vec<&str> = EKU_NAMES.iter().map(|(n, _)| *n).collect();
                return Err(CaError::param(format!(
                    ":extended-key-usage {} is not a known usage or dotted OID; valid: {}",
                    shown(item),
                    valid.join(", ")
                )));
            }
        };
        if !oids.contains(&oid) {
            oids.push(oid);
        }
    }
    if oids.is_empty() {
        return Err(CaError::param(":extended-key-usage must name at least one usage"));
    }
    Ok(ExtKeyUsage { oids, critical })
}

impl ExtKeyUsage {
    /// Whether the list holds the usage `oid` (encoded).
    pub fn contains(&self, oid: &[u8]) -> bool {
        self.oids.iter().any(|o| o == oid)
    }

    pub fn to_der(&self) -> Vec<u8> {
        let mut out = Vec::new();
        der::sequence(&mut out, |o| self.oids.iter().for_each(|oid| der::oid(o, oid)));
        out
    }
}

/// Reads an ExtKeyUsageSyntax a requester sent: a non-empty SEQUENCE of OIDs.
pub fn parse_ext_key_usage_der(value: &[u8], critical: bool) -> CaResult<ExtKeyUsage> {
    let seq = der::parse_one(value, "requested extendedKeyUsage")?.tagged(der::tag::SEQUENCE, "requested extendedKeyUsage")?;
    let mut r = seq.reader();
    let mut oids: Vec<Vec<u8>> = Vec::new();
    while !r.is_empty() {
        let oid = r.read("requested extendedKeyUsage")?.oid("requested extendedKeyUsage")?.to_vec();
        if !oids.contains(&oid) {
            oids.push(oid);
        }
    }
    if oids.is_empty() {
        return Err(CaError::parse("the CSR requests an empty extendedKeyUsage"));
    }
    Ok(ExtKeyUsage { oids, critical })
}

/// Whether DER ExtKeyUsageSyntax contains `oid` (encoded).
pub fn eku_der_contains(value: &[u8], oid: &[u8]) -> bool {
    let Ok(seq) = der::parse_one(value, "extKeyUsage") else { return false };
    let mut r = seq.reader();
    while !r.is_empty() {
        match r.read("oid") {
            Ok(t) if t.tag == der::tag::OID && t.content == oid => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn every_known_usage_has_its_oid() {
        for (i, (_, dotted)) in super::EKU_NAMES.iter().enumerate() {
            assert_eq!(super::EKU_OIDS[i], crate::core::der::encode_oid(dotted).unwrap());
            assert_eq!(crate::core::der::oid_to_string(&super::EKU_OIDS[i]), *dotted);
        }
    }

    #[test]
    fn names_match_ignoring_case_dashes_and_underscores() {
        assert!(same_name("serverAuth", "SERVERAUTH"));
        assert!(same_name("serverAuth", "server-auth"));
        assert!(same_name("serverAuth", "Server_Auth"));
        assert!(!same_name("serverAuth", "serverAuth2"));
        assert!(!same_name("serverAuth", "server Auth"));
        assert!(!same_name("critical", ""));
    }

    use super::*;

    #[test]
    fn names() {
        let k = parse_key_usage(&["digitalSignature".into(), "key-encipherment".into()]).unwrap();
        assert_eq!(k.bits, ku::DIGITAL_SIGNATURE | ku::KEY_ENCIPHERMENT);
        assert!(parse_key_usage(&["fly".into()]).is_err());
        let e = parse_ext_key_usage(&["serverAuth".into(), "client-auth".into(), "1.2.3.4".into()]).unwrap();
        assert_eq!(e.oids.len(), 3);
        assert!(eku_der_contains(&e.to_der(), &der::encode_oid("1.3.6.1.5.5.7.3.2").unwrap()));
    }
}

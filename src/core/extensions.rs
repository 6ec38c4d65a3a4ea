//! X.509 v3 extensions: DER encoders for each extension we write, and an
//! ordered set that keeps one extension per OID (a later `set` replaces).

use super::oid;
use super::cert_info::Extension;
use super::der::{self, tag};
use super::general_names::{general_names_der, GeneralName};

#[derive(Debug, Clone, Default)]
pub struct ExtensionSet {
    list: Vec<Extension>,
}

impl ExtensionSet {
    /// Adds or replaces the extension with this OID: no OID ever appears twice.
    pub fn set(&mut self, oid: &[u8], critical: bool, value: Vec<u8>) {
        let ext = Extension { oid: oid.to_vec(), critical, value };
        match self.list.iter_mut().find(|e| e.oid == oid) {
            Some(slot) => *slot = ext,
            None => self.list.push(ext),
        }
    }

    pub fn get(&self, oid: &[u8]) -> Option<&Extension> {
        self.list.iter().find(|e| e.oid == oid)
    }

    pub fn remove(&mut self, oid: &[u8]) {
        self.list.retain(|e| e.oid != oid);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `Extensions ::= SEQUENCE OF Extension`
    pub fn write(&self, out: &mut Vec<u8>) {
        der::sequence(out, |o| {
            for e in &self.list {
                der::sequence(o, |o| {
                    der::oid(o, &e.oid);
                    if e.critical {
                        der::boolean(o, true);
                    }
                    der::octet_string(o, &e.value);
                })
            }
        })
    }
}

pub fn basic_constraints(ca: bool, path_len: Option<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    der::sequence(&mut out, |o| {
        if ca {
            der::boolean(o, true);
            if let Some(n) = path_len {
                der::small_uint(o, u64::from(n));
            }
        }
    });
    out
}

pub fn key_usage(bits: u16) -> Vec<u8> {
    let mut out = Vec::new();
    der::named_bits(&mut out, bits);
    out
}

pub fn subject_key_id(key_id: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    der::octet_string(&mut out, key_id);
    out
}

pub fn authority_key_id(key_id: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    der::sequence(&mut out, |o| der::tlv(o, tag::implicit(0), key_id));
    out
}

pub fn subject_alt_names(names: &[GeneralName]) -> Vec<u8> {
    general_names_der(names)
}

/// CRL distribution points: one DistributionPoint per URL, each a fullName URI.
pub fn crl_distribution_points(urls: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    der::sequence(&mut out, |o| {
        for url in urls {
            der::sequence(o, |o| {
                der::nested(o, tag::explicit(0), |o| {
                    der::nested(o, tag::explicit(0), |o| der::tlv(o, tag::implicit(6), url.as_bytes()))
                })
            })
        }
    });
    out
}


/// Authority information access: OCSP responders first, then CA issuer URLs.
pub fn authority_info_access(ocsp: &[String], ca_issuers: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    der::sequence(&mut out, |o| {
        for (method, urls) in [(oid::AD_OCSP, ocsp), (oid::AD_CA_ISSUERS, ca_issuers)] {
            for url in urls {
                der::sequence(o, |o| {
                    der::oid(o, method);
                    der::tlv(o, tag::implicit(6), url.as_bytes());
                })
            }
        }
    });
    out
}

/// TLS feature extension (RFC 7633) with status_request (5): OCSP must-staple.
pub fn tls_feature_must_staple() -> Vec<u8> {
    vec![0x30, 0x03, 0x02, 0x01, 0x05]
}

/// certificatePolicies with bare policy OIDs (already encoded).
pub fn certificate_policies(oids: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    der::sequence(&mut out, |o| {
        for oid in oids {
            der::sequence(o, |o| der::oid(o, oid))
        }
    });
    out
}

/// Writes the standard CA / end-entity identity extensions shared by every
/// certificate we issue: SKI of the subject key, AKI of the issuer key.
pub fn set_key_identifiers(set: &mut ExtensionSet, subject_key_id: &[u8], issuer_key_id: &[u8]) {
    set.set(oid::SUBJECT_KEY_ID, false, self::subject_key_id(subject_key_id));
    set.set(oid::AUTHORITY_KEY_ID, false, authority_key_id(issuer_key_id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_one_per_oid() {
        let mut s = ExtensionSet::default();
        s.set(oid::KEY_USAGE, true, key_usage(1));
        s.set(oid::KEY_USAGE, true, key_usage(2));
        let mut out = Vec::new();
        s.write(&mut out);
        let exts = super::super::cert_info::parse_extensions(der::parse_one(&out, "x").unwrap()).unwrap();
        assert_eq!(exts.len(), 1);
        assert_eq!(basic_constraints(false, None), vec![0x30, 0]);
        assert_eq!(basic_constraints(true, Some(0)), vec![0x30, 6, 1, 1, 0xff, 2, 1, 0]);
    }
}

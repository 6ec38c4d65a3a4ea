//! Reading certificates and CSRs: the few fields the CA needs, taken from the
//! DER itself so that issuer names are copied byte for byte.

use super::oid;
use super::der::{self, tag, Reader};
use super::error::{CaError, CaResult};
use super::names::Subject;
use super::serial::Serial;
use super::time;


#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub oid: Vec<u8>,
    pub critical: bool,
    pub value: Vec<u8>,
}

/// Parses `Extensions ::= SEQUENCE OF Extension`.
pub fn parse_extensions(seq: der::Tlv<'_>) -> CaResult<Vec<Extension>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut r = seq.tagged(tag::SEQUENCE, "extensions")?.reader();
    while !r.is_empty() {
        let mut e = r.read_tag(tag::SEQUENCE, "extension")?.reader();
        let oid = e.read("extension id")?.oid("extension id")?.to_vec();
        let critical = e.default_false("extension criticality")?;
        let value = e.read_tag(tag::OCTET_STRING, "extension value")?.content.to_vec();
        e.finish("extension")?;
        if !seen.insert(oid.clone()) {
            return Err(CaError::parse(format!("extension {} appears twice", der::oid_to_string(&oid))));
        }
        out.push(Extension { oid, critical, value });
    }
    Ok(out)
}

/// The parts of a certificate the CA uses.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub serial: Serial,
    pub issuer_der: Vec<u8>,
    pub subject_der: Vec<u8>,
    pub spki_der: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub extensions: Vec<Extension>,
}

impl CertInfo {
    pub fn parse(cert_der: &[u8]) -> CaResult<CertInfo> {
        let cert = der::parse_one(cert_der, "certificate")?.tagged(tag::SEQUENCE, "certificate")?;
        let mut c = cert.reader();
        let tbs = c.read_tag(tag::SEQUENCE, "tbsCertificate")?;
        let mut t = tbs.reader();
        t.read_optional(tag::explicit(0), "version")?;
        let serial_bytes = t.read("serial number")?.uint_bytes("serial number")?;
        let serial = Serial::from_be_bytes(serial_bytes)
            .map_err(|e| CaError::parse(format!("certificate serial: {}", e.message)))?;
        t.read_tag(tag::SEQUENCE, "signature algorithm")?;
        let issuer = t.read_tag(tag::SEQUENCE, "issuer")?;
        let mut validity = t.read_tag(tag::SEQUENCE, "validity")?.reader();
        let not_before = time::parse_der_time(validity.read("notBefore")?)?;
        let not_after = time::parse_der_time(validity.read("notAfter")?)?;
        let subject = t.read_tag(tag::SEQUENCE, "subject")?;
        let spki = t.read_tag(tag::SEQUENCE, "subjectPublicKeyInfo")?;
        let mut extensions = Vec::new();
        while let Some(tlv) = (!t.is_empty()).then(|| t.read("certificate field")).transpose()? {
            if tlv.tag == tag::explicit(3) {
                extensions = parse_extensions(der::parse_one(tlv.content, "extensions")?)?;
            }
        }
        Ok(CertInfo {
            serial,
            issuer_der: issuer.raw.to_vec(),
            subject_der: subject.raw.to_vec(),
            spki_der: spki.raw.to_vec(),
            not_before,
            not_after,
            extensions,
        })
    }

    pub fn extension(&self, oid: &[u8]) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    /// Only the extensions of a certificate that is not the CA's to judge
    /// otherwise (a tls-alpn-01 challenge certificate: any serial, any dates).
    pub fn extensions_of(cert_der: &[u8]) -> CaResult<Vec<Extension>> {
        let cert = der::parse_one(cert_der, "certificate")?.tagged(tag::SEQUENCE, "certificate")?;
        let tbs = cert.reader().read_tag(tag::SEQUENCE, "tbsCertificate")?;
        let mut t = tbs.reader();
        while !t.is_empty() {
            let tlv = t.read("certificate field")?;
            if tlv.tag == tag::explicit(3) {
                return parse_extensions(der::parse_one(tlv.content, "extensions")?);
            }
        }
        Ok(Vec::new())
    }

    /// basicConstraints: (cA, pathLen).
    pub fn basic_constraints(&self) -> CaResult<Option<(bool, Option<u64>)>> {
        let Some(ext) = self.extension(oid::BASIC_CONSTRAINTS) else { return Ok(None) };
        let mut r = der::parse_one(&ext.value, "basicConstraints")?.tagged(tag::SEQUENCE, "basicConstraints")?.reader();
        let ca = r.default_false("basicConstraints cA")?;
        let path = match r.read_optional(tag::INTEGER, "pathLenConstraint")? {
            Some(i) => {
                let b = i.uint_bytes("pathLenConstraint")?;
                if b.len() > 8 {
                    return Err(CaError::parse("pathLenConstraint too large"));
                }
                Some(b.iter().fold(0u64, |a, x| a << 8 | *x as u64))
            }
            None => None,
        };
        Ok(Some((ca, path)))
    }

    /// keyUsage as a bit set (bit i = named bit i), when present.
    pub fn key_usage_bits(&self) -> CaResult<Option<u16>> {
        let Some(ext) = self.extension(oid::KEY_USAGE) else { return Ok(None) };
        let bits = der::parse_one(&ext.value, "keyUsage")?.tagged(tag::BIT_STRING, "keyUsage")?;
        let Some((_, bytes)) = bits.content.split_first() else { return Err(CaError::parse("keyUsage is empty")) };
        let mut v = 0u16;
        for (i, byte) in bytes.iter().take(2).enumerate() {
            for j in 0..8 {
                if byte & (0x80 >> j) != 0 {
                    v |= 1 << (i * 8 + j);
                }
            }
        }
        Ok(Some(v))
    }

    pub fn subject_key_id(&self) -> CaResult<Option<Vec<u8>>> {
        let Some(ext) = self.extension(oid::SUBJECT_KEY_ID) else { return Ok(None) };
        let o = der::parse_one(&ext.value, "subjectKeyIdentifier")?.tagged(tag::OCTET_STRING, "subjectKeyIdentifier")?;
        Ok(Some(o.content.to_vec()))
    }
}

/// The parts of a PKCS#10 request the CA uses, decoded.
#[derive(Debug, Clone)]
pub struct CsrInfo {
    /// The subject, decoded strictly (see [`Subject::decode`]); the CA
    /// re-encodes it, never copies the requester's bytes.
    pub subject: Subject,
    pub spki_der: Vec<u8>,
    /// Extensions the requester asked for (extensionRequest attribute).
    pub requested: Vec<Extension>,
}

impl CsrInfo {
    pub fn parse(csr_der: &[u8]) -> CaResult<CsrInfo> {
        let csr = der::parse_one(csr_der, "CSR")?.tagged(tag::SEQUENCE, "CSR")?;
        let mut c = csr.reader();
        let info = c.read_tag(tag::SEQUENCE, "certificationRequestInfo")?;
        let mut i = info.reader();
        // RFC 2986 §4.1: version is v1 (0); a request of another version is not one we know.
        if i.read("CSR version")?.uint_bytes("CSR version")? != [0] {
            return Err(CaError::parse("CSR version must be 0 (PKCS#10 v1)"));
        }
        let subject = Subject::decode(i.read_tag(tag::SEQUENCE, "CSR subject")?.raw, "CSR subject")?;
        let spki = i.read_tag(tag::SEQUENCE, "CSR public key")?;
        let mut requested = None;
        if let Some(attrs) = i.read_optional(tag::explicit(0), "CSR attributes")? {
            der::check_set_order(attrs.content, "CSR attributes")?;
            let mut a = Reader::new(attrs.content);
            while !a.is_empty() {
                let mut attr = a.read_tag(tag::SEQUENCE, "CSR attribute")?.reader();
                let oid = attr.read("CSR attribute type")?.oid("CSR attribute type")?;
                let values = attr.read_tag(tag::SET, "CSR attribute values")?;
                attr.finish("CSR attribute")?;
                der::check_set_order(values.content, "CSR attribute values")?;
                if oid == oid::EXTENSION_REQUEST {
                    let mut v = values.reader();
                    let exts = parse_extensions(v.read("extensionRequest")?)?;
                    v.finish("extensionRequest (one value)")?;
                    if requested.replace(exts).is_some() {
                        return Err(CaError::parse("the CSR has two extensionRequest attributes"));
                    }
                }
            }
        }
        i.finish("certificationRequestInfo")?;
        Ok(CsrInfo { subject, spki_der: spki.raw.to_vec(), requested: requested.unwrap_or_default() })
    }
}

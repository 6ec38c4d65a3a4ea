//! The oracle: every certificate the CA signs during fuzzing is judged, by
//! OpenSSL (it must load, re-encode to the same bytes, verify with the CA's
//! key and, where the chain is known, pass `X509_verify_cert` with
//! X509_STRICT, which also enforces name constraints), by an independent
//! strict DER checker, and by our own decoder (CertInfo, every extension's
//! parser and `Subject::decode` must read it, and re-encode what they read
//! to the same bytes). It must also carry no name, usage or CA power the
//! request and options did not ask for. What the CA accepted of the request
//! is judged too: a version other than v1, a subject or copied extension
//! that is not strict DER, a subject that is not the request's re-encoded.

use openssl::pkey::{PKey, Public};
use openssl::stack::Stack;
use openssl::x509::store::X509Store;
use openssl::x509::{X509StoreContext, X509};

use jsec_ca::core::options::SignOptions;
use jsec_ca::core::oid as oids;
use jsec_ca::core::cert_info::CertInfo;
use jsec_ca::core::extensions as ext;
use jsec_ca::core::general_names::{self, GeneralName};
use jsec_ca::core::names::Subject;
use jsec_ca::core::usage::{self, ku, ExtKeyUsage};

use crate::strict_der::{self, Node};

/// A defect: `kind` groups repeats of the same defect, `detail` is this one.
#[derive(Debug)]
pub struct Finding {
    pub kind: String,
    pub detail: String,
}

fn finding(kind: &str, detail: impl Into<String>) -> Finding {
    Finding { kind: kind.to_string(), detail: detail.into() }
}

/// The CA that signed, as a relying party knows it.
pub struct Issuer {
    pub key: PKey<Public>,
    pub subject_der: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    /// For `X509_verify_cert`: the trust store (the root) and the chain up to it.
    pub verify: Option<(X509Store, Stack<X509>)>,
}

impl Issuer {
    pub fn new(cert_der: &[u8], verify: Option<(X509Store, Stack<X509>)>) -> Result<Issuer, String> {
        let x = X509::from_der(cert_der).map_err(|e| e.to_string())?;
        let info = CertInfo::parse(cert_der).map_err(|e| e.to_string())?;
        Ok(Issuer {
            key: x.public_key().map_err(|e| e.to_string())?,
            subject_der: info.subject_der,
            not_before: info.not_before,
            not_after: info.not_after,
            verify,
        })
    }
}

/// What the caller asked for.
pub struct Asked<'a> {
    /// The request (DER) whose subject and key were certified, if any.
    pub request: Option<&'a [u8]>,
    /// The subject (attribute OID, text) the certificate must carry.
    pub subject: Vec<(Vec<u8>, String)>,
    /// The options (for `ca/issue`, the equivalent `:sign-csr` options).
    pub opts: &'a SignOptions,
}

const OID_EMAIL: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
const OID_COUNTRY: &[u8] = &[0x55, 0x04, 0x06];
const OID_SERIAL_NUMBER: &[u8] = &[0x55, 0x04, 0x05];
const OID_EXTENSION_REQUEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e];
const EKU_OCSP_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09];
const EKU_ANY: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// The attributes of a DER Name, decoded to text; Err names what is not a
/// single-valued RDN holding a known string type.
pub fn name_strings(name_der: &[u8]) -> Result<Vec<(Vec<u8>, u8, String)>, String> {
    let name = strict_der::one(name_der).filter(|n| n.tag == 0x30).ok_or("not one SEQUENCE")?;
    let mut out = Vec::new();
    for rdn in strict_der::children(name.content).ok_or("bad RDN list")? {
        let atvs = strict_der::children(rdn.content).filter(|_| rdn.tag == 0x31).ok_or("an RDN is not a SET")?;
        if atvs.len() != 1 {
            return Err(format!("an RDN holds {} attributes", atvs.len()));
        }
        let fields = strict_der::children(atvs[0].content).ok_or("bad attribute")?;
        let [oid, value] = fields.as_slice() else { return Err("an attribute is not (type, value)".into()) };
        if oid.tag != 0x06 {
            return Err("an attribute type is not an OID".into());
        }
        out.push((oid.content.to_vec(), value.tag, decode_string(value)?));
    }
    Ok(out)
}

fn decode_string(v: &Node<'_>) -> Result<String, String> {
    let c = v.content;
    let text = match v.tag {
        0x0c => std::str::from_utf8(c).map(str::to_string).ok(),
        0x13 | 0x16 | 0x12 | 0x1a => c.is_ascii().then(|| String::from_utf8_lossy(c).into_owned()),
        0x1e if c.len().is_multiple_of(2) => {
            String::from_utf16(&c.chunks(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect::<Vec<_>>()).ok()
        }
        0x1c if c.len().is_multiple_of(4) => {
            c.chunks(4).map(|q| char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]]))).collect()
        }
        t => return Err(format!("an attribute value has tag {t:#04x}, not a string type the CA reads")),
    };
    text.ok_or_else(|| format!("an attribute value (tag {:#04x}) is not valid for its string type", v.tag))
}

/// The subject attributes the CA certifies: C, ST, L, O, OU, CN, serialNumber, emailAddress.
const KNOWN_ATTRIBUTES: &[&[u8]] = &[
    OID_COUNTRY,
    &[0x55, 0x04, 0x08],
    &[0x55, 0x04, 0x07],
    &[0x55, 0x04, 0x0a],
    &[0x55, 0x04, 0x0b],
    &[0x55, 0x04, 0x03],
    OID_SERIAL_NUMBER,
    OID_EMAIL,
];

/// The string type RFC 5280 and this CA's encoder give each attribute.
fn expected_string_tag(oid: &[u8]) -> u8 {
    match oid {
        OID_COUNTRY | OID_SERIAL_NUMBER => 0x13,
        OID_EMAIL => 0x16,
        _ => 0x0c,
    }
}

/// The fields of a CSR the oracle looks at: (version, subject, spki, requested extensions by OID).
struct RequestParts<'a> {
    version: &'a [u8],
    subject: &'a [u8],
    spki: &'a [u8],
    /// (oid, whole Extension TLV, extnValue)
    extensions: Vec<(&'a [u8], &'a [u8], &'a [u8])>,
}

fn request_parts(csr: &[u8]) -> Option<RequestParts<'_>> {
    let outer = strict_der::one(csr)?;
    let cri = *strict_der::children(outer.content)?.first()?;
    let f = strict_der::children(cri.content)?;
    let mut extensions = Vec::new();
    if let Some(attrs) = f.get(3).filter(|a| a.tag == 0xa0) {
        for attr in strict_der::children(attrs.content)? {
            let parts = strict_der::children(attr.content)?;
            if parts.first()?.content != OID_EXTENSION_REQUEST {
                continue;
            }
            let exts = strict_der::one(parts.get(1)?.content)?;
            for e in strict_der::children(exts.content)? {
                let p = strict_der::children(e.content)?;
                extensions.push((p.first()?.content, e.raw, p.last()?.content));
            }
        }
    }
    Some(RequestParts { version: f.first()?.content, subject: f.get(1)?.raw, spki: f.get(2)?.raw, extensions })
}

/// The expected subject of a signed request: its own, decoded.
pub fn request_subject(csr: &[u8]) -> Result<Vec<(Vec<u8>, String)>, String> {
    let p = request_parts(csr).ok_or("the oracle cannot split the request")?;
    Ok(name_strings(p.subject)?.into_iter().map(|(o, _, s)| (o, s)).collect())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle)
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    contains(&hay.to_ascii_lowercase(), &needle.to_ascii_lowercase())
}

fn der_of(names: &[GeneralName]) -> Vec<Vec<u8>> {
    names
        .iter()
        .map(|n| {
            let mut v = Vec::new();
            n.write(&mut v);
            v
        })
        .collect()
}

/// Judges the PEM certificate the CA returned.
pub fn check(cert_pem: &str, issuer: &Issuer, asked: &Asked<'_>) -> Result<(), Finding> {
    let der = pem_body(cert_pem).ok_or_else(|| finding("the returned PEM does not decode", cert_pem))?;
    let described = |m: String| format!("{m}\n  certificate: {}", crate::hex(&der));

    // OpenSSL
    let x = X509::from_der(&der).map_err(|e| finding("OpenSSL cannot load the certificate", described(e.to_string())))?;
    if x.to_der().ok().as_deref() != Some(der.as_slice()) {
        return Err(finding("OpenSSL re-encodes the certificate differently", described(String::new())));
    }
    if !x.verify(&issuer.key).unwrap_or(false) {
        return Err(finding("the signature does not verify with the CA's key (OpenSSL)", described(String::new())));
    }
    let mut openssl_subject = Vec::new();
    for entry in x.subject_name().entries() {
        let text = entry.data().to_string();
        let text = text.map_err(|_| finding("OpenSSL cannot read a subject attribute as text", described(String::new())))?;
        openssl_subject.push(text);
    }

    // strict DER, the whole certificate and every extension value
    strict_der::check(&der).map_err(|m| finding("the certificate is not strict DER", described(m)))?;

    // our own decoder
    let info = CertInfo::parse(&der).map_err(|e| finding("CertInfo::parse refuses the certificate", described(e.to_string())))?;
    for e in &info.extensions {
        strict_der::check(&e.value).map_err(|m| {
            finding(&format!("extension {} is not strict DER", oid_text(&e.oid)), described(m))
        })?;
    }
    if info.issuer_der != issuer.subject_der {
        return Err(finding("the issuer name is not the CA's subject, byte for byte", described(String::new())));
    }
    let started = info.not_before <= jsec_ca::core::time::now();
    // (A notBefore before the CA's own is allowed: RFC 5280 does not nest validity
    // periods; the CA refuses to end a certificate after its own notAfter.)
    if !(started && info.not_before < info.not_after && info.not_after <= issuer.not_after) {
        return Err(finding("the validity is not started, empty, or runs past the CA's notAfter", described(format!(
            "{}..{} under the CA's {}..{}", info.not_before, info.not_after, issuer.not_before, issuer.not_after
        ))));
    }

    check_subject(&info, asked, &openssl_subject).map_err(|(k, m)| finding(k, described(m)))?;
    if let Some(req) = asked.request {
        check_request(req, &info, asked.opts).map_err(|(k, m)| finding(k, described(m)))?;
    }
    check_extensions(&x, &info, asked).map_err(|(k, m)| finding(k, described(m)))?;

    // last, as the broadest judge: OpenSSL builds and verifies the chain,
    // name constraints included
    if let Some((store, chain)) = &issuer.verify {
        let verdict = X509StoreContext::new().and_then(|mut ctx| {
            ctx.init(store, &x, chain, |c| Ok((c.verify_cert()?, c.error().error_string().to_string())))
        });
        match verdict {
            Ok((true, _)) => {}
            Ok((false, why)) => return Err(finding(&format!("openssl verify -x509_strict rejects the chain: {why}"), described(why.clone()))),
            Err(e) => return Err(finding("openssl verify errors out", described(e.to_string()))),
        }
    }
    Ok(())
}

type Judged = Result<(), (&'static str, String)>;

fn check_subject(info: &CertInfo, asked: &Asked<'_>, openssl_subject: &[String]) -> Judged {
    let got = name_strings(&info.subject_der).map_err(|m| ("the subject cannot be decoded strictly", m))?;
    for (oid, tag, text) in &got {
        if !KNOWN_ATTRIBUTES.contains(&oid.as_slice()) {
            return Err(("a subject attribute of a type the CA does not certify", oid_text(oid)));
        }
        if text.chars().any(char::is_control) {
            return Err(("a subject attribute holds a control character", format!("{text:?}")));
        }
        if *tag != expected_string_tag(oid) {
            return Err((
                "a subject attribute is not re-encoded in the string type the CA writes",
                format!("{} as tag {tag:#04x}", oid_text(oid)),
            ));
        }
    }
    // Our own subject decoder must read it and re-encode it to the same bytes.
    let ours = Subject::decode(&info.subject_der, "certificate subject")
        .map_err(|e| ("our own subject decoder (Subject::decode) refuses the subject", e.to_string()))?;
    if ours.to_der() != info.subject_der {
        return Err(("the subject does not re-encode to the same bytes (Subject::decode, to_der)", crate::hex(&info.subject_der)));
    }
    let got: Vec<(Vec<u8>, String)> = got.into_iter().map(|(o, _, s)| (o, s)).collect();
    if !got.iter().map(|(_, s)| s).eq(openssl_subject.iter()) {
        return Err(("OpenSSL reads the subject differently", format!("{openssl_subject:?}, we read {got:?}")));
    }
    if got != asked.subject {
        return Err(("the subject is not the one asked for", format!("{got:?} for {:?}", asked.subject)));
    }
    Ok(())
}

/// What the CA accepted of the request.
fn check_request(req: &[u8], info: &CertInfo, opts: &SignOptions) -> Judged {
    let p = request_parts(req).ok_or(("the oracle cannot split a request the CA signed", String::new()))?;
    if p.version != [0] {
        return Err(("a request whose version is not v1 (0) was signed", crate::hex(p.version)));
    }
    if info.spki_der != p.spki {
        return Err(("the certified public key is not the request's", String::new()));
    }
    strict_der::check(p.subject).map_err(|m| ("a request whose subject is not strict DER was signed", m))?;
    // The certificate's subject is the request's, decoded and re-encoded by the CA.
    let decoded = Subject::decode(p.subject, "request subject")
        .map_err(|e| ("a request whose subject Subject::decode refuses was signed", e.to_string()))?;
    if decoded.to_der() != info.subject_der {
        return Err(("the subject is not the request's, decoded and re-encoded", crate::hex(&info.subject_der)));
    }
    if opts.copy_extensions {
        for (oid, raw, _) in &p.extensions {
            let copied = (*oid == oids::SAN && opts.san.is_none()) || (*oid == oids::EXT_KEY_USAGE && opts.ext_key_usage.is_none());
            if copied {
                strict_der::check(raw).map_err(|m| ("a request whose copied extension is not strict DER was signed", format!("{}: {m}", oid_text(oid))))?;
            }
        }
    }
    Ok(())
}

fn check_extensions(x: &X509, info: &CertInfo, asked: &Asked<'_>) -> Judged {
    let opts = asked.opts;
    let requested = |oid: &[u8]| -> Option<Vec<u8>> {
        let p = request_parts(asked.request?)?;
        p.extensions.iter().find(|(o, _, _)| *o == oid).map(|(_, _, v)| v.to_vec())
    };
    let want_ca = opts.basic_constraints.ca;
    let mut eku_oids: Vec<Vec<u8>> = Vec::new();
    for e in &info.extensions {
        let oid = e.oid.as_slice();
        if oid == oids::SAN {
            let names = general_names::parse_requested(&e.value)
                .map_err(|err| ("our own SAN decoder refuses the certificate's SAN", err.to_string()))?;
            if general_names::general_names_der(&names) != e.value {
                return Err(("the SAN does not re-encode to the same bytes", String::new()));
            }
            let openssl_count = x.subject_alt_names().map(|s| s.len());
            if openssl_count != Some(names.len()) {
                return Err(("OpenSSL reads the SAN differently", format!("{openssl_count:?} names, we read {}", names.len())));
            }
            check_san_asked(&names, &e.value, asked, requested(oids::SAN))?;
        } else if oid == oids::EXT_KEY_USAGE {
            let eku = usage::parse_ext_key_usage_der(&e.value, e.critical)
                .map_err(|err| ("our own EKU decoder refuses the certificate's EKU", err.to_string()))?;
            if eku.to_der() != e.value {
                return Err(("the EKU does not re-encode to the same bytes", String::new()));
            }
            check_eku_asked(&eku, opts, requested(oids::EXT_KEY_USAGE))?;
            eku_oids = eku.oids;
        } else if oid == oids::BASIC_CONSTRAINTS {
            let bc = info.basic_constraints().map_err(|err| ("our own decoder refuses basicConstraints", err.to_string()))?;
            let want = (want_ca, opts.basic_constraints.path_len.map(u64::from));
            if bc != Some(want) || !e.critical {
                return Err(("basicConstraints is not the one asked for", format!("{bc:?} (critical {}) for {want:?}", e.critical)));
            }
            if ext::basic_constraints(want_ca, opts.basic_constraints.path_len) != e.value {
                return Err(("basicConstraints does not re-encode to the same bytes", String::new()));
            }
        } else if oid == oids::KEY_USAGE {
            let bits = info.key_usage_bits().map_err(|err| ("our own decoder refuses keyUsage", err.to_string()))?.unwrap_or(0);
            if ext::key_usage(bits) != e.value || !e.critical {
                return Err(("keyUsage does not re-encode to the same bytes, or is not critical", String::new()));
            }
            if opts.key_usage.is_some_and(|k| k.bits != bits) {
                return Err(("keyUsage is not the one asked for", format!("{bits:#x}")));
            }
            if !want_ca && bits & (ku::KEY_CERT_SIGN | ku::CRL_SIGN) != 0 {
                return Err(("a non-CA certificate got keyCertSign or cRLSign", format!("{bits:#x}")));
            }
        } else if oid == oids::SUBJECT_KEY_ID {
            info.subject_key_id().map_err(|err| ("our own decoder refuses the subject key identifier", err.to_string()))?;
        } else if oid == oids::AUTHORITY_KEY_ID {
            // Its structure is judged by the strict DER check and OpenSSL's chain building.
        } else if oid == oids::CRL_DP || oid == oids::AIA {
            if opts.pointers.crl_urls.is_none() && opts.pointers.ocsp_urls.is_none() {
                return Err(("revocation pointers nobody asked for", oid_text(oid)));
            }
        } else if oid == oids::TLS_FEATURE {
            if !opts.must_staple {
                return Err(("must-staple nobody asked for", String::new()));
            }
        } else if oid == oids::CERT_POLICIES {
            if opts.policies.is_empty() {
                return Err(("certificate policies nobody asked for", String::new()));
            }
        } else if oid == oids::OCSP_NOCHECK {
            if e.value != [0x05, 0x00] {
                return Err(("id-pkix-ocsp-nocheck is not NULL", crate::hex(&e.value)));
            }
        } else {
            return Err(("an extension the CA does not write was signed", oid_text(oid)));
        }
    }
    let has = |oid: &[u8]| info.extension(oid).is_some();
    if !has(oids::BASIC_CONSTRAINTS) || !has(oids::KEY_USAGE) {
        return Err(("basicConstraints or keyUsage is missing", String::new()));
    }
    if has(oids::OCSP_NOCHECK) != eku_oids.iter().any(|o| o == EKU_OCSP_SIGNING) {
        return Err(("id-pkix-ocsp-nocheck without OCSPSigning, or OCSPSigning without it", String::new()));
    }
    if opts.must_staple && !has(oids::TLS_FEATURE) {
        return Err(("must-staple was asked for and is missing", String::new()));
    }
    if opts.san.as_ref().is_some_and(|l| !l.is_empty()) && !has(oids::SAN) {
        return Err(("the SAN asked for is missing", String::new()));
    }
    if opts.ext_key_usage.is_some() && eku_oids.is_empty() {
        return Err(("the EKU asked for is missing", String::new()));
    }
    Ok(())
}

/// Each SAN name must be one the options (`:san`) or, when copied, the
/// request asked for; an rfc822Name repeating a subject emailAddress (RFC 5280
/// 4.1.2.6) counts as asked for. An explicit `:san` must be there in full.
fn check_san_asked(names: &[GeneralName], value: &[u8], asked: &Asked<'_>, requested: Option<Vec<u8>>) -> Judged {
    let got = der_of(names);
    let explicit = asked.opts.san.as_deref().map(der_of);
    let subject_emails: Vec<Vec<u8>> =
        asked.subject.iter().filter(|(oid, _)| oid == OID_EMAIL).map(|(_, v)| crate::requests::tlv(0x81, v.as_bytes())).collect();
    for (name, tlv) in names.iter().zip(&got) {
        if subject_emails.contains(tlv) {
            continue;
        }
        let asked_for = match (&explicit, &requested) {
            (Some(want), _) => want.contains(tlv),
            // Its content must be in the request's SAN (compared without case,
            // in case the CA canonicalises DNS names).
            (None, Some(req)) if asked.opts.copy_extensions => {
                contains_ignore_case(req, &strict_der::one(tlv).map(|n| n.content.to_vec()).unwrap_or_default())
            }
            _ => false,
        };
        if !asked_for {
            return Err(("a SAN name nobody asked for", format!("{name:?} in {}", crate::hex(value))));
        }
    }
    if explicit.is_some_and(|want| want.iter().any(|w| !got.contains(w))) {
        return Err(("the :san asked for is not all in the SAN", crate::hex(value)));
    }
    Ok(())
}

fn check_eku_asked(eku: &ExtKeyUsage, opts: &SignOptions, requested: Option<Vec<u8>>) -> Judged {
    for oid in &eku.oids {
        if !strict_der::oid_ok(oid) {
            return Err(("a non-minimal or truncated OID in the EKU", crate::hex(oid)));
        }
    }
    match (&opts.ext_key_usage, requested) {
        (Some(want), _) => {
            if eku.oids != want.oids || eku.critical != want.critical {
                return Err(("the EKU is not the :extended-key-usage asked for", format!("{eku:?}")));
            }
        }
        (None, Some(req)) if opts.copy_extensions => {
            for oid in &eku.oids {
                if oid == EKU_OCSP_SIGNING || oid == EKU_ANY {
                    return Err(("a reserved EKU (OCSPSigning or anyExtendedKeyUsage) was copied", crate::hex(oid)));
                }
                let mut tlv = vec![0x06, oid.len() as u8];
                tlv.extend_from_slice(oid);
                if oid.len() >= 0x80 || !contains(&req, &tlv) {
                    return Err(("an EKU the request did not ask for", crate::hex(oid)));
                }
            }
        }
        _ => return Err(("an EKU nobody asked for", format!("{eku:?}"))),
    }
    Ok(())
}

fn oid_text(oid: &[u8]) -> String {
    jsec_ca::core::der::oid_to_string(oid)
}

/// The DER inside the one PEM block of `pem` (decoded with OpenSSL's base64).
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    openssl::base64::decode_block(&body).ok()
}

//! OCSP (RFC 6960): parsing requests strictly, and writing signed
//! `BasicOCSPResponse`s and unsuccessful responses by hand.
//!
//! Every single response repeats its request's `CertID` exactly: the hash
//! algorithm (with or without its NULL parameter, as the client sent it), the
//! two issuer hashes and the serial are re-encoded from the parsed parts, and
//! the strict reader only accepts the one DER encoding of each, so the bytes
//! come out identical. The nonce extension is echoed with the request's
//! `extnValue` byte for byte, which is what `openssl ocsp` compares.

use openssl::hash::{hash, MessageDigest};


use super::oid;
use super::state::SerialStatus;
use super::authority::Authority;
use super::cert_info::CertInfo;
use super::der::{self, tag};
use super::error::{CaError, CaResult, SslContext};
use super::keys;
use super::signer::{signed_structure, KeySigner, Signer};
use super::pem;
use super::revocation::Reason;
use super::serial::Serial;
use super::time;
use super::usage;

/// Largest OCSP request we read (RFC 6960 requests are a few hundred bytes).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Most single requests in one OCSP request.
pub const MAX_REQUESTS: usize = 512;

/// The largest nonce a request may carry (RFC 9654 §2.1).
const MAX_NONCE: usize = 32;



/// The hash algorithm of a CertID. Unknown algorithms are kept (as their OID)
/// so the response can still repeat the CertID; they never match an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    /// Encoded OID content of an algorithm we cannot compute.
    Other(Vec<u8>),
}

const HASH_NAMES: &[(&str, HashAlg)] = &[
    ("sha1", HashAlg::Sha1),
    ("sha224", HashAlg::Sha224),
    ("sha256", HashAlg::Sha256),
    ("sha384", HashAlg::Sha384),
    ("sha512", HashAlg::Sha512),
];

impl HashAlg {
    fn from_oid(oid: &[u8]) -> HashAlg {
        match oid {
            oid::SHA1 => HashAlg::Sha1,
            oid::SHA224 => HashAlg::Sha224,
            oid::SHA256 => HashAlg::Sha256,
            oid::SHA384 => HashAlg::Sha384,
            oid::SHA512 => HashAlg::Sha512,
            other => HashAlg::Other(other.to_vec()),
        }
    }

    fn oid(&self) -> &[u8] {
        match self {
            HashAlg::Sha1 => oid::SHA1,
            HashAlg::Sha224 => oid::SHA224,
            HashAlg::Sha256 => oid::SHA256,
            HashAlg::Sha384 => oid::SHA384,
            HashAlg::Sha512 => oid::SHA512,
            HashAlg::Other(oid) => oid,
        }
    }

    /// "sha1", "sha256", ... or the dotted OID of an unknown algorithm.
    pub fn name(&self) -> String {
        match HASH_NAMES.iter().find(|(_, h)| h == self) {
            Some((n, _)) => (*n).to_string(),
            None => der::oid_to_string(self.oid()),
        }
    }

    /// "sha1" (also "sha-1"), "sha256", ..., or a dotted OID.
    pub fn from_name(name: &str, what: &str) -> CaResult<HashAlg> {
        let n: String = name.chars().filter(|c| *c != '-').flat_map(char::to_lowercase).collect();
        if let Some((_, h)) = HASH_NAMES.iter().find(|(k, _)| *k == n) {
            return Ok(h.clone());
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            let oid = der::encode_oid(name).map_err(|e| CaError::param(format!("{what}: {}", e.message)))?;
            return Ok(HashAlg::from_oid(&oid));
        }
        let valid: Vec<String> = HASH_NAMES.iter().map(|(n, _)| format!(":{n}")).collect();
        Err(CaError::param(format!(
            "{what} {} is not a hash algorithm; valid: {} or a dotted OID",
            super::error::shown(name),
            valid.join(", ")
        )))
    }

    pub fn digest(&self) -> Option<MessageDigest> {
        match self {
            HashAlg::Sha1 => Some(MessageDigest::sha1()),
            HashAlg::Sha224 => Some(MessageDigest::sha224()),
            HashAlg::Sha256 => Some(MessageDigest::sha256()),
            HashAlg::Sha384 => Some(MessageDigest::sha384()),
            HashAlg::Sha512 => Some(MessageDigest::sha512()),
            HashAlg::Other(_) => None,
        }
    }
}

/// A CertID (RFC 6960 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId {
    pub hash: HashAlg,
    /// Whether the AlgorithmIdentifier carried a NULL parameter (OpenSSL
    /// writes one; RFC 5754 allows omitting it). Repeated as received.
    pub null_params: bool,
    pub issuer_name_hash: Vec<u8>,
    pub issuer_key_hash: Vec<u8>,
    pub serial: Serial,
}

impl CertId {
    /// The hash algorithm of a CertID that names none (request-info without :hash-algorithm).
    pub const DEFAULT_HASH: HashAlg = HashAlg::Sha1;
    /// Whether a CertID that does not say carries the NULL parameter (OpenSSL's form).
    pub const DEFAULT_NULL_PARAMS: bool = true;

    /// Appends the DER: `SEQUENCE { AlgorithmIdentifier, OCTET STRING, OCTET STRING, INTEGER }`.
    pub fn write(&self, out: &mut Vec<u8>) {
        der::sequence(out, |o| {
            der::sequence(o, |o| {
                der::oid(o, self.hash.oid());
                if self.null_params {
                    der::null(o);
                }
            });
            der::octet_string(o, &self.issuer_name_hash);
            der::octet_string(o, &self.issuer_key_hash);
            self.serial.write(o);
        })
    }

    /// The CertID of `serial` issued by `ca` (its hashes are computed once per CA).
    pub fn for_ca(hash: HashAlg, ca: &Authority, serial: Serial) -> CaResult<CertId> {
        let (issuer_name_hash, issuer_key_hash) = ca.issuer_hashes(hash.oid(), |s, k| issuer_hashes(&hash, s, k))?;
        Ok(CertId { hash, null_params: Self::DEFAULT_NULL_PARAMS, issuer_name_hash, issuer_key_hash, serial })
    }

    /// Whether the issuer hashes name `ca`.
    pub fn matches_ca(&self, ca: &Authority) -> bool {
        match ca.issuer_hashes(self.hash.oid(), |s, k| issuer_hashes(&self.hash, s, k)) {
            Ok((n, k)) => n == self.issuer_name_hash && k == self.issuer_key_hash,
            Err(_) => false,
        }
    }

    /// Parses a CertID. Error contexts are static: the caller adds which request.
    fn parse(tlv: der::Tlv<'_>) -> CaResult<CertIdRef<'_>> {
        let mut c = tlv.tagged(tag::SEQUENCE, "CertID")?.reader();
        let mut alg = c.read_tag(tag::SEQUENCE, "CertID hashAlgorithm")?.reader();
        let oid = alg.read_tag(tag::OID, "CertID hashAlgorithm")?.content;
        if oid.is_empty() {
            return Err(CaError::parse("CertID: empty hash algorithm OID"));
        }
        let null_params = match alg.read_optional(tag::NULL, "CertID hash parameters")? {
            Some(n) if n.content.is_empty() => true,
            Some(_) => return Err(CaError::parse("CertID: hash parameters must be an empty NULL")),
            None => false,
        };
        alg.finish("CertID hashAlgorithm (only a NULL parameter is allowed)")?;
        let issuer_name_hash = c.read_tag(tag::OCTET_STRING, "CertID issuerNameHash")?.content;
        let issuer_key_hash = c.read_tag(tag::OCTET_STRING, "CertID issuerKeyHash")?.content;
        let serial_bytes = c.read("CertID serialNumber")?.uint_bytes("CertID serialNumber")?;
        let serial = Serial::from_be_bytes(serial_bytes)
            .map_err(|e| CaError::parse(format!("CertID serialNumber: {}", e.message)))?;
        c.finish("CertID")?;
        Ok(CertIdRef { hash_oid: oid, null_params, issuer_name_hash, issuer_key_hash, serial })
    }
}

/// (issuerNameHash, issuerKeyHash) of a CA: the hash of its subject DER and of
/// its subjectPublicKey bits.
pub fn issuer_hashes(hash_alg: &HashAlg, subject_der: &[u8], spki_der: &[u8]) -> CaResult<(Vec<u8>, Vec<u8>)> {
    let md = hash_alg
        .digest()
        .ok_or_else(|| CaError::param(format!("hash algorithm {} is not supported", hash_alg.name())))?;
    let name = hash(md, subject_der).ssl("hashing the issuer name")?.to_vec();
    let key = hash(md, keys::spki_key_bits(spki_der)?).ssl("hashing the issuer key")?.to_vec();
    Ok((name, key))
}

/// The nonce extension of a request (RFC 6960 §4.4.1, RFC 8954).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nonce {
    /// The extension's extnValue as received; echoed unchanged.
    pub extn_value: Vec<u8>,
}

impl Nonce {
    /// Whether nonce octets given without saying are the raw extnValue
    /// (`:nonce-raw`) rather than the OCTET STRING's content.
    pub const DEFAULT_RAW: bool = false;

    /// From the nonce octets: extnValue = OCTET STRING { nonce } (RFC 8954).
    pub fn wrapped(nonce: &[u8]) -> Nonce {
        let mut v = Vec::with_capacity(nonce.len() + 4);
        der::octet_string(&mut v, nonce);
        Nonce { extn_value: v }
    }

    /// From an extnValue taken as is (pre-RFC 8954 clients sent raw octets).
    pub fn raw(extn_value: &[u8]) -> Nonce {
        Nonce { extn_value: extn_value.to_vec() }
    }

    /// Whether the extnValue is a DER OCTET STRING (the RFC 8954 form).
    pub fn is_wrapped(&self) -> bool {
        matches!(der::parse_one(&self.extn_value, "nonce"), Ok(t) if t.tag == tag::OCTET_STRING)
    }

    /// The nonce octets: the OCTET STRING's content, or the raw extnValue.
    pub fn value(&self) -> &[u8] {
        match der::parse_one(&self.extn_value, "nonce") {
            Ok(t) if t.tag == tag::OCTET_STRING => t.content,
            _ => &self.extn_value,
        }
    }
}

/// A parsed OCSPRequest: its single requests (at least one) and its nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspRequest {
    pub requests: Vec<CertId>,
    pub nonce: Option<Nonce>,
}

/// A CertID as it sits in a request: its parts borrowed from the DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertIdRef<'a> {
    /// The hash algorithm's encoded OID content.
    pub hash_oid: &'a [u8],
    pub null_params: bool,
    pub issuer_name_hash: &'a [u8],
    pub issuer_key_hash: &'a [u8],
    pub serial: Serial,
}

impl CertIdRef<'_> {
    pub fn to_cert_id(&self) -> CertId {
        CertId {
            hash: HashAlg::from_oid(self.hash_oid),
            null_params: self.null_params,
            issuer_name_hash: self.issuer_name_hash.to_vec(),
            issuer_key_hash: self.issuer_key_hash.to_vec(),
            serial: self.serial,
        }
    }

    /// Whether the issuer hashes name `ca` (as [`CertId::matches_ca`]).
    pub fn matches_ca(&self, ca: &Authority) -> bool {
        let hash = HashAlg::from_oid(self.hash_oid);
        match ca.issuer_hashes(self.hash_oid, |s, k| issuer_hashes(&hash, s, k)) {
            Ok((n, k)) => n == self.issuer_name_hash && k == self.issuer_key_hash,
            Err(_) => false,
        }
    }

    /// The name of a hash algorithm we know ("sha1", ...), without allocating;
    /// None for another OID ([`HashAlg::name`] gives its dotted form).
    pub fn known_hash_name(&self) -> Option<&'static str> {
        match self.hash_oid {
            oid::SHA1 => Some("sha1"),
            oid::SHA224 => Some("sha224"),
            oid::SHA256 => Some("sha256"),
            oid::SHA384 => Some("sha384"),
            oid::SHA512 => Some("sha512"),
            _ => None,
        }
    }
}

/// A parsed OCSPRequest, borrowing from its DER: what [`parse_request`]
/// returns, before any copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspRequestRef<'a> {
    pub requests: Vec<CertIdRef<'a>>,
    /// The nonce extension's extnValue as received.
    pub nonce_extn: Option<&'a [u8]>,
}

/// The octets of a nonce extnValue (the OCTET STRING's content, RFC 8954, or
/// the raw extnValue of an older client) and whether it was so wrapped.
pub fn nonce_octets(extn_value: &[u8]) -> (&[u8], bool) {
    match der::parse_one(extn_value, "nonce") {
        Ok(t) if t.tag == tag::OCTET_STRING => (t.content, true),
        _ => (extn_value, false),
    }
}

/// Parses a DER OCSPRequest strictly. A request signature, requestor name and
/// per-request extensions are read (they must be well-formed) but not used.
pub fn parse_request(data: &[u8]) -> CaResult<OcspRequest> {
    let r = parse_request_ref(data)?;
    Ok(OcspRequest {
        requests: r.requests.iter().map(CertIdRef::to_cert_id).collect(),
        nonce: r.nonce_extn.map(Nonce::raw),
    })
}

/// [`parse_request`] without copying: the same checks, the same errors.
pub fn parse_request_ref(data: &[u8]) -> CaResult<OcspRequestRef<'_>> {
    let mut requests = Vec::new();
    let nonce_extn = parse_request_with(data, |id| requests.push(id))?;
    Ok(OcspRequestRef { requests, nonce_extn })
}

/// [`parse_request_ref`] handing each single request to `each` as it is read,
/// in order, instead of collecting them (a parse then allocates nothing);
/// returns the nonce extension's extnValue. `each` sees every request only
/// once the rest of the message has been checked, but an error in a later
/// request still fails the whole parse: what `each` built is then discarded.
pub fn parse_request_with<'a>(data: &'a [u8], mut each: impl FnMut(CertIdRef<'a>)) -> CaResult<Option<&'a [u8]>> {
    if data.len() > MAX_REQUEST_BYTES {
        return Err(CaError::resource(format!(
            "OCSP request of {} bytes is larger than the {MAX_REQUEST_BYTES}-byte limit",
            data.len()
        )));
    }
    if data.is_empty() {
        return Err(CaError::parse("OCSP request is empty"));
    }
    let outer = der::parse_one(data, "OCSP request")?.tagged(tag::SEQUENCE, "OCSP request")?;
    let mut r = outer.reader();
    let tbs = r.read_tag(tag::SEQUENCE, "OCSP tbsRequest")?;
    if let Some(sig) = r.read_optional(tag::explicit(0), "OCSP request signature")? {
        der::parse_one(sig.content, "OCSP request signature")?.tagged(tag::SEQUENCE, "OCSP request signature")?;
    }
    r.finish("OCSP request")?;

    let mut t = tbs.reader();
    if let Some(v) = t.read_optional(tag::explicit(0), "OCSP request version")? {
        let n = der::parse_one(v.content, "OCSP request version")?.uint_bytes("OCSP request version")?;
        if n != [0] {
            return Err(CaError::parse("OCSP request version: only v1 (0) is defined"));
        }
    }
    t.read_optional(tag::explicit(1), "OCSP requestorName")?;
    let list = t.read_tag(tag::SEQUENCE, "OCSP requestList")?;
    let mut nonce_extn = None;
    if let Some(exts) = t.read_optional(tag::explicit(2), "OCSP requestExtensions")? {
        check_extensions(der::parse_one(exts.content, "OCSP requestExtensions")?, |oid, value| {
            if oid == oid::NONCE {
                nonce_extn = Some(value);
            }
        })?;
    }
    if let Some(n) = nonce_extn {
        // RFC 9654 §2.1: a nonce is 1 to 32 octets; a responder rejects others.
        let len = nonce_octets(n).0.len();
        if !(1..=MAX_NONCE).contains(&len) {
            return Err(CaError::parse(format!("OCSP request nonce is {len} octets; RFC 9654 allows 1 to {MAX_NONCE}")));
        }
    }
    t.finish("OCSP tbsRequest")?;

    let mut count = 0;
    let mut l = list.reader();
    while !l.is_empty() {
        if count == MAX_REQUESTS {
            return Err(CaError::resource(format!("OCSP request asks about more than {MAX_REQUESTS} certificates")));
        }
        count += 1;
        let id = read_single_request(&mut l)
            .map_err(|e| CaError::new(e.category, format!("OCSP request {count} {}", e.message)))?;
        each(id);
    }
    if count == 0 {
        return Err(CaError::parse("OCSP request asks about no certificate (empty requestList)"));
    }
    Ok(nonce_extn)
}

/// Checks `Extensions ::= SEQUENCE OF Extension` as
/// [`super::cert_info::parse_extensions`] does (the same errors, a repeated extension
/// refused) and hands each (extnID, extnValue) to `each`, copying nothing.
fn check_extensions<'a>(seq: der::Tlv<'a>, mut each: impl FnMut(&'a [u8], &'a [u8])) -> CaResult<()> {
    // Requests carry a handful of extensions: the first few are compared in
    // place, a hash set takes over beyond them (hostile input may carry thousands).
    const INLINE: usize = 8;
    let mut inline: [&[u8]; INLINE] = [&[]; INLINE];
    let mut count = 0usize;
    let mut many: Option<std::collections::HashSet<&'a [u8]>> = None;
    let mut r = seq.tagged(tag::SEQUENCE, "extensions")?.reader();
    while !r.is_empty() {
        let mut e = r.read_tag(tag::SEQUENCE, "extension")?.reader();
        let oid = e.read("extension id")?.oid("extension id")?;
        e.default_false("extension criticality")?;
        let value = e.read_tag(tag::OCTET_STRING, "extension value")?.content;
        e.finish("extension")?;
        let repeated = match &mut many {
            Some(set) => !set.insert(oid),
            None if count < INLINE => {
                let seen = inline[..count].contains(&oid);
                if !seen {
                    inline[count] = oid;
                    count += 1;
                }
                seen
            }
            None => {
                let mut set: std::collections::HashSet<&'a [u8]> = inline.iter().copied().collect();
                let seen = !set.insert(oid);
                many = Some(set);
                seen
            }
        };
        if repeated {
            return Err(CaError::parse(format!("extension {} appears twice", der::oid_to_string(oid))));
        }
        each(oid, value);
    }
    Ok(())
}

/// One `Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] OPTIONAL }`.
fn read_single_request<'a>(l: &mut der::Reader<'a>) -> CaResult<CertIdRef<'a>> {
    let mut one = l.read_tag(tag::SEQUENCE, "Request")?.reader();
    let id = CertId::parse(one.read("CertID")?)?;
    if let Some(exts) = one.read_optional(tag::explicit(0), "extensions")? {
        check_extensions(der::parse_one(exts.content, "extensions")?, |_, _| {})?;
    }
    one.finish("Request")?;
    Ok(id)
}

// ---------------------------------------------------------------- responses

/// OCSPResponseStatus values of unsuccessful responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

pub const RESPONSE_STATUS_NAMES: &[(&str, ResponseStatus)] = &[
    ("malformed-request", ResponseStatus::MalformedRequest),
    ("internal-error", ResponseStatus::InternalError),
    ("try-later", ResponseStatus::TryLater),
    ("sig-required", ResponseStatus::SigRequired),
    ("unauthorized", ResponseStatus::Unauthorized),
];

impl ResponseStatus {
    pub fn from_name(name: &str, what: &str) -> CaResult<ResponseStatus> {
        RESPONSE_STATUS_NAMES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).ok_or_else(|| {
            let valid: Vec<String> = RESPONSE_STATUS_NAMES.iter().map(|(n, _)| format!(":{n}")).collect();
            CaError::param(format!("{what} {} is not an OCSP error status; valid: {}", super::error::shown(name), valid.join(", ")))
        })
    }
}

/// An unsuccessful OCSPResponse: `SEQUENCE { ENUMERATED status }`.
pub fn error_response(status: ResponseStatus) -> Vec<u8> {
    vec![tag::SEQUENCE, 3, tag::ENUMERATED, 1, status as u8]
}

/// The status of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    /// Revoked at `time` (Unix seconds); the reason is omitted when `None`
    /// or `Unspecified` (RFC 5280 §5.3.1).
    Revoked { time: i64, reason: Option<Reason> },
    Unknown,
}

pub const CERT_STATUS_NAMES: &[&str] = &["good", "revoked", "unknown"];

/// One SingleResponse to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleResponse {
    pub cert_id: CertId,
    pub status: CertStatus,
    pub this_update: i64,
    pub next_update: Option<i64>,
}

/// Response-wide options: the times every single response shares unless the
/// caller sets its own. Defaults: this update now, next update a day later.
#[derive(Debug, Clone, Copy)]
pub struct ResponseTimes {
    pub this_update: i64,
    pub next_update: i64,
}

impl ResponseTimes {
    /// Checks and completes the times: next update defaults to this update + 1 day.
    pub fn new(this_update: Option<i64>, next_update: Option<i64>) -> CaResult<ResponseTimes> {
        let this_update = time::check_range(this_update.unwrap_or_else(time::now), ":this-update")?;
        let next_update = match next_update {
            Some(t) => t,
            None => time::check_range(this_update + time::DAY, ":next-update (this update + 1 day)")?,
        };
        time::check_range(next_update, ":next-update")?;
        if next_update <= this_update {
            return Err(CaError::param(format!(
                ":next-update {} must be after :this-update {}",
                time::to_iso(next_update),
                time::to_iso(this_update)
            )));
        }
        Ok(ResponseTimes { this_update, next_update })
    }
}

/// A delegated OCSP responder: a certificate this CA issued with the
/// OCSPSigning extended key usage, and its private key.
pub struct Delegate {
    signer: KeySigner,
    cert_der: Vec<u8>,
    /// SHA-1 of the responder's public key bits (ResponderID byKey).
    key_hash: Vec<u8>,
}

impl Delegate {
    /// Loads and checks a responder: the certificate must be issued by `ca`
    /// (issuer name equals the CA's subject and the CA's key verifies its
    /// signature), carry extended key usage OCSPSigning, allow digital
    /// signatures when it has a key usage, be valid at `now`, and match `key`.
    pub fn load(ca: &Authority, cert: &[u8], key: &[u8], now: i64) -> CaResult<Delegate> {
        let cert_der = pem::certificate_der(cert).map_err(|e| CaError::parse(format!(":responder :cert: {}", e.message)))?;
        let info = CertInfo::parse(&cert_der).map_err(|e| CaError::parse(format!(":responder :cert: {}", e.message)))?;
        if info.issuer_der != ca.info().subject_der {
            return Err(CaError::verify(":responder :cert is not issued by this CA (its issuer is another name)"));
        }
        let ca_key = keys::public_key_from_spki(&ca.info().spki_der)?;
        if !keys::verify_signed(&cert_der, &ca_key)? {
            return Err(CaError::verify(":responder :cert is not issued by this CA (the CA's key does not verify its signature)"));
        }
        let eku = info.extension(oid::EXT_KEY_USAGE).map(|e| e.value.as_slice());
        if !eku.is_some_and(|v| usage::eku_der_contains(v, oid::KP_OCSP_SIGNING)) {
            return Err(CaError::param(
                ":responder :cert lacks extended key usage OCSPSigning; issue it with {:extended-key-usage \"OCSPSigning\"}",
            ));
        }
        if let Some(bits) = info.key_usage_bits()? {
            if bits & usage::ku::DIGITAL_SIGNATURE == 0 {
                return Err(CaError::param(":responder :cert key usage does not allow digitalSignature"));
            }
        }
        if now < info.not_before || now > info.not_after {
            return Err(CaError::verify(format!(
                ":responder :cert is not valid now (valid {} to {})",
                time::to_iso(info.not_before),
                time::to_iso(info.not_after)
            )));
        }
        let key = keys::load_private_key(key, None).map_err(|e| CaError::new(e.category, format!(":responder :key: {}", e.message)))?;
        let public = keys::public_key_from_spki(&info.spki_der)?;
        if !public.public_eq(&key) {
            return Err(CaError::verify(":responder :key does not match :responder :cert"));
        }
        let signer = KeySigner::new(key).map_err(|e| CaError::param(format!(":responder :key: {}", e.message)))?;
        Ok(Delegate { signer, cert_der, key_hash: keys::key_identifier(&info.spki_der)? })
    }
}

/// Who signs a response: the CA itself or a delegated responder.
struct ResponseSigner<'a> {
    signer: &'a dyn Signer,
    key_hash: &'a [u8],
    /// The signer's certificate, included in the response.
    cert: &'a [u8],
}

fn write_single(out: &mut Vec<u8>, r: &SingleResponse) {
    der::sequence(out, |o| {
        r.cert_id.write(o);
        match r.status {
            CertStatus::Good => o.extend_from_slice(&[tag::implicit(0), 0]),
            CertStatus::Revoked { time: t, reason } => der::nested(o, tag::explicit(1), |o| {
                time::generalized_time(o, t);
                if let Some(reason) = reason.filter(|r| *r != Reason::Unspecified) {
                    der::nested(o, tag::explicit(0), |o| der::tlv(o, tag::ENUMERATED, &[reason.code()]));
                }
            }),
            CertStatus::Unknown => o.extend_from_slice(&[tag::implicit(2), 0]),
        }
        time::generalized_time(o, r.this_update);
        if let Some(next) = r.next_update {
            der::nested(o, tag::explicit(0), |o| time::generalized_time(o, next));
        }
    })
}

fn check_single(r: &SingleResponse) -> CaResult<()> {
    time::check_range(r.this_update, ":this-update")?;
    if let Some(next) = r.next_update {
        time::check_range(next, ":next-update")?;
        if next <= r.this_update {
            return Err(CaError::param(":next-update must be after :this-update"));
        }
    }
    if let CertStatus::Revoked { time: t, reason } = r.status {
        time::check_range(t, ":revocation-time")?;
        if reason == Some(Reason::RemoveFromCrl) {
            return Err(CaError::param(":revocation-reason :remove-from-crl is not a revocation reason for OCSP"));
        }
    }
    Ok(())
}

fn build(responses: &[SingleResponse], nonce: Option<&Nonce>, signer: &ResponseSigner<'_>, produced_at: i64) -> CaResult<Vec<u8>> {
    if responses.is_empty() {
        return Err(CaError::param("an OCSP response needs at least one single response"));
    }
    responses.iter().try_for_each(check_single)?;
    time::check_range(produced_at, "producedAt")?;
    let key_hash = signer.key_hash;
    let mut tbs = Vec::with_capacity(128 + responses.len() * 120);
    der::sequence(&mut tbs, |o| {
        // version v1 is the DEFAULT: omitted. responderID byKey [2] EXPLICIT KeyHash.
        der::nested(o, tag::explicit(2), |o| der::octet_string(o, &key_hash));
        time::generalized_time(o, produced_at);
        der::sequence(o, |o| responses.iter().for_each(|r| write_single(o, r)));
        if let Some(n) = nonce {
            der::nested(o, tag::explicit(1), |o| {
                der::sequence(o, |o| {
                    der::sequence(o, |o| {
                        der::oid(o, oid::NONCE);
                        der::octet_string(o, &n.extn_value);
                    })
                })
            });
        }
    });
    let cert = signer.cert;
    // [0] EXPLICIT SEQUENCE OF Certificate: the certificate and two headers of at most 4 bytes each.
    let certs_len = if cert.is_empty() { 0 } else { cert.len() + 8 };
    let basic = signed_structure(&tbs, signer.signer, certs_len, |o| {
        if !cert.is_empty() {
            der::nested(o, tag::explicit(0), |o| der::sequence(o, |o| o.extend_from_slice(cert)));
        }
    })?;
    let mut out = Vec::with_capacity(basic.len() + 32);
    der::sequence(&mut out, |o| {
        der::tlv(o, tag::ENUMERATED, &[0]); // successful
        der::nested(o, tag::explicit(0), |o| {
            der::sequence(o, |o| {
                der::oid(o, oid::OCSP_BASIC);
                der::octet_string(o, &basic);
            })
        });
    });
    Ok(out)
}

/// A successful OCSPResponse answering `responses`, signed by `ca` or, when
/// given, by the delegated responder (whose certificate is then included).
/// `nonce` is echoed as the request's extnValue; `produced_at` is Unix seconds.
pub fn build_response(
    ca: &Authority,
    responses: &[SingleResponse],
    nonce: Option<&Nonce>,
    delegate: Option<&Delegate>,
    produced_at: i64,
) -> CaResult<Vec<u8>> {
    match delegate {
        Some(d) => {
            let signer = ResponseSigner { signer: &d.signer, key_hash: &d.key_hash, cert: &d.cert_der };
            build(responses, nonce, &signer, produced_at)
        }
        None => build(
            responses,
            nonce,
            // The signer's certificate goes along (as OpenSSL's responder does), so a
            // client that trusts only the root can verify responses of intermediates.
            &ResponseSigner { signer: ca.signer(), key_hash: ca.key_sha1(), cert: ca.cert_der() },
            produced_at,
        ),
    }
}

/// The status `ca` knows for `serial`: revoked from its revocation list,
/// unknown when it never issued the serial, else good.
pub fn status_from_list(ca: &mut Authority, serial: &Serial) -> CaResult<CertStatus> {
    Ok(match ca.status(serial)? {
        SerialStatus::Revoked(r) => CertStatus::Revoked { time: r.date, reason: Some(r.reason) },
        SerialStatus::Unknown => CertStatus::Unknown,
        SerialStatus::Good => CertStatus::Good,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::options::{CaOptions, IssueOptions};
    use crate::core::names::{Attr, Subject};
    use crate::core::revocation::Revocation;
    use crate::core::usage::parse_ext_key_usage;

    fn subject(cn: &str) -> Subject {
        Subject { attrs: vec![(Attr::CommonName, cn.to_string())] }
    }

    fn root() -> Authority {
        Authority::generate_root(CaOptions { subject: subject("OCSP Test Root"), ..CaOptions::root() }).unwrap()
    }

    /// A request as OpenSSL writes it (sha1 with NULL), with an RFC 8954 nonce.
    fn request(ids: &[CertId], nonce: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        der::sequence(&mut out, |o| {
            der::sequence(o, |o| {
                der::sequence(o, |o| {
                    for id in ids {
                        der::sequence(o, |o| id.write(o));
                    }
                });
                if let Some(n) = nonce {
                    der::nested(o, tag::explicit(2), |o| {
                        der::sequence(o, |o| {
                            der::sequence(o, |o| {
                                der::oid(o, oid::NONCE);
                                der::octet_string(o, &Nonce::wrapped(n).extn_value);
                            })
                        })
                    });
                }
            })
        });
        out
    }

    fn id_for(ca: &Authority, hash: HashAlg, serial: u64) -> CertId {
        CertId::for_ca(hash, &ca, Serial::from_u64(serial).unwrap()).unwrap()
    }

    /// A request with these requestExtensions (OID last arc, value) and no nonce.
    fn request_with_extensions(ca: &Authority, arcs: &[u8]) -> Vec<u8> {
        let id = id_for(ca, HashAlg::Sha1, 5);
        let mut out = Vec::new();
        der::sequence(&mut out, |o| {
            der::sequence(o, |o| {
                der::sequence(o, |o| der::sequence(o, |o| id.write(o)));
                der::nested(o, tag::explicit(2), |o| {
                    der::sequence(o, |o| {
                        for arc in arcs {
                            der::sequence(o, |o| {
                                der::oid(o, &[0x2b, 0x06, 0x01, 0x04, 0x01, *arc]);
                                der::octet_string(o, &[*arc]);
                            })
                        }
                    })
                });
            })
        });
        out
    }

    #[test]
    fn repeated_extensions_are_refused_at_any_position() {
        let ca = root();
        // the first 8 are compared in place, a set takes over beyond them
        for n in [1u8, 2, 8, 9, 12, 40] {
            let distinct: Vec<u8> = (1..=n).collect();
            assert!(parse_request(&request_with_extensions(&ca, &distinct)).is_ok(), "{n} distinct extensions");
            for dup_of in [0usize, (n as usize - 1) / 2, n as usize - 1] {
                let mut arcs = distinct.clone();
                arcs.push(distinct[dup_of]);
                let e = parse_request(&request_with_extensions(&ca, &arcs)).unwrap_err();
                assert!(e.message.contains("appears twice"), "{n} extensions, a repeat of #{dup_of}: {}", e.message);
            }
        }
    }

    #[test]
    fn request_round_trip() {
        let ca = root();
        let mut a = id_for(&ca, HashAlg::Sha1, 5);
        let mut b = id_for(&ca, HashAlg::Sha256, 6);
        b.null_params = false;
        a.serial = Serial::from_hex("0x00ff0123456789abcdef0123456789abcdef0123", "s").unwrap();
        let der = request(&[a.clone(), b.clone()], Some(b"0123456789abcdef"));
        let req = parse_request(&der).unwrap();
        assert_eq!(req.requests, vec![a.clone(), b.clone()]);
        assert!(req.requests[0].matches_ca(&ca));
        assert!(req.requests[1].matches_ca(&ca));
        let n = req.nonce.unwrap();
        assert_eq!(n.value(), b"0123456789abcdef");
        assert!(n.is_wrapped());
        // Re-encoding gives the request's CertID bytes exactly.
        let mut again = Vec::new();
        b.write(&mut again);
        assert!(der.windows(again.len()).any(|w| w == again.as_slice()));
        let other = root();
        assert!(!req.requests[0].matches_ca(&other));
    }

    #[test]
    fn bad_requests() {
        let ca = root();
        let good = request(&[id_for(&ca, HashAlg::Sha1, 5)], None);
        assert!(parse_request(&good).is_ok());
        for cut in [0, 1, 2, good.len() / 2, good.len() - 1] {
            let e = parse_request(&good[..cut]).unwrap_err();
            assert_eq!(e.category, crate::core::error::Category::Parse, "{cut}: {e}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(parse_request(&trailing).is_err());
        assert!(parse_request(b"hello world").is_err());
        let big = vec![0x30u8; MAX_REQUEST_BYTES + 1];
        assert_eq!(parse_request(&big).unwrap_err().category, crate::core::error::Category::Resource);
        // serial 0 and negative serials
        for serial in [&[0x02u8, 0x01, 0x00][..], &[0x02, 0x01, 0xff][..]] {
            let mut id = Vec::new();
            der::sequence(&mut id, |o| {
                der::sequence(o, |o| der::oid(o, oid::SHA1));
                der::octet_string(o, &[1; 20]);
                der::octet_string(o, &[2; 20]);
                o.extend_from_slice(serial);
            });
            let mut req = Vec::new();
            der::sequence(&mut req, |o| der::sequence(o, |o| der::sequence(o, |o| der::sequence(o, |o| o.extend_from_slice(&id)))));
            assert!(parse_request(&req).unwrap_err().message.contains("serialNumber"));
        }
        // empty request list
        let mut empty = Vec::new();
        der::sequence(&mut empty, |o| der::sequence(o, |o| der::sequence(o, |_| {})));
        assert!(parse_request(&empty).unwrap_err().message.contains("no certificate"));
        // too many requests
        let ids: Vec<CertId> = (1..=MAX_REQUESTS as u64 + 1).map(|n| id_for(&ca, HashAlg::Sha1, n)).collect();
        assert_eq!(parse_request(&request(&ids, None)).unwrap_err().category, crate::core::error::Category::Resource);
    }

    #[test]
    fn responses_verify_with_openssl() {
        use openssl::x509::X509;
        let mut ca = root();
        ca.revoke(Revocation { serial: Serial::from_u64(6).unwrap(), reason: Reason::KeyCompromise, date: 1_700_000_000 })
            .unwrap();
        let der = request(&[id_for(&ca, HashAlg::Sha1, 5), id_for(&ca, HashAlg::Sha256, 6)], Some(b"nonce-bytes-1234"));
        let req = parse_request(&der).unwrap();
        let times = ResponseTimes::new(None, None).unwrap();
        let singles: Vec<SingleResponse> = req
            .requests
            .iter()
            .map(|id| SingleResponse {
                cert_id: id.clone(),
                status: status_from_list(&mut ca, &id.serial).unwrap(),
                this_update: times.this_update,
                next_update: Some(times.next_update),
            })
            .collect();
        assert_eq!(singles[1].status, CertStatus::Revoked { time: 1_700_000_000, reason: Some(Reason::KeyCompromise) });
        let resp = build_response(&ca, &singles, req.nonce.as_ref(), None, time::now()).unwrap();
        let parsed = openssl::ocsp::OcspResponse::from_der(&resp).unwrap();
        assert_eq!(parsed.status(), openssl::ocsp::OcspResponseStatus::SUCCESSFUL);
        let basic = parsed.basic().unwrap();
        let ca_x = X509::from_der(ca.cert_der()).unwrap();
        let mut stack = openssl::stack::Stack::new().unwrap();
        stack.push(ca_x.clone()).unwrap();
        let store = openssl::x509::store::X509StoreBuilder::new().unwrap().build();
        basic.verify(&stack, &store, openssl::ocsp::OcspFlag::TRUST_OTHER).unwrap();

        // delegated responder
        let issued = ca
            .issue(IssueOptions {
                subject: subject("OCSP Responder"),
                ext_key_usage: Some(parse_ext_key_usage(&["OCSPSigning".into()]).unwrap()),
                ..IssueOptions::default()
            })
            .unwrap();
        let d = Delegate::load(&ca, issued.cert_pem.as_bytes(), issued.key_pem.as_bytes(), time::now()).unwrap();
        let resp = build_response(&ca, &singles, None, Some(&d), time::now()).unwrap();
        let basic = openssl::ocsp::OcspResponse::from_der(&resp).unwrap().basic().unwrap();
        let mut sb = openssl::x509::store::X509StoreBuilder::new().unwrap();
        sb.add_cert(ca_x).unwrap();
        basic.verify(&openssl::stack::Stack::new().unwrap(), &sb.build(), openssl::ocsp::OcspFlag::empty()).unwrap();

        // not an OCSP signer; not issued by this CA
        let plain = ca.issue(IssueOptions { subject: subject("leaf"), ..IssueOptions::default() }).unwrap();
        let e = Delegate::load(&ca, plain.cert_pem.as_bytes(), plain.key_pem.as_bytes(), time::now()).err().unwrap();
        assert!(e.message.contains("OCSPSigning"), "{e}");
        let other = root();
        let e = Delegate::load(&other, issued.cert_pem.as_bytes(), issued.key_pem.as_bytes(), time::now()).err().unwrap();
        assert_eq!(e.category, crate::core::error::Category::Verify);
        let e = Delegate::load(&ca, issued.cert_pem.as_bytes(), plain.key_pem.as_bytes(), time::now()).err().unwrap();
        assert!(e.message.contains("does not match"), "{e}");
    }

    #[test]
    fn error_responses_and_times() {
        assert_eq!(error_response(ResponseStatus::MalformedRequest), vec![0x30, 3, 0x0a, 1, 1]);
        assert_eq!(error_response(ResponseStatus::Unauthorized), vec![0x30, 3, 0x0a, 1, 6]);
        let parsed = openssl::ocsp::OcspResponse::from_der(&error_response(ResponseStatus::TryLater)).unwrap();
        assert_eq!(parsed.status(), openssl::ocsp::OcspResponseStatus::TRY_LATER);
        assert!(ResponseStatus::from_name("successful", "kind").is_err());
        let t = ResponseTimes::new(Some(1_700_000_000), None).unwrap();
        assert_eq!(t.next_update, 1_700_086_400);
        assert!(ResponseTimes::new(Some(1_700_000_000), Some(1_700_000_000)).is_err());
        assert_eq!(HashAlg::from_name("SHA-256", "h").unwrap(), HashAlg::Sha256);
        assert_eq!(HashAlg::from_name("1.2.840.113549.2.5", "h").unwrap().name(), "1.2.840.113549.2.5");
        assert!(HashAlg::from_name("md5", "h").is_err());
    }
}

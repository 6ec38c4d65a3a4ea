//! mldsa-judge KIND FILE ISSUER [KIND FILE ISSUER]...
//!
//! For each job: parse FILE (PEM or DER) strictly and verify its ML-DSA
//! signature with the public key of the certificate ISSUER (PEM or DER), as
//! RFC 9881 says: pure ML-DSA, empty context, AlgorithmIdentifier without
//! parameters, the signature algorithm the issuer's key's parameter set.
//! KIND is `cert` (X.509 certificate), `crl` (X.509 CRL) or `ocsp` (an
//! OCSPResponse whose BasicOCSPResponse is judged). Prints one line per job,
//! `ok` or `error: ...`; exits 0 when every job is ok, 1 otherwise, 2 on bad usage.
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use ml_dsa::{EncodedSignature, EncodedVerifyingKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams, Signature, VerifyingKey};
use x509_cert::crl::CertificateList;
use x509_cert::certificate::Rfc5280;
use x509_cert::Certificate;

const ML_DSA_44: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.17");
const ML_DSA_65: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.18");
const ML_DSA_87: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.19");

fn der_of(data: &[u8]) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(data);
    let Some(start) = text.find("-----BEGIN ") else { return Ok(data.to_vec()) };
    let body: String = text[start..].lines().skip(1).take_while(|l| !l.starts_with("-----END")).collect();
    base64_decode(&body)
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut n) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = A.iter().position(|a| *a == c).ok_or("bad base64")? as u32;
        acc = acc << 6 | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((acc >> n) as u8);
        }
    }
    Ok(out)
}

/// (to-be-signed DER, signature algorithm OID, parameters present?, signature bytes)
type Parts = (Vec<u8>, ObjectIdentifier, bool, Vec<u8>);

fn cert_parts(der: &[u8]) -> Result<Parts, String> {
    let c = Certificate::from_der(der).map_err(|e| format!("x509-cert: {e}"))?;
    let tbs = c.tbs_certificate().to_der().map_err(|e| e.to_string())?;
    if tbs.as_slice() != &der[tbs_offset(der)?..][..tbs.len()] {
        return Err("the TBSCertificate does not re-encode to its own bytes".into());
    }
    let alg = c.signature_algorithm();
    Ok((tbs, alg.oid, alg.parameters.is_some(), c.signature().raw_bytes().to_vec()))
}

fn crl_parts(der: &[u8]) -> Result<Parts, String> {
    let c = CertificateList::<Rfc5280>::from_der(der).map_err(|e| format!("x509-cert: {e}"))?;
    let tbs = c.tbs_cert_list.to_der().map_err(|e| e.to_string())?;
    if tbs.as_slice() != &der[tbs_offset(der)?..][..tbs.len()] {
        return Err("the TBSCertList does not re-encode to its own bytes".into());
    }
    Ok((tbs, c.signature_algorithm.oid, c.signature_algorithm.parameters.is_some(), c.signature.raw_bytes().to_vec()))
}

/// Where the first element of the outer SEQUENCE starts.
fn tbs_offset(der: &[u8]) -> Result<usize, String> {
    match der.get(1) {
        Some(b) if b & 0x80 == 0 => Ok(2),
        Some(b) => Ok(2 + (b & 0x7f) as usize),
        None => Err("empty".into()),
    }
}

/// The signed parts of an OCSPResponse's BasicOCSPResponse (RFC 6960 4.2.1).
fn ocsp_parts(der: &[u8]) -> Result<Parts, String> {
    let e = |x: der::Error| format!("OCSP: {x}");
    let outer = AnyRef::from_der(der).map_err(e)?;
    let mut r = SliceReader::new(outer.value()).map_err(e)?;
    let status: AnyRef = r.decode().map_err(e)?;
    if status.tag() != Tag::Enumerated || status.value() != [0] {
        return Err("OCSP: not a successful response".into());
    }
    let bytes: AnyRef = r.decode().map_err(e)?;
    let inner = AnyRef::from_der(bytes.value()).map_err(e)?;
    let mut rb = SliceReader::new(inner.value()).map_err(e)?;
    let _kind: ObjectIdentifier = rb.decode().map_err(e)?;
    let basic: &OctetStringRef = rb.decode().map_err(e)?;
    let basic = AnyRef::from_der(basic.as_bytes()).map_err(e)?;
    let mut b = SliceReader::new(basic.value()).map_err(e)?;
    let tbs: AnyRef = b.decode().map_err(e)?;
    let alg: AnyRef = b.decode().map_err(e)?;
    let sig: BitStringRef = b.decode().map_err(e)?;
    let mut a = SliceReader::new(alg.value()).map_err(e)?;
    let oid: ObjectIdentifier = a.decode().map_err(e)?;
    Ok((tbs.to_der().map_err(e)?, oid, !a.is_finished(), sig.raw_bytes().to_vec()))
}

fn verify<P: MlDsaParams>(key: &[u8], sig: &[u8], msg: &[u8]) -> Result<(), String> {
    let key = EncodedVerifyingKey::<P>::try_from(key).map_err(|_| format!("public key of {} bytes", key.len()))?;
    let sig = EncodedSignature::<P>::try_from(sig).map_err(|_| format!("signature of {} bytes", sig.len()))?;
    let sig = Signature::<P>::decode(&sig).ok_or("the signature does not decode")?;
    if VerifyingKey::<P>::decode(&key).verify_with_context(msg, &[], &sig) {
        Ok(())
    } else {
        Err("the ML-DSA signature does not verify".into())
    }
}

fn judge(kind: &str, file: &str, issuer: &str) -> Result<(), String> {
    let der = der_of(&std::fs::read(file).map_err(|e| format!("{file}: {e}"))?)?;
    let (tbs, oid, params, sig) = match kind {
        "cert" => cert_parts(&der)?,
        "crl" => crl_parts(&der)?,
        "ocsp" => ocsp_parts(&der)?,
        other => return Err(format!("unknown kind {other}")),
    };
    if params {
        return Err("the ML-DSA AlgorithmIdentifier has parameters (RFC 9881: absent)".into());
    }
    let issuer = Certificate::from_der(&der_of(&std::fs::read(issuer).map_err(|e| format!("{issuer}: {e}"))?)?)
        .map_err(|e| format!("issuer: x509-cert: {e}"))?;
    let spki = &issuer.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != oid {
        return Err(format!("signed with {oid}, but the issuer's key is {}", spki.algorithm.oid));
    }
    if spki.algorithm.parameters.is_some() {
        return Err("the issuer's ML-DSA key has parameters (RFC 9881: absent)".into());
    }
    let key = spki.subject_public_key.raw_bytes();
    match oid {
        o if o == ML_DSA_44 => verify::<MlDsa44>(key, &sig, &tbs),
        o if o == ML_DSA_65 => verify::<MlDsa65>(key, &sig, &tbs),
        o if o == ML_DSA_87 => verify::<MlDsa87>(key, &sig, &tbs),
        o => Err(format!("{o} is not ML-DSA")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.len() % 3 != 0 {
        eprintln!("usage: mldsa-judge KIND FILE ISSUER [KIND FILE ISSUER]...");
        std::process::exit(2);
    }
    let mut all = true;
    for job in args.chunks(3) {
        match judge(&job[0], &job[1], &job[2]) {
            Ok(()) => println!("ok"),
            Err(e) => {
                all = false;
                println!("error: {e}")
            }
        }
    }
    std::process::exit(if all { 0 } else { 1 });
}

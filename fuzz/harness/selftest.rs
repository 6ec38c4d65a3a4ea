//! The judges must be able to fail: the oracle is shown a sound certificate
//! (it must pass) and copies of it with one defect each, re-signed with the
//! CA's key (each must be caught). (`hang-selftest` shows the watchdog a hang.)

use openssl::hash::MessageDigest;
use openssl::sign::Signer;

use jsec_ca::core::authority::Authority;
use jsec_ca::core::options::{CaOptions, IssueOptions, SignOptions};
use jsec_ca::core::general_names::GeneralName;
use jsec_ca::core::pem;

use crate::oracle::{self, Asked};
use crate::requests::tlv;
use crate::strict_der;

/// One defect: bytes of the TBSCertificate replaced by bytes of the same length.
const DEFECTS: &[(&str, &[u8], &[u8])] = &[
    ("a NUL in the CN", b"\x0c\x09fuzz leaf", b"\x0c\x09fuzz\x00leaf"),
    ("the CN as a PrintableString", b"\x0c\x09fuzz leaf", b"\x13\x09fuzz leaf"),
    ("a subject attribute of an unknown type", b"\x06\x03\x55\x04\x03\x0c\x09fuzz", b"\x06\x03\x55\x04\x48\x0c\x09fuzz"),
    ("a CN nobody asked for", b"\x0c\x09fuzz leaf", b"\x0c\x09fuzz leak"),
    ("a SAN name nobody asked for", b"leaf.example.com", b"evil.example.com"),
    ("a BER TRUE for critical", b"\x01\x01\xff", b"\x01\x01\x01"),
    ("keyCertSign on a leaf", b"\x03\x02\x07\x80", b"\x03\x02\x02\x04"),
    ("an extension the CA does not write", b"\x06\x03\x55\x1d\x0e", b"\x06\x03\x55\x1d\x09"),
    ("basicConstraints that is not a SEQUENCE", b"\x04\x02\x30\x00", b"\x04\x02\x05\x00"),
];

fn resign(tbs: &[u8], ca: &Authority) -> Result<String, String> {
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let key = ca.signer().private_key().ok_or("the self-test CA's key is in memory")?;
    let mut signer = Signer::new(MessageDigest::sha256(), key).map_err(e)?;
    let sig = signer.sign_oneshot_to_vec(tbs).map_err(e)?;
    let alg = [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let cert = tlv(0x30, &[tbs, &alg[..], &tlv(0x03, &[&[0u8][..], &sig].concat())].concat());
    Ok(pem::encode("CERTIFICATE", &cert))
}

fn replace_once(hay: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    let i = hay.windows(from.len()).position(|w| w == from)?;
    Some([&hay[..i], to, &hay[i + from.len()..]].concat())
}

/// Ok(number of defects caught), or what the oracle missed. With
/// FUZZ_SELFTEST_VERBOSE set, prints what caught each defect.
pub fn oracle() -> Result<usize, String> {
    let s = |e: jsec_ca::core::error::CaError| e.to_string();
    let mut ca = Authority::generate_root(CaOptions { subject: crate::cn("Selftest CA"), ..CaOptions::root() }).map_err(s)?;
    let root = openssl::x509::X509::from_der(ca.cert_der()).map_err(|e| e.to_string())?;
    let issuer = crate::verifier(ca.cert_der(), &root, &[])?;
    let san = vec![GeneralName::parse("DNS:leaf.example.com", ":san").map_err(s)?];
    let opts = SignOptions { san: Some(san.clone()), ..SignOptions::default() };
    let asked = Asked { request: None, subject: vec![(crate::OID_CN.to_vec(), "fuzz leaf".into())], opts: &opts };
    let issued = ca.issue(IssueOptions { subject: crate::cn("fuzz leaf"), san, ..IssueOptions::default() }).map_err(s)?;
    oracle::check(&issued.cert_pem, &issuer, &asked).map_err(|f| format!("the oracle rejects a sound certificate: {}: {}", f.kind, f.detail))?;

    let der = pem::certificate_der(issued.cert_pem.as_bytes()).map_err(s)?;
    let outer = strict_der::one(&der).ok_or("cannot split the certificate")?;
    let parts = strict_der::children(outer.content).ok_or("cannot split the certificate")?;
    let tbs = parts.first().ok_or("no TBSCertificate")?.raw;
    let mut caught = 0;
    for (what, from, to) in DEFECTS {
        let bad = replace_once(tbs, from, to).ok_or_else(|| format!("selftest: {what}: pattern not in the certificate"))?;
        match oracle::check(&resign(&bad, &ca)?, &issuer, &asked) {
            Err(f) => {
                if std::env::var_os("FUZZ_SELFTEST_VERBOSE").is_some() {
                    println!("  {what}: {}", f.kind);
                }
                caught += 1
            }
            Ok(()) => return Err(format!("the oracle passes a certificate with {what}")),
        }
    }
    // And one whose signature is not the CA's.
    let mut forged = der.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    if oracle::check(&pem::encode("CERTIFICATE", &forged), &issuer, &asked).is_ok() {
        return Err("the oracle passes a certificate whose signature does not verify".into());
    }
    Ok(caught + 1)
}

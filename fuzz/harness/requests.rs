//! Certificate requests for the csr target: the fuzzer's own keys, seeds
//! rewritten to carry them, mutated certificationRequestInfos re-signed so
//! that they get past the CA's signature check, and the `:sign-csr` options
//! an input chooses.
//!
//! An input of the csr target is two selector bytes (little-endian, see
//! `Plan::from_selector`) followed by a body: in raw mode a whole CSR (PEM or
//! DER) submitted as is, otherwise a certificationRequestInfo that is signed
//! here first.

use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, Private};
use openssl::sign::Signer;
use openssl::x509::X509Req;

use jsec_ca::core::options::{BasicConstraints, PointerOverrides, SignOptions};
use jsec_ca::core::der;
use jsec_ca::core::general_names::GeneralName;
use jsec_ca::core::usage;

use crate::strict_der;

const ALG_ECDSA_SHA256: &[u8] = &[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ALG_RSA_SHA256: &[u8] =
    &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00];
const ALG_ED25519: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];

/// DER TLV with a minimal length.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

pub struct FuzzKey {
    key: PKey<Private>,
    spki: Vec<u8>,
    alg: &'static [u8],
}

/// One key per family the CA certifies: P-256, RSA-2048, Ed25519.
pub struct Keys(Vec<FuzzKey>);

impl Keys {
    pub fn generate() -> Result<Keys, String> {
        let e = |e: openssl::error::ErrorStack| e.to_string();
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).map_err(e)?;
        let ec = openssl::ec::EcKey::generate(&group).map_err(e)?;
        let keys = [
            (PKey::from_ec_key(ec).map_err(e)?, ALG_ECDSA_SHA256),
            (PKey::from_rsa(openssl::rsa::Rsa::generate(2048).map_err(e)?).map_err(e)?, ALG_RSA_SHA256),
            (PKey::generate_ed25519().map_err(e)?, ALG_ED25519),
        ];
        keys.into_iter()
            .map(|(key, alg)| Ok(FuzzKey { spki: key.public_key_to_der().map_err(e)?, key, alg }))
            .collect::<Result<Vec<_>, String>>()
            .map(Keys)
    }

    /// The CRI of a seed CSR with its public key replaced by ours of the same family.
    pub fn rekey(&self, csr_der: &[u8]) -> Option<Vec<u8>> {
        let id = X509Req::from_der(csr_der).ok()?.public_key().ok()?.id();
        let ours = self.0.iter().find(|k| k.key.id() == id)?;
        let outer = strict_der::one(csr_der)?;
        let cri = strict_der::children(outer.content)?.first().copied()?;
        let mut fields: Vec<Vec<u8>> = strict_der::children(cri.content)?.iter().map(|n| n.raw.to_vec()).collect();
        *fields.get_mut(2)? = ours.spki.clone();
        Some(tlv(0x30, &fields.concat()))
    }

    /// `SEQUENCE { cri, algorithm, BIT STRING signature }`, signed with the key
    /// whose SubjectPublicKeyInfo the (mutated) CRI still carries, else with
    /// the EC key (a signature that will not verify, for the paths before it).
    pub fn sign(&self, cri: &[u8]) -> Result<Vec<u8>, String> {
        let k = self.0.iter().find(|k| contains(cri, &k.spki)).unwrap_or(&self.0[0]);
        let e = |e: openssl::error::ErrorStack| e.to_string();
        let mut signer = match k.key.id() {
            Id::ED25519 => Signer::new_without_digest(&k.key),
            _ => Signer::new(MessageDigest::sha256(), &k.key),
        }
        .map_err(e)?;
        let sig = signer.sign_oneshot_to_vec(cri).map_err(e)?;
        let mut bits = vec![0u8];
        bits.extend_from_slice(&sig);
        Ok(tlv(0x30, &[cri, k.alg, &tlv(0x03, &bits)].concat()))
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// What one csr input asks of the CA.
#[derive(Debug)]
pub struct Plan {
    /// Submit the body as it is (no re-signing).
    pub raw: bool,
    /// The name-constrained intermediate signs instead of the root.
    pub constrained: bool,
    pub opts: SignOptions,
}

/// The names an explicit `:san` lists: inside the constrained CA's subtrees.
pub const EXPLICIT_SAN: &[&str] = &["DNS:www.example.com", "IP:10.1.2.3", "email:a@mail.example.com", "URI:https://www.example.com/x"];

impl Plan {
    /// Selector bits:
    ///   0-2  000 = raw (1 input in 8); anything else: re-sign the CRI body
    ///   3    :copy-extensions
    ///   4-5  :san 01 = EXPLICIT_SAN, 10 = [] (no SAN), else not given
    ///   6    :extended-key-usage [serverAuth clientAuth], bit 7 adds OCSPSigning and critical
    ///   8    :basic-constraints "CA:TRUE", bit 9 with pathlen 0
    ///   10   :key-usage [digitalSignature] (plus keyCertSign with CA:TRUE)
    ///   11   :must-staple, a policy and pointer overrides
    ///   12   signed by the name-constrained intermediate
    pub fn from_selector(sel: u16) -> Result<Plan, String> {
        let bit = |i: u32| sel & (1 << i) != 0;
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut opts = SignOptions { copy_extensions: bit(3), ..SignOptions::default() };
        opts.san = match (sel >> 4) & 3 {
            1 => Some(
                EXPLICIT_SAN
                    .iter()
                    .map(|s| GeneralName::parse(s, ":san").map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            2 => Some(Vec::new()),
            _ => None,
        };
        if bit(6) {
            let mut eku = vec!["serverAuth", "clientAuth"];
            if bit(7) {
                eku.extend(["OCSPSigning", "critical"]);
            }
            opts.ext_key_usage = Some(usage::parse_ext_key_usage(&strings(&eku)).map_err(|e| e.to_string())?);
        }
        if bit(8) {
            opts.basic_constraints = BasicConstraints { ca: true, path_len: bit(9).then_some(0) };
        }
        if bit(10) {
            let mut ku = vec!["digitalSignature"];
            if bit(8) {
                ku.push("keyCertSign");
            }
            opts.key_usage = Some(usage::parse_key_usage(&strings(&ku)).map_err(|e| e.to_string())?);
        }
        if bit(11) {
            opts.must_staple = true;
            opts.policies = vec![der::encode_oid("2.23.140.1.2.1").map_err(|e| e.to_string())?];
            opts.pointers = PointerOverrides {
                crl_urls: Some(strings(&["http://crl.example.com/fuzz.crl"])),
                ocsp_urls: Some(strings(&["http://ocsp.example.com"])),
                ca_issuers_urls: Some(Vec::new()),
            };
        }
        Ok(Plan { raw: sel & 7 == 0, constrained: bit(12), opts })
    }
}

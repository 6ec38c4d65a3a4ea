//! Key types, key generation, signature algorithms and key (de)serialisation.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::hash;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Private, Public};
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};
use openssl::symm::Cipher;

use super::algorithm::{family, Digest, Generation, KeyType, Params, SigDesc, Signing, KEY_TYPES, REFUSED_SIG_ALGS, SIG_ALGS};
use super::oid;
use super::der::{self, tag};
use super::digest;
use super::ec_keygen;
use super::error::{CaError, CaResult, SslContext};
use super::secret::Secret;

/// The group of curve `nid`, built once (see [`ec_keygen::curve`]).
fn curve(nid: Nid) -> CaResult<&'static EcGroup> {
    ec_keygen::curve(nid).map(|c| &c.group)
}

impl KeyType {
    /// A new key as its SubjectPublicKeyInfo and PKCS#8 PEM. EC and Ed25519
    /// keys are encoded here from one read of the point and scalar (byte for
    /// byte what OpenSSL's encoders write; unit-tested against them): OpenSSL's
    /// two encoders would each convert the point to affine coordinates again.
    /// RSA keys are OpenSSL's own, encoded by OpenSSL.
    pub fn generate_encoded(self) -> CaResult<NewKey> {
        match self.desc().generation {
            Generation::Ec { nid, curve_oid } => ec_generate_encoded(nid, curve_oid),
            Generation::Ed25519 => ed25519_generate_encoded(),
            // OpenSSL's encoders: an ML-DSA PKCS#8 key carries both the seed and
            // the expanded key (RFC 9881's `both`; OpenSSL 3.5's default).
            Generation::Rsa { .. } | Generation::MlDsa { .. } => {
                let key = self.generate()?;
                let spki_der = key.public_key_to_der().ssl("encoding the public key")?;
                let pkcs8_pem = private_key_pem(&key)?;
                Ok(NewKey { spki_der, pkcs8_pem })
            }
        }
    }

    /// A new key pair from OpenSSL's own generation. RSA: `RSA_generate_key_ex`
    /// with e = 65537, which for two primes of 2048 bits or more runs SP 800-56B
    /// (`ossl_rsa_sp800_56b_generate_key`: FIPS 186-5 primes, then its pairwise
    /// consistency test). Many keys at once go faster on more cores
    /// (`ca/issue-async`, concurrent callers), never by another algorithm.
    pub fn generate(self) -> CaResult<PKey<Private>> {
        match self.desc().generation {
            Generation::Ec { nid, .. } => {
                let key = EcKey::generate(curve(nid)?).ssl("generating an EC key")?;
                PKey::from_ec_key(key).ssl("wrapping the EC key")
            }
            Generation::Rsa { bits } => {
                let key = Rsa::generate(bits).ssl("generating an RSA key")?;
                PKey::from_rsa(key).ssl("wrapping the RSA key")
            }
            Generation::Ed25519 => PKey::generate_ed25519().ssl("generating an Ed25519 key"),
            Generation::MlDsa { algorithm, .. } => super::ml_dsa::generate(algorithm),
        }
    }
}

/// A generated key as its two encodings: all a leaf's key is needed as (a CA's
/// key, which signs, comes from [`KeyType::generate`]).
pub struct NewKey {
    pub spki_der: Vec<u8>,
    pub pkcs8_pem: Secret,
}

fn ec_generate_encoded(nid: Nid, curve_oid: &[u8]) -> CaResult<NewKey> {
    let ec_keygen::KeyPair { scalar, point } = ec_keygen::generate(ec_keygen::curve(nid)?)?;
    let mut algorithm = Vec::with_capacity(24);
    der::sequence(&mut algorithm, |o| {
        der::oid(o, oid::EC_PUBLIC_KEY);
        der::oid(o, curve_oid);
    });
    let mut spki_der = Vec::with_capacity(algorithm.len() + point.len() + 8);
    der::sequence(&mut spki_der, |o| {
        o.extend_from_slice(&algorithm);
        der::bit_string(o, &point);
    });
    // RFC 5915 ECPrivateKey inside RFC 5958 PKCS#8, as OpenSSL writes it (the
    // curve only in the outer AlgorithmIdentifier). Buffers are sized up front
    // so no reallocation leaves a copy of the scalar behind.
    let mut inner = Vec::with_capacity(32 + scalar.as_bytes().len() + point.len());
    der::sequence(&mut inner, |o| {
        der::small_uint(o, 1);
        der::octet_string(o, scalar.as_bytes());
        der::nested(o, tag::explicit(1), |o| der::bit_string(o, &point));
    });
    let inner = Secret::new(inner);
    let mut pkcs8 = Vec::with_capacity(inner.as_bytes().len() + algorithm.len() + 32);
    der::sequence(&mut pkcs8, |o| {
        der::small_uint(o, 0);
        o.extend_from_slice(&algorithm);
        der::octet_string(o, inner.as_bytes());
    });
    let pkcs8 = Secret::new(pkcs8);
    Ok(NewKey { spki_der, pkcs8_pem: super::pem::encode_secret("PRIVATE KEY", &pkcs8) })
}

/// A new Ed25519 key, encoded here (RFC 8410, as OpenSSL writes it) from its
/// raw bytes: OpenSSL 3's encoders set up a context per call, which cost
/// twice the key generation and signature together.
fn ed25519_generate_encoded() -> CaResult<NewKey> {
    let key = PKey::generate_ed25519().ssl("generating an Ed25519 key")?;
    let public = key.raw_public_key().ssl("encoding the public key")?;
    let private = Secret::new(key.raw_private_key().ssl("encoding the private key")?);
    let algorithm = |o: &mut Vec<u8>| der::sequence(o, |o| der::oid(o, oid::ED25519));
    let mut spki_der = Vec::with_capacity(48);
    der::sequence(&mut spki_der, |o| {
        algorithm(o);
        der::bit_string(o, &public);
    });
    // OneAsymmetricKey v1: version 0, the algorithm, and the CurvePrivateKey
    // (an OCTET STRING) inside the privateKey OCTET STRING. Sized up front so
    // no reallocation leaves a copy of the key behind.
    let mut pkcs8 = Vec::with_capacity(64);
    der::sequence(&mut pkcs8, |o| {
        der::small_uint(o, 0);
        algorithm(o);
        der::nested(o, tag::OCTET_STRING, |o| der::octet_string(o, private.as_bytes()));
    });
    let pkcs8 = Secret::new(pkcs8);
    Ok(NewKey { spki_der, pkcs8_pem: super::pem::encode_secret("PRIVATE KEY", &pkcs8) })
}

impl SigDesc {
    /// Signs `data` with `key` (a key of this algorithm's family).
    pub fn sign(&self, key: &PKeyRef<Private>, data: &[u8]) -> CaResult<Vec<u8>> {
        // ECDSA straight on the EC key: EVP's per-call setup costs ~20% of a P-256 signature.
        if let (Signing::Prehash(d), true) = (self.signing, key.id() == Id::EC) {
            let ec = key.ec_key().ssl("reading the EC key")?;
            let sig = match d {
                Digest::Sha256 => EcdsaSig::sign(&digest::sha256(data), &ec),
                Digest::Sha384 => EcdsaSig::sign(&digest::sha384(data), &ec),
                Digest::Sha512 => EcdsaSig::sign(&digest::sha512(data), &ec),
            }
            .ssl("signing")?;
            return Ok(ecdsa_sig_der(&sig));
        }
        let mut signer = match self.digest() {
            Some(d) => Signer::new(d.md(), key),
            None => Signer::new_without_digest(key),
        }
        .ssl("starting the signature")?;
        signer.sign_oneshot_to_vec(data).ssl("signing")
    }
}

impl SigDesc {
    /// Whether `signature` (as X.509 carries it) is `key`'s over `data`.
    pub fn verify<T: openssl::pkey::HasPublic>(&self, key: &PKeyRef<T>, data: &[u8], signature: &[u8]) -> CaResult<bool> {
        let mut verifier = match self.digest() {
            Some(d) => Verifier::new(d.md(), key),
            None => Verifier::new_without_digest(key),
        }
        .ssl("starting signature verification")?;
        // A failed verification is a `false`, not an error.
        Ok(verifier.verify_oneshot(signature, data).unwrap_or(false))
    }
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 5480), encoded
/// here: OpenSSL's i2d_ECDSA_SIG goes through its generic packet writer and
/// costs 2% of a P-256 issuance.
fn ecdsa_sig_der(sig: &EcdsaSig) -> Vec<u8> {
    let (r, s) = (sig.r().to_vec(), sig.s().to_vec());
    let mut out = Vec::with_capacity(r.len() + s.len() + 9);
    der::sequence(&mut out, |o| {
        der::uint(o, &r);
        der::uint(o, &s);
    });
    out
}

/// Verifies `SEQUENCE { tbs, algorithm, signature }` against `key`.
/// Used for CSRs and certificates we did not produce.
pub fn verify_signed<T: openssl::pkey::HasPublic>(signed_der: &[u8], key: &PKeyRef<T>) -> CaResult<bool> {
    let outer = der::parse_one(signed_der, "signed structure")?.tagged(tag::SEQUENCE, "signed structure")?;
    let mut r = outer.reader();
    let tbs = r.read("to-be-signed part")?;
    let alg = r.read_tag(tag::SEQUENCE, "signature algorithm")?;
    let sig = r.read_tag(tag::BIT_STRING, "signature")?;
    r.finish("signed structure")?;
    let mut ar = alg.reader();
    let oid = ar.read("signature algorithm")?.oid("signature algorithm")?;
    let desc = SIG_ALGS.iter().find(|d| d.oid == oid);
    let params = match (desc, REFUSED_SIG_ALGS.iter().find(|(o, _)| *o == oid)) {
        (Some(d), _) => d.params,
        (None, Some((_, p))) => *p,
        (None, None) => Params::Absent,
    };
    // Parameters: as the algorithm's descriptor says (NULL may also be absent);
    // anything else is not the algorithm named.
    match (params, ar.is_empty()) {
        (_, true) => {}
        (Params::Null, false) => {
            ar.read_tag(tag::NULL, "signature algorithm parameters")?.content.is_empty().then_some(()).ok_or_else(|| {
                CaError::parse("signature algorithm parameters: a NULL has no content")
            })?;
            ar.finish("signature algorithm")?;
        }
        (Params::Absent, false) => return Err(CaError::parse("signature algorithm: this algorithm takes no parameters")),
    }
    if sig.content.first() != Some(&0) {
        return Err(CaError::parse("signature BIT STRING has unused bits"));
    }
    // The algorithm must fit the key, and SHA-1 is not accepted.
    let fam = family(key);
    let desc = match desc {
        Some(d) if Some(d.family) == fam => *d,
        None if REFUSED_SIG_ALGS.iter().any(|(o, _)| *o == oid) => {
            return Err(CaError::verify("signatures with SHA-1 are not accepted"));
        }
        _ => {
            return Err(CaError::verify(format!(
                "signature algorithm {} does not fit the {} key",
                der::oid_to_string(oid),
                fam.map_or("public", |f| f.name)
            )))
        }
    };
    let md = desc.digest().map(Digest::md);
    if let (Some(md), Id::EC) = (md, key.id()) {
        // ECDSA straight on the EC key (EVP would export the key to a provider per call).
        let ec = key.ec_key().ssl("reading the EC key")?;
        let raw = &sig.content[1..];
        let Ok(parsed) = EcdsaSig::from_der(raw) else { return Ok(false) };
        // Only the canonical DER encoding counts, as on the EVP path.
        if parsed.to_der().ok().as_deref() != Some(raw) {
            return Ok(false);
        }
        let digest = hash(md, tbs.raw).ssl("hashing")?;
        return Ok(parsed.verify(&digest, &ec).unwrap_or(false));
    }
    let mut verifier = match md {
        Some(md) => Verifier::new(md, key),
        None => Verifier::new_without_digest(key),
    }
    .ssl("starting signature verification")?;
    // A failed verification is a `false`, not an error; clear OpenSSL's error queue either way.
    Ok(verifier.verify_oneshot(&sig.content[1..], tbs.raw).unwrap_or(false))
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo (what key identifiers hash).
pub fn spki_key_bits(spki_der: &[u8]) -> CaResult<&[u8]> {
    let spki = der::parse_one(spki_der, "public key")?.tagged(tag::SEQUENCE, "public key")?;
    let mut r = spki.reader();
    r.read_tag(tag::SEQUENCE, "public key algorithm")?;
    let bits = r.read_tag(tag::BIT_STRING, "public key")?;
    r.finish("public key")?;
    match bits.content.split_first() {
        Some((0, rest)) => Ok(rest),
        _ => Err(CaError::parse("public key BIT STRING is malformed")),
    }
}

/// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
pub fn key_identifier(spki_der: &[u8]) -> CaResult<Vec<u8>> {
    let bits = spki_key_bits(spki_der)?;
    Ok(digest::sha1(bits).to_vec())
}

/// Unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`), zeroed when dropped.
pub fn private_key_pem(key: &PKeyRef<Private>) -> CaResult<Secret> {
    key.private_key_to_pem_pkcs8().ssl("encoding the private key").map(Secret::new)
}

/// PKCS#8 PEM encrypted with PBES2 / AES-256-CBC.
pub fn encrypted_private_key_pem(key: &PKeyRef<Private>, password: &[u8]) -> CaResult<Vec<u8>> {
    if password.is_empty() {
        return Err(CaError::param(":password must not be empty"));
    }
    key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), password)
        .ssl("encrypting the private key")
}

fn looks_encrypted(pem: &[u8]) -> bool {
    let find = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    find(b"ENCRYPTED PRIVATE KEY") || find(b"Proc-Type: 4,ENCRYPTED")
}

/// Loads a private key from PEM (PKCS#8, traditional, encrypted or not) or DER.
/// Never prompts: an encrypted key without a password is an error.
pub fn load_private_key(data: &[u8], password: Option<&[u8]>) -> CaResult<PKey<Private>> {
    let is_pem = data.windows(10).any(|w| w == b"-----BEGIN");
    if is_pem && looks_encrypted(data) {
        let Some(pw) = password else {
            return Err(CaError::param("the private key is encrypted; pass :password"));
        };
        // The callback hands OpenSSL our password; OpenSSL's terminal prompt is never reached.
        return PKey::private_key_from_pem_callback(data, |buf: &mut [u8]| {
            if pw.len() > buf.len() {
                return Ok(0);
            }
            buf[..pw.len()].copy_from_slice(pw);
            Ok(pw.len())
        })
        .map_err(|_| CaError::verify("cannot decrypt the private key: wrong :password or corrupt key"));
    }
    if is_pem {
        // An empty-password callback: if OpenSSL still finds encryption, it fails instead of prompting.
        return PKey::private_key_from_pem_callback(data, |_buf: &mut [u8]| Ok(0))
            .map_err(|_| CaError::parse("the private key is not a valid PEM or DER private key"));
    }
    if let Ok(key) = PKey::private_key_from_der(data) {
        return Ok(key);
    }
    // DER that is not a plain key may be an encrypted PKCS#8 EncryptedPrivateKeyInfo.
    match password {
        // rust-openssl passes this password as a C string (it would panic on a NUL).
        Some(pw) if pw.contains(&0) => Err(CaError::param(":password must not contain a NUL byte")),
        Some(pw) => PKey::private_key_from_pkcs8_passphrase(data, pw)
            .map_err(|_| CaError::verify("cannot decrypt the private key: wrong :password or corrupt key")),
        None => Err(CaError::parse(
            "the private key is not a valid PEM or DER private key (pass :password if it is encrypted)",
        )),
    }
}


/// Reads and checks a SubjectPublicKeyInfo: EC P-256/384/521 (uncompressed
/// point on the curve, never the point at infinity), RSA (NULL parameters, odd
/// exponent >= 3), Ed25519, or Ed448. Anything else is refused: a CA certifies
/// only keys it can vouch for. Keys are built from their components: OpenSSL
/// 3's generic `d2i_PUBKEY` sets up a decoder context per call, which costs
/// more than verifying a signature.
pub fn public_key_from_spki(spki_der: &[u8]) -> CaResult<PKey<Public>> {
    let bad = |why: &str| CaError::parse(format!("the public key cannot be used: {why}"));
    let spki = der::parse_one(spki_der, "public key")?.tagged(tag::SEQUENCE, "public key")?;
    let mut r = spki.reader();
    let mut alg = r.read_tag(tag::SEQUENCE, "public key algorithm")?.reader();
    let oid = alg.read_tag(tag::OID, "public key algorithm")?.content;
    let bits = spki_key_bits(spki_der)?;
    let key = match oid {
        oid::EC_PUBLIC_KEY => {
            let curve_oid = alg.read_tag(tag::OID, "EC curve")?.content;
            let nid = KEY_TYPES.iter().find_map(|k| match k.generation {
                Generation::Ec { nid, curve_oid: o } if o == curve_oid => Some(nid),
                _ => None,
            });
            let Some(nid) = nid else {
                return Err(CaError::param(format!(
                    "EC keys on curve {} are not supported; use P-256, P-384 or P-521",
                    der::oid_to_string(curve_oid)
                )));
            };
            alg.finish("EC key parameters")?;
            let group = curve(nid)?;
            // Uncompressed only, and the right length: this also rules out the point
            // at infinity (a single 0x00), for which anyone could forge a signature.
            let field = group.degree().div_ceil(8) as usize;
            if bits.len() != 1 + 2 * field || bits[0] != 0x04 {
                return Err(bad("the EC point must be an uncompressed point of the curve"));
            }
            let mut ctx = BigNumContext::new().ssl("allocating a BN context")?;
            // oct2point checks that the point is on the curve; the curves have cofactor 1.
            let point = EcPoint::from_bytes(group, bits, &mut ctx).map_err(|_| bad("the EC point is not on the curve"))?;
            let ec = EcKey::from_public_key(group, &point).map_err(|_| bad("invalid EC key"))?;
            PKey::from_ec_key(ec).map_err(|_| bad("invalid EC key"))?
        }
        oid::RSA_ENCRYPTION => {
            let params = alg.read_tag(tag::NULL, "RSA key parameters")?;
            if !params.content.is_empty() {
                return Err(bad("RSA parameters must be NULL"));
            }
            alg.finish("RSA key parameters")?;
            let mut k = der::parse_one(bits, "RSA public key")?.tagged(tag::SEQUENCE, "RSA public key")?.reader();
            let n = k.read("RSA modulus")?.uint_bytes("RSA modulus")?;
            let e = k.read("RSA exponent")?.uint_bytes("RSA exponent")?;
            k.finish("RSA public key")?;
            if e.last().is_none_or(|b| b & 1 == 0) || (e.len() == 1 && e[0] < 3) {
                return Err(bad("the RSA exponent must be odd and at least 3"));
            }
            let rsa = Rsa::from_public_components(
                BigNum::from_slice(n).ssl("reading the RSA modulus")?,
                BigNum::from_slice(e).ssl("reading the RSA exponent")?,
            )
            .map_err(|_| bad("invalid RSA key"))?;
            PKey::from_rsa(rsa).map_err(|_| bad("invalid RSA key"))?
        }
        oid::ED25519 | oid::ED448 => {
            alg.finish("EdDSA key parameters (there are none)")?;
            let id = if oid == oid::ED25519 { Id::ED25519 } else { Id::ED448 };
            PKey::public_key_from_raw_bytes(bits, id).map_err(|_| bad("invalid EdDSA key"))?
        }
        other => {
            // ML-DSA (RFC 9881 §4): parameters absent, the key exactly its set's length.
            let ml_dsa = KEY_TYPES.iter().find_map(|k| match k.generation {
                Generation::MlDsa { public_len, .. } if k.sig.oid == other => Some((k, public_len)),
                _ => None,
            });
            if let Some((k, public_len)) = ml_dsa {
                alg.finish("ML-DSA key parameters (there are none)")?;
                if bits.len() != public_len {
                    return Err(bad(&format!(
                        "an {} public key has {public_len} bytes, not {}",
                        k.family.name,
                        bits.len()
                    )));
                }
                // OpenSSL's decoder: the key's own checks (and the provider's key object).
                return PKey::public_key_from_der(spki_der).map_err(|_| bad("invalid ML-DSA key"));
            }
            return Err(CaError::param(format!(
                "public key algorithm {} is not supported; use EC (P-256/384/521), RSA, Ed25519 or ML-DSA",
                der::oid_to_string(other)
            )))
        }
    };
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_types_and_digests() {
        use crate::core::algorithm::{sig_alg_for, ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512, SIG_ED25519};
        for (kt, alg) in [
            (KeyType::EcP256, &ECDSA_SHA256),
            (KeyType::EcP384, &ECDSA_SHA384),
            (KeyType::EcP521, &ECDSA_SHA512),
            (KeyType::Ed25519, &SIG_ED25519),
        ] {
            let k = kt.generate().unwrap();
            assert!(std::ptr::eq(sig_alg_for(&k).unwrap(), alg));
        }
        assert!(KeyType::from_name("rsa-1024").unwrap_err().message.contains(":ec-p256"));
    }

    #[test]
    fn hand_encoded_keys_match_openssl() {
        for kt in [KeyType::EcP256, KeyType::EcP384, KeyType::EcP521, KeyType::Ed25519] {
            for _ in 0..20 {
                let k = kt.generate_encoded().unwrap();
                // OpenSSL reads our PKCS#8 back, writes the same bytes, and derives our SPKI from it.
                let key = PKey::private_key_from_pem(k.pkcs8_pem.as_bytes()).unwrap();
                assert_eq!(k.spki_der, key.public_key_to_der().unwrap());
                assert_eq!(k.pkcs8_pem.as_bytes(), key.private_key_to_pem_pkcs8().unwrap().as_slice());
                if let Ok(ec) = key.ec_key() {
                    ec.check_key().unwrap(); // Q = dG
                }
                let data = b"tbs";
                let alg = crate::core::algorithm::sig_alg_for(&key).unwrap();
                let sig = alg.sign(&key, data).unwrap();
                let public = PKey::public_key_from_der(&k.spki_der).unwrap();
                let mut v = match alg.digest() {
                    Some(d) => Verifier::new(d.md(), &public),
                    None => Verifier::new_without_digest(&public),
                }
                .unwrap();
                assert!(v.verify_oneshot(&sig, data).unwrap());
            }
        }
    }

    #[test]
    fn encrypted_keys_need_password() {
        let k = KeyType::EcP256.generate().unwrap();
        let pem = encrypted_private_key_pem(&k, b"secret").unwrap();
        assert!(load_private_key(&pem, None).is_err());
        assert!(load_private_key(&pem, Some(b"wrong")).is_err());
        let back = load_private_key(&pem, Some(b"secret")).unwrap();
        assert!(back.public_eq(&k));
        let plain = private_key_pem(&k).unwrap();
        assert!(load_private_key(plain.as_bytes(), None).unwrap().public_eq(&k));
    }
}

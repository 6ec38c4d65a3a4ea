//! One signer for everything a CA signs: certificates (TBSCertificate), CRLs
//! (TBSCertList) and OCSP responses (ResponseData) all go through
//! [`Signer`], which knows its algorithm identifier and signs the bytes it is
//! given. Two implementations: a key in memory ([`KeySigner`], OpenSSL) and a
//! key in a PKCS#11 token ([`pkcs11::TokenSigner`]); nothing above this seam
//! knows which.

mod in_memory;
pub mod pkcs11;

use openssl::pkey::{PKey, Private};

pub use in_memory::KeySigner;

use super::der;
use openssl::pkey::{HasPublic, PKeyRef};

use super::error::{CaResult, SslContext};
use super::algorithm::SigAlg;
use super::keys;

/// A private key that signs, wherever it lives.
pub trait Signer {
    /// The signature algorithm, fixed by the key (writes the AlgorithmIdentifier).
    fn algorithm(&self) -> SigAlg;
    /// The key's SubjectPublicKeyInfo, DER.
    fn public_key_der(&self) -> &[u8];
    /// Signs `data` (the whole message: the algorithm hashes it as it must).
    fn sign(&self, data: &[u8]) -> CaResult<Vec<u8>>;
    /// The private key when it lives in memory (it can be exported); None for
    /// a key that never leaves its token.
    fn private_key(&self) -> Option<&PKey<Private>>;
    /// The key's location when it is not in memory: its `pkcs11:` URI with
    /// no PIN in it, fit for messages and the store.
    fn location(&self) -> Option<&str>;
}

/// `SEQUENCE { tbs, algorithm, BIT STRING signature }`: the shape shared by
/// certificates, CRLs and OCSP basic responses (`trailer` goes after the
/// signature: an OCSP response's certificates, at most `trailer_len` bytes,
/// so that the buffer is allocated once).
pub fn signed_structure(
    tbs: &[u8],
    signer: &dyn Signer,
    trailer_len: usize,
    trailer: impl FnOnce(&mut Vec<u8>),
) -> CaResult<Vec<u8>> {
    let alg = signer.algorithm();
    let signature = signer.sign(tbs)?;
    let mut out = Vec::with_capacity(tbs.len() + signature.len() + trailer_len + 64);
    der::sequence(&mut out, |o| {
        o.extend_from_slice(tbs);
        alg.write_algorithm(o);
        der::bit_string(o, &signature);
        trailer(o);
    });
    Ok(out)
}

/// Whether `key` is the private half of `public`: the key's own consistency
/// checks (RSA primes and exponents, EC private scalar against the public
/// point), then a signature made with `key` that `public` must verify. A
/// certificate's public key alone says nothing about the private key beside it.
pub fn private_matches<T: HasPublic>(key: &PKey<Private>, public: &PKeyRef<T>) -> CaResult<bool> {
    if !key.public_eq(public) {
        return Ok(false);
    }
    match key.id() {
        openssl::pkey::Id::RSA => {
            if !key.rsa().ssl("reading the RSA key")?.check_key().unwrap_or(false) {
                return Ok(false);
            }
        }
        openssl::pkey::Id::EC => {
            if key.ec_key().ssl("reading the EC key")?.check_key().is_err() {
                return Ok(false);
            }
        }
        _ => {}
    }
    signs_for(&KeySigner::new(key.clone())?, public)
}

/// Whether `signer` makes signatures that `public` verifies: a probe
/// structure signed and checked.
pub fn signs_for<T: HasPublic>(signer: &dyn Signer, public: &PKeyRef<T>) -> CaResult<bool> {
    let mut tbs = Vec::new();
    der::octet_string(&mut tbs, b"jsec-ca key pair check");
    let signed = signed_structure(&tbs, signer, 0, |_| {})?;
    keys::verify_signed(&signed, public)
}

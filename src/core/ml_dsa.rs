//! ML-DSA key pairs (FIPS 204) from OpenSSL's own generation. rust-openssl has
//! no safe call for a key known to a provider only by name, so this makes the
//! two calls it needs through openssl-sys: EVP_PKEY_CTX_new_from_name, then
//! EVP_PKEY_keygen_init and EVP_PKEY_generate (OpenSSL draws the seed ξ from
//! its DRBG and runs ML-DSA.KeyGen_internal). Signing and verifying need no
//! more than EVP's digest-less one-shot calls (pure ML-DSA, empty context),
//! which rust-openssl has.

use std::ffi::CStr;
use std::ptr;

use foreign_types::ForeignType;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};

use super::error::{CaError, CaResult};

/// Frees an EVP_PKEY_CTX when dropped.
struct Ctx(*mut openssl_sys::EVP_PKEY_CTX);

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: self.0 came from EVP_PKEY_CTX_new_from_name, is non-null, and is freed only here.
        unsafe { openssl_sys::EVP_PKEY_CTX_free(self.0) }
    }
}

/// A new key pair of the ML-DSA parameter set OpenSSL names `algorithm`
/// ("ML-DSA-44", "ML-DSA-65" or "ML-DSA-87").
pub fn generate(algorithm: &CStr) -> CaResult<PKey<Private>> {
    let fail = |what: &str| CaError::ssl(&format!("{what} ({})", algorithm.to_string_lossy()), ErrorStack::get());
    openssl_sys::init();
    // SAFETY: the name is a NUL-terminated C string that outlives the call; a null
    // library context and property query select the default provider.
    let raw = unsafe { openssl_sys::EVP_PKEY_CTX_new_from_name(ptr::null_mut(), algorithm.as_ptr(), ptr::null()) };
    if raw.is_null() {
        return Err(fail("setting up ML-DSA key generation"));
    }
    let ctx = Ctx(raw);
    // SAFETY: ctx.0 is a live EVP_PKEY_CTX (checked non-null above).
    if unsafe { openssl_sys::EVP_PKEY_keygen_init(ctx.0) } != 1 {
        return Err(fail("starting ML-DSA key generation"));
    }
    let mut key: *mut openssl_sys::EVP_PKEY = ptr::null_mut();
    // SAFETY: ctx.0 is initialized for key generation; on success `key` holds a new
    // EVP_PKEY whose one reference we take over below.
    if unsafe { openssl_sys::EVP_PKEY_generate(ctx.0, &mut key) } != 1 || key.is_null() {
        return Err(fail("generating an ML-DSA key"));
    }
    // SAFETY: `key` is a fresh, non-null EVP_PKEY with one reference, now owned by the PKey.
    Ok(unsafe { PKey::from_ptr(key) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::{Signer, Verifier};

    #[test]
    fn keys_of_every_parameter_set_sign_and_verify() {
        for (name, public_len, sig_len) in [(c"ML-DSA-44", 1312, 2420), (c"ML-DSA-65", 1952, 3309), (c"ML-DSA-87", 2592, 4627)] {
            let key = generate(name).unwrap();
            let spki = key.public_key_to_der().unwrap();
            // SEQUENCE { SEQUENCE { OID } (no parameters), BIT STRING { 0, key } }
            assert!(spki.len() > public_len && spki.len() < public_len + 30);
            let sig = Signer::new_without_digest(&key).unwrap().sign_oneshot_to_vec(b"tbs").unwrap();
            assert_eq!(sig.len(), sig_len);
            let public = PKey::public_key_from_der(&spki).unwrap();
            assert!(Verifier::new_without_digest(&public).unwrap().verify_oneshot(&sig, b"tbs").unwrap());
            assert!(!Verifier::new_without_digest(&public).unwrap().verify_oneshot(&sig, b"tbS").unwrap_or(false));
        }
        assert!(generate(c"ML-DSA-1").is_err());
    }
}

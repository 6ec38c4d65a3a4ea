//! A signing key in memory, signed with by OpenSSL.

use openssl::pkey::{PKey, Private};

use super::Signer;
use crate::core::error::{CaResult, SslContext};
use crate::core::algorithm::{sig_alg_for, SigAlg};

pub struct KeySigner {
    key: PKey<Private>,
    alg: SigAlg,
    spki_der: Vec<u8>,
}

impl KeySigner {
    /// `key` with the algorithm that fits it ([`sig_alg_for`]).
    pub fn new(key: PKey<Private>) -> CaResult<KeySigner> {
        let alg = sig_alg_for(&key)?;
        let spki_der = key.public_key_to_der().ssl("encoding the public key")?;
        Ok(KeySigner { key, alg, spki_der })
    }
}

impl Signer for KeySigner {
    fn algorithm(&self) -> SigAlg {
        self.alg
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn sign(&self, data: &[u8]) -> CaResult<Vec<u8>> {
        self.alg.sign(&self.key, data)
    }

    fn private_key(&self) -> Option<&PKey<Private>> {
        Some(&self.key)
    }

    fn location(&self) -> Option<&str> {
        None
    }
}

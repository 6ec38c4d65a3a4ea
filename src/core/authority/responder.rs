//! What signs this CA's OCSP responses and CRLs, and the OCSP issuer hashes it caches.



use super::super::error::CaResult;
use super::super::signer::Signer;
use super::super::state::CaState;


use super::*;

/// What signs this CA's CRLs.
pub(crate) struct CrlSigner<'a> {
    pub signer: &'a dyn Signer,
    pub subject_der: &'a [u8],
    pub key_id: &'a [u8],
}

impl Authority {
    /// SHA-1 of the CA's public key bits (OCSP ResponderID byKey).
    pub fn key_sha1(&self) -> &[u8] {
        &self.key_sha1
    }

    /// The CA's OCSP (issuerNameHash, issuerKeyHash) for the hash algorithm
    /// `alg_oid`, computed by `compute` once per algorithm.
    pub fn issuer_hashes(
        &self,
        alg_oid: &[u8],
        compute: impl FnOnce(&[u8], &[u8]) -> CaResult<(Vec<u8>, Vec<u8>)>,
    ) -> CaResult<(Vec<u8>, Vec<u8>)> {
        if let Some((_, n, k)) = self.issuer_hashes.borrow().iter().find(|(o, _, _)| o == alg_oid) {
            return Ok((n.clone(), k.clone()));
        }
        let (n, k) = compute(&self.info.subject_der, &self.info.spki_der)?;
        self.issuer_hashes.borrow_mut().push((alg_oid.to_vec(), n.clone(), k.clone()));
        Ok((n, k))
    }

    /// The state and, borrowed beside it, what signs a CRL.
    pub(crate) fn crl_parts(&mut self) -> (&mut dyn CaState, CrlSigner<'_>) {
        let signer = CrlSigner { signer: self.signer.as_ref(), subject_der: &self.info.subject_der, key_id: &self.key_id };
        (self.state.as_mut(), signer)
    }
}

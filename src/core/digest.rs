//! SHA-1 and SHA-2 of a buffer, by OpenSSL's direct hash functions.
//!
//! OpenSSL 3's one-shot `SHA256()` and EVP's digests both fetch the algorithm
//! from a provider and set up a context on every call: for the 600 bytes of a
//! certificate's TBS that was a quarter of the hashing (callgrind), on every
//! certificate, CRL and OCSP answer. `SHA256_Init` and its kin hash in place.
//! They are deprecated in OpenSSL 3 (not removed) and present in every build
//! this crate supports, vendored or a distribution's.

use openssl::sha::{Sha1, Sha256, Sha384, Sha512};

pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(data);
    h.finish()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(data);
    h.finish()
}

pub fn sha384(data: &[u8]) -> [u8; 48] {
    let mut h = Sha384::new();
    h.update(data);
    h.finish()
}

pub fn sha512(data: &[u8]) -> [u8; 64] {
    let mut h = Sha512::new();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use openssl::hash::{hash, MessageDigest};

    #[test]
    fn same_digests_as_evp() {
        for n in [0usize, 1, 55, 56, 64, 111, 112, 128, 600, 5000] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            assert_eq!(super::sha1(&data)[..], hash(MessageDigest::sha1(), &data).unwrap()[..]);
            assert_eq!(super::sha256(&data)[..], hash(MessageDigest::sha256(), &data).unwrap()[..]);
            assert_eq!(super::sha384(&data)[..], hash(MessageDigest::sha384(), &data).unwrap()[..]);
            assert_eq!(super::sha512(&data)[..], hash(MessageDigest::sha512(), &data).unwrap()[..]);
        }
    }
}

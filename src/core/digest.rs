//! SHA-1 and SHA-2 of a buffer, by OpenSSL's direct hash functions.
//!
//! OpenSSL 3's one-shot `SHA256()` and EVP's digests both fetch the algorithm
//! from a provider and set up a context on every call: for the 600 bytes of a
//! certificate's TBS that was a quarter of the hashing (callgrind), on every
//! certificate, CRL and OCSP answer. `SHA256_Init` and its kin hash in place.
//! They are deprecated in OpenSSL 3 (not removed) and present in every build
//! this crate supports, vendored or a distribution's.

use openssl::sha::{Sha1, Sha256, Sha384, Sha512};

/// `pub fn name(data) -> [u8; LEN]`: one hasher, one update, its digest.
macro_rules! direct {
    ($name:ident, $hasher:ident, $len:literal) => {
        pub fn $name(data: &[u8]) -> [u8; $len] {
            let mut h = $hasher::new();
            h.update(data);
            h.finish()
        }
    };
}

direct!(sha1, Sha1, 20);
direct!(sha256, Sha256, 32);
direct!(sha384, Sha384, 48);
direct!(sha512, Sha512, 64);

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

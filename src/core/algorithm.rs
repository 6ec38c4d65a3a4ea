//! One descriptor per algorithm (as rustls-webpki's `ring_algs.rs`, rcgen's
//! `sign_algo.rs`): a signature algorithm's OID, parameters, digest and key
//! family; a key family's allowed usages; a key type's names, generation and
//! signature algorithm. Code looks these up instead of matching on the kind;
//! a new algorithm is a new entry (and a generation or signing kind when it
//! brings a new one). Generating and signing are in `keys.rs`.

use std::ffi::CStr;

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, KeyType as OsslKeyType, PKeyRef};

use super::der;
use super::error::{shown, CaError, CaResult};
use super::oid;
use super::usage::ku;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub fn md(self) -> MessageDigest {
        match self {
            Digest::Sha256 => MessageDigest::sha256(),
            Digest::Sha384 => MessageDigest::sha384(),
            Digest::Sha512 => MessageDigest::sha512(),
        }
    }
}

/// What the key signs: a digest of the message, or the message itself
/// (EdDSA; ML-DSA too, pure, with an empty context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    Prehash(Digest),
    Message,
}

/// The AlgorithmIdentifier's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    /// Absent (ECDSA RFC 5758, EdDSA RFC 8410, ML-DSA RFC 9881).
    Absent,
    /// NULL when we write it; NULL or absent accepted when we read (RSA PKCS#1 v1.5, RFC 4055 §5).
    Null,
}

/// How a PKCS#11 token makes this signature (see `signer/pkcs11/token_key.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSigning {
    /// CKM_ECDSA over the digest; r ‖ s re-encoded as Ecdsa-Sig-Value.
    EcdsaPrehashed,
    /// CKM_SHA256_RSA_PKCS over the message.
    Sha256RsaPkcs,
    /// CKM_EDDSA, pure, over the message.
    EddsaPure,
    /// Not made in a token (we only verify it).
    None,
}

/// A key family: what its keys may be certified for.
#[derive(Debug, PartialEq, Eq)]
pub struct Family {
    /// As messages name it.
    pub name: &'static str,
    /// Usages this family's keys cannot have, each with the refusal's text, checked in order
    /// (a text ending in ": " gets the names of the usages refused).
    pub refused_usages: &'static [(u16, &'static str)],
    /// Key usage of an end-entity certificate when the caller names none.
    pub default_end_entity: u16,
}

pub type KeyFamily = &'static Family;

const ENCIPHER: u16 = ku::KEY_ENCIPHERMENT | ku::DATA_ENCIPHERMENT;
const AGREE: u16 = ku::KEY_AGREEMENT | ku::ENCIPHER_ONLY | ku::DECIPHER_ONLY;
const SIGN_ONLY: u16 = ku::DIGITAL_SIGNATURE | ku::NON_REPUDIATION | ku::KEY_CERT_SIGN | ku::CRL_SIGN;
const EDDSA_ONLY_SIGNS: &str = ":key-usage for an EdDSA (Ed25519/Ed448) key may hold only digitalSignature, \
nonRepudiation, keyCertSign and cRLSign (RFC 8410)";

pub static EC: Family = Family {
    name: "EC",
    refused_usages: &[(ENCIPHER, ":key-usage keyEncipherment/dataEncipherment cannot be certified for an EC or Ed25519 key")],
    default_end_entity: ku::DIGITAL_SIGNATURE,
};
pub static RSA: Family = Family {
    name: "RSA",
    refused_usages: &[(AGREE, ":key-usage keyAgreement cannot be certified for an RSA key")],
    default_end_entity: ku::DIGITAL_SIGNATURE | ku::KEY_ENCIPHERMENT,
};
pub static ED25519: Family = Family {
    name: "Ed25519",
    refused_usages: &[
        (ENCIPHER, ":key-usage keyEncipherment/dataEncipherment cannot be certified for an EC or Ed25519 key"),
        (AGREE, ":key-usage keyAgreement cannot be certified for an Ed25519 key"),
        (!SIGN_ONLY, EDDSA_ONLY_SIGNS),
    ],
    default_end_entity: ku::DIGITAL_SIGNATURE,
};
/// Ed448 keys, which we certify (from CSRs) but do not sign with.
pub static ED448: Family =
    Family { name: "Ed448", refused_usages: &[(!SIGN_ONLY, EDDSA_ONLY_SIGNS)], default_end_entity: ku::DIGITAL_SIGNATURE };

const ML_DSA_SIGNS_ONLY: &str = ":key-usage for an ML-DSA key may hold only digitalSignature, nonRepudiation, \
keyCertSign and cRLSign (RFC 9881), not: ";
/// ML-DSA (FIPS 204), one family per parameter set: a key of one set never
/// verifies a signature named for another.
pub static ML_DSA_44: Family =
    Family { name: "ML-DSA-44", refused_usages: &[(!SIGN_ONLY, ML_DSA_SIGNS_ONLY)], default_end_entity: ku::DIGITAL_SIGNATURE };
pub static ML_DSA_65: Family =
    Family { name: "ML-DSA-65", refused_usages: &[(!SIGN_ONLY, ML_DSA_SIGNS_ONLY)], default_end_entity: ku::DIGITAL_SIGNATURE };
pub static ML_DSA_87: Family =
    Family { name: "ML-DSA-87", refused_usages: &[(!SIGN_ONLY, ML_DSA_SIGNS_ONLY)], default_end_entity: ku::DIGITAL_SIGNATURE };

/// The families by OpenSSL key id; other keys have none (refused where a key is checked).
static FAMILIES: &[(Id, &Family)] = &[(Id::EC, &EC), (Id::RSA, &RSA), (Id::ED25519, &ED25519), (Id::ED448, &ED448)];
/// Keys that only a provider knows (no id): by algorithm name.
static NAMED_FAMILIES: &[(OsslKeyType, &Family)] = &[
    (OsslKeyType::ML_DSA_44, &ML_DSA_44),
    (OsslKeyType::ML_DSA_65, &ML_DSA_65),
    (OsslKeyType::ML_DSA_87, &ML_DSA_87),
];

pub fn family<T: HasPublic>(key: &PKeyRef<T>) -> Option<KeyFamily> {
    let id = key.id();
    match FAMILIES.iter().find(|(i, _)| *i == id) {
        Some((_, f)) => Some(*f),
        None => NAMED_FAMILIES.iter().find(|(name, _)| key.is_a(*name)).map(|(_, f)| *f),
    }
}

impl Family {
    /// Refuses usages the key cannot have (RFC 5280 §4.2.1.3, RFC 8410 §5).
    pub fn check_usage(&self, bits: u16) -> CaResult<()> {
        // encipherOnly/decipherOnly are defined only together with keyAgreement;
        // validators refuse them alone (Python cryptography will not load such a certificate).
        if bits & (ku::ENCIPHER_ONLY | ku::DECIPHER_ONLY) != 0 && bits & ku::KEY_AGREEMENT == 0 {
            return Err(CaError::param(
                ":key-usage encipherOnly/decipherOnly need keyAgreement beside them (RFC 5280 4.2.1.3)",
            ));
        }
        match self.refused_usages.iter().find(|(mask, _)| bits & mask != 0) {
            Some((mask, why)) if why.ends_with(": ") => {
                Err(CaError::param(format!("{why}{}", super::usage::key_usage_names(bits & mask))))
            }
            Some((_, why)) => Err(CaError::param(*why)),
            None => Ok(()),
        }
    }
}

/// A signature algorithm.
#[derive(Debug, PartialEq, Eq)]
pub struct SigDesc {
    pub oid: &'static [u8],
    pub params: Params,
    pub signing: Signing,
    pub family: KeyFamily,
    pub token: TokenSigning,
}

/// A signature algorithm, as signers and certificates carry it.
pub type SigAlg = &'static SigDesc;

pub static ECDSA_SHA256: SigDesc = SigDesc {
    oid: oid::ECDSA_SHA256,
    params: Params::Absent,
    signing: Signing::Prehash(Digest::Sha256),
    family: &EC,
    token: TokenSigning::EcdsaPrehashed,
};
pub static ECDSA_SHA384: SigDesc = SigDesc {
    oid: oid::ECDSA_SHA384,
    params: Params::Absent,
    signing: Signing::Prehash(Digest::Sha384),
    family: &EC,
    token: TokenSigning::EcdsaPrehashed,
};
pub static ECDSA_SHA512: SigDesc = SigDesc {
    oid: oid::ECDSA_SHA512,
    params: Params::Absent,
    signing: Signing::Prehash(Digest::Sha512),
    family: &EC,
    token: TokenSigning::EcdsaPrehashed,
};
pub static RSA_SHA256: SigDesc = SigDesc {
    oid: oid::RSA_SHA256,
    params: Params::Null,
    signing: Signing::Prehash(Digest::Sha256),
    family: &RSA,
    token: TokenSigning::Sha256RsaPkcs,
};
pub static RSA_SHA384: SigDesc = SigDesc {
    oid: oid::RSA_SHA384,
    params: Params::Null,
    signing: Signing::Prehash(Digest::Sha384),
    family: &RSA,
    token: TokenSigning::None,
};
pub static RSA_SHA512: SigDesc = SigDesc {
    oid: oid::RSA_SHA512,
    params: Params::Null,
    signing: Signing::Prehash(Digest::Sha512),
    family: &RSA,
    token: TokenSigning::None,
};
pub static SIG_ED25519: SigDesc =
    SigDesc { oid: oid::ED25519, params: Params::Absent, signing: Signing::Message, family: &ED25519, token: TokenSigning::EddsaPure };
pub static SIG_ED448: SigDesc =
    SigDesc { oid: oid::ED448, params: Params::Absent, signing: Signing::Message, family: &ED448, token: TokenSigning::None };
/// Pure ML-DSA with the empty context string, parameters absent (RFC 9881 §2-3).
pub static SIG_ML_DSA_44: SigDesc =
    SigDesc { oid: oid::ML_DSA_44, params: Params::Absent, signing: Signing::Message, family: &ML_DSA_44, token: TokenSigning::None };
pub static SIG_ML_DSA_65: SigDesc =
    SigDesc { oid: oid::ML_DSA_65, params: Params::Absent, signing: Signing::Message, family: &ML_DSA_65, token: TokenSigning::None };
pub static SIG_ML_DSA_87: SigDesc =
    SigDesc { oid: oid::ML_DSA_87, params: Params::Absent, signing: Signing::Message, family: &ML_DSA_87, token: TokenSigning::None };

/// Every signature algorithm we verify (in CSRs, certificates we load).
pub static SIG_ALGS: &[&SigDesc] = &[
    &ECDSA_SHA256,
    &ECDSA_SHA384,
    &ECDSA_SHA512,
    &RSA_SHA256,
    &RSA_SHA384,
    &RSA_SHA512,
    &SIG_ED25519,
    &SIG_ED448,
    &SIG_ML_DSA_44,
    &SIG_ML_DSA_65,
    &SIG_ML_DSA_87,
];

/// Algorithms we name only to refuse (SHA-1), with their parameters' form.
pub static REFUSED_SIG_ALGS: &[(&[u8], Params)] = &[(oid::ECDSA_SHA1, Params::Absent), (oid::RSA_SHA1, Params::Null)];

impl SigDesc {
    /// Appends the AlgorithmIdentifier DER.
    pub fn write_algorithm(&self, out: &mut Vec<u8>) {
        der::sequence(out, |o| {
            der::oid(o, self.oid);
            if self.params == Params::Null {
                der::null(o);
            }
        })
    }

    pub fn digest(&self) -> Option<Digest> {
        match self.signing {
            Signing::Prehash(d) => Some(d),
            Signing::Message => None,
        }
    }
}

/// How a key type's keys are made.
#[derive(Debug, PartialEq, Eq)]
pub enum Generation {
    /// On a prime curve: OpenSSL's curve, the curve's OID.
    Ec { nid: Nid, curve_oid: &'static [u8] },
    Rsa { bits: u32 },
    Ed25519,
    /// ML-DSA by OpenSSL's algorithm name; its public key's length in bytes (FIPS 204 Table 2).
    MlDsa { algorithm: &'static CStr, public_len: usize },
}

/// A key type a CA can generate.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyDesc {
    /// Names as the Janet API spells them, the canonical one first, then aliases.
    pub names: &'static [&'static str],
    pub family: KeyFamily,
    pub generation: Generation,
    /// What a key of this type signs with.
    pub sig: SigAlg,
    /// Key size in bits as OpenSSL reports it, where it picks the signature algorithm (EC).
    pub bits: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyType(pub &'static KeyDesc);

const fn ec(names: &'static [&'static str], nid: Nid, curve_oid: &'static [u8], sig: SigAlg, bits: u32) -> KeyDesc {
    KeyDesc { names, family: &EC, generation: Generation::Ec { nid, curve_oid }, sig, bits: Some(bits) }
}

const fn rsa(names: &'static [&'static str], bits: u32) -> KeyDesc {
    KeyDesc { names, family: &RSA, generation: Generation::Rsa { bits }, sig: &RSA_SHA256, bits: None }
}

/// Every key type, in the order errors list their names.
pub static KEY_TYPES: &[KeyDesc] = &[
    ec(&["ec-p256", "ec"], Nid::X9_62_PRIME256V1, oid::P256, &ECDSA_SHA256, 256),
    ec(&["ec-p384"], Nid::SECP384R1, oid::P384, &ECDSA_SHA384, 384),
    ec(&["ec-p521"], Nid::SECP521R1, oid::P521, &ECDSA_SHA512, 521),
    rsa(&["rsa-2048", "rsa"], 2048),
    rsa(&["rsa-3072"], 3072),
    rsa(&["rsa-4096"], 4096),
    KeyDesc { names: &["ed25519"], family: &ED25519, generation: Generation::Ed25519, sig: &SIG_ED25519, bits: None },
    ml_dsa(&["ml-dsa-44"], &ML_DSA_44, c"ML-DSA-44", 1312, &SIG_ML_DSA_44),
    ml_dsa(&["ml-dsa-65"], &ML_DSA_65, c"ML-DSA-65", 1952, &SIG_ML_DSA_65),
    ml_dsa(&["ml-dsa-87"], &ML_DSA_87, c"ML-DSA-87", 2592, &SIG_ML_DSA_87),
];

const fn ml_dsa(names: &'static [&'static str], family: KeyFamily, algorithm: &'static CStr, public_len: usize, sig: SigAlg) -> KeyDesc {
    KeyDesc { names, family, generation: Generation::MlDsa { algorithm, public_len }, sig, bits: None }
}

#[allow(non_upper_case_globals)]
impl KeyType {
    pub const EcP256: KeyType = KeyType(&KEY_TYPES[0]);
    pub const EcP384: KeyType = KeyType(&KEY_TYPES[1]);
    pub const EcP521: KeyType = KeyType(&KEY_TYPES[2]);
    pub const Rsa2048: KeyType = KeyType(&KEY_TYPES[3]);
    pub const Rsa3072: KeyType = KeyType(&KEY_TYPES[4]);
    pub const Rsa4096: KeyType = KeyType(&KEY_TYPES[5]);
    pub const Ed25519: KeyType = KeyType(&KEY_TYPES[6]);
    pub const MlDsa44: KeyType = KeyType(&KEY_TYPES[7]);
    pub const MlDsa65: KeyType = KeyType(&KEY_TYPES[8]);
    pub const MlDsa87: KeyType = KeyType(&KEY_TYPES[9]);

    pub fn from_name(name: &str) -> CaResult<KeyType> {
        KEY_TYPES.iter().find(|k| k.names.contains(&name)).map(KeyType).ok_or_else(|| {
            let valid: Vec<String> = KEY_TYPES.iter().flat_map(|k| k.names).map(|n| format!(":{n}")).collect();
            CaError::param(format!(":key-type {} is not a known key type; valid: {}", shown(name), valid.join(", ")))
        })
    }

    pub fn desc(self) -> &'static KeyDesc {
        self.0
    }

    pub fn family(self) -> KeyFamily {
        self.0.family
    }
}

/// The signature algorithm that fits `key`: the first key type of its family
/// (and, for EC, its size) names it.
pub fn sig_alg_for<T: HasPublic>(key: &PKeyRef<T>) -> CaResult<SigAlg> {
    let refused = || CaError::param("the CA key must be an EC (P-256/384/521), RSA, Ed25519 or ML-DSA key");
    let fam = family(key).ok_or_else(refused)?;
    let bits = key.bits();
    let mut of_family = KEY_TYPES.iter().filter(|k| k.family == fam).peekable();
    if of_family.peek().is_none() {
        return Err(refused());
    }
    match of_family.find(|k| k.bits.is_none_or(|b| b == bits)) {
        Some(k) => Ok(k.sig),
        None => Err(CaError::param(format!("{} keys of {bits} bits are not supported; use P-256, P-384 or P-521", fam.name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_type_signs_with_its_own_family() {
        for k in KEY_TYPES {
            assert_eq!(k.family, k.sig.family, "{:?}", k.names);
            // ML-DSA in a token needs PKCS#11 3.2, which SoftHSM2 (our test token) lacks.
            let in_tokens = !matches!(k.generation, Generation::MlDsa { .. });
            assert_eq!(k.sig.token != TokenSigning::None, in_tokens, "{:?} in a token", k.names);
        }
        let names: Vec<&str> = KEY_TYPES.iter().flat_map(|k| k.names.iter().copied()).collect();
        assert_eq!(
            names,
            ["ec-p256", "ec", "ec-p384", "ec-p521", "rsa-2048", "rsa", "rsa-3072", "rsa-4096", "ed25519", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87"]
        );
    }

    #[test]
    fn usages_refused_by_family() {
        assert!(EC.check_usage(ku::KEY_ENCIPHERMENT).is_err());
        assert!(EC.check_usage(ku::KEY_AGREEMENT).is_ok());
        assert!(RSA.check_usage(ku::KEY_AGREEMENT).is_err());
        assert!(ED25519.check_usage(ku::KEY_AGREEMENT).unwrap_err().message.contains("Ed25519 key"));
        assert!(ED448.check_usage(ku::KEY_ENCIPHERMENT).unwrap_err().message.contains("RFC 8410"));
        assert!(ED448.check_usage(ku::DIGITAL_SIGNATURE | ku::CRL_SIGN).is_ok());
        let e = ML_DSA_65.check_usage(ku::DIGITAL_SIGNATURE | ku::KEY_ENCIPHERMENT).unwrap_err();
        assert!(e.message.ends_with("(RFC 9881), not: keyEncipherment"), "{}", e.message);
        assert!(ML_DSA_87.check_usage(ku::DIGITAL_SIGNATURE | ku::NON_REPUDIATION | ku::KEY_CERT_SIGN | ku::CRL_SIGN).is_ok());
    }
}

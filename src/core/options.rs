//! The option structs of the authority's operations, one per call, each with
//! `Default`/constructors carrying the documented defaults, so that defaults
//! live in exactly one place. The binding fills them from Janet arguments.

use super::constraints::NameConstraints;
use super::general_names::GeneralName;
use super::algorithm::KeyType;
use super::names::Subject;
use super::revocation::Revocation;
use super::secret::Secret;
use super::serial::Serial;
use super::signer::pkcs11::KeyUri;
use super::usage::{ExtKeyUsage, KeyUsage};

/// Where relying parties find revocation data; stamped into issued certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointers {
    pub crl_urls: Vec<String>,
    pub ocsp_urls: Vec<String>,
    pub ca_issuers_urls: Vec<String>,
}

/// Per-call overrides of the CA's pointers (None = use the CA's).
#[derive(Debug, Clone, Default)]
pub struct PointerOverrides {
    pub crl_urls: Option<Vec<String>>,
    pub ocsp_urls: Option<Vec<String>>,
    pub ca_issuers_urls: Option<Vec<String>>,
}

/// Options shared by `ca/generate` and `ca/generate-intermediate`.
#[derive(Debug, Clone)]
pub struct CaOptions {
    pub subject: Subject,
    pub days_valid: u32,
    pub key_type: KeyType,
    pub serial: u64,
    pub track_issued: bool,
    pub path_length: Option<u32>,
    pub pointers: Pointers,
    pub name_constraints: Option<NameConstraints>,
    pub policies: Vec<Vec<u8>>,
    pub restore: RestoreState,
    /// End at the issuer's notAfter instead of refusing a longer validity.
    pub truncate_to_issuer: bool,
    /// Generate the CA's key in this PKCS#11 token (`:key "pkcs11:..."`)
    /// instead of in memory.
    pub token: Option<KeyUri>,
}

/// State carried across a restart (beyond the contract: revocations and CRL number).
#[derive(Debug, Clone, Default)]
pub struct RestoreState {
    pub revoked: Vec<Revocation>,
    pub crl_number: Option<u64>,
    /// DER of certificates this CA issued before (`ca/create` `:issued`):
    /// their serials are used, and a store the CA is saved into indexes them.
    pub issued: Vec<Vec<u8>>,
}

impl CaOptions {
    pub fn root() -> Self {
        CaOptions {
            subject: Subject::default(),
            days_valid: 3650,
            key_type: KeyType::EcP256,
            serial: 1,
            track_issued: false,
            path_length: None,
            pointers: Pointers::default(),
            name_constraints: None,
            policies: Vec::new(),
            restore: RestoreState::default(),
            truncate_to_issuer: false,
            token: None,
        }
    }
    pub fn intermediate() -> Self {
        CaOptions { days_valid: 1825, path_length: Some(0), ..CaOptions::root() }
    }
}

/// Options of `ca/create`.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub serial: u64,
    pub track_issued: bool,
    pub password: Option<Secret>,
    pub pointers: Pointers,
    pub restore: RestoreState,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { serial: 1, track_issued: false, password: None, pointers: Pointers::default(), restore: RestoreState::default() }
    }
}

/// Options of `ca/issue`.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    pub subject: Subject,
    pub san: Vec<GeneralName>,
    pub days_valid: u32,
    pub key_type: KeyType,
    pub key_usage: Option<KeyUsage>,
    pub ext_key_usage: Option<ExtKeyUsage>,
    pub pointers: PointerOverrides,
    pub must_staple: bool,
    pub policies: Vec<Vec<u8>>,
    pub truncate_to_issuer: bool,
}

impl Default for IssueOptions {
    fn default() -> Self {
        IssueOptions {
            subject: Subject::default(),
            san: Vec::new(),
            days_valid: 365,
            key_type: KeyType::EcP256,
            key_usage: None,
            ext_key_usage: None,
            pointers: PointerOverrides::default(),
            must_staple: false,
            policies: Vec::new(),
            truncate_to_issuer: false,
        }
    }
}

/// `:basic-constraints` of `ca/sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BasicConstraints {
    pub ca: bool,
    pub path_len: Option<u32>,
}

/// Options of `ca/sign` (`:sign-csr`).
#[derive(Debug, Clone)]
pub struct SignOptions {
    pub days_valid: u32,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub serial: Option<Serial>,
    pub copy_extensions: bool,
    pub key_usage: Option<KeyUsage>,
    pub ext_key_usage: Option<ExtKeyUsage>,
    pub san: Option<Vec<GeneralName>>,
    pub basic_constraints: BasicConstraints,
    pub pointers: PointerOverrides,
    pub must_staple: bool,
    pub policies: Vec<Vec<u8>>,
    pub truncate_to_issuer: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            days_valid: 365,
            not_before: None,
            not_after: None,
            serial: None,
            copy_extensions: false,
            key_usage: None,
            ext_key_usage: None,
            san: None,
            basic_constraints: BasicConstraints::default(),
            pointers: PointerOverrides::default(),
            must_staple: false,
            policies: Vec::new(),
            truncate_to_issuer: false,
        }
    }
}


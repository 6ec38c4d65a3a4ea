//! The option structs of the authority's operations, one per call, each with
//! `Default`/constructors carrying the documented defaults, so that defaults
//! live in exactly one place. The binding fills them from Janet arguments.

use super::constraints::NameConstraints;
use super::general_names::GeneralName;
use super::algorithm::KeyType;
use super::names::{Attr, Subject};
use super::revocation::{Reason, Revocation};
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
    /// A root: CN "Root CA", ten years, EC P-256, serials from 1.
    pub fn root() -> Self {
        CaOptions {
            subject: Subject { attrs: vec![(Attr::CommonName, "Root CA".to_string())] },
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
    /// An intermediate: CN "Intermediate CA", five years, pathlen 0.
    pub fn intermediate() -> Self {
        CaOptions {
            subject: Subject { attrs: vec![(Attr::CommonName, "Intermediate CA".to_string())] },
            days_valid: 1825,
            path_length: Some(0),
            ..CaOptions::root()
        }
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


/// Options of `ca/crl`.
#[derive(Debug, Clone, Default)]
pub struct CrlOptions {
    /// Next update this many days after this update (None:
    /// [`CrlOptions::DEFAULT_DAYS_VALID`]); exclusive with `next_update`.
    pub days_valid: Option<u32>,
    /// Explicit next update (Unix seconds); exclusive with `days_valid`.
    pub next_update: Option<i64>,
    /// Entries listed in addition to the CA's own revocations.
    pub extra: Vec<Revocation>,
}

impl CrlOptions {
    /// Days from this update to the next one when neither is given.
    pub const DEFAULT_DAYS_VALID: u32 = 30;
}

/// Options of `ca/create-ocsp-response` (the response times' defaults are
/// `ocsp::ResponseTimes::new`'s).
#[derive(Debug, Clone)]
pub struct OcspResponseOptions {
    /// For `:revoked` answers that name no time; None: now.
    pub revocation_time: Option<i64>,
    /// For `:revoked` answers that name no reason; None: no reason.
    pub revocation_reason: Option<Reason>,
    pub this_update: Option<i64>,
    pub next_update: Option<i64>,
    /// Echo the request's nonce.
    pub include_nonce: bool,
}

impl Default for OcspResponseOptions {
    fn default() -> Self {
        OcspResponseOptions { revocation_time: None, revocation_reason: None, this_update: None, next_update: None, include_nonce: true }
    }
}

/// How to open a store (`ca/open-store`).
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long a call waits for another process's write lock (ms).
    pub busy_timeout_ms: u32,
    /// Answer from the store without ever writing to it (an OCSP responder).
    pub read_only: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { busy_timeout_ms: 5000, read_only: false }
    }
}

/// Which issued certificates a store's `find` returns (`ca/store-find`).
#[derive(Debug, Clone)]
pub struct Filter {
    pub serial: Option<Serial>,
    /// Serials after this one only: pages that cost the same wherever they start.
    pub after: Option<Serial>,
    /// Case-insensitive substring of the subject ("CN=www.example.com, O=...").
    pub subject: Option<String>,
    /// Case-insensitive substring of any SAN entry ("DNS:www.example.com").
    pub san: Option<String>,
    pub status: Option<StatusFilter>,
    /// notAfter before this time (Unix seconds).
    pub expires_before: Option<i64>,
    /// notAfter at or after this time.
    pub expires_after: Option<i64>,
    pub limit: u32,
    pub offset: u64,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            serial: None,
            after: None,
            subject: None,
            san: None,
            status: None,
            expires_before: None,
            expires_after: None,
            limit: 100,
            offset: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Good,
    Revoked,
}

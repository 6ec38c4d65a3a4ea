//! Stores: state that outlives a process and is shared between processes.
//! One store holds any number of CAs, each with its certificate and key
//! (encrypted when a password is given), serial counter, index of issued
//! certificates, revocations and CRL number.
//!
//! A CA loaded from a store (or saved into one) writes through: its
//! [`CaState`] is the store's, so every change is committed before the call
//! that made it returns, and what other processes commit is seen at once.
//! The engine is chosen by the location: a file path is an SQLite store (the
//! embedded default), a `postgresql://` URL a PostgreSQL one that several
//! hosts share.

mod filter_sql;
pub mod postgres;
pub mod sqlite;

use super::options::Pointers;
pub use super::options::{Filter, OpenOptions, StatusFilter};
use super::error::{CaError, CaResult};
use super::error::shown;
use super::secret::Secret;
use super::serial::Serial;
use super::state::{CaState, Snapshot};

/// A CA as a store keeps it, apart from its state.
pub struct CaRecord {
    pub cert_der: Vec<u8>,
    /// PKCS#8 PEM, encrypted (PBES2) when the CA was saved with a password.
    pub key_pem: Secret,
    pub key_encrypted: bool,
    pub pointers: Pointers,
}

/// One row of the issued index.
#[derive(Debug, Clone)]
pub struct IssuedRow {
    pub serial: Serial,
    pub subject: String,
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub der: Vec<u8>,
    pub revoked: Option<super::revocation::Revocation>,
}

/// A store engine. Issuance never sees it: a loaded CA talks to its
/// [`CaState`] only.
pub trait Engine {
    /// Saves a CA under `name` (a new name) with its state; returns the
    /// state that now lives in the store.
    fn save(&mut self, name: &str, record: &CaRecord, state: Snapshot) -> CaResult<Box<dyn CaState>>;
    /// The CA saved under `name` and its live state.
    fn load(&mut self, name: &str) -> CaResult<(CaRecord, Box<dyn CaState>)>;
    /// Names of the CAs in the store.
    fn names(&mut self) -> CaResult<Vec<String>>;
    /// Issued certificates of the CA `name` matching `filter`, by serial.
    fn find(&mut self, name: &str, filter: &Filter) -> CaResult<Vec<IssuedRow>>;
    /// Where the store is, for messages.
    fn location(&self) -> &str;
}

/// Opens the store at `location`: a `postgresql://` (or `postgres://`) URL
/// or a libpq connection string (`host=db1 dbname=ca`) is a PostgreSQL
/// store, anything else a file path (SQLite).
pub fn open(location: &str, opts: &OpenOptions) -> CaResult<Box<dyn Engine>> {
    if location.is_empty() {
        return Err(CaError::param("the store location must not be empty"));
    }
    if postgres::is_location(location) {
        return Ok(Box::new(postgres::PgStore::open(location, opts)?));
    }
    if location.contains("://") {
        return Err(CaError::param(format!(
            "store location {}: a store is a file path (SQLite) or a postgresql:// URL",
            shown(&postgres::redact(location))
        )));
    }
    Ok(Box::new(sqlite::SqliteStore::open(location, opts)?))
}

/// A CA name in a store: printable, non-empty, short.
pub fn check_name(name: &str) -> CaResult<()> {
    if name.is_empty() || name.len() > 200 || name.chars().any(|c| c.is_control()) {
        return Err(CaError::param(format!(
            "a CA name in a store is 1 to 200 characters without control characters, got {}",
            shown(name)
        )));
    }
    Ok(())
}

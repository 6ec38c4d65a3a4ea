//! ACME state (the SA): accounts, orders, authorizations, certificates and
//! nonces, in the CA's own store beside the CA's tables, so several
//! `acme-serve` processes (on several hosts, with PostgreSQL) share them. One
//! generic table of JSON objects with a version for compare-and-swap: every
//! state change is a conditional write, so two processes (or a retry after a
//! crash) never both move an object out of the same state. A set of writes is
//! one transaction. Engines: [`sqlite`] (a store file), [`postgres`] (a
//! store database), [`memory`] (this process only); [`open`] chooses by the
//! location, as the CA's store does.
mod memory;
mod postgres;
mod sqlite;

use serde_json::Value;

use crate::core::error::{CaError, CaResult};
use crate::core::error::shown;
use crate::core::store::postgres as pg_store;

pub use memory::MemoryAcme;
pub use postgres::PgAcme;
pub use sqlite::SqliteAcme;

/// One stored object.
#[derive(Debug, Clone)]
pub struct Object {
    pub id: String,
    pub account: String,
    pub created: i64,
    pub version: i64,
    pub data: Value,
}

/// One write of a transaction.
#[derive(Debug, Clone)]
pub enum Op {
    /// Fails the transaction if (kind, id) exists.
    Insert { kind: &'static str, id: String, account: String, data: Value },
    /// Fails the transaction unless the object is at `version`.
    Update { kind: &'static str, id: String, version: i64, data: Value },
    Delete { kind: &'static str, id: String },
}

pub trait AcmeStore {
    fn nonce_put(&mut self, nonce: &str, now: i64) -> CaResult<()>;
    /// Consumes `nonce` if it exists and was made at or after `not_before`;
    /// true when this call consumed it (so exactly one request can).
    fn nonce_take(&mut self, nonce: &str, not_before: i64) -> CaResult<bool>;
    fn get(&mut self, kind: &str, id: &str) -> CaResult<Option<Object>>;
    /// Applies `ops` in one transaction; false (and nothing written) when an
    /// insert found its key taken or an update found another version.
    fn apply(&mut self, ops: &[Op], now: i64) -> CaResult<bool>;
    /// How many objects of `kind` (of `account`, or all when empty) were created since `since`.
    fn count_since(&mut self, kind: &str, account: &str, since: i64) -> CaResult<u64>;
    /// Objects of `kind` of `account`, oldest first, at most `limit`.
    fn list(&mut self, kind: &str, account: &str, limit: u32) -> CaResult<Vec<Object>>;
}


/// Opens the ACME tables of the jsec-ca store at `location`, choosing the
/// engine as the CA's store does (`crate::core::store::open`): a
/// `postgresql://` URL or libpq connection string is PostgreSQL, another
/// `scheme://` is refused, anything else is an SQLite file (which must hold a
/// jsec-ca store already); `":memory:"` keeps the state in this process.
/// `busy_timeout_ms`: how long a write waits for another process's lock.
pub fn open(location: &str, busy_timeout_ms: u32) -> CaResult<Box<dyn AcmeStore>> {
    if location.is_empty() {
        return Err(CaError::param("the store location must not be empty"));
    }
    if location == ":memory:" {
        return Ok(Box::new(MemoryAcme::default()));
    }
    if pg_store::is_location(location) {
        return Ok(Box::new(PgAcme::open(location, busy_timeout_ms)?));
    }
    if location.contains("://") {
        return Err(CaError::param(format!(
            "store location {}: a store is a file path (SQLite) or a postgresql:// URL",
            shown(&pg_store::redact(location))
        )));
    }
    Ok(Box::new(SqliteAcme::open(location, busy_timeout_ms)?))
}

//! The ACME tables in an SQLite store file, beside the CA's: one connection,
//! `BEGIN IMMEDIATE` transactions (the file's write lock serializes writers
//! of every process; readers wait at most the busy timeout).
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{AcmeStore, Object, Op};
use crate::core::error::{CaError, CaResult};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS acme_object (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    account TEXT NOT NULL,
    created INTEGER NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS acme_object_account ON acme_object (kind, account, created);
CREATE TABLE IF NOT EXISTS acme_nonce (
    nonce TEXT PRIMARY KEY,
    created INTEGER NOT NULL
);
";

/// PRAGMA application_id of a jsec-ca store (see `store::sqlite`).
const JSEC_STORE_ID: i64 = 0x4a53_4341;

pub struct SqliteAcme {
    location: String,
    conn: Connection,
}

fn db<'a>(location: &'a str, doing: &str) -> impl Fn(rusqlite::Error) -> CaError + 'a {
    let doing = doing.to_string();
    move |e| CaError::resource(format!("store {location}: {doing}: {e}"))
}

impl SqliteAcme {
    /// Opens the ACME tables of the jsec-ca store at `location` (which must
    /// exist: the CA is saved there first), creating them when missing.
    pub fn open(location: &str, busy_timeout_ms: u32) -> CaResult<SqliteAcme> {
        let conn = Connection::open_with_flags(location, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(db(location, "opening"))?;
        conn.busy_timeout(Duration::from_millis(u64::from(busy_timeout_ms))).map_err(db(location, "configuring"))?;
        let app: i64 = conn
            .query_row("SELECT * FROM pragma_application_id", [], |r| r.get(0))
            .map_err(db(location, "reading the schema"))?;
        if app != JSEC_STORE_ID {
            return Err(CaError::config(format!(
                "store {location}: not a jsec-ca store; save the CA there first (ca/store-save or jsec-ca init --store)"
            )));
        }
        conn.execute_batch(&format!("PRAGMA synchronous=FULL; BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
            .map_err(db(location, "creating the ACME tables"))?;
        Ok(SqliteAcme { location: location.to_string(), conn })
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn object(location: &str, (id, account, created, version, data): (String, String, i64, i64, String)) -> CaResult<Object> {
    let data = serde_json::from_str(&data)
        .map_err(|_| CaError::parse(format!("store {location}: an ACME object is not JSON")))?;
    Ok(Object { id, account, created, version, data })
}

impl AcmeStore for SqliteAcme {
    fn nonce_put(&mut self, nonce: &str, now: i64) -> CaResult<()> {
        self.conn
            .prepare_cached("INSERT INTO acme_nonce (nonce, created) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![nonce, now]))
            .map_err(db(&self.location, "storing a nonce"))?;
        // Expired nonces go now and then (1 in 64 calls), bounded.
        if nonce.as_bytes().first().is_some_and(|b| b % 64 == 0) {
            self.conn
                .execute("DELETE FROM acme_nonce WHERE created < ?1", params![now - 86400])
                .map_err(db(&self.location, "expiring nonces"))?;
        }
        Ok(())
    }

    fn nonce_take(&mut self, nonce: &str, not_before: i64) -> CaResult<bool> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM acme_nonce WHERE nonce = ?1 AND created >= ?2")
            .and_then(|mut s| s.execute(params![nonce, not_before]))
            .map_err(db(&self.location, "consuming a nonce"))?;
        Ok(n == 1)
    }

    fn get(&mut self, kind: &str, id: &str) -> CaResult<Option<Object>> {
        let r = self
            .conn
            .prepare_cached("SELECT id, account, created, version, data FROM acme_object WHERE kind = ?1 AND id = ?2")
            .and_then(|mut s| s.query_row(params![kind, id], row).optional())
            .map_err(db(&self.location, "reading an ACME object"))?;
        r.map(|r| object(&self.location, r)).transpose()
    }

    fn apply(&mut self, ops: &[Op], now: i64) -> CaResult<bool> {
        let location = self.location.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db(&location, "starting a transaction"))?;
        for op in ops {
            let changed = match op {
                Op::Insert { kind, id, account, data } => tx
                    .execute(
                        "INSERT OR IGNORE INTO acme_object (kind, id, account, created, version, data) VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                        params![kind, id, account, now, data.to_string()],
                    )
                    .map_err(db(&location, "writing an ACME object"))?,
                Op::Update { kind, id, version, data } => tx
                    .execute(
                        "UPDATE acme_object SET version = version + 1, data = ?4 WHERE kind = ?1 AND id = ?2 AND version = ?3",
                        params![kind, id, version, data.to_string()],
                    )
                    .map_err(db(&location, "updating an ACME object"))?,
                Op::Delete { kind, id } => tx
                    .execute("DELETE FROM acme_object WHERE kind = ?1 AND id = ?2", params![kind, id])
                    .map_err(db(&location, "deleting an ACME object"))?,
            };
            if changed != 1 {
                // Dropping the transaction rolls it back.
                return Ok(false);
            }
        }
        tx.commit().map_err(db(&location, "committing"))?;
        Ok(true)
    }

    fn count_since(&mut self, kind: &str, account: &str, since: i64) -> CaResult<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM acme_object WHERE kind = ?1 AND (?2 = '' OR account = ?2) AND created >= ?3",
            )
            .and_then(|mut s| s.query_row(params![kind, account, since], |r| r.get(0)))
            .map_err(db(&self.location, "counting"))?;
        Ok(n as u64)
    }

    fn list(&mut self, kind: &str, account: &str, limit: u32) -> CaResult<Vec<Object>> {
        let rows: Vec<_> = self
            .conn
            .prepare_cached(
                "SELECT id, account, created, version, data FROM acme_object WHERE kind = ?1 AND account = ?2 ORDER BY created LIMIT ?3",
            )
            .and_then(|mut s| s.query_map(params![kind, account, limit], row)?.collect::<Result<Vec<_>, _>>())
            .map_err(db(&self.location, "listing"))?;
        rows.into_iter().map(|r| object(&self.location, r)).collect()
    }
}


//! The ACME tables in a PostgreSQL store, beside the CA's in the schema
//! `jsec_ca`, on the store's own connection layer
//! (`crate::core::store::postgres::conn`: TLS, passwords, a connection that
//! reopens after it was lost, a lost COMMIT reply reported as an unknown
//! outcome, never repeated). Several `acme-serve` processes on several hosts
//! share them: every `apply` is one READ COMMITTED transaction whose
//! conditional writes take row locks (an UPDATE that waited for another's
//! commit re-reads the row and finds the new version: no change, `false`);
//! a nonce is consumed by one `DELETE`, which exactly one session can do.
//!
//! The tables are created when first opened, by one process at a time (the
//! schema's advisory lock: `CREATE TABLE IF NOT EXISTS` alone is not safe
//! against a concurrent creator); they are not part of the CA schema's
//! version, so a store holding them still opens with a jsec-ca that knows
//! nothing of ACME.
use std::sync::Arc;

use postgres::Row;

use super::{AcmeStore, Object, Op};
use crate::core::error::{CaError, CaResult};
use crate::core::options::OpenOptions;
use crate::core::store::postgres::conn::{Conn, Fail, Target};
use crate::core::store::postgres::schema::{self, SCHEMA_LOCK};

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS jsec_ca.acme_object (
    kind text NOT NULL,
    id text NOT NULL,
    account text NOT NULL,
    created bigint NOT NULL,
    version bigint NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS acme_object_account ON jsec_ca.acme_object (kind, account, created);
CREATE TABLE IF NOT EXISTS jsec_ca.acme_nonce (
    nonce text PRIMARY KEY,
    created bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS acme_nonce_created ON jsec_ca.acme_nonce (created);
";
const EXISTS: &str = "SELECT to_regclass('jsec_ca.acme_object') IS NOT NULL AND to_regclass('jsec_ca.acme_nonce') IS NOT NULL";
/// Safe to repeat after a lost reply: a nonce is 128 random bits.
const NONCE_PUT: &str = "INSERT INTO jsec_ca.acme_nonce (nonce, created) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const NONCE_EXPIRE: &str = "DELETE FROM jsec_ca.acme_nonce WHERE created < $1";
/// One statement: of sessions taking one nonce at once, one deletes the row,
/// the others wait for its commit and find nothing. Repeated after a lost
/// reply it finds nothing either: the request is refused (badNonce), never
/// let through twice.
const NONCE_TAKE: &str = "DELETE FROM jsec_ca.acme_nonce WHERE nonce = $1 AND created >= $2";
const GET: &str = "SELECT id, account, created, version, data FROM jsec_ca.acme_object WHERE kind = $1 AND id = $2";
const INSERT: &str = "INSERT INTO jsec_ca.acme_object (kind, id, account, created, version, data)
    VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT DO NOTHING";
const UPDATE: &str = "UPDATE jsec_ca.acme_object SET version = version + 1, data = $4
    WHERE kind = $1 AND id = $2 AND version = $3";
const DELETE: &str = "DELETE FROM jsec_ca.acme_object WHERE kind = $1 AND id = $2";
const COUNT: &str = "SELECT count(*) FROM jsec_ca.acme_object
    WHERE kind = $1 AND ($2 = '' OR account = $2) AND created >= $3";
const LIST: &str = "SELECT id, account, created, version, data FROM jsec_ca.acme_object
    WHERE kind = $1 AND account = $2 ORDER BY created, id LIMIT $3";

pub struct PgAcme {
    conn: Conn,
}

impl PgAcme {
    /// Opens the ACME tables of the PostgreSQL store at `location` (a
    /// `postgresql://` URL or libpq connection string, as the CA's store
    /// takes it), creating the store's schema and the tables when missing.
    pub fn open(location: &str, busy_timeout_ms: u32) -> CaResult<PgAcme> {
        let opts = OpenOptions { busy_timeout_ms, read_only: false };
        let mut conn = Conn::new(Arc::new(Target::parse(location, &opts)?));
        schema::ensure(&mut conn)?;
        let exists: bool = conn.run("opening the ACME tables", |l| Ok(l.query_one(EXISTS, &[])?.try_get(0)?))?;
        if !exists {
            conn.tx("creating the ACME tables", |l| {
                l.batch(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))?;
                l.batch(TABLES)?;
                Ok(())
            })?;
        }
        Ok(PgAcme { conn })
    }
}

fn object(r: &Row) -> Result<Object, Fail> {
    let data: String = r.try_get(4)?;
    let data = serde_json::from_str(&data).map_err(|_| CaError::parse("an ACME object in the store is not JSON"))?;
    Ok(Object { id: r.try_get(0)?, account: r.try_get(1)?, created: r.try_get(2)?, version: r.try_get(3)?, data })
}

impl AcmeStore for PgAcme {
    fn nonce_put(&mut self, nonce: &str, now: i64) -> CaResult<()> {
        self.conn.run("storing a nonce", |l| {
            l.execute(NONCE_PUT, &[&nonce, &now])?;
            Ok(())
        })?;
        // Expired nonces go now and then (1 in 64 calls), bounded.
        if nonce.as_bytes().first().is_some_and(|b| b % 64 == 0) {
            let before = now - 86400;
            self.conn.run("expiring nonces", |l| {
                l.execute(NONCE_EXPIRE, &[&before])?;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn nonce_take(&mut self, nonce: &str, not_before: i64) -> CaResult<bool> {
        let n = self.conn.run("consuming a nonce", |l| Ok(l.execute(NONCE_TAKE, &[&nonce, &not_before])?))?;
        Ok(n == 1)
    }

    fn get(&mut self, kind: &str, id: &str) -> CaResult<Option<Object>> {
        self.conn.run("reading an ACME object", |l| match l.query_opt(GET, &[&kind, &id])? {
            Some(r) => Ok(Some(object(&r)?)),
            None => Ok(None),
        })
    }

    fn apply(&mut self, ops: &[Op], now: i64) -> CaResult<bool> {
        let texts: Vec<Option<String>> = ops
            .iter()
            .map(|op| match op {
                Op::Insert { data, .. } | Op::Update { data, .. } => Some(data.to_string()),
                Op::Delete { .. } => None,
            })
            .collect();
        self.conn.tx_decide("writing ACME state", |l| {
            for (op, text) in ops.iter().zip(&texts) {
                let text = text.as_deref().unwrap_or("");
                let changed = match op {
                    Op::Insert { kind, id, account, .. } => l.execute(INSERT, &[kind, id, account, &now, &text])?,
                    Op::Update { kind, id, version, .. } => l.execute(UPDATE, &[kind, id, version, &text])?,
                    Op::Delete { kind, id } => l.execute(DELETE, &[kind, id])?,
                };
                if changed != 1 {
                    return Ok((false, false));
                }
            }
            Ok((true, true))
        })
    }

    fn count_since(&mut self, kind: &str, account: &str, since: i64) -> CaResult<u64> {
        let n: i64 = self.conn.run("counting", |l| Ok(l.query_one(COUNT, &[&kind, &account, &since])?.try_get(0)?))?;
        Ok(n.max(0) as u64)
    }

    fn list(&mut self, kind: &str, account: &str, limit: u32) -> CaResult<Vec<Object>> {
        let limit = i64::from(limit);
        self.conn.run("listing", |l| {
            let rows = l.query(LIST, &[&kind, &account, &limit])?;
            rows.iter().map(object).collect()
        })
    }
}

//! The PostgreSQL store's schema, in the schema (namespace) `jsec_ca` of the
//! database the URL names, and its versioned migrations: `schema_version`
//! has a row per migration applied; a store whose version is newer than
//! this build knows is refused, an older one is migrated on open (by one
//! process at a time: an advisory lock).

use super::super::super::error::{CaError, CaResult};
use super::conn::{Conn, Fail};

/// The schema version this build writes and reads.
pub const VERSION: i32 = 1;

/// The advisory lock (transaction-scoped) that serializes changes to the
/// schema: migrations here, the ACME tables (`acme::store::postgres`).
pub const SCHEMA_LOCK: i64 = 1246970689;

/// `MIGRATIONS[v]` takes a store from version `v` to `v + 1`.
const MIGRATIONS: &[&str] = &[V1];

/// Each CA's serial counter is a sequence of its own, jsec_ca.serial_<id>
/// (CACHE 1, at most 2^63-2): nextval never hands one value out twice and
/// holds no lock, so issuing processes do not wait for each other's commits;
/// a reservation's commit makes its value durable (the sequence's WAL comes
/// before it). The index tables carry no foreign keys: CAs are never
/// deleted, and a key check would lock the CA row on every insert.
const V1: &str = "
CREATE TABLE jsec_ca.ca (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    cert bytea NOT NULL,
    key_pem text NOT NULL,
    key_encrypted boolean NOT NULL,
    -- serials below this count as used (and possibly issued before the store)
    history_below bigint NOT NULL,
    crl_number bigint NOT NULL,
    crl_number_from_clock boolean NOT NULL,
    crl_urls text NOT NULL,
    ocsp_urls text NOT NULL,
    ca_issuers_urls text NOT NULL,
    -- bumped by every transaction that changes this CA's revocations (which
    -- hold this row's lock, as CRL numbering does): a reader's copy is
    -- current while it matches
    revocation_version bigint NOT NULL DEFAULT 0
);
-- pending: reserved, not (yet) recorded; never handed out, never reused.
CREATE TABLE jsec_ca.issued (
    ca bigint NOT NULL,
    serial numeric NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    pending boolean NOT NULL,
    subject text,
    sans text,
    not_before bigint,
    not_after bigint,
    der bytea,
    PRIMARY KEY (ca, serial)
);
CREATE INDEX issued_not_after ON jsec_ca.issued (ca, not_after);
-- seq order is revocation order
CREATE TABLE jsec_ca.revoked (
    ca bigint NOT NULL,
    serial numeric NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    reason smallint NOT NULL,
    date bigint NOT NULL,
    PRIMARY KEY (ca, serial)
);
";

/// Where the schema stands in this database.
enum Found {
    Nothing,
    /// A `jsec_ca` namespace without a version table: not ours.
    Foreign,
    At(i32),
}

fn found(conn: &mut Conn) -> CaResult<Found> {
    conn.run("opening the store", |l| {
        let row = l.query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'jsec_ca'),
                    to_regclass('jsec_ca.schema_version') IS NOT NULL",
            &[],
        )?;
        let (schema, table): (bool, bool) = (row.try_get(0)?, row.try_get(1)?);
        Ok(match (schema, table) {
            (false, _) => Found::Nothing,
            (true, false) => Found::Foreign,
            (true, true) => {
                let v: Option<i32> = l.query_one("SELECT max(version) FROM jsec_ca.schema_version", &[])?.try_get(0)?;
                Found::At(v.unwrap_or(0))
            }
        })
    })
}

/// Checks the schema, creating or migrating it when the store may be written.
pub fn ensure(conn: &mut Conn) -> CaResult<()> {
    let location = conn.target().location().to_string();
    let read_only = conn.target().read_only;
    let newer = |v: i32| {
        CaError::config(format!(
            "store {location}: schema version {v} is newer than this jsec-ca knows ({VERSION}); upgrade jsec-ca"
        ))
    };
    match found(conn)? {
        Found::At(v) if v == VERSION => return Ok(()),
        Found::At(v) if v > VERSION => return Err(newer(v)),
        Found::Foreign => {
            return Err(CaError::parse(format!(
                "store {location}: the database has a schema jsec_ca without a schema_version table: not a jsec-ca store"
            )))
        }
        Found::At(v) if read_only => {
            return Err(CaError::config(format!(
                "store {location}: schema version {v} is older than this jsec-ca's ({VERSION}) and the store is opened \
                 read-only; open it once read-write to migrate it"
            )))
        }
        Found::Nothing if read_only => {
            return Err(CaError::config(format!(
                "store {location}: the database holds no jsec-ca store and is opened read-only"
            )))
        }
        _ => {}
    }
    conn.tx("migrating the schema", |l| {
        // one migrating process at a time; the others find it done
        l.batch(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))?;
        l.batch(
            "CREATE SCHEMA IF NOT EXISTS jsec_ca;
             CREATE TABLE IF NOT EXISTS jsec_ca.schema_version (
                 version integer PRIMARY KEY,
                 applied timestamptz NOT NULL DEFAULT now())",
        )?;
        let v: Option<i32> = l.query_one("SELECT max(version) FROM jsec_ca.schema_version", &[])?.try_get(0)?;
        let mut v = v.unwrap_or(0);
        if v > VERSION {
            return Err(Fail::Ca(newer(v)));
        }
        while v < VERSION {
            let Some(step) = usize::try_from(v).ok().and_then(|i| MIGRATIONS.get(i)) else {
                return Err(Fail::Ca(CaError::parse(format!("store {location}: unknown schema version {v}"))));
            };
            l.batch(step)?;
            v += 1;
            l.execute("INSERT INTO jsec_ca.schema_version (version) VALUES ($1)", &[&v])?;
        }
        Ok(())
    })
}

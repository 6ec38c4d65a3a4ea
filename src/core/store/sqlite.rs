//! The SQLite engine: one file, WAL journal (readers never wait for the
//! writer), `synchronous=FULL` (a commit is on disk when it returns), a busy
//! timeout for the write lock other processes hold. Serials are reserved
//! with `BEGIN IMMEDIATE`, so two processes can never take the same one.

use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::super::options::Pointers;
use super::super::cert_info::CertInfo;
use super::super::error::{CaError, CaResult};
use super::super::revocation::{self, Change, Reason, Revocation, RevocationList, REASON_NAMES};
use super::super::secret::Secret;
use super::super::serial::Serial;
use super::super::state::{self, check_counter, check_explicit, counter_after_explicit, counter_serial, CaState, IssuedMeta, SerialStatus, Snapshot};
use super::super::time;
use super::filter_sql::{self, Bound, Dialect};
use super::{check_name, CaRecord, Engine, Filter, IssuedRow, OpenOptions};

/// PRAGMA application_id of a jsec-ca store ("JSCA").
const APPLICATION_ID: i64 = 0x4a53_4341;
/// The schema version this build writes and reads (PRAGMA user_version).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE ca (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    cert BLOB NOT NULL,
    key_pem TEXT NOT NULL,
    key_encrypted INTEGER NOT NULL,
    next_serial INTEGER NOT NULL,
    -- serials below this count as used (and possibly issued before the store)
    history_below INTEGER NOT NULL,
    crl_number INTEGER NOT NULL,
    crl_number_from_clock INTEGER NOT NULL,
    crl_urls TEXT NOT NULL,
    ocsp_urls TEXT NOT NULL,
    ca_issuers_urls TEXT NOT NULL
);
-- serial: INTEGER when it fits 63 bits, else the big-endian BLOB.
-- pending: reserved, not (yet) recorded; never handed out, never reused.
CREATE TABLE issued (
    ca INTEGER NOT NULL REFERENCES ca(id),
    serial NOT NULL,
    pending INTEGER NOT NULL,
    subject TEXT,
    sans TEXT,
    not_before INTEGER,
    not_after INTEGER,
    der BLOB,
    PRIMARY KEY (ca, serial)
);
CREATE INDEX issued_not_after ON issued (ca, not_after);
-- rowid order is revocation order
CREATE TABLE revoked (
    ca INTEGER NOT NULL REFERENCES ca(id),
    serial NOT NULL,
    reason INTEGER NOT NULL,
    date INTEGER NOT NULL,
    PRIMARY KEY (ca, serial)
);
";

/// A store error, with the store's location and what was being done.
fn db_error(location: &str, doing: &str, e: rusqlite::Error) -> CaError {
    let code = e.sqlite_error_code();
    let m = match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            return CaError::resource(format!(
                "store {location}: {doing}: the store is locked by another process past the busy timeout; try again"
            ))
        }
        Some(ErrorCode::NotADatabase) => {
            return CaError::parse(format!("store {location}: not a jsec-ca store (the file is not an SQLite database)"))
        }
        Some(ErrorCode::DatabaseCorrupt) => return CaError::parse(format!("store {location}: the store file is corrupt")),
        Some(ErrorCode::ReadOnly) => {
            return CaError::config(format!("store {location}: {doing}: the store is read-only"))
        }
        Some(ErrorCode::CannotOpen) => return CaError::resource(format!("store {location}: cannot open the file")),
        Some(ErrorCode::DiskFull) => return CaError::resource(format!("store {location}: {doing}: the disk is full")),
        _ => e.to_string(),
    };
    CaError::resource(format!("store {location}: {doing}: {m}"))
}

fn serial_value(s: &Serial) -> Value {
    match s.to_i64() {
        Some(n) => Value::Integer(n),
        None => Value::Blob(s.as_bytes().to_vec()),
    }
}

fn serial_from(v: ValueRef<'_>) -> CaResult<Serial> {
    match v {
        ValueRef::Integer(n) if n > 0 => Serial::from_u64(n as u64),
        ValueRef::Blob(b) => Serial::from_be_bytes(b),
        _ => Err(CaError::parse("a serial in the store is neither a positive integer nor a blob")),
    }
}

fn reason_from(code: i64) -> Reason {
    REASON_NAMES.iter().map(|(_, r)| *r).find(|r| i64::from(r.code()) == code).unwrap_or(Reason::Unspecified)
}

fn join(urls: &[String]) -> String {
    urls.join("\n")
}

fn split(s: &str) -> Vec<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Opens a connection with the store's settings; checks (or, for a new
/// file, writes) the schema.
fn connect(location: &str, opts: &OpenOptions) -> CaResult<Connection> {
    let flags = if opts.read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(location, flags).map_err(|e| db_error(location, "opening", e))?;
    conn.busy_timeout(Duration::from_millis(u64::from(opts.busy_timeout_ms)))
        .map_err(|e| db_error(location, "setting the busy timeout", e))?;
    let (app, version): (i64, i64) = conn
        .query_row("SELECT * FROM pragma_application_id, pragma_user_version", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| db_error(location, "reading the schema version", e))?;
    if app == 0 && version == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| db_error(location, "reading the schema", e))?;
        if tables != 0 {
            return Err(CaError::parse(format!("store {location}: an SQLite database of another application, not a jsec-ca store")));
        }
        if opts.read_only {
            return Err(CaError::config(format!("store {location}: the store is empty and opened read-only")));
        }
        conn.execute_batch("PRAGMA journal_mode=WAL")
            .map_err(|e| db_error(location, "switching to WAL", e))?;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(|e| db_error(location, "creating the schema", e))?;
    } else if app != APPLICATION_ID {
        return Err(CaError::parse(format!("store {location}: an SQLite database of another application, not a jsec-ca store")));
    } else if version > SCHEMA_VERSION {
        return Err(CaError::config(format!(
            "store {location}: schema version {version} is newer than this jsec-ca knows ({SCHEMA_VERSION}); upgrade jsec-ca"
        )));
    } else if version < 1 {
        return Err(CaError::parse(format!("store {location}: unknown schema version {version}")));
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .map_err(|e| db_error(location, "configuring", e))?;
    Ok(conn)
}

pub struct SqliteStore {
    location: String,
    opts: OpenOptions,
    conn: Connection,
}

impl SqliteStore {
    pub fn open(location: &str, opts: &OpenOptions) -> CaResult<SqliteStore> {
        let conn = connect(location, opts)?;
        Ok(SqliteStore { location: location.to_string(), opts: opts.clone(), conn })
    }

    fn err(&self, doing: &str) -> impl Fn(rusqlite::Error) -> CaError + '_ {
        let doing = doing.to_string();
        move |e| db_error(&self.location, &doing, e)
    }

    fn ca_id(&self, name: &str) -> CaResult<i64> {
        self.conn
            .query_row("SELECT id FROM ca WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(self.err("finding the CA"))?
            .ok_or_else(|| CaError::param(format!("store {}: no CA named {:?}", self.location, name)))
    }
}

impl Engine for SqliteStore {
    fn save(&mut self, name: &str, record: &CaRecord, snap: Snapshot) -> CaResult<Box<dyn CaState>> {
        check_name(name)?;
        if self.opts.read_only {
            return Err(CaError::config(format!("store {}: saving a CA: the store is opened read-only", self.location)));
        }
        let location = self.location.clone();
        let location = location.as_str();
        let err = |doing: &'static str| move |e| db_error(location, doing, e);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(err("saving a CA"))?;
        let taken: bool = tx
            .query_row("SELECT count(*) FROM ca WHERE name = ?1", [name], |r| r.get::<_, i64>(0))
            .map_err(err("saving a CA"))?
            > 0;
        if taken {
            return Err(CaError::param(format!("store {}: a CA named {:?} is already saved", self.location, name)));
        }
        tx.execute(
            "INSERT INTO ca (name, cert, key_pem, key_encrypted, next_serial, history_below, crl_number,
                             crl_number_from_clock, crl_urls, ocsp_urls, ca_issuers_urls)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                name,
                record.cert_der,
                std::str::from_utf8(record.key_pem.as_bytes()).unwrap_or(""),
                record.key_encrypted,
                snap.next_serial as i64,
                snap.history_below as i64,
                snap.crl_number as i64,
                snap.crl_number_from_clock,
                join(&record.pointers.crl_urls),
                join(&record.pointers.ocsp_urls),
                join(&record.pointers.ca_issuers_urls),
            ],
        )
        .map_err(err("saving a CA"))?;
        let id = tx.last_insert_rowid();
        for der in &snap.issued {
            let serial = CertInfo::parse(der)?.serial;
            let m = state::describe(der)?;
            tx.execute(
                "INSERT OR REPLACE INTO issued (ca, serial, pending, subject, sans, not_before, not_after, der)
                 VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7)",
                params![id, serial_value(&serial), m.subject, m.sans.join("\n"), m.not_before, m.not_after, der],
            )
            .map_err(err("saving the issued index"))?;
        }
        for s in &snap.used {
            tx.execute("INSERT OR IGNORE INTO issued (ca, serial, pending) VALUES (?1, ?2, 0)", params![id, serial_value(s)])
                .map_err(err("saving used serials"))?;
        }
        for r in &snap.revocations {
            tx.execute(
                "INSERT INTO revoked (ca, serial, reason, date) VALUES (?1, ?2, ?3, ?4)",
                params![id, serial_value(&r.serial), i64::from(r.reason.code()), r.date],
            )
            .map_err(err("saving revocations"))?;
        }
        tx.commit().map_err(err("saving a CA"))?;
        Ok(Box::new(SqliteCaState::open(&self.location, &self.opts, id)?))
    }

    fn load(&mut self, name: &str) -> CaResult<(CaRecord, Box<dyn CaState>)> {
        let id = self.ca_id(name)?;
        let record = self
            .conn
            .query_row(
                "SELECT cert, key_pem, key_encrypted, crl_urls, ocsp_urls, ca_issuers_urls FROM ca WHERE id = ?1",
                [id],
                |r| {
                    Ok(CaRecord {
                        cert_der: r.get(0)?,
                        key_pem: Secret::new(r.get::<_, String>(1)?.into_bytes()),
                        key_encrypted: r.get(2)?,
                        pointers: Pointers {
                            crl_urls: split(&r.get::<_, String>(3)?),
                            ocsp_urls: split(&r.get::<_, String>(4)?),
                            ca_issuers_urls: split(&r.get::<_, String>(5)?),
                        },
                    })
                },
            )
            .map_err(self.err("loading a CA"))?;
        Ok((record, Box::new(SqliteCaState::open(&self.location, &self.opts, id)?)))
    }

    fn names(&mut self) -> CaResult<Vec<String>> {
        let mut st = self.conn.prepare("SELECT name FROM ca ORDER BY id").map_err(self.err("listing CAs"))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(self.err("listing CAs"))?;
        rows.collect::<Result<Vec<String>, _>>().map_err(self.err("listing CAs"))
    }

    fn find(&mut self, name: &str, f: &Filter) -> CaResult<Vec<IssuedRow>> {
        let id = self.ca_id(name)?;
        let mut sql = String::from(
            "SELECT i.serial, i.subject, i.sans, i.not_before, i.not_after, i.der, r.reason, r.date
             FROM issued i LEFT JOIN revoked r ON r.ca = i.ca AND r.serial = i.serial
             WHERE i.ca = ?1 AND i.pending = 0 AND i.der IS NOT NULL",
        );
        let (clauses, values) = filter_sql::clauses(f, &Dialect { serial: "?", contains: "LIKE ? ESCAPE '\\'" });
        sql.push_str(&filter_sql::numbered(&clauses, '?', 2));
        let mut args: Vec<Value> = vec![Value::Integer(id)];
        args.extend(values.iter().map(|v| match v {
            Bound::Serial(s) => serial_value(s),
            Bound::Pattern(p) => Value::Text(p.clone()),
            Bound::Int(n) => Value::Integer(*n),
        }));
        let mut st = self.conn.prepare(&sql).map_err(self.err("finding certificates"))?;
        let mut rows = st.query(rusqlite::params_from_iter(args.iter())).map_err(self.err("finding certificates"))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(self.err("finding certificates"))? {
            let serial = serial_from(r.get_ref(0).map_err(self.err("finding certificates"))?)?;
            let revoked = match (r.get::<_, Option<i64>>(6), r.get::<_, Option<i64>>(7)) {
                (Ok(Some(code)), Ok(Some(date))) => Some(Revocation { serial, reason: reason_from(code), date }),
                _ => None,
            };
            out.push(IssuedRow {
                serial,
                subject: r.get::<_, Option<String>>(1).ok().flatten().unwrap_or_default(),
                sans: split(&r.get::<_, Option<String>>(2).ok().flatten().unwrap_or_default()),
                not_before: r.get::<_, Option<i64>>(3).ok().flatten().unwrap_or(0),
                not_after: r.get::<_, Option<i64>>(4).ok().flatten().unwrap_or(0),
                der: r.get::<_, Option<Vec<u8>>>(5).ok().flatten().unwrap_or_default(),
                revoked,
            });
        }
        Ok(out)
    }

    fn location(&self) -> &str {
        &self.location
    }
}

/// The live state of one CA in an SQLite store. It has a connection of its
/// own, so that `PRAGMA data_version` tells it when any other connection (in
/// this process or another) changed the store, and its revocation cache is
/// reloaded then and only then.
pub struct SqliteCaState {
    location: String,
    conn: Connection,
    ca: i64,
    history_below: u64,
    revocations: RevocationList,
    /// data_version the cache was read at; None: not loaded.
    cache_version: Option<i64>,
    issued: Vec<Vec<u8>>,
}

impl SqliteCaState {
    fn open(location: &str, opts: &OpenOptions, ca: i64) -> CaResult<SqliteCaState> {
        let conn = connect(location, opts)?;
        let history_below: i64 = conn
            .query_row("SELECT history_below FROM ca WHERE id = ?1", [ca], |r| r.get(0))
            .map_err(|e| db_error(location, "loading a CA", e))?;
        Ok(SqliteCaState {
            location: location.to_string(),
            conn,
            ca,
            history_below: history_below.max(0) as u64,
            revocations: RevocationList::default(),
            cache_version: None,
            issued: Vec::new(),
        })
    }

    fn err<'a>(&'a self, doing: &'a str) -> impl Fn(rusqlite::Error) -> CaError + 'a {
        move |e| db_error(&self.location, doing, e)
    }

    /// Runs `f` in a write transaction (BEGIN IMMEDIATE: the write lock is
    /// taken first, waiting up to the busy timeout); commits when `f`
    /// succeeds, rolls back otherwise.
    fn write<T>(&mut self, doing: &str, f: impl FnOnce(&mut Self) -> CaResult<T>) -> CaResult<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(|e| db_error(&self.location, doing, e))?;
        match f(self) {
            Ok(v) => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    self.cache_version = None;
                    Err(db_error(&self.location, doing, e))
                }
            },
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.cache_version = None;
                Err(e)
            }
        }
    }

    fn used(&self, s: &Serial) -> CaResult<bool> {
        if s.to_i64().is_some_and(|n| (n as u64) < self.history_below) {
            return Ok(true);
        }
        let mut st = self
            .conn
            .prepare_cached("SELECT 1 FROM issued WHERE ca = ?1 AND serial = ?2")
            .map_err(self.err("reading the index"))?;
        st.exists(params![self.ca, serial_value(s)]).map_err(self.err("reading the index"))
    }

    /// The revocation the store holds for `serial`, if any.
    fn stored_revocation(&self, serial: &Serial) -> CaResult<Option<Revocation>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT reason, date FROM revoked WHERE ca = ?1 AND serial = ?2")
            .map_err(self.err("reading the status"))?;
        st.query_row(params![self.ca, serial_value(serial)], |r| {
            Ok(Revocation { serial: *serial, reason: reason_from(r.get(0)?), date: r.get(1)? })
        })
        .optional()
        .map_err(self.err("reading the status"))
    }

    /// The counter's next unused value.
    fn next_free(&self) -> CaResult<u64> {
        let next: i64 = self
            .conn
            .prepare_cached("SELECT next_serial FROM ca WHERE id = ?1")
            .and_then(|mut st| st.query_row([self.ca], |r| r.get(0)))
            .map_err(self.err("reading the serial counter"))?;
        let mut n = (next.max(1) as u64).max(self.history_below);
        while n < state::MAX_COUNTER && self.used(&Serial::from_u64(n)?)? {
            n += 1;
        }
        Ok(n.min(state::MAX_COUNTER))
    }

    /// Reloads the revocation cache when another connection changed the store.
    fn refresh(&mut self) -> CaResult<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(self.err("checking for changes"))?;
        if self.cache_version == Some(version) {
            return Ok(());
        }
        // Room for every row at once (max(rowid) bounds the table's rows and
        // costs one index step): growing a million-entry vector by doubling
        // copies it and faults fresh pages in again and again.
        let bound: i64 = self
            .conn
            .query_row("SELECT coalesce(max(rowid), 0) FROM revoked", [], |r| r.get(0))
            .map_err(self.err("reading revocations"))?;
        let mut entries = Vec::with_capacity(bound.clamp(0, 1 << 24) as usize);
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT serial, reason, date FROM revoked NOT INDEXED WHERE ca = ?1 ORDER BY rowid")
                .map_err(self.err("reading revocations"))?;
            let mut rows = st.query([self.ca]).map_err(self.err("reading revocations"))?;
            while let Some(r) = rows.next().map_err(self.err("reading revocations"))? {
                let serial = serial_from(r.get_ref(0).map_err(self.err("reading revocations"))?)?;
                let reason = reason_from(r.get(1).map_err(self.err("reading revocations"))?);
                let date = r.get(2).map_err(self.err("reading revocations"))?;
                entries.push(Revocation { serial, reason, date });
            }
        }
        self.revocations = RevocationList::from_entries(entries);
        self.cache_version = Some(version);
        Ok(())
    }
}

impl CaState for SqliteCaState {
    fn next_serial(&mut self) -> CaResult<u64> {
        self.next_free()
    }

    fn set_serial(&mut self, n: u64) -> CaResult<()> {
        let n = check_counter(n, "serial")?;
        self.write("setting the serial counter", |s| {
            s.conn
                .execute("UPDATE ca SET next_serial = ?1 WHERE id = ?2", params![n as i64, s.ca])
                .map_err(s.err("setting the serial counter"))?;
            Ok(())
        })
    }

    fn reserve_serial(&mut self, explicit: Option<Serial>) -> CaResult<Serial> {
        self.write("reserving a serial", |s| {
            let next = s.next_free()?;
            let serial = match explicit {
                Some(e) => {
                    check_explicit(&e, s.used(&e)?)?;
                    e
                }
                None => counter_serial(next)?,
            };
            s.conn
                .prepare_cached("INSERT INTO issued (ca, serial, pending) VALUES (?1, ?2, 1)")
                .and_then(|mut st| st.execute(params![s.ca, serial_value(&serial)]))
                .map_err(s.err("reserving a serial"))?;
            // In the same transaction: the counter moves past its own serial, or past
            // an explicit one ahead of it.
            if let Some(after) = counter_after_explicit(&serial, next) {
                s.conn
                    .prepare_cached("UPDATE ca SET next_serial = ?1 WHERE id = ?2")
                    .and_then(|mut st| st.execute(params![after as i64, s.ca]))
                    .map_err(s.err("reserving a serial"))?;
            }
            Ok(serial)
        })
    }

    fn record_issued(&mut self, serial: Serial, der: &[u8], meta: &dyn Fn() -> CaResult<IssuedMeta>) -> CaResult<()> {
        let cert = meta()?;
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE issued SET pending = 0, subject = ?3, sans = ?4, not_before = ?5, not_after = ?6, der = ?7
                 WHERE ca = ?1 AND serial = ?2 AND pending = 1",
            )
            .and_then(|mut st| {
                st.execute(params![
                    self.ca,
                    serial_value(&serial),
                    cert.subject,
                    cert.sans.join("\n"),
                    cert.not_before,
                    cert.not_after,
                    der
                ])
            })
            .map_err(self.err("recording an issued certificate"))?;
        if changed != 1 {
            return Err(CaError::resource(format!(
                "store {}: serial {} was not reserved when its certificate was recorded",
                self.location,
                serial.to_hex()
            )));
        }
        Ok(())
    }

    fn is_tracking(&self) -> bool {
        true
    }

    fn issued(&mut self) -> CaResult<Option<&[Vec<u8>]>> {
        let mut list = Vec::new();
        {
            let mut st = self
                .conn
                .prepare_cached("SELECT der FROM issued WHERE ca = ?1 AND pending = 0 AND der IS NOT NULL ORDER BY rowid")
                .map_err(self.err("reading the index"))?;
            let rows = st.query_map([self.ca], |r| r.get::<_, Vec<u8>>(0)).map_err(self.err("reading the index"))?;
            for der in rows {
                list.push(der.map_err(self.err("reading the index"))?);
            }
        }
        self.issued = list;
        Ok(Some(&self.issued))
    }

    fn revoke(&mut self, r: Revocation) -> CaResult<()> {
        self.write("revoking", |s| {
            let key = serial_value(&r.serial);
            let existing = s.stored_revocation(&r.serial)?;
            match revocation::change(existing.as_ref(), r)? {
                Change::Unchanged => {}
                Change::Insert(r) => {
                    s.conn
                        .execute(
                            "INSERT INTO revoked (ca, serial, reason, date) VALUES (?1, ?2, ?3, ?4)",
                            params![s.ca, key, i64::from(r.reason.code()), r.date],
                        )
                        .map_err(s.err("revoking"))?;
                }
                Change::Update(reason) => {
                    s.conn
                        .execute(
                            "UPDATE revoked SET reason = ?3 WHERE ca = ?1 AND serial = ?2",
                            params![s.ca, key, i64::from(reason.code())],
                        )
                        .map_err(s.err("revoking"))?;
                }
                Change::Remove => {
                    s.conn
                        .execute("DELETE FROM revoked WHERE ca = ?1 AND serial = ?2", params![s.ca, key])
                        .map_err(s.err("revoking"))?;
                }
            }
            // A loaded cache follows our own commit (data_version counts
            // only other connections'); one that disagrees is read again.
            if s.cache_version.is_some() && s.revocations.apply(r).is_err() {
                s.cache_version = None;
            }
            Ok(())
        })
    }

    fn revocations(&mut self) -> CaResult<&RevocationList> {
        self.refresh()?;
        Ok(&self.revocations)
    }

    /// Status is read from the store at each call (one indexed query), so
    /// what any process committed answers at once, and a responder never
    /// reads the whole revocation list.
    fn status(&mut self, serial: &Serial) -> CaResult<SerialStatus> {
        let revoked = self.stored_revocation(serial)?;
        state::stored_status(serial, revoked, self.history_below, || {
            self.conn
                .prepare_cached("SELECT pending FROM issued WHERE ca = ?1 AND serial = ?2")
                .and_then(|mut st| st.query_row(params![self.ca, serial_value(serial)], |r| r.get(0)).optional())
                .map_err(self.err("reading the index"))
        })
    }

    fn crl_number(&mut self) -> CaResult<u64> {
        let (n, clock): (i64, bool) = self
            .conn
            .query_row("SELECT crl_number, crl_number_from_clock FROM ca WHERE id = ?1", [self.ca], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(self.err("reading the CRL number"))?;
        let n = n.max(1) as u64;
        Ok(if clock { n.max(time::now_micros()) } else { n })
    }

    fn with_next_crl(&mut self, sign: &mut dyn FnMut(u64, &RevocationList) -> CaResult<Vec<u8>>) -> CaResult<Vec<u8>> {
        self.write("numbering a CRL", |s| {
            let n = s.crl_number()?;
            s.refresh()?;
            let crl = sign(n, &s.revocations)?;
            s.conn
                .execute("UPDATE ca SET crl_number = ?1 WHERE id = ?2", params![n.saturating_add(1) as i64, s.ca])
                .map_err(s.err("numbering a CRL"))?;
            Ok(crl)
        })
    }

    fn snapshot(&mut self) -> CaResult<Snapshot> {
        let next = self.next_free()?;
        let crl_number = self.crl_number()?;
        let issued = self.issued()?.map(<[Vec<u8>]>::to_vec).unwrap_or_default();
        let revocations = self.revocations()?.entries().to_vec();
        let mut used = Vec::new();
        {
            let mut st = self
                .conn
                .prepare("SELECT serial FROM issued WHERE ca = ?1 AND der IS NULL")
                .map_err(self.err("reading the index"))?;
            let mut rows = st.query([self.ca]).map_err(self.err("reading the index"))?;
            while let Some(r) = rows.next().map_err(self.err("reading the index"))? {
                used.push(serial_from(r.get_ref(0).map_err(self.err("reading the index"))?)?);
            }
        }
        Ok(Snapshot {
            next_serial: next,
            history_below: self.history_below,
            used,
            issued,
            revocations,
            crl_number,
            crl_number_from_clock: false,
        })
    }
}

//! The live state of one CA in a PostgreSQL store, on a connection of its
//! own. The database allocates serials: one statement takes the next value
//! of the CA's sequence and inserts the pending row, committed before
//! anything is signed with it (a sequence never hands a value out twice and
//! holds no lock, so processes issuing at once share the commits' flushes
//! instead of queueing behind each other's); revocations and CRL numbers
//! change in transactions that hold the CA row's lock. Status is read from the database on every call (one indexed
//! query), so a revocation committed anywhere answers at the next request;
//! the list of revocations (CRLs) is cached and checked against the CA's
//! revocation counter, which every revoking transaction bumps.

use std::sync::Arc;

use super::super::super::error::{CaError, CaResult};
use super::super::super::revocation::{self, Change, Revocation, RevocationList};
use super::super::super::serial::Serial;
use super::super::super::state::{
    self, check_counter, check_explicit, counter_after_explicit, counter_serial, CaState, IssuedMeta, SerialStatus, Snapshot,
};
use super::super::super::time;
use super::conn::{Conn, Fail, Live, Target};
use super::{reason_from, serial_from, serial_text};

/// (the text column has a name of its own: ORDER BY serial would sort the text)
const USED_FROM: &str = "SELECT serial::text AS serial_text FROM jsec_ca.issued
    WHERE ca = $1 AND serial >= $2::text::numeric ORDER BY serial LIMIT 256";
const USED: &str = "SELECT EXISTS (SELECT 1 FROM jsec_ca.issued WHERE ca = $1 AND serial = $2::text::numeric)";
const PENDING: &str = "INSERT INTO jsec_ca.issued (ca, serial, pending) VALUES ($1, $2::text::numeric, true)
    ON CONFLICT DO NOTHING";
/// Idempotent: a repeat after a lost reply finds the row already recorded.
const RECORD: &str = "UPDATE jsec_ca.issued
    SET pending = false, subject = $3, sans = $4, not_before = $5, not_after = $6, der = $7
    WHERE ca = $1 AND serial = $2::text::numeric AND (pending OR der = $7)";
const ISSUED: &str = "SELECT der FROM jsec_ca.issued WHERE ca = $1 AND NOT pending AND der IS NOT NULL ORDER BY seq";
const UNRECORDED: &str = "SELECT serial::text AS serial_text FROM jsec_ca.issued WHERE ca = $1 AND der IS NULL ORDER BY serial";
const BUMP: &str =
    "UPDATE jsec_ca.ca SET revocation_version = revocation_version + 1 WHERE id = $1 RETURNING revocation_version";
const REVOKED_ONE: &str = "SELECT reason, date FROM jsec_ca.revoked WHERE ca = $1 AND serial = $2::text::numeric";
const REVOKE_INSERT: &str =
    "INSERT INTO jsec_ca.revoked (ca, serial, reason, date) VALUES ($1, $2::text::numeric, $3, $4)";
const REVOKE_UPDATE: &str = "UPDATE jsec_ca.revoked SET reason = $3 WHERE ca = $1 AND serial = $2::text::numeric";
const REVOKE_DELETE: &str = "DELETE FROM jsec_ca.revoked WHERE ca = $1 AND serial = $2::text::numeric";
const REVOCATION_VERSION: &str = "SELECT revocation_version FROM jsec_ca.ca WHERE id = $1";
/// The revocations with the counter they go with (one statement, one snapshot).
const REVOCATIONS: &str = "SELECT c.revocation_version, r.serial::text AS serial_text, r.reason, r.date
    FROM jsec_ca.ca c LEFT JOIN jsec_ca.revoked r ON r.ca = c.id WHERE c.id = $1 ORDER BY r.seq";
const STATUS: &str = "SELECT r.reason, r.date, i.pending
    FROM (SELECT $2::text::numeric AS serial) q
    LEFT JOIN jsec_ca.revoked r ON r.ca = $1 AND r.serial = q.serial
    LEFT JOIN jsec_ca.issued i ON i.ca = $1 AND i.serial = q.serial";
const CRL_NUMBER: &str = "SELECT crl_number, crl_number_from_clock FROM jsec_ca.ca WHERE id = $1";
const LOCK_CRL: &str =
    "SELECT crl_number, crl_number_from_clock, revocation_version FROM jsec_ca.ca WHERE id = $1 FOR UPDATE";
const SET_CRL: &str = "UPDATE jsec_ca.ca SET crl_number = $2 WHERE id = $1";
const HISTORY: &str = "SELECT history_below FROM jsec_ca.ca WHERE id = $1";

/// The sequence that is CA `id`'s serial counter.
pub fn counter_sequence(id: i64) -> String {
    format!("jsec_ca.serial_{id}")
}

/// The statements that name the CA's sequence.
struct CounterSql {
    /// The counter's next value, taken with the pending row it reserves
    /// unless an explicit reservation holds it (then the caller takes the
    /// next). One statement, one commit.
    reserve: String,
    /// The value nextval returns next.
    peek: String,
    set: String,
    /// Moves the counter forward to at least $1, never back.
    advance: String,
}

impl CounterSql {
    fn new(id: i64) -> CounterSql {
        let seq = counter_sequence(id);
        CounterSql {
            reserve: format!(
                "WITH q AS (SELECT nextval('{seq}') AS s),
                 i AS (INSERT INTO jsec_ca.issued (ca, serial, pending) SELECT $1, s, true FROM q WHERE s >= $2
                       ON CONFLICT DO NOTHING RETURNING serial)
                 SELECT q.s, EXISTS (SELECT 1 FROM i) FROM q"
            ),
            peek: format!("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {seq}"),
            set: format!("SELECT setval('{seq}', $1, false)"),
            advance: format!(
                "SELECT setval('{seq}', GREATEST($1, (SELECT CASE WHEN is_called THEN last_value + 1 \
                 ELSE last_value END FROM {seq})), false)"
            ),
        }
    }
}

pub struct PgCaState {
    conn: Conn,
    ca: i64,
    counter: CounterSql,
    history_below: u64,
    revocations: RevocationList,
    /// The revocation counter the cache was read at; None: not loaded.
    cache_version: Option<i64>,
    issued: Vec<Vec<u8>>,
}

/// The CRL number a CA row holds, as the next CRL will carry it.
fn crl_number_of(n: i64, from_clock: bool) -> u64 {
    let n = n.max(1) as u64;
    if from_clock {
        n.max(time::now_micros())
    } else {
        n
    }
}

/// The counter's next unused value, from `from` on.
fn next_free(l: &mut Live, ca: i64, from: i64) -> Result<u64, Fail> {
    let mut n = from.max(1) as u64;
    loop {
        let rows = l.query(USED_FROM, &[&ca, &n.to_string()])?;
        let full = rows.len() == 256;
        for r in &rows {
            let s: String = r.try_get(0)?;
            match s.parse::<u64>() {
                Ok(used) if used == n => n += 1,
                _ => return Ok(n.min(state::MAX_COUNTER)),
            }
        }
        if !full || n >= state::MAX_COUNTER {
            return Ok(n.min(state::MAX_COUNTER));
        }
    }
}

/// Whether `s` was used by `ca` (serials below `history_below` all count).
fn used(l: &mut Live, ca: i64, history_below: u64, s: &Serial) -> Result<bool, Fail> {
    if s.to_i64().is_some_and(|n| (n as u64) < history_below) {
        return Ok(true);
    }
    Ok(l.query_one(USED, &[&ca, &serial_text(s)?])?.try_get(0)?)
}

/// Reads every revocation of `ca` with the counter it goes with.
fn load_revocations(l: &mut Live, ca: i64) -> Result<(i64, RevocationList), Fail> {
    let rows = l.query(REVOCATIONS, &[&ca])?;
    let mut version = None;
    let mut entries = Vec::with_capacity(rows.len());
    for r in &rows {
        version = Some(r.try_get::<_, i64>(0)?);
        if let Some(serial) = r.try_get::<_, Option<String>>(1)? {
            let reason: i16 = r.try_get(2)?;
            entries.push(Revocation { serial: serial_from(&serial)?, reason: reason_from(reason), date: r.try_get(3)? });
        }
    }
    let version = version.ok_or_else(|| CaError::resource("the CA's row is missing from the store"))?;
    Ok((version, RevocationList::from_entries(entries)))
}

impl PgCaState {
    pub fn open(target: Arc<Target>, ca: i64) -> CaResult<PgCaState> {
        let mut conn = Conn::new(target);
        let history_below: i64 = conn.run("loading a CA", |l| Ok(l.query_one(HISTORY, &[&ca])?.try_get(0)?))?;
        Ok(PgCaState {
            conn,
            ca,
            counter: CounterSql::new(ca),
            history_below: history_below.max(0) as u64,
            revocations: RevocationList::default(),
            cache_version: None,
            issued: Vec::new(),
        })
    }

    /// Issuing, revoking and numbering CRLs need a store opened for writing.
    fn writable(&self, doing: &str) -> CaResult<()> {
        if self.conn.target().read_only {
            return Err(CaError::config(format!(
                "store {}: {doing}: the store is opened read-only",
                self.conn.target().location()
            )));
        }
        Ok(())
    }

    /// Reloads the revocation cache when the CA's revocation counter moved.
    fn refresh(&mut self) -> CaResult<()> {
        let ca = self.ca;
        let version: i64 =
            self.conn.run("checking for revocations", |l| Ok(l.query_one(REVOCATION_VERSION, &[&ca])?.try_get(0)?))?;
        if self.cache_version == Some(version) {
            return Ok(());
        }
        let (version, list) = self.conn.run("reading revocations", |l| load_revocations(l, ca))?;
        self.revocations = list;
        self.cache_version = Some(version);
        Ok(())
    }
}

impl CaState for PgCaState {
    fn next_serial(&mut self) -> CaResult<u64> {
        let ca = self.ca;
        let (peek, below) = (&self.counter.peek, self.history_below);
        self.conn.run("reading the serial counter", |l| {
            let from: i64 = l.query_one(peek, &[])?.try_get(0)?;
            next_free(l, ca, from.max(below as i64))
        })
    }

    fn set_serial(&mut self, n: u64) -> CaResult<()> {
        self.writable("setting the serial counter")?;
        // serials below history_below count as used: the counter starts past them
        let n = check_counter(n, "serial")?.max(self.history_below).min(state::MAX_COUNTER - 1) as i64;
        let set = &self.counter.set;
        self.conn.run("setting the serial counter", |l| {
            l.query_one(set, &[&n])?;
            Ok(())
        })
    }

    fn reserve_serial(&mut self, explicit: Option<Serial>) -> CaResult<Serial> {
        self.writable("reserving a serial")?;
        let ca = self.ca;
        let below = self.history_below as i64;
        match explicit {
            None => loop {
                let reserve = &self.counter.reserve;
                let (n, taken) = self.conn.run("reserving a serial", |l| {
                    let row = l.query_one(reserve, &[&ca, &below])?;
                    Ok((row.try_get::<_, i64>(0)?, row.try_get::<_, bool>(1)?))
                })?;
                if taken {
                    return counter_serial(n.max(0) as u64);
                }
                // an explicit serial held that value: the next one
            },
            Some(e) => {
                let key = serial_text(&e)?;
                let history_below = self.history_below;
                let peek = &self.counter.peek;
                let advance = &self.counter.advance;
                let took = self.conn.run("reserving a serial", |l| {
                    let from: i64 = l.query_one(peek, &[])?.try_get(0)?;
                    let next = next_free(l, ca, from.max(history_below as i64))?;
                    check_explicit(&e, used(l, ca, history_below, &e)?)?;
                    let took = l.execute(PENDING, &[&ca, &key])?;
                    // Past an explicit serial ahead of the counter (never backwards,
                    // whatever other processes took meanwhile).
                    if let (1, Some(after)) = (took, counter_after_explicit(&e, next)) {
                        l.query_one(advance, &[&(after as i64)])?;
                    }
                    Ok(took)
                })?;
                match took {
                    1 => Ok(e),
                    // another process reserved it meanwhile
                    _ => check_explicit(&e, true).map(|()| e),
                }
            }
        }
    }

    fn record_issued(&mut self, serial: Serial, der: &[u8], meta: &dyn Fn() -> CaResult<IssuedMeta>) -> CaResult<()> {
        self.writable("recording an issued certificate")?;
        let cert = meta()?;
        let key = serial_text(&serial)?;
        let sans = cert.sans.join("\n");
        let ca = self.ca;
        let changed = self.conn.run("recording an issued certificate", |l| {
            Ok(l.execute(RECORD, &[&ca, &key, &cert.subject, &sans, &cert.not_before, &cert.not_after, &der])?)
        })?;
        if changed != 1 {
            return Err(CaError::resource(format!(
                "store {}: serial {} was not reserved when its certificate was recorded",
                self.conn.target().location(),
                serial.to_hex()
            )));
        }
        Ok(())
    }

    fn is_tracking(&self) -> bool {
        true
    }

    fn issued(&mut self) -> CaResult<Option<&[Vec<u8>]>> {
        let ca = self.ca;
        let list = self.conn.run("reading the index", |l| {
            let rows = l.query(ISSUED, &[&ca])?;
            let mut list = Vec::with_capacity(rows.len());
            for r in &rows {
                list.push(r.try_get::<_, Vec<u8>>(0)?);
            }
            Ok(list)
        })?;
        self.issued = list;
        Ok(Some(&self.issued))
    }

    fn revoke(&mut self, r: Revocation) -> CaResult<()> {
        self.writable("revoking")?;
        let ca = self.ca;
        let key = serial_text(&r.serial)?;
        let version = self.conn.tx("revoking", |l| {
            // the CA row's lock orders this CA's revocations
            let version: i64 = l.query_one(BUMP, &[&ca])?.try_get(0)?;
            let existing = match l.query_opt(REVOKED_ONE, &[&ca, &key])? {
                Some(row) => {
                    let reason: i16 = row.try_get(0)?;
                    Some(Revocation { serial: r.serial, reason: reason_from(reason), date: row.try_get(1)? })
                }
                None => None,
            };
            match revocation::change(existing.as_ref(), r)? {
                Change::Unchanged => {}
                Change::Insert(r) => {
                    l.execute(REVOKE_INSERT, &[&ca, &key, &i16::from(r.reason.code()), &r.date])?;
                }
                Change::Update(reason) => {
                    l.execute(REVOKE_UPDATE, &[&ca, &key, &i16::from(reason.code())])?;
                }
                Change::Remove => {
                    l.execute(REVOKE_DELETE, &[&ca, &key])?;
                }
            }
            Ok(version)
        })?;
        // The cache follows our own commit when nothing else came between.
        if self.cache_version == Some(version - 1) && self.revocations.apply(r).is_ok() {
            self.cache_version = Some(version);
        } else {
            self.cache_version = None;
        }
        Ok(())
    }

    fn revocations(&mut self) -> CaResult<&RevocationList> {
        self.refresh()?;
        Ok(&self.revocations)
    }

    fn status(&mut self, serial: &Serial) -> CaResult<SerialStatus> {
        let ca = self.ca;
        let key = serial_text(serial)?;
        let (reason, date, pending) = self.conn.run("reading the status", |l| {
            let row = l.query_one(STATUS, &[&ca, &key])?;
            Ok((row.try_get::<_, Option<i16>>(0)?, row.try_get::<_, Option<i64>>(1)?, row.try_get::<_, Option<bool>>(2)?))
        })?;
        let revoked = match (reason, date) {
            (Some(reason), Some(date)) => Some(Revocation { serial: *serial, reason: reason_from(reason), date }),
            _ => None,
        };
        state::stored_status(serial, revoked, self.history_below, || Ok(pending))
    }

    fn crl_number(&mut self) -> CaResult<u64> {
        let ca = self.ca;
        self.conn.run("reading the CRL number", |l| {
            let row = l.query_one(CRL_NUMBER, &[&ca])?;
            Ok(crl_number_of(row.try_get(0)?, row.try_get(1)?))
        })
    }

    fn with_next_crl(&mut self, sign: &mut dyn FnMut(u64, &RevocationList) -> CaResult<Vec<u8>>) -> CaResult<Vec<u8>> {
        self.writable("numbering a CRL")?;
        let PgCaState { conn, ca, revocations, cache_version, .. } = self;
        let ca = *ca;
        conn.tx("numbering a CRL", |l| {
            // holding the row lock: no revocation of this CA commits meanwhile
            let row = l.query_one(LOCK_CRL, &[&ca])?;
            let n = crl_number_of(row.try_get(0)?, row.try_get(1)?);
            let version: i64 = row.try_get(2)?;
            if *cache_version != Some(version) {
                let (v, list) = load_revocations(l, ca)?;
                *revocations = list;
                *cache_version = Some(v);
            }
            let crl = sign(n, revocations)?;
            l.execute(SET_CRL, &[&ca, &(n.saturating_add(1).min(i64::MAX as u64) as i64)])?;
            Ok(crl)
        })
    }

    fn snapshot(&mut self) -> CaResult<Snapshot> {
        let next = self.next_serial()?;
        let crl_number = self.crl_number()?;
        let issued = self.issued()?.map(<[Vec<u8>]>::to_vec).unwrap_or_default();
        let revocations = self.revocations()?.entries().to_vec();
        let ca = self.ca;
        let used = self.conn.run("reading the index", |l| {
            let rows = l.query(UNRECORDED, &[&ca])?;
            let mut used = Vec::with_capacity(rows.len());
            for r in &rows {
                used.push(serial_from(&r.try_get::<_, String>(0)?)?);
            }
            Ok(used)
        })?;
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

//! The PostgreSQL engine: a store several hosts share, at a
//! `postgresql://user:password@host:port/db?sslmode=...` URL (the password
//! may come from PGPASSWORD instead). The database allocates serials (a
//! sequence per CA) and keeps issued records, revocations and CRL numbers
//! transactional ([`state`]); the schema is versioned and migrated on open ([`schema`]);
//! connections reopen by themselves after the server was away ([`conn`]).
//! A store opened read-only (or a hot standby) answers status and OCSP and
//! refuses every change with a `[CA:CONFIG]` error.

pub mod conn;
mod conninfo;
mod passfile;
pub mod schema;
mod state;

use std::sync::Arc;

use openssl::bn::BigNum;
use postgres::types::ToSql;

use super::super::options::Pointers;
use super::super::cert_info::CertInfo;
use super::super::error::{CaError, CaResult};
use super::super::revocation::{Reason, Revocation, REASON_NAMES};
use super::super::secret::Secret;
use super::super::serial::Serial;
use super::super::state::{self as ca_state, CaState, Snapshot};
use super::filter_sql::{self, Bound, Dialect};
use super::{check_name, CaRecord, Engine, Filter, IssuedRow, OpenOptions};
use conn::{Conn, Fail, Target};
use state::PgCaState;

pub use conn::redact;

/// Whether `location` names a PostgreSQL store: a `postgresql://` (or
/// `postgres://`) URL, or a libpq key=value connection string.
pub fn is_location(location: &str) -> bool {
    let l = location.get(..13).unwrap_or(location).to_ascii_lowercase();
    l.starts_with("postgresql://") || l.starts_with("postgres://") || conninfo::is_conninfo(location)
}

/// A stored CRL reason code (RFC 5280 CRLReason) as a reason.
fn reason_from(code: i16) -> Reason {
    REASON_NAMES.iter().map(|(_, r)| *r).find(|r| i16::from(r.code()) == code).unwrap_or(Reason::Unspecified)
}

/// URL lists are kept one per line.
fn join(urls: &[String]) -> String {
    urls.join("\n")
}

fn split(s: &str) -> Vec<String> {
    s.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// A serial as the decimal text a `numeric` column takes.
fn serial_text(s: &Serial) -> CaResult<String> {
    match s.to_i64() {
        Some(n) => Ok(n.to_string()),
        None => {
            let bn = BigNum::from_slice(s.as_bytes()).map_err(|e| CaError::ssl("converting a serial", e))?;
            let text = bn.to_dec_str().map_err(|e| CaError::ssl("converting a serial", e))?;
            Ok(text.to_string())
        }
    }
}

/// A serial from a `numeric` column read as text.
fn serial_from(text: &str) -> CaResult<Serial> {
    if let Ok(n) = text.parse::<u64>() {
        if n > 0 {
            return Serial::from_u64(n);
        }
    }
    let bad = || CaError::parse(format!("a serial in the store is not a positive integer: {text:?}"));
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let bn = BigNum::from_dec_str(text).map_err(|_| bad())?;
    Serial::from_be_bytes(&bn.to_vec())
}

pub struct PgStore {
    target: Arc<Target>,
    conn: Conn,
}

impl PgStore {
    pub fn open(location: &str, opts: &OpenOptions) -> CaResult<PgStore> {
        let target = Arc::new(Target::parse(location, opts)?);
        let mut conn = Conn::new(target.clone());
        schema::ensure(&mut conn)?;
        Ok(PgStore { target, conn })
    }

    fn ca_id(&mut self, name: &str) -> CaResult<i64> {
        let id = self.conn.run("finding the CA", |l| {
            Ok(match l.query_opt("SELECT id FROM jsec_ca.ca WHERE name = $1", &[&name])? {
                Some(r) => Some(r.try_get::<_, i64>(0)?),
                None => None,
            })
        })?;
        id.ok_or_else(|| CaError::param(format!("store {}: no CA named {:?}", self.target.location(), name)))
    }
}

const SAVE_CA: &str = "INSERT INTO jsec_ca.ca (name, cert, key_pem, key_encrypted, history_below,
        crl_number, crl_number_from_clock, crl_urls, ocsp_urls, ca_issuers_urls)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
    ON CONFLICT (name) DO NOTHING RETURNING id";
const SAVE_ISSUED: &str = "INSERT INTO jsec_ca.issued (ca, serial, pending, subject, sans, not_before, not_after, der)
    VALUES ($1, $2::text::numeric, false, $3, $4, $5, $6, $7)
    ON CONFLICT (ca, serial) DO UPDATE SET pending = false, subject = EXCLUDED.subject, sans = EXCLUDED.sans,
        not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after, der = EXCLUDED.der";
const SAVE_USED: &str = "INSERT INTO jsec_ca.issued (ca, serial, pending) VALUES ($1, $2::text::numeric, false)
    ON CONFLICT DO NOTHING";
const SAVE_REVOKED: &str =
    "INSERT INTO jsec_ca.revoked (ca, serial, reason, date) VALUES ($1, $2::text::numeric, $3, $4)";
const LOAD_CA: &str = "SELECT id, cert, key_pem, key_encrypted, crl_urls, ocsp_urls, ca_issuers_urls
    FROM jsec_ca.ca WHERE name = $1";

impl Engine for PgStore {
    fn save(&mut self, name: &str, record: &CaRecord, snap: Snapshot) -> CaResult<Box<dyn CaState>> {
        check_name(name)?;
        let location = self.target.location().to_string();
        if self.target.read_only {
            return Err(CaError::config(format!("store {location}: saving a CA: the store is opened read-only")));
        }
        let key_pem = std::str::from_utf8(record.key_pem.as_bytes())
            .map_err(|_| CaError::parse("the CA's key PEM is not text"))?;
        let (crl_urls, ocsp_urls, issuers_urls) =
            (join(&record.pointers.crl_urls), join(&record.pointers.ocsp_urls), join(&record.pointers.ca_issuers_urls));
        let (below, crl) = (snap.history_below as i64, snap.crl_number as i64);
        let start = snap.next_serial.max(snap.history_below).clamp(1, ca_state::MAX_COUNTER - 1);
        let id = self.conn.tx("saving a CA", |l| {
            let row = l.query_opt(
                SAVE_CA,
                &[
                    &name,
                    &record.cert_der,
                    &key_pem,
                    &record.key_encrypted,
                    &below,
                    &crl,
                    &snap.crl_number_from_clock,
                    &crl_urls,
                    &ocsp_urls,
                    &issuers_urls,
                ],
            )?;
            let Some(row) = row else {
                return Err(Fail::Ca(CaError::param(format!("store {location}: a CA named {name:?} is already saved"))));
            };
            let id: i64 = row.try_get(0)?;
            // the CA's serial counter (state::counter_sequence)
            l.batch(&format!(
                "CREATE SEQUENCE {} AS bigint MINVALUE 1 MAXVALUE {} START WITH {} CACHE 1 NO CYCLE",
                state::counter_sequence(id),
                ca_state::MAX_COUNTER - 1,
                start
            ))?;
            for der in &snap.issued {
                let serial = CertInfo::parse(der)?.serial;
                let m = ca_state::describe(der)?;
                let sans = m.sans.join("\n");
                l.execute(SAVE_ISSUED, &[&id, &serial_text(&serial)?, &m.subject, &sans, &m.not_before, &m.not_after, der])?;
            }
            for s in &snap.used {
                l.execute(SAVE_USED, &[&id, &serial_text(s)?])?;
            }
            for r in &snap.revocations {
                l.execute(SAVE_REVOKED, &[&id, &serial_text(&r.serial)?, &i16::from(r.reason.code()), &r.date])?;
            }
            Ok(id)
        })?;
        Ok(Box::new(PgCaState::open(self.target.clone(), id)?))
    }

    fn load(&mut self, name: &str) -> CaResult<(CaRecord, Box<dyn CaState>)> {
        let found = self.conn.run("loading a CA", |l| {
            let Some(r) = l.query_opt(LOAD_CA, &[&name])? else { return Ok(None) };
            let record = CaRecord {
                cert_der: r.try_get(1)?,
                key_pem: Secret::new(r.try_get::<_, String>(2)?.into_bytes()),
                key_encrypted: r.try_get(3)?,
                pointers: Pointers {
                    crl_urls: split(r.try_get(4)?),
                    ocsp_urls: split(r.try_get(5)?),
                    ca_issuers_urls: split(r.try_get(6)?),
                },
            };
            Ok(Some((r.try_get::<_, i64>(0)?, record)))
        })?;
        let Some((id, record)) = found else {
            return Err(CaError::param(format!("store {}: no CA named {:?}", self.target.location(), name)));
        };
        Ok((record, Box::new(PgCaState::open(self.target.clone(), id)?)))
    }

    fn names(&mut self) -> CaResult<Vec<String>> {
        self.conn.run("listing CAs", |l| {
            let rows = l.query("SELECT name FROM jsec_ca.ca ORDER BY id", &[])?;
            let mut names = Vec::with_capacity(rows.len());
            for r in &rows {
                names.push(r.try_get(0)?);
            }
            Ok(names)
        })
    }

    fn find(&mut self, name: &str, f: &Filter) -> CaResult<Vec<IssuedRow>> {
        let id = self.ca_id(name)?;
        let mut sql = String::from(
            "SELECT i.serial::text AS serial_text, i.subject, i.sans, i.not_before, i.not_after, i.der, r.reason, r.date
             FROM jsec_ca.issued i LEFT JOIN jsec_ca.revoked r ON r.ca = i.ca AND r.serial = i.serial
             WHERE i.ca = $1 AND NOT i.pending AND i.der IS NOT NULL",
        );
        let (clauses, values) = filter_sql::clauses(f, &Dialect { serial: "?::text::numeric", contains: "ILIKE ?" });
        sql.push_str(&filter_sql::numbered(&clauses, '$', 2));
        let mut args: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(id)];
        for v in &values {
            args.push(match v {
                Bound::Serial(s) => Box::new(serial_text(s)?),
                Bound::Pattern(p) => Box::new(p.clone()),
                Bound::Int(n) => Box::new(*n),
            });
        }
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|b| b.as_ref()).collect();
        self.conn.run("finding certificates", |l| {
            let rows = l.query(&sql, &params)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let serial = serial_from(&r.try_get::<_, String>(0)?)?;
                let revoked = match (r.try_get::<_, Option<i16>>(6)?, r.try_get::<_, Option<i64>>(7)?) {
                    (Some(code), Some(date)) => Some(Revocation { serial, reason: reason_from(code), date }),
                    _ => None,
                };
                out.push(IssuedRow {
                    serial,
                    subject: r.try_get::<_, Option<String>>(1)?.unwrap_or_default(),
                    sans: split(&r.try_get::<_, Option<String>>(2)?.unwrap_or_default()),
                    not_before: r.try_get::<_, Option<i64>>(3)?.unwrap_or(0),
                    not_after: r.try_get::<_, Option<i64>>(4)?.unwrap_or(0),
                    der: r.try_get::<_, Option<Vec<u8>>>(5)?.unwrap_or_default(),
                    revoked,
                });
            }
            Ok(out)
        })
    }

    fn location(&self) -> &str {
        self.target.location()
    }
}

//! Connections to a PostgreSQL store: the location (a `postgresql://` URL)
//! parsed once into a [`Target`], TLS as libpq's `sslmode` means it, and a
//! [`Conn`]: one client opened on first use and again on the next call after
//! it was lost, with its prepared statements. Every error names the store by
//! its URL without the password.
//!
//! A call that meets a connection lost while it was idle (the server
//! restarted, or the connection was terminated, between calls) runs once
//! more on a new connection: nothing of it reached the server, or what did
//! was rolled back with the connection, except a lost reply to a COMMIT
//! (or to a single-statement change), which is never repeated blindly:
//! transactions report it as an unknown outcome, and the single statements
//! the state uses are safe to repeat (a serial reserved twice leaves one
//! pending row that is never handed out; recording a certificate is
//! idempotent; reads change nothing).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use postgres::config::{Host, SslMode};
use postgres::types::ToSql;
use postgres::{Client, Config, Row, Statement};
use postgres_openssl::MakeTlsConnector;

use super::super::super::error::{CaError, CaResult};
use super::super::OpenOptions;
use super::{conninfo, passfile};

/// A parameter of a statement.
pub type Param<'a> = &'a (dyn ToSql + Sync);

/// Where a store is and how to reach it.
pub struct Target {
    config: Config,
    tls: MakeTlsConnector,
    /// The URL without password or query, for messages.
    location: String,
    /// Scrubbed from every message, however a library phrased it.
    password: Option<String>,
    pub read_only: bool,
    lock_timeout_ms: u32,
}

/// How much of the server's certificate TLS checks (libpq's sslmode).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verify {
    Nothing,
    Chain,
    ChainAndHost,
}

/// `postgresql://user:password@host:port/db?k=v` shown without the password
/// and the query (which may hold `password=`).
pub fn redact(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or("");
    let Some(scheme_end) = base.find("://") else { return base.to_string() };
    let (scheme, rest) = base.split_at(scheme_end + 3);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let user = authority[..at].split(':').next().unwrap_or("");
            format!("{scheme}{user}@{}{path}", &authority[at + 1..])
        }
        None => base.to_string(),
    }
}

/// `e` and what caused it, "a: b: c" (the client crate's Display stops at
/// the first: "error performing TLS handshake").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cause = c.source();
    }
    text
}

/// The password in a URL's userinfo, as written.
fn url_password(base: &str) -> Option<String> {
    let rest = &base[base.find("://")? + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo.split_once(':').map(|(_, p)| p.to_string())
}

fn percent_decode(s: &str, what: &str) -> CaResult<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(v) = hex else {
                    return Err(CaError::param(format!("{what}: a bad percent-escape in the URL's query")));
                };
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| CaError::param(format!("{what}: the URL's query is not UTF-8")))
}

/// The TLS parameters libpq reads from the URL, which the client crate
/// leaves to us.
#[derive(Default)]
struct TlsParams {
    mode: Option<String>,
    root_cert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
}

impl Target {
    /// Parses a `postgresql://` URL. The password comes from the URL or,
    /// when it has none, from PGPASSWORD.
    pub fn parse(url: &str, opts: &OpenOptions) -> CaResult<Target> {
        let converted;
        let url = if conninfo::is_conninfo(url) {
            converted = conninfo::to_url(url)?;
            converted.as_str()
        } else {
            url
        };
        let location = redact(url);
        let what = format!("store {location}");
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let mut tls = TlsParams::default();
        let mut passfile_param = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(v, &what)?;
            match percent_decode(k, &what)?.as_str() {
                "sslmode" => tls.mode = Some(value),
                "sslrootcert" => tls.root_cert = Some(value),
                "sslcert" => tls.cert = Some(value),
                "sslkey" => tls.key = Some(value),
                "passfile" => passfile_param = Some(value),
                _ => kept.push(pair),
            }
        }
        // the scheme is case-insensitive; the client crate's parser is not
        let base = match base.find("://") {
            Some(i) => format!("{}{}", base[..i].to_ascii_lowercase(), &base[i..]),
            None => base.to_string(),
        };
        let url = if kept.is_empty() { base.clone() } else { format!("{base}?{}", kept.join("&")) };
        let mut config: Config = url.parse().map_err(|e: postgres::Error| {
            // the crate names the option it did not like, not its value; scrubbed all the same
            let mut m = format!("{what}: not a usable PostgreSQL URL: {}", chain(&e));
            if let Some(p) = url_password(&base).filter(|p| p.len() >= 4) {
                m = m.replace(&p, "***");
            }
            CaError::param(m)
        })?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            return Err(CaError::param(format!("{what}: the URL names no host (postgresql://user@host:port/database)")));
        }
        if config.get_password().is_none() {
            // an empty PGPASSWORD counts as none, as with libpq
            if let Some(p) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
                config.password(p.to_string_lossy().as_bytes());
            } else if let Some(p) = password_from_file(&config, passfile_param.as_deref()) {
                config.password(p.as_bytes());
            }
        }
        let password = config.get_password().map(|p| String::from_utf8_lossy(p).into_owned());
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        // A server that vanishes mid-call (no reset, no reply) is an error
        // within a minute, not a call that hangs for the kernel's quarter
        // of an hour; the URL may say otherwise.
        if !kept.iter().any(|p| p.starts_with("tcp_user_timeout=")) {
            config.tcp_user_timeout(Duration::from_secs(60));
        }
        if !kept.iter().any(|p| p.starts_with("keepalives_idle=")) {
            config.keepalives_idle(Duration::from_secs(60));
        }
        if config.get_application_name().is_none() {
            config.application_name("jsec-ca");
        }
        let verify = match tls.mode.as_deref().unwrap_or("prefer") {
            "disable" => {
                config.ssl_mode(SslMode::Disable);
                Verify::Nothing
            }
            "allow" | "prefer" => {
                config.ssl_mode(SslMode::Prefer);
                Verify::Nothing
            }
            // libpq: require with a root certificate named checks the chain
            "require" if tls.root_cert.is_some() => {
                config.ssl_mode(SslMode::Require);
                Verify::Chain
            }
            "require" => {
                config.ssl_mode(SslMode::Require);
                Verify::Nothing
            }
            "verify-ca" => {
                config.ssl_mode(SslMode::Require);
                Verify::Chain
            }
            "verify-full" => {
                config.ssl_mode(SslMode::Require);
                Verify::ChainAndHost
            }
            other => {
                return Err(CaError::param(format!(
                    "{what}: sslmode must be disable, allow, prefer, require, verify-ca or verify-full, got {other:?}"
                )))
            }
        };
        let tls = connector(&what, verify, &tls)?;
        Ok(Target {
            config,
            tls,
            location,
            password,
            read_only: opts.read_only,
            lock_timeout_ms: opts.busy_timeout_ms.max(1),
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// A message with the password scrubbed out, whatever put it there.
    fn scrub(&self, m: String) -> String {
        match &self.password {
            Some(p) if p.len() >= 4 => m.replace(p.as_str(), "***"),
            _ => m,
        }
    }

    fn connect(&self, doing: &str) -> CaResult<Live> {
        let mut client = self.config.connect(self.tls.clone()).map_err(|e| self.error(doing, &e))?;
        // Row locks do the serializing; the isolation is pinned so that a
        // server default of SERIALIZABLE cannot turn waits into failures.
        let mut setup = format!(
            "SET lock_timeout = {}; SET default_transaction_isolation = 'read committed';",
            self.lock_timeout_ms
        );
        if self.read_only {
            setup.push_str(" SET default_transaction_read_only = on;");
        }
        client.batch_execute(&setup).map_err(|e| self.error(doing, &e))?;
        Ok(Live { client, statements: HashMap::new() })
    }

    /// A `[CA:...]` error for `e`, met while `doing`.
    pub fn error(&self, doing: &str, e: &postgres::Error) -> CaError {
        let at = format!("store {}: {doing}", self.location);
        let err = match e.as_db_error() {
            Some(db) => {
                let msg = db.message();
                match db.code().code() {
                    "25006" if self.read_only => CaError::config(format!("{at}: the store is opened read-only")),
                    "25006" => CaError::config(format!(
                        "{at}: the store is read-only (the server is a standby, or its transactions are read-only)"
                    )),
                    "2200H" => CaError::resource(format!("{at}: the serial counter is exhausted")),
                    "55P03" => CaError::resource(format!(
                        "{at}: the store is locked by another process past the busy timeout; try again"
                    )),
                    "3D000" | "42501" => CaError::config(format!("{at}: {msg}")),
                    c if c.starts_with("28") => CaError::config(format!("{at}: cannot log in: {msg}")),
                    c if c.starts_with("08") || c.starts_with("57P") => CaError::resource(format!(
                        "{at}: the connection to the database was lost ({msg}); the call did not complete, try again"
                    )),
                    "53100" => CaError::resource(format!("{at}: the database server's disk is full ({msg})")),
                    _ => CaError::resource(format!("{at}: {msg}")),
                }
            }
            None if chain(e).contains("password missing") => CaError::config(format!(
                "{at}: cannot log in: the server asks for a password and none was given (in the URL, PGPASSWORD, \
                 or a password file: ~/.pgpass or PGPASSFILE, which only its owner may read)"
            )),
            None if e.is_closed() => CaError::resource(format!(
                "{at}: the connection to the database was lost; the call did not complete, try again"
            )),
            None => CaError::resource(format!("{at}: cannot reach the database: {}", chain(e))),
        };
        CaError::new(err.category, self.scrub(err.message))
    }

    /// The reply to a COMMIT was lost with the connection.
    fn uncertain(&self, doing: &str, e: &postgres::Error) -> CaError {
        let m = format!(
            "store {}: {doing}: the connection to the database was lost while committing ({}); whether the \
             change was made is unknown: look before repeating it",
            self.location,
            chain(e)
        );
        CaError::resource(self.scrub(m))
    }
}

/// The password the password file gives for the first host of `config`
/// (libpq matches a socket directory as "localhost").
fn password_from_file(config: &Config, explicit: Option<&str>) -> Option<String> {
    let file = passfile::location(explicit)?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => match config.get_hostaddrs().first() {
            Some(a) => a.to_string(),
            None => "localhost".to_string(),
        },
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let database = config.get_dbname().unwrap_or(user);
    passfile::lookup(&file, &host, port, database, user)
}

/// The TLS connector for a verification level.
fn connector(what: &str, verify: Verify, p: &TlsParams) -> CaResult<MakeTlsConnector> {
    let file_error = |which: &str, file: &str| {
        let file = file.to_string();
        let which = which.to_string();
        let what = what.to_string();
        move |e| CaError::ssl(&format!("{what}: reading {which} {file:?}"), e)
    };
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| CaError::ssl("setting up TLS", e))?;
    if verify == Verify::Nothing {
        b.set_verify(SslVerifyMode::NONE);
    } else {
        b.set_verify(SslVerifyMode::PEER);
        match p.root_cert.as_deref() {
            None | Some("system") => b.set_default_verify_paths().map_err(|e| CaError::ssl("setting up TLS", e))?,
            Some(f) => b.set_ca_file(f).map_err(file_error("sslrootcert", f))?,
        }
    }
    match (&p.cert, &p.key) {
        (Some(cert), Some(key)) => {
            b.set_certificate_chain_file(cert).map_err(file_error("sslcert", cert))?;
            b.set_private_key_file(key, SslFiletype::PEM).map_err(file_error("sslkey", key))?;
        }
        (None, None) => {}
        _ => return Err(CaError::param(format!("{what}: sslcert and sslkey go together"))),
    }
    let mut tls = MakeTlsConnector::new(b.build());
    let check_host = verify == Verify::ChainAndHost;
    tls.set_callback(move |cfg, _| {
        cfg.set_verify_hostname(check_host);
        Ok(())
    });
    Ok(tls)
}

/// Why a closure given to [`Conn::run`] or [`Conn::tx`] stopped.
pub enum Fail {
    Db(postgres::Error),
    Ca(CaError),
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Fail {
        Fail::Db(e)
    }
}

impl From<CaError> for Fail {
    fn from(e: CaError) -> Fail {
        Fail::Ca(e)
    }
}

/// Whether `e` leaves the connection unusable (and a new one is needed).
fn lost(e: &postgres::Error) -> bool {
    match e.code() {
        Some(c) => c.code().starts_with("08") || matches!(c.code(), "57P01" | "57P02" | "57P03"),
        // io, TLS, protocol, closed: nothing more can go over this one
        None => true,
    }
}

/// An open connection and the statements prepared on it.
pub struct Live {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Live {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    pub fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query(&s, params)
    }

    pub fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query_opt(&s, params)
    }

    pub fn query_one(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Row, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query_one(&s, params)
    }

    pub fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params)
    }

    /// Statements without parameters, in one round trip.
    pub fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }
}

/// One connection to a store, opened when first needed and reopened on the
/// next call after it was lost.
pub struct Conn {
    target: Arc<Target>,
    live: Option<Live>,
}

impl Conn {
    pub fn new(target: Arc<Target>) -> Conn {
        Conn { target, live: None }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The open connection, opening one when there is none (or it closed).
    fn live(&mut self, doing: &str) -> CaResult<(&mut Live, bool)> {
        let reused = match &self.live {
            Some(l) if l.client.is_closed() => {
                self.live = None;
                false
            }
            Some(_) => true,
            None => false,
        };
        if self.live.is_none() {
            self.live = Some(self.target.connect(doing)?);
        }
        match self.live.as_mut() {
            Some(l) => Ok((l, reused)),
            None => Err(CaError::resource(format!("store {}: {doing}: no connection", self.target.location))),
        }
    }

    /// Runs `f` (statements that each commit on their own, or only read).
    pub fn run<T>(&mut self, doing: &str, mut f: impl FnMut(&mut Live) -> Result<T, Fail>) -> CaResult<T> {
        let mut retried = false;
        loop {
            let (live, reused) = self.live(doing)?;
            match f(live) {
                Ok(v) => return Ok(v),
                Err(Fail::Ca(e)) => return Err(e),
                Err(Fail::Db(e)) => {
                    if self.retry_after(&e, reused, &mut retried) {
                        continue;
                    }
                    return Err(self.target.error(doing, &e));
                }
            }
        }
    }

    /// After a failed call: whether to run it once more on a new connection
    /// (the old one was lost while idle, and this call has not been retried).
    fn retry_after(&mut self, e: &postgres::Error, reused: bool, retried: &mut bool) -> bool {
        if !lost(e) {
            return false;
        }
        self.live = None;
        let again = reused && !*retried;
        *retried = true;
        again
    }

    /// Runs `f` in one transaction: committed when `f` succeeds, rolled back
    /// otherwise (by the server, when the connection is lost).
    pub fn tx<T>(&mut self, doing: &str, mut f: impl FnMut(&mut Live) -> Result<T, Fail>) -> CaResult<T> {
        self.tx_decide(doing, |l| f(l).map(|v| (v, true)))
    }

    /// As [`Conn::tx`], but `f` decides the end of a transaction that did not
    /// fail: `(v, true)` commits, `(v, false)` rolls back (a compare-and-swap
    /// that found another version); either way `v` is returned.
    pub fn tx_decide<T>(&mut self, doing: &str, mut f: impl FnMut(&mut Live) -> Result<(T, bool), Fail>) -> CaResult<T> {
        let mut retried = false;
        loop {
            let (live, reused) = self.live(doing)?;
            let outcome = live.batch("BEGIN").map_err(Fail::Db).and_then(|()| f(live));
            let fail = match outcome {
                Ok((v, true)) => match live.batch("COMMIT") {
                    Ok(()) => return Ok(v),
                    Err(e) if lost(&e) => {
                        self.live = None;
                        return Err(self.target.uncertain(doing, &e));
                    }
                    // the server ended the transaction with the failed COMMIT
                    Err(e) => return Err(self.target.error(doing, &e)),
                },
                Ok((v, false)) => {
                    // nothing of it stays: rolled back here, or by the server with a lost connection
                    if live.batch("ROLLBACK").is_err() {
                        self.live = None;
                    }
                    return Ok(v);
                }
                Err(fail) => fail,
            };
            // A connection left inside a transaction must never be used again.
            if live.batch("ROLLBACK").is_err() {
                self.live = None;
            }
            match fail {
                Fail::Ca(e) => return Err(e),
                Fail::Db(e) => {
                    if self.retry_after(&e, reused, &mut retried) {
                        continue;
                    }
                    return Err(self.target.error(doing, &e));
                }
            }
        }
    }
}

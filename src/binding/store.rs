//! The store functions: opening a store, saving a CA into it (from then on
//! the CA writes through), loading a CA from it, listing and finding.

use janetrs::Janet;

use crate::core::authority::Authority;
use crate::core::error::{CaError, CaResult};
use crate::core::options::{Filter, OpenOptions, StatusFilter};
use crate::core::store;

use super::ca_type;
use super::edge::{arity, registry};
use super::store_type;
use super::values::{self as v, Opts};

registry! {
    "ca/open-store" => open_store, OPEN_STORE_DOC;
    "ca/store-save" => store_save, STORE_SAVE_DOC, store ["save"];
    "ca/store-load" => store_load, STORE_LOAD_DOC, store ["load"];
    "ca/store-cas" => store_cas, STORE_CAS_DOC, store ["cas"];
    "ca/store-find" => store_find, STORE_FIND_DOC, store ["find"];
    "ca/store-location" => store_location, STORE_LOCATION_DOC, store ["location"];
    "ca/store-close" => store_close, STORE_CLOSE_DOC, store ["close"];
}

pub const OPEN_STORE_DOC: &str = "(ca/open-store location &opt opts)\n\n\
Opens (creating it when missing) the store at `location`, which holds any number of CAs with their keys,\n\
serial counters, issued certificates, revocations and CRL numbers, and which several processes may use at\n\
once. Returns a ca/Store. `location` is either\n\
* a file path: an SQLite database, or\n\
* a URL postgresql://user:password@host:port/database (or postgres://): a PostgreSQL database that several\n\
  hosts share, its tables in the schema jsec_ca, or the same as a libpq connection string\n\
  (\"host=db1 port=5432 dbname=ca user=ca sslmode=verify-full\"). Without a password in it, the password\n\
  comes from PGPASSWORD, else from the password file (?passfile=FILE, PGPASSFILE, or ~/.pgpass, used only\n\
  when its group and others cannot read it), as with libpq; TLS follows\n\
  ?sslmode=disable|prefer|require|verify-ca|verify-full (default prefer) with ?sslrootcert=FILE (or\n\
  system), and ?sslcert=FILE&sslkey=FILE for a client certificate. A read-only store may be a hot standby.\n\
  A call that finds the server unreachable is a [CA:RESOURCE] error naming the store (never its password);\n\
  the next call reconnects by itself.\n\n\
Options:\n\
* :busy-timeout - how long a call waits for another process's write lock, in milliseconds (default 5000)\n\
* :read-only - true opens it without writing (an OCSP responder; issuing then fails)\n\n\
A file or database that is not a jsec-ca store, one locked past the busy timeout, or a schema newer than\n\
this module knows is a [CA:...] error.";

/// `:busy-timeout` (ca/open-store, ca/acme-open): milliseconds.
pub fn busy_timeout(o: &Opts) -> CaResult<Option<u32>> {
    Ok(o.with("busy-timeout", |x, w| v::int_in(x, w, 0, 600_000))?.map(|ms| ms as u32))
}

pub fn open_store(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 2, "ca/open-store")?;
    let location = v::text(&args[0], "ca/open-store location")?;
    let opts = Opts::parse(args.get(1), "ca/open-store", |o| {
        let d = OpenOptions::default();
        Ok(OpenOptions { busy_timeout_ms: busy_timeout(o)?.unwrap_or(d.busy_timeout_ms), read_only: o.with("read-only", v::boolean)?.unwrap_or(d.read_only) })
    })?;
    Ok(store_type::wrap(store::open(&location, &opts)?))
}

pub const STORE_SAVE_DOC: &str = "(ca/store-save store name ca &opt opts)\n\n\
Saves `ca` into `store` under `name` (a name not used yet): its certificate, its key (encrypted with\n\
{:password \"...\"}, PBES2/AES-256, and never in clear when a password is given), serial counter, the\n\
certificates it tracked, revocations and CRL number. A CA whose key is in a PKCS#11 token is saved with\n\
the key's URI (no PIN in it), never key bytes. From then on `ca` writes through: every issue,\n\
sign, revoke and CRL commits to the store before it returns. Returns `ca`.\n\n\
Options:\n\
* :password - encrypt the saved key with this password\n\
Method form: (:save store name ca &opt opts).";

pub fn store_save(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 3, 4, "ca/store-save")?;
    let name = v::text(&args[1], "ca/store-save name")?;
    let password = Opts::parse(args.get(3), "ca/store-save", |o| o.with("password", v::secret))?;
    let ca = ca_type::authority(&args[2], "ca/store-save ca")?;
    let engine = store_type::engine(&args[0], "ca/store-save store")?;
    ca.save_to(engine, &name, password.as_ref().map(|p| p.as_bytes()))?;
    Ok(args[2])
}

pub const STORE_LOAD_DOC: &str = "(ca/store-load store name &opt opts)\n\n\
Returns the CA saved in `store` under `name` as a ca/CA that writes through to the store: serials are\n\
reserved in a committed transaction before anything is signed with them (so they never repeat, across\n\
processes and crashes), each issued certificate is in the store's index before it is returned, and\n\
ca/get-status and OCSP answers read the store as it is now. ca/get-issued lists the whole index.\n\n\
Options:\n\
* :password - the password of a key saved with one; for a key in a PKCS#11 token, the token's PIN, which wins\n  \
over the pin-source its URI names\n\
Method form: (:load store name &opt opts).";

pub fn store_load(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 3, "ca/store-load")?;
    let name = v::text(&args[1], "ca/store-load name")?;
    let password = Opts::parse(args.get(2), "ca/store-load", |o| o.with("password", v::secret))?;
    let engine = store_type::engine(&args[0], "ca/store-load store")?;
    let ca = Authority::load_from(engine, &name, password.as_ref().map(|p| p.as_bytes()))?;
    Ok(ca_type::wrap(ca))
}

pub const STORE_CAS_DOC: &str = "(ca/store-cas store)\n\n\
Returns an array of the names of the CAs saved in `store`, oldest first. Method form: (:cas store).";

pub fn store_cas(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/store-cas")?;
    let names = store_type::engine(&args[0], "ca/store-cas store")?.names()?;
    Ok(v::array(names.iter().map(|n| v::jstring(n))))
}

pub const STORE_LOCATION_DOC: &str = "(ca/store-location store)\n\n\
Returns where `store` is, as a string fit to print: the file path of an SQLite store, or the URL of a\n\
PostgreSQL one without its password and parameters (postgresql://user@host:port/database; a connection\n\
string shows as that URL too). Method form: (:location store).";

pub fn store_location(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/store-location")?;
    Ok(v::jstring(store_type::engine(&args[0], "ca/store-location store")?.location()))
}

pub const STORE_FIND_DOC: &str = "(ca/store-find store name &opt filters)\n\n\
Returns an array of the certificates the CA `name` issued, by serial, each a table\n\
@{:serial <int/s64 or \"0x..\"> :subject \"CN=...\" :san [\"DNS:...\"] :not-before <Unix seconds>\n\
:not-after <Unix seconds> :status :good|:revoked :cert <PEM>} (revoked ones also :revocation-reason and\n\
:revocation-time).\n\n\
Filters:\n\
* :serial - that serial only\n\
* :subject, :san - a case-insensitive substring of the subject or of a SAN entry\n\
* :status - :good or :revoked\n\
* :expires-before, :expires-after - notAfter before / at or after a time (Unix seconds or ISO 8601)\n\
* :limit (default 100, at most 100000), :offset (default 0) - pagination\n\
* :after - serials after this one only: the next page after the last serial of this one, as fast at the\n  \
millionth row as at the first\n\
Method form: (:find store name &opt filters).";

pub fn store_find(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 3, "ca/store-find")?;
    let name = v::text(&args[1], "ca/store-find name")?;
    let filter = Opts::parse(args.get(2), "ca/store-find", |o| {
        let d = Filter::default();
        Ok(Filter {
            serial: o.with("serial", v::serial)?,
            after: o.with("after", v::serial)?,
            subject: o.with("subject", v::text)?,
            san: o.with("san", v::text)?,
            status: o
                .with("status", v::name)?
                .map(|s| match s.as_str() {
                    "good" => Ok(StatusFilter::Good),
                    "revoked" => Ok(StatusFilter::Revoked),
                    _ => Err(CaError::param(format!(":status must be :good or :revoked, got {s:?}"))),
                })
                .transpose()?,
            expires_before: o.with("expires-before", v::time)?,
            expires_after: o.with("expires-after", v::time)?,
            limit: o.with("limit", |x, w| v::int_in(x, w, 0, 100_000))?.map_or(d.limit, |n| n as u32),
            offset: o.with("offset", |x, w| v::int_in(x, w, 0, i64::MAX as i128))?.map_or(d.offset, |n| n as u64),
        })
    })?;
    let rows = store_type::engine(&args[0], "ca/store-find store")?.find(&name, &filter)?;
    Ok(v::array(rows.iter().map(|r| {
        let mut pairs = vec![
            ("serial", v::jserial(&r.serial)),
            ("subject", v::jstring(&r.subject)),
            ("san", v::array(r.sans.iter().map(|s| v::jstring(s)))),
            ("not-before", Janet::number(r.not_before as f64)),
            ("not-after", Janet::number(r.not_after as f64)),
            ("cert", v::jstring(&crate::core::pem::encode("CERTIFICATE", &r.der))),
        ];
        match &r.revoked {
            Some(rev) => {
                pairs.push(("status", v::jkeyword("revoked")));
                pairs.push(("revocation-reason", v::jkeyword(rev.reason.name())));
                pairs.push(("revocation-time", Janet::number(rev.date as f64)));
            }
            None => pairs.push(("status", v::jkeyword("good"))),
        }
        v::table(&pairs)
    })))
}

pub const STORE_CLOSE_DOC: &str = "(ca/store-close store)\n\n\
Closes `store` (CAs loaded from it keep their own connections and go on working). Closing twice is fine.\n\
Method form: (:close store).";

pub fn store_close(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/store-close")?;
    store_type::handle(&args[0], "ca/store-close store")?.engine = None;
    Ok(Janet::nil())
}

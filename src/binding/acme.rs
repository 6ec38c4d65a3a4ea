//! ACME in Janet: the abstract type `ca/Acme` (an ACME server's policy and
//! state, no network) and the functions a Janet HTTP server calls.
//! `jsec/acme-server` is such a server; any other can call the same.

use std::ffi::c_void;

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::acme::dns;
use crate::core::acme::policy::{Policy, Subnet};
use crate::core::acme::server::{Acme, Request, Seen};
use crate::core::acme::store;
use crate::core::acme::b64;
use crate::core::error::{CaError, CaResult};
use crate::core::options::OpenOptions;

use super::abstract_box::{self as ab, AbstractType};
use super::ca_type;
use super::edge::{arity, registry};
use super::values::{self as v, type_name, Opts};

registry! {
    "ca/acme-open" => acme_open, ACME_OPEN_DOC;
    "ca/acme-handle" => acme_handle, ACME_HANDLE_DOC, ca ["acme-handle"];
    "ca/acme-validated" => acme_validated, ACME_VALIDATED_DOC, acme ["validated"];
    "ca/acme-directory-url" => acme_directory_url, ACME_DIRECTORY_URL_DOC, acme ["directory-url"];
    "ca/acme-dns-query" => acme_dns_query, ACME_DNS_QUERY_DOC;
    "ca/acme-dns-answer" => acme_dns_answer, ACME_DNS_ANSWER_DOC;
}

pub static ACME_TYPE: AbstractType = ab::descriptor(c"ca/Acme", ab::gc::<Acme>, acme_get, acme_next, acme_tostring);

fn acme<'a>(x: &Janet, what: &str) -> CaResult<&'a mut Acme> {
    match ab::borrow::<Acme>(&ACME_TYPE, x) {
        None => Err(CaError::param(format!("{what} must be a ca/Acme, got {}", type_name(x)))),
        Some(None) => Err(CaError::config(format!("{what} is a freed ca/Acme"))),
        Some(Some(a)) => Ok(a),
    }
}

/// The ca/Acme method table, handed over by the registration (mod.rs).
pub static METHODS: ab::MethodSlot = ab::MethodSlot::new();

unsafe extern "C" fn acme_get(_data: *mut c_void, key: raw::Janet, out: *mut raw::Janet) -> i32 {
    // SAFETY: the slot holds a NULL-terminated static table (or nothing, then no method is found).
    unsafe { ab::method(&METHODS, key, out) }
}

unsafe extern "C" fn acme_next(_data: *mut c_void, key: raw::Janet) -> raw::Janet {
    // SAFETY: as acme_get: the slot's table is NULL-terminated and static.
    unsafe { ab::next_method(&METHODS, key) }
}

unsafe extern "C" fn acme_tostring(data: *mut c_void, buffer: *mut raw::JanetBuffer) {
    // SAFETY: `data` is a ca/Acme's memory.
    let text = match unsafe { ab::peek::<Acme>(data) } {
        Some(a) => format!("<ca/Acme {}>", a.directory_url()),
        None => String::from("<ca/Acme freed>"),
    };
    // SAFETY: the buffer Janet passed.
    unsafe { ab::push_text(buffer, &text) };
}

pub const ACME_OPEN_DOC: &str = "(ca/acme-open location opts)\n\n\
Returns a ca/Acme: the state and policy of an ACME server (RFC 8555, with ARI, RFC 9773) for a CA, without\n\
any network. `location` is the jsec-ca store the CA was saved in, as ca/open-store takes it: an SQLite\n\
file, or a PostgreSQL store (a postgresql:// URL or a libpq connection string; the password in the URL,\n\
PGPASSWORD or a password file). The ACME accounts, orders, authorizations, nonces and certificates live\n\
there beside the CA (created on first open), so several processes serve one CA, with PostgreSQL on several\n\
hosts; \":memory:\" keeps them in this process only. Serve it with ca/acme-handle (jsec/acme-server does).\n\
Options:\n\
* :base-url (required) - scheme, host and port clients reach the server at, e.g. \"https://ca.example:14000\"\n\
* :allowed-domains - DNS names issued for: each and every name below it (default none)\n\
* :allowed-ips - IP addresses or CIDR ranges issued for (default none)\n\
* :days-valid - certificate lifetime (90)\n\
* :extended-key-usage, :key-usage - the profile (serverAuth; key usage by key type)\n\
* :orders-per-hour - new orders per account per hour (300; 0 unlimited)\n\
* :accounts-per-hour - new accounts per hour (0, unlimited)\n\
* :eab-keys - {kid base64url-hmac-key ...} for external account binding\n\
* :eab-required - every new account must be bound with one of :eab-keys (false)\n\
* :terms-of-service - a URL clients must agree to\n\
* :finalize-lease - seconds before another process takes over an unfinished finalize (60): it attaches the\n  \
certificate the first one recorded, else revokes that one's serial (superseded) and signs under a new one\n\
* :busy-timeout - milliseconds to wait for another process's write lock (5000)\n\
* :validation-always-valid - TEST ONLY (benchmarks): every validation passes, whatever it saw (false)\n\
Every certificate is signed by ca/sign-csr's rules of the CA passed to ca/acme-handle.\n\
Errors: a bad option is [CA:PARAM]; an SQLite file that is not a jsec-ca store, or a PostgreSQL schema\n\
newer than this module knows, [CA:CONFIG] or [CA:PARSE]; a database out of reach [CA:RESOURCE] (naming the\n\
store, never its password).";

fn strings(x: &Janet, what: &str) -> CaResult<Vec<String>> {
    v::string_list(x, what)
}

pub fn acme_open(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 2, "ca/acme-open")?;
    let location = v::text(&args[0], "ca/acme-open location")?;
    let (base, p, busy) = Opts::parse(args.get(1), "ca/acme-open", |o| {
        let base = o.with("base-url", v::text)?;
        let mut p = Policy::default();
        if let Some(d) = o.with("allowed-domains", strings)? {
            for name in &d {
                crate::core::name_forms::dns::check(&name.to_ascii_lowercase(), crate::core::name_forms::dns::Use::Constraint)
                    .map_err(|e| CaError::param(format!(":allowed-domains {name:?}: {e}")))?;
            }
            p.allowed_domains = d.iter().map(|s| s.to_ascii_lowercase()).collect();
        }
        if let Some(ips) = o.with("allowed-ips", strings)? {
            p.allowed_ips = ips.iter().map(|s| Subnet::parse(s).map_err(|e| CaError::param(format!(":allowed-ips {e}")))).collect::<CaResult<_>>()?;
        }
        if let Some(d) = o.with("days-valid", v::days)? {
            p.days_valid = d;
        }
        if let Some(e) = o.with("extended-key-usage", v::usage_list)? {
            crate::core::usage::parse_ext_key_usage(&e)?;
            p.ext_key_usage = e;
        }
        if let Some(k) = o.with("key-usage", v::usage_list)? {
            crate::core::usage::parse_key_usage(&k)?;
            p.key_usage = k;
        }
        if let Some(n) = o.with("orders-per-hour", |x, w| v::int_in(x, w, 0, 1_000_000))? {
            p.orders_per_hour = n as u32;
        }
        if let Some(n) = o.with("accounts-per-hour", |x, w| v::int_in(x, w, 0, 1_000_000))? {
            p.accounts_per_hour = n as u32;
        }
        if let Some(n) = o.with("finalize-lease", |x, w| v::int_in(x, w, 0, 86400))? {
            p.finalize_lease = n as i64;
        }
        if let Some(b) = o.with("eab-required", v::boolean)? {
            p.eab_required = b;
        }
        if let Some(b) = o.with("validation-always-valid", v::boolean)? {
            p.validation_always_valid = b;
        }
        p.terms_of_service = o.with("terms-of-service", v::text)?;
        if let Some(kv) = o.with("eab-keys", v::string_pairs)? {
            for (kid, secret) in kv {
                let secret = b64::decode(&secret, ":eab-keys")
                    .map_err(|_| CaError::param(format!(":eab-keys {kid:?}: the key must be base64url without padding")))?;
                if secret.len() < 16 {
                    return Err(CaError::param(format!(":eab-keys {kid:?}: the key must be at least 16 octets")));
                }
                p.eab_keys.push((kid, secret));
            }
        }
        Ok((base, p, super::store::busy_timeout(o)?.unwrap_or(OpenOptions::default().busy_timeout_ms)))
    })?;
    // After the options are read: a misspelt :base-url is reported as the unknown option it is.
    let base = base.ok_or_else(|| CaError::param("ca/acme-open needs :base-url"))?;
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() > 200 {
        return Err(CaError::param(format!(":base-url must be an http(s) URL, got {base:?}")));
    }
    Ok(ab::wrap(&ACME_TYPE, Acme::new(&base, p, store::open(&location, busy)?)))
}

pub const ACME_HANDLE_DOC: &str = "(ca/acme-handle ca acme request)\n\n\
Answers one HTTP request to the ACME server `acme` for the CA `ca`. `request` is a table or struct with\n\
:method (\"GET\", \"HEAD\", \"POST\"), :path (\"/acme/new-order\"), :content-type and :body (string or buffer,\n\
at most 64 KiB). Returns @{:status n :headers @[[name value] ...] :body buffer :validations @[...]}: each\n\
validation is @{:challenge id :type \"http-01\"|\"dns-01\" :identifier host :token t :target path-or-name}\n\
that the caller performs (fetch http://host:80/target, or look up TXT records of target) and reports with\n\
ca/acme-validated. Protocol errors are problem documents in the response, never Janet errors.\n\
Method form: (:acme-handle ca acme request).";

pub fn acme_handle(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 3, 3, "ca/acme-handle")?;
    let (req, path) = Opts::parse(Some(&args[2]), "ca/acme-handle request", |o| {
        let d = Request::default();
        let method = o.with("method", v::text)?.unwrap_or(d.method);
        let path = o.with("path", v::text)?;
        let content_type = o.with("content-type", v::text)?;
        // Bounded here too: the core refuses more than 64 KiB, copy no more.
        let body = o
            .with("body", |b, w| Ok(v::bytes(b, w)?.iter().take(crate::core::acme::jws::MAX_BODY + 1).copied().collect()))
            .map_err(v::within("ca/acme-handle request"))?
            .unwrap_or(d.body);
        // jsec/acme-server passes the request's headers; the answer does not depend on them.
        o.ignore("headers");
        Ok((Request { method, content_type, body, ..d }, path))
    })?;
    let path = path.ok_or_else(|| CaError::param("ca/acme-handle request needs :path"))?;
    let req = Request { path, ..req };
    let acme = acme(&args[1], "ca/acme-handle acme")?;
    let ca = ca_type::authority(&args[0], "ca/acme-handle ca")?;
    let r = acme.handle(ca, &req);
    let headers = v::array(r.headers.iter().map(|(k, x)| v::array([v::jstring(k), v::jstring(x)])));
    let validations = v::array(r.validations.iter().map(|x| {
        v::table(&[
            ("challenge", v::jstring(&x.challenge)),
            ("type", v::jstring(&x.kind)),
            ("identifier", v::jstring(&x.identifier)),
            ("token", v::jstring(&x.token)),
            ("target", v::jstring(&x.target)),
        ])
    }));
    Ok(v::table(&[
        ("status", Janet::number(f64::from(r.status))),
        ("headers", headers),
        ("body", v::jbuffer(&r.body)),
        ("validations", validations),
    ]))
}

pub const ACME_VALIDATED_DOC: &str = "(ca/acme-validated acme challenge seen)\n\n\
Reports what a validation that ca/acme-handle asked for saw, and lets the server judge it. `challenge`\n\
is the validation's :challenge; `seen` is {:status n :location url :body bytes} (http-01: the HTTP\n\
answer, body at most 8 KiB), {:txt [strings]} (dns-01), {:alpn protocol :certificate der}\n\
(tls-alpn-01: what ca/acme-tls-step returned at the end of the handshake), or {:error\n\
\"connection\"|\"dns\"|\"tls\" :detail text} when nothing answered. Returns :valid or :invalid.\n\
Method form: (:validated acme challenge seen).";

pub fn acme_validated(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 3, 3, "ca/acme-validated")?;
    let challenge = v::text(&args[1], "ca/acme-validated challenge")?;
    let seen = Opts::parse(Some(&args[2]), "ca/acme-validated seen", |o| {
        // Each is asked for whichever form `seen` takes.
        let (status, location, body) = (o.opt("status"), o.opt("location"), o.opt("body"));
        let (txt, error, detail) = (o.opt("txt"), o.opt("error"), o.opt("detail"));
        let (alpn, certificate) = (o.opt("alpn"), o.opt("certificate"));
        Ok(if let Some(kind) = error.read(v::text)? {
            Some(Seen::Failed { kind, detail: detail.read(v::text)?.unwrap_or_default().chars().take(300).collect() })
        } else if let Some(txt) = txt.read(strings)? {
            Some(Seen::Txt(txt))
        } else if let Some(der) = certificate.read(|x, w| v::bytes(x, w).map(<[u8]>::to_vec))? {
            if der.len() > 65536 {
                return Err(CaError::param("ca/acme-validated seen :certificate is over 64 KiB"));
            }
            Some(Seen::TlsAlpn { alpn: alpn.read(v::text)?, certificate: der })
        } else if let Some(status) = status.read(|x, w| v::int_in(x, w, 0, 999))? {
            let body = body.read(|b, w| Ok(v::bytes(b, w)?.iter().take(8192).copied().collect()))?.unwrap_or_default();
            Some(Seen::Http { status: status as u16, location: location.read(v::text)?, body })
        } else {
            None
        })
    })?;
    let seen = seen.ok_or_else(|| CaError::param("ca/acme-validated seen needs :status, :txt, :certificate or :error"))?;
    let acme = acme(&args[0], "ca/acme-validated acme")?;
    let verdict = acme.validation_result(&challenge, &seen)?;
    Ok(v::jkeyword(&verdict))
}

pub const ACME_DIRECTORY_URL_DOC: &str = "(ca/acme-directory-url acme)\n\nThe directory URL clients start from.\n\
Method form: (:directory-url acme).";

pub fn acme_directory_url(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/acme-directory-url")?;
    Ok(v::jstring(&acme(&args[0], "ca/acme-directory-url acme")?.directory_url()))
}

pub const ACME_DNS_QUERY_DOC: &str = "(ca/acme-dns-query name id)\n\n\
A DNS query message (a buffer, to send over UDP) for the TXT records of `name`, with query id `id`\n\
(0 to 65535): dns-01's look-up, for the caller to send.";

pub fn acme_dns_query(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 2, "ca/acme-dns-query")?;
    let name = v::text(&args[0], "ca/acme-dns-query name")?;
    let id = v::int_in(&args[1], "ca/acme-dns-query id", 0, 65535)? as u16;
    let q = dns::txt_query(&name, id).map_err(|p| CaError::param(p.detail))?;
    Ok(v::jbuffer(&q))
}

pub const ACME_DNS_ANSWER_DOC: &str = "(ca/acme-dns-answer message id)\n\n\
Reads a DNS answer to the query with id `id`: returns {:txt [strings]} or {:error \"dns\" :detail text}\n\
(NXDOMAIN, SERVFAIL, a malformed answer), either of which ca/acme-validated takes as `seen`.";

pub fn acme_dns_answer(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 2, "ca/acme-dns-answer")?;
    let msg = v::bytes(&args[0], "ca/acme-dns-answer message")?;
    let id = v::int_in(&args[1], "ca/acme-dns-answer id", 0, 65535)? as u16;
    Ok(match dns::txt_answer(msg, id) {
        Ok(txt) => v::table(&[("txt", v::array(txt.iter().map(|t| v::jstring(t))))]),
        Err(p) => v::table(&[("error", v::jstring("dns")), ("detail", v::jstring(&p.detail))]),
    })
}

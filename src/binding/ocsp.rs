//! OCSP: parsing requests, building signed responses, status from the CA's
//! revocation list, unsuccessful responses. The encoding lives in
//! `core::ocsp`; this file reads Janet values and calls status functions.
//!
//! A status function is Janet code: it runs in a fiber of its own (a
//! protected call: an error it raises comes back as a signal, never as a
//! `longjmp` through these frames), before the CA is borrowed for signing,
//! and only after every argument has been copied into Rust values (the
//! function may change or drop the tables it was given).

use janetrs::lowlevel as raw;
use janetrs::{Janet, TaggedJanet};

use crate::core::authority::Authority;
use crate::core::error::{CaError, CaResult};
use crate::core::options::OcspResponseOptions;
use crate::core::ocsp::{self, CertId, CertIdRef, CertStatus, Delegate, HashAlg, Nonce, ResponseStatus, ResponseTimes, SingleResponse};
use crate::core::revocation::Reason;
use crate::core::serial::Serial;
use crate::core::time;

use super::ca_type;
use super::edge::{arity, registry};
use super::keywords::{self, Words};
use super::options as opt;
use super::string_hash;
use super::values::{self as v, Opt, Opts, Tagged};

registry! {
    "ca/parse-ocsp-request" => parse_ocsp_request, PARSE_OCSP_REQUEST_DOC, ca ["parse-ocsp-request"];
    "ca/create-ocsp-response" => create_ocsp_response, CREATE_OCSP_RESPONSE_DOC, ca ["create-ocsp-response"];
    "ca/get-status" => get_status, GET_STATUS_DOC, ca ["get-status"];
    "ca/ocsp-error-response" => ocsp_error_response, OCSP_ERROR_RESPONSE_DOC, ca ["ocsp-error-response"];
}

// ------------------------------------------------------------ parse

pub const PARSE_OCSP_REQUEST_DOC: &str = "(ca/parse-ocsp-request der)\n\n\
Parses a DER OCSPRequest (string or buffer, at most 64 KiB and 512 certificates) and returns a table\n\
describing its first request:\n\
  @{:issuer-name-hash <buffer> :issuer-key-hash <buffer> :serial <int/s64> :nonce <buffer or nil>\n\
    :hash-algorithm :sha1 :hash-null true :requests @[...]}\n\
* :serial - int/s64, or a hex string \"0x...\" when wider than 63 bits\n\
* :nonce - the nonce octets (RFC 8954: the OCTET STRING inside the extension); a client that sent raw\n  \
octets instead also gets :nonce-raw true, so the response echoes them unchanged\n\
* :hash-algorithm - the CertID hash: :sha1, :sha224, :sha256, :sha384, :sha512 (or the dotted OID of\n  \
another algorithm, which never matches an issuer); :hash-null - whether its AlgorithmIdentifier\n  \
carried a NULL parameter. Together they let the response repeat the CertID exactly.\n\
* :requests - every single request of the message, each\n  \
@{:serial :issuer-name-hash :issuer-key-hash :hash-algorithm :hash-null}; the first one's values are\n  \
the top level's (the same hash buffers)\n\
Method form: (:parse-ocsp-request ca der) also sets :issuer-match (true when the issuer hashes identify\n\
`ca`), at the top level and in each of :requests.\n\
Errors: [CA:PARSE] for empty, truncated or non-DER input and malformed requests (serial zero, negative\n\
or longer than 20 octets included); [CA:RESOURCE] for oversized requests.";

/// A keyword interned now (a hash algorithm's dotted OID; the result's own
/// keywords are interned once per VM, `keywords`).
fn keyword(name: &str) -> raw::Janet {
    // SAFETY: janet_symbol copies `len` bytes of a valid slice (names are ours, short).
    unsafe { raw::janet_wrap_keyword(raw::janet_symbol(name.as_ptr(), name.len() as i32)) }
}

/// A new Janet buffer holding `b`, copied straight into its memory.
fn buffer(b: &[u8]) -> raw::Janet {
    let len = i32::try_from(b.len()).unwrap_or(i32::MAX);
    // SAFETY: janet_buffer(len) allocates at least `len` bytes of data (at
    // least 4), so `len` bytes (no more than `b` holds) fit; `count` is then
    // what janet_buffer_push_bytes would have left (the fields are janet.h's).
    unsafe {
        let buf = raw::janet_buffer(len);
        std::ptr::copy_nonoverlapping(b.as_ptr(), (*buf).data, len as usize);
        (*buf).count = len;
        raw::janet_wrap_buffer(buf)
    }
}

/// The serial as the result carries it: int/s64 when it fits, else "0x..."
/// (as `values::jserial`), its hex written straight from a table of digits.
fn serial_value(s: &Serial) -> raw::Janet {
    match s.to_i64() {
        Some(n) => v::js64(n).into(),
        None => {
            let mut hex = [0u8; crate::core::serial::HEX_MAX];
            let n = s.write_hex(&mut hex);
            // Hashed in lanes, as a CRL's PEM (string_hash): a third of the
            // cost of a 160-bit serial was janet_string's byte-at-a-time hash.
            let filled = string_hash::jstring_filled(n, |out| {
                for (d, c) in out.iter_mut().zip(&hex[..n]) {
                    d.write(*c);
                }
                true
            });
            match filled {
                Ok(j) => j.into(),
                // never (n <= 42): as before
                // SAFETY: janet_string copies `n` (at most 42) bytes from a valid array.
                Err(_) => unsafe { raw::janet_wrap_string(raw::janet_string(hex.as_ptr(), n as i32)) },
            }
        }
    }
}

/// A table with room for `pairs` pairs in the fewest slots (`values::table_capacity`).
fn new_table(pairs: usize) -> *mut raw::JanetTable {
    // SAFETY: janet_table allocates a new table; no preconditions.
    unsafe { raw::janet_table(v::table_capacity(pairs)) }
}

fn put(t: *mut raw::JanetTable, k: raw::Janet, v: raw::Janet) {
    // SAFETY: `t` is a live table made by new_table in this call (no collection
    // runs inside a cfunction); keys are keywords, never nil.
    unsafe { raw::janet_table_put(t, k, v) }
}

/// A CertID's two issuer hashes as new buffers: [name key].
fn hash_buffers(id: &CertIdRef<'_>) -> [raw::Janet; 2] {
    [buffer(id.issuer_name_hash), buffer(id.issuer_key_hash)]
}

/// The fields of one CertID into `t`, in the order (and so the layout) the
/// documented table always had. The top level and its first :requests entry
/// share their values: the serial, and the two hash buffers (the same
/// request's fields; two copies were a third of the allocations of a parse).
fn put_cert_id(t: *mut raw::JanetTable, k: &Words, id: &CertIdRef<'_>, serial: raw::Janet, [name_hash, key_hash]: [raw::Janet; 2], issuer_match: Option<bool>) {
    put(t, k.serial, serial);
    put(t, k.issuer_name_hash, name_hash);
    put(t, k.issuer_key_hash, key_hash);
    let alg = match id.known_hash_name() {
        Some("sha1") => k.sha1,
        Some("sha224") => k.sha224,
        Some("sha256") => k.sha256,
        Some("sha384") => k.sha384,
        Some("sha512") => k.sha512,
        Some(other) => keyword(other),
        None => keyword(&id.to_cert_id().hash.name()),
    };
    put(t, k.hash_algorithm, alg);
    put(t, k.hash_null, Janet::boolean(id.null_params).into());
    if let Some(m) = issuer_match {
        put(t, k.issuer_match, Janet::boolean(m).into());
    }
}

pub fn parse_ocsp_request(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 2, "ca/parse-ocsp-request")?;
    if args.len() == 1 && ca_type::is_ca(&args[0]) {
        return Err(CaError::param("(:parse-ocsp-request ca der) needs der, the DER OCSP request"));
    }
    let der = v::bytes(&args[args.len() - 1], "ca/parse-ocsp-request der")?;
    let issuer = match args.len() {
        2 => Some(&*ca_type::authority(&args[0], "(:parse-ocsp-request ca der) ca")?),
        _ => None,
    };
    let keys = keywords::get();
    let item_pairs = 5 + usize::from(issuer.is_some());
    // SAFETY: a new array (most requests ask about one certificate); no preconditions.
    let list = unsafe { raw::janet_array(1) };
    let mut first = None;
    // Each request becomes its table as it is read (nothing collected in
    // between; no collection runs inside a cfunction). After an error the
    // tables made so far are garbage.
    let nonce_extn = ocsp::parse_request_with(der, |id| {
        let m = issuer.map(|ca| id.matches_ca(ca));
        let serial = serial_value(&id.serial);
        let hashes = hash_buffers(&id);
        if first.is_none() {
            first = Some((id, serial, hashes, m));
        }
        let t = new_table(item_pairs);
        put_cert_id(t, &keys, &id, serial, hashes, m);
        // SAFETY: `list` is the live array made above; the table was just made.
        unsafe { raw::janet_array_push(list, raw::janet_wrap_table(t)) };
    })?;
    let Some((first, first_serial, first_hashes, first_match)) = first else {
        return Err(CaError::parse("OCSP request asks about no certificate"));
    };
    // The first request's fields at the top level (the documented shape), then the rest.
    let nonce = nonce_extn.map(ocsp::nonce_octets);
    let top_pairs = item_pairs + 1 + nonce.map_or(0, |(_, wrapped)| if wrapped { 1 } else { 2 });
    let top = new_table(top_pairs);
    put_cert_id(top, &keys, &first, first_serial, first_hashes, first_match);
    // SAFETY: `list` is the live array made above.
    put(top, keys.requests, unsafe { raw::janet_wrap_array(list) });
    if let Some((octets, wrapped)) = nonce {
        put(top, keys.nonce, buffer(octets));
        if !wrapped {
            put(top, keys.nonce_raw, Janet::boolean(true).into());
        }
    }
    // SAFETY: the table was just made.
    Ok(Janet::from(unsafe { raw::janet_wrap_table(top) }))
}

// ------------------------------------------------------------ create

pub const CREATE_OCSP_RESPONSE_DOC: &str = "(ca/create-ocsp-response ca request-info status &opt opts)\n\n\
Returns a signed DER OCSPResponse (a buffer) answering `request-info`, a table or struct as\n\
ca/parse-ocsp-request returns (needs :serial; :issuer-name-hash and :issuer-key-hash default to this CA's,\n\
:hash-algorithm to :sha1, :hash-null to true). When it has :requests, every one of them is answered;\n\
otherwise the top-level request. Each single response repeats its request's CertID exactly.\n\n\
`status` is one of:\n\
* :good, :revoked or :unknown, for every request\n\
* a function of the serial (int/s64, or \"0x...\" hex string), called once per request, returning one of\n  \
those keywords or a table {:status :revoked :revocation-time t :revocation-reason kw}, e.g.\n  \
|(ca/get-status ca $); an error it raises becomes a [CA:PARAM] error\n\
Requests whose issuer hashes do not identify this CA are answered :unknown (the function is not called).\n\n\
Options:\n\
* :revocation-time - for :revoked (default now); Unix seconds or \"2030-01-15T10:30:00Z\"\n\
* :revocation-reason - for :revoked, as ca/revoke (:key-compromise, ...); default none; :unspecified\n  \
is written as no reason (RFC 5280 5.3.1)\n\
* :this-update - default now\n\
* :next-update - default :this-update + 1 day; must be after :this-update\n\
* :include-nonce - default true: echo the request's nonce (byte for byte) when it had one\n\
* :responder - {:cert pem :key pem}: sign with a delegated responder certificate instead of the CA key;\n  \
it must be issued by this CA, have extended key usage OCSPSigning and be valid now ([CA:VERIFY] or\n  \
[CA:PARAM] otherwise); its certificate is included in the response\n\
The responder ID is by key hash; producedAt is now. Method form: (:create-ocsp-response ca info status &opt opts).";

fn is_dict(x: &Janet) -> bool {
    matches!(x.tagged(), TaggedJanet::Table(_) | TaggedJanet::Struct(_))
}

/// The CertID fields of a request-info table (or an item of its :requests),
/// asked for whether or not they are read.
struct CertIdFields {
    serial: Opt,
    issuer_name_hash: Opt,
    issuer_key_hash: Opt,
    hash_algorithm: Opt,
    hash_null: Opt,
}

fn cert_id_fields(o: &Opts) -> CertIdFields {
    let fields = CertIdFields {
        serial: o.opt("serial"),
        issuer_name_hash: o.opt("issuer-name-hash"),
        issuer_key_hash: o.opt("issuer-key-hash"),
        hash_algorithm: o.opt("hash-algorithm"),
        hash_null: o.opt("hash-null"),
    };
    // ca/parse-ocsp-request's answer to a call with the CA; passed back as it is, not read.
    o.ignore("issuer-match");
    fields
}

/// One CertID; the hash algorithm and NULL parameters default to
/// [`CertId::DEFAULT_HASH`] and [`CertId::DEFAULT_NULL_PARAMS`].
fn read_cert_id(f: &CertIdFields, what: &str, ca: &Authority) -> CaResult<CertId> {
    let Some(serial) = f.serial.read(v::serial).map_err(v::within(what))? else {
        return Err(CaError::param(format!("{what} needs :serial (as ca/parse-ocsp-request returns it)")));
    };
    let hash = f
        .hash_algorithm
        .read(|h, w| HashAlg::from_name(&v::name(h, w)?, w))
        .map_err(v::within(what))?
        .unwrap_or(CertId::DEFAULT_HASH);
    let null_params = f.hash_null.read(v::boolean).map_err(v::within(what))?.unwrap_or(CertId::DEFAULT_NULL_PARAMS);
    let hash_of = |field: &Opt| field.read(|x, w| v::bytes(x, w).map(<[u8]>::to_vec)).map_err(v::within(what));
    match (hash_of(&f.issuer_name_hash)?, hash_of(&f.issuer_key_hash)?) {
        (Some(issuer_name_hash), Some(issuer_key_hash)) => {
            Ok(CertId { hash, null_params, issuer_name_hash, issuer_key_hash, serial })
        }
        (None, None) => {
            let mut id = CertId::for_ca(hash, ca, serial)
                .map_err(|e| CaError::param(format!("{what}: {}; give :issuer-name-hash and :issuer-key-hash", e.message)))?;
            id.null_params = null_params;
            Ok(id)
        }
        (Some(_), None) => Err(CaError::param(format!("{what} has :issuer-name-hash but no :issuer-key-hash"))),
        (None, Some(_)) => Err(CaError::param(format!("{what} has :issuer-key-hash but no :issuer-name-hash"))),
    }
}

/// The CertIDs to answer and the nonce to echo.
fn read_request_info(info: &Janet, ca: &Authority) -> CaResult<(Vec<CertId>, Option<Nonce>)> {
    let what = "ca/create-ocsp-response request-info";
    if !is_dict(info) {
        return Err(CaError::param(format!(
            "{what} must be a table or struct as ca/parse-ocsp-request returns, got {}",
            v::type_name(info)
        )));
    }
    Opts::parse(Some(info), what, |o| {
        let fields = cert_id_fields(o);
        let (nonce, nonce_raw, requests) = (o.opt("nonce"), o.opt("nonce-raw"), o.opt("requests"));
        let nonce = match nonce.read(v::bytes).map_err(v::within(what))? {
            Some(bytes) => {
                let raw = nonce_raw.read(v::boolean)?.unwrap_or(Nonce::DEFAULT_RAW);
                if raw && bytes.is_empty() {
                    return Err(CaError::param(format!("{what} :nonce must not be empty with :nonce-raw")));
                }
                Some(if raw { Nonce::raw(bytes) } else { Nonce::wrapped(bytes) })
            }
            None => None,
        };
        // The documented top-level fields describe the first request; they are read
        // (and type-checked) whenever present and win over :requests item 1.
        let top = if fields.serial.is_set() || !requests.is_set() { Some(read_cert_id(&fields, what, ca)?) } else { None };
        let mut ids = match requests.read(v::list).map_err(v::within(what))? {
            Some(items) => {
                if items.is_empty() {
                    return Err(CaError::param(format!("{what} :requests must not be empty")));
                }
                if items.len() > ocsp::MAX_REQUESTS {
                    return Err(CaError::resource(format!("{what} :requests has more than {} entries", ocsp::MAX_REQUESTS)));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let w = format!("{what} :requests item {}", i + 1);
                        if !is_dict(item) {
                            return Err(CaError::param(format!("{w} must be a table or struct, got {}", v::type_name(item))));
                        }
                        Opts::parse(Some(item), &w, |io| read_cert_id(&cert_id_fields(io), &w, ca))
                    })
                    .collect::<CaResult<Vec<_>>>()?
            }
            None => Vec::new(),
        };
        if let Some(first) = top {
            match ids.first_mut() {
                Some(slot) => *slot = first,
                None => ids.push(first),
            }
        }
        Ok((ids, nonce))
    })
}

/// Defaults of a :revoked answer that does not say its own time and reason.
#[derive(Clone, Copy)]
struct RevokedDefaults {
    time: i64,
    reason: Option<Reason>,
}

fn revocation_reason(x: &Janet, what: &str) -> CaResult<Reason> {
    let r = opt::reason(x, what)?;
    if r == Reason::RemoveFromCrl {
        return Err(CaError::param(format!("{what} :remove-from-crl releases a hold; it is not a revocation reason")));
    }
    Ok(r)
}

fn status_keyword(x: &Janet, what: &str, d: RevokedDefaults) -> CaResult<CertStatus> {
    let name = v::name(x, what)?;
    match name.as_str() {
        "good" => Ok(CertStatus::Good),
        "revoked" => Ok(CertStatus::Revoked { time: d.time, reason: d.reason }),
        "unknown" => Ok(CertStatus::Unknown),
        _ => Err(CaError::param(format!(
            "{what} {} is not an OCSP status; valid: :good, :revoked, :unknown",
            crate::core::error::shown(&name)
        ))),
    }
}

/// A status answer: a keyword, or {:status kw :revocation-time t :revocation-reason kw}.
fn status_answer(x: &Janet, what: &str, d: RevokedDefaults) -> CaResult<CertStatus> {
    match x.tagged() {
        TaggedJanet::Keyword(_) | TaggedJanet::String(_) | TaggedJanet::Buffer(_) => status_keyword(x, what, d),
        TaggedJanet::Table(_) | TaggedJanet::Struct(_) => {
            let (status, own) = Opts::parse(Some(x), what, |o| {
                let status = o.get("status").copied();
                let own = RevokedDefaults {
                    time: o.with("revocation-time", v::time).map_err(v::within(what))?.unwrap_or(d.time),
                    reason: o.with("revocation-reason", revocation_reason).map_err(v::within(what))?.or(d.reason),
                };
                Ok((status, own))
            })?;
            let Some(s) = status else {
                return Err(CaError::param(format!("{what} needs :status (:good, :revoked or :unknown)")));
            };
            status_keyword(&s, &format!("{what} :status"), own)
        }
        _ => Err(CaError::param(format!(
            "{what} must be :good, :revoked, :unknown or a table {{:status ...}}, got {}",
            v::type_name(x)
        ))),
    }
}

/// Calls the Janet status function `fun` with `serial` in a fiber of its own
/// and reads its answer. GC: the fiber is a GC root while it runs (the
/// function and our arguments are rooted by the caller's stack); the answer
/// is read before anything else can run Janet code.
fn call_status(fun: &Janet, serial: &Serial, d: RevokedDefaults) -> CaResult<CertStatus> {
    let what = format!("ca/create-ocsp-response status function (serial {})", serial.to_hex());
    let arg = v::jserial(serial).raw_data();
    // SAFETY: `fun` is a Janet function (checked by the caller); janet_fiber copies the
    // one argument onto the new fiber's stack and returns NULL on an arity mismatch.
    let fiber = unsafe { raw::janet_fiber(raw::janet_unwrap_function(fun.raw_data()), 64, 1, &arg) };
    if fiber.is_null() {
        return Err(CaError::param(format!("{what} must take one argument, the serial")));
    }
    let mut out = Janet::nil().raw_data();
    // SAFETY: `fiber` is a fresh, valid fiber. It inherits the caller's dynamic
    // bindings, is rooted for the duration of the run, and janet_continue is a
    // protected call: errors inside it end in its own janet_try, below these frames.
    let signal = unsafe {
        let current = raw::janet_current_fiber();
        if !current.is_null() {
            (*fiber).env = (*current).env;
        }
        let root = raw::janet_wrap_fiber(fiber);
        raw::janet_gcroot(root);
        let signal = raw::janet_continue(fiber, raw::janet_wrap_nil(), &mut out);
        raw::janet_gcunroot(root);
        // A function that waited on the event loop (ev/sleep, a channel) registered
        // the wait for the calling task; as janet_call does, invalidate it, or it
        // would later wake the caller out of an unrelated wait.
        if signal == raw::JanetSignal_JANET_SIGNAL_EVENT {
            let task = raw::janet_root_fiber();
            if !task.is_null() {
                (*task).sched_id = (*task).sched_id.wrapping_add(1);
            }
        }
        signal
    };
    let out = Janet::from(out);
    match signal {
        raw::JanetSignal_JANET_SIGNAL_OK => status_answer(&out, &format!("{what} result"), d),
        raw::JanetSignal_JANET_SIGNAL_ERROR => {
            let detail = match v::bytes(&out, "error") {
                Ok(b) => crate::core::error::shown(&String::from_utf8_lossy(b)),
                Err(_) => format!("a {}", v::type_name(&out)),
            };
            Err(CaError::param(format!("{what} raised an error: {detail}")))
        }
        _ => Err(CaError::param(format!("{what} must return a status, not yield or wait"))),
    }
}

/// The delegated responder of `:responder {:cert pem :key pem}`.
fn read_responder(x: &Janet, ca_arg: &Janet, now: i64) -> CaResult<Delegate> {
    if !is_dict(x) {
        return Err(CaError::param(format!(":responder must be a table or struct {{:cert pem :key pem}}, got {}", v::type_name(x))));
    }
    let (cert, key) = Opts::parse(Some(x), ":responder", |o| Ok((o.opt("cert"), o.opt("key"))))?;
    if !cert.is_set() {
        return Err(CaError::param(":responder needs :cert (PEM of the responder certificate)"));
    }
    if !key.is_set() {
        return Err(CaError::param(":responder needs :key (PEM of the responder's private key)"));
    }
    let cert = cert.read(v::bytes).map_err(v::within(":responder"))?.unwrap_or_default();
    let key = key.read(v::bytes).map_err(v::within(":responder"))?.unwrap_or_default();
    let ca = ca_type::authority(ca_arg, "ca/create-ocsp-response ca")?;
    Delegate::load(ca, cert, key, now)
}

enum StatusSpec {
    Fixed(CertStatus),
    Function(Janet),
}

pub fn create_ocsp_response(args: &[Janet]) -> CaResult<Janet> {
    let fname = "ca/create-ocsp-response";
    arity(args, 3, 4, fname)?;
    let now = time::now();
    // The CA is borrowed only while no Janet code runs (status functions may use it).
    ca_type::authority(&args[0], "ca/create-ocsp-response ca")?;

    let (opts, times, responder) = Opts::parse(args.get(3), fname, |o| {
        let d = OcspResponseOptions::default();
        let revocation_time = o.with("revocation-time", v::time)?;
        let revocation_reason = o.with("revocation-reason", revocation_reason)?;
        let (this_update, next_update) = (o.with("this-update", v::time)?, o.with("next-update", v::time)?);
        // The times are checked before :include-nonce is read (the order of errors).
        let times = ResponseTimes::new(this_update, next_update)?;
        let include_nonce = o.with("include-nonce", v::boolean)?.unwrap_or(d.include_nonce);
        let opts = OcspResponseOptions { revocation_time, revocation_reason, this_update, next_update, include_nonce };
        Ok((opts, times, o.get("responder").copied()))
    })?;
    let defaults = RevokedDefaults { time: opts.revocation_time.unwrap_or(now), reason: opts.revocation_reason };
    let include_nonce = opts.include_nonce;
    let delegate = responder.map(|r| read_responder(&r, &args[0], now)).transpose()?;

    // Before any status function runs: the CertIDs, and which of them name this CA.
    let (ids, nonce, ours) = {
        let ca: &Authority = ca_type::authority(&args[0], "ca/create-ocsp-response ca")?;
        let (ids, nonce) = read_request_info(&args[1], ca)?;
        let ours: Vec<bool> = ids.iter().map(|id| id.matches_ca(ca)).collect();
        (ids, nonce, ours)
    };
    let spec = match args[2].tagged() {
        TaggedJanet::Function(_) => StatusSpec::Function(args[2]),
        TaggedJanet::Keyword(_) | TaggedJanet::String(_) | TaggedJanet::Buffer(_) => {
            StatusSpec::Fixed(status_keyword(&args[2], "ca/create-ocsp-response status", defaults)?)
        }
        _ => {
            return Err(CaError::param(format!(
                "ca/create-ocsp-response status must be :good, :revoked, :unknown or a function of the serial, got {}",
                v::type_name(&args[2])
            )))
        }
    };

    // Janet code may run here (status functions); only owned Rust values are live.
    let mut singles = Vec::with_capacity(ids.len());
    for (id, ours) in ids.into_iter().zip(ours) {
        let status = if !ours {
            CertStatus::Unknown
        } else {
            match &spec {
                StatusSpec::Fixed(s) => *s,
                StatusSpec::Function(f) => call_status(f, &id.serial, defaults)?,
            }
        };
        singles.push(SingleResponse {
            cert_id: id,
            status,
            this_update: times.this_update,
            next_update: Some(times.next_update),
        });
    }

    let ca = ca_type::authority(&args[0], "ca/create-ocsp-response ca")?;
    let nonce = nonce.filter(|_| include_nonce);
    let der = ocsp::build_response(ca, &singles, nonce.as_ref(), delegate.as_ref(), now)?;
    Ok(v::jbuffer(&der))
}

// ------------------------------------------------------------ status, errors

pub const GET_STATUS_DOC: &str = "(ca/get-status ca serial)\n\n\
Answers from the CA's own revocation list (ca/revoke, :revoked): @{:status :good}, or\n\
@{:status :revoked :revocation-time <Unix seconds> :revocation-reason <keyword>} for a revoked serial\n\
(a :certificate-hold included), or @{:status :unknown} for a serial the CA knows it never issued (neither\n\
issued by it in this process nor, for a CA from ca/create, below the :serial it was loaded with). `serial` is a positive integer, int/s64 or \"0x...\" hex string. The shape\n\
is what ca/create-ocsp-response accepts from a status function: pass |(ca/get-status ca $).\n\
Method form: (:get-status ca serial).";

pub fn get_status(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 2, "ca/get-status")?;
    let ca = ca_type::authority(&args[0], "ca/get-status ca")?;
    let serial = v::serial(&args[1], "ca/get-status serial")?;
    Ok(match ocsp::status_from_list(ca, &serial)? {
        CertStatus::Revoked { time, reason } => v::table(&[
            ("status", v::jkeyword("revoked")),
            ("revocation-time", Janet::number(time as f64)),
            ("revocation-reason", v::jkeyword(reason.unwrap_or(Reason::Unspecified).name())),
        ]),
        CertStatus::Unknown => v::table(&[("status", v::jkeyword("unknown"))]),
        CertStatus::Good => v::table(&[("status", v::jkeyword("good"))]),
    })
}

pub const OCSP_ERROR_RESPONSE_DOC: &str = "(ca/ocsp-error-response kind)\n\n\
Returns the DER of an unsuccessful OCSPResponse (a buffer holding only the response status) for `kind`:\n\
:malformed-request, :internal-error, :try-later, :sig-required or :unauthorized. A responder answers a\n\
request that ca/parse-ocsp-request refuses with (ca/ocsp-error-response :malformed-request).\n\
Method form: (:ocsp-error-response ca kind).";

pub fn ocsp_error_response(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 2, "ca/ocsp-error-response")?;
    if args.len() == 2 {
        ca_type::authority(&args[0], "(:ocsp-error-response ca kind) ca")?;
    }
    let what = "ca/ocsp-error-response kind";
    let kind = &args[args.len() - 1];
    let status = ResponseStatus::from_name(&v::name(kind, what)?, what)?;
    Ok(v::jbuffer(&ocsp::error_response(status)))
}

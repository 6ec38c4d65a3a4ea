//! The parse floor that returns what the module returns: OpenSSL parses the
//! request (d2i_OCSP_REQUEST) and its accessors read every field, as in the
//! `ocsp-parse` floor, and the fields go straight into the same Janet result
//! `ca/parse-ocsp-request` makes (two tables, an array, three buffers, the
//! serial), through Janet's C API. It is a Janet cfunction, called from the
//! same Janet loop as the module, so both pay the interpreter's call and the
//! collection of their results: a parse's result lives on the collected heap,
//! and collecting it costs as much as the parse itself (issue 25).
//!
//!     cargo build --release --example bench_floor_janet   # target/release/examples/libbench_floor_janet.so
//!
//! No Janet headers: the few functions are declared here and come from the
//! host interpreter, as a native module's do, so one build serves Janet 1.36
//! to 1.41 (NaN-boxed, on x86-64: the layout declared here). Janet's loader accepts a module only for its own major.minor and
//! config bits, which bench/run.janet passes in first
//! (`jsec_floor_janet_config`, through the FFI) before `native` loads this
//! same library as a module with one function, `parse-ocsp-request`. It links
//! no part of the module (whose `_janet_init` it would collide with).

use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

use openssl::ocsp::OcspRequest;

#[path = "ocsp_fields.rs"]
#[allow(dead_code)] // `read`, the copying form, is the other floor's
mod ocsp_fields;

use ocsp_fields::SerialRef;

/// A Janet value (janet.h's `Janet`: one 64-bit word, passed as an integer).
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Janet(u64);

#[repr(C)]
struct ByteView {
    bytes: *const u8,
    len: i32,
}

/// janet.h's JanetBuildConfig.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct BuildConfig {
    major: u32,
    minor: u32,
    patch: u32,
    bits: u32,
}

/// janet.h's JanetBuffer: the collector's header, then count, capacity, data.
#[repr(C)]
struct Buffer {
    gc_flags: i32,
    gc_next: *mut c_void,
    count: i32,
    capacity: i32,
    data: *mut u8,
}

type CFunction = unsafe extern "C-unwind" fn(i32, *mut Janet) -> Janet;

extern "C" {
    fn janet_table(capacity: i32) -> *mut c_void;
    fn janet_table_put(t: *mut c_void, key: Janet, value: Janet);
    fn janet_wrap_table(t: *mut c_void) -> Janet;
    fn janet_array(capacity: i32) -> *mut c_void;
    fn janet_array_push(a: *mut c_void, x: Janet);
    fn janet_wrap_array(a: *mut c_void) -> Janet;
    fn janet_buffer(capacity: i32) -> *mut Buffer;
    fn janet_wrap_buffer(b: *mut Buffer) -> Janet;
    fn janet_string(bytes: *const u8, len: i32) -> *const u8;
    fn janet_wrap_string(s: *const u8) -> Janet;
    fn janet_wrap_s64(x: i64) -> Janet;
    fn janet_wrap_boolean(x: i32) -> Janet;
    fn janet_wrap_nil() -> Janet;
    fn janet_symbol(bytes: *const u8, len: i32) -> *const u8;
    fn janet_wrap_keyword(s: *const u8) -> Janet;
    fn janet_wrap_cfunction(f: CFunction) -> Janet;
    fn janet_gcroot(x: Janet);
    fn janet_fixarity(argc: i32, arity: i32);
    fn janet_getbytes(argv: *const Janet, n: i32) -> ByteView;
    fn janet_def(env: *mut c_void, name: *const c_char, value: Janet, doc: *const c_char);
}

static CONFIG: OnceLock<BuildConfig> = OnceLock::new();

/// janet.h's JANET_NANBOX_BIT: a `Janet` is one 64-bit word, as declared here.
const NANBOX_BIT: u32 = 0x1;

/// Sets the version and config bits this library reports to Janet's loader:
/// those the module jsec/ca was built with, which the interpreter accepted.
/// Ignored (so the loader refuses the library) unless that Janet is NaN-boxed
/// on x86-64, the only layout of `Janet` and the only calling convention this
/// file declares.
#[no_mangle]
pub extern "C" fn jsec_floor_janet_config(major: u32, minor: u32, patch: u32, bits: u32) {
    if cfg!(target_arch = "x86_64") && bits & NANBOX_BIT != 0 {
        let _ = CONFIG.set(BuildConfig { major, minor, patch, bits });
    }
}

/// Janet's loader asks this first; before `jsec_floor_janet_config` it is
/// 0.0.0, which no interpreter accepts.
#[no_mangle]
pub extern "C" fn _janet_mod_config() -> BuildConfig {
    CONFIG.get().copied().unwrap_or(BuildConfig { major: 0, minor: 0, patch: 0, bits: 0 })
}

/// The result's keywords, interned once and rooted, as the module's are.
struct Keys {
    serial: Janet,
    issuer_name_hash: Janet,
    issuer_key_hash: Janet,
    hash_algorithm: Janet,
    hash_null: Janet,
    requests: Janet,
    nonce: Janet,
    sha1: Janet,
    sha224: Janet,
    sha256: Janet,
    sha384: Janet,
    sha512: Janet,
}

/// Process-wide, for the one interpreter that loads this library (the
/// benchmark's); the module keeps its keywords per interpreter.
static KEYS: OnceLock<Keys> = OnceLock::new();

fn keyword(name: &str) -> Janet {
    // SAFETY: janet_symbol copies `len` bytes of a valid slice; rooted, so it
    // lives as long as the interpreter.
    unsafe {
        let k = janet_wrap_keyword(janet_symbol(name.as_ptr(), name.len() as i32));
        janet_gcroot(k);
        k
    }
}

/// Registers `parse-ocsp-request` (called by Janet's `native`).
///
/// # Safety
/// `env` is the environment table Janet's loader passes.
#[no_mangle]
pub unsafe extern "C" fn _janet_init(env: *mut c_void) {
    KEYS.get_or_init(|| Keys {
        serial: keyword("serial"),
        issuer_name_hash: keyword("issuer-name-hash"),
        issuer_key_hash: keyword("issuer-key-hash"),
        hash_algorithm: keyword("hash-algorithm"),
        hash_null: keyword("hash-null"),
        requests: keyword("requests"),
        nonce: keyword("nonce"),
        sha1: keyword("sha1"),
        sha224: keyword("sha224"),
        sha256: keyword("sha256"),
        sha384: keyword("sha384"),
        sha512: keyword("sha512"),
    });
    // SAFETY: `env` is the loader's table; the strings are NUL-terminated.
    unsafe {
        janet_def(
            env,
            c"parse-ocsp-request".as_ptr(),
            janet_wrap_cfunction(parse_ocsp_request),
            c"(parse-ocsp-request der)\n\nThe benchmark's floor: OpenSSL's parse and accessors, building ca/parse-ocsp-request's result, or nil.".as_ptr(),
        );
    }
}

/// A new buffer holding `b`, written straight into its memory (as the module does).
fn buffer(b: &[u8]) -> Janet {
    // SAFETY: janet_buffer(n) allocates at least n bytes of data; `count` is
    // then what janet_buffer_push_bytes would have left.
    unsafe {
        let buf = janet_buffer(b.len() as i32);
        std::ptr::copy_nonoverlapping(b.as_ptr(), (*buf).data, b.len());
        (*buf).count = b.len() as i32;
        janet_wrap_buffer(buf)
    }
}

/// A table with room for `pairs` pairs in the fewest slots (as the module's).
fn table(pairs: i32) -> *mut c_void {
    // SAFETY: no preconditions.
    unsafe { janet_table(2 * pairs - 1) }
}

fn put(t: *mut c_void, k: Janet, v: Janet) {
    // SAFETY: `t` is a table made in this call; keys are keywords.
    unsafe { janet_table_put(t, k, v) }
}

/// The serial as the module returns it: int/s64, else "0x" and its hex.
/// None for more than 64 octets (never in the benchmark's requests).
fn serial(s: &SerialRef<'_>) -> Option<Janet> {
    match *s {
        // SAFETY: no preconditions.
        SerialRef::Small(n) => Some(unsafe { janet_wrap_s64(n) }),
        SerialRef::Octets(octets) if octets.len() <= 64 => {
            let mut hex = [0u8; 2 + 2 * 64];
            let n = ocsp_fields::write_hex(octets, &mut hex);
            // SAFETY: janet_string copies n bytes of the array.
            Some(unsafe { janet_wrap_string(janet_string(hex.as_ptr(), n as i32)) })
        }
        SerialRef::Octets(_) => None,
    }
}

fn put_cert_id(t: *mut c_void, k: &Keys, serial: Janet, name_hash: Janet, key_hash: Janet, alg: Janet, null: Janet) {
    put(t, k.serial, serial);
    put(t, k.issuer_name_hash, name_hash);
    put(t, k.issuer_key_hash, key_hash);
    put(t, k.hash_algorithm, alg);
    put(t, k.hash_null, null);
}

unsafe extern "C-unwind" fn parse_ocsp_request(argc: i32, argv: *mut Janet) -> Janet {
    // Janet's argument checks first: they may longjmp, and nothing with a
    // destructor is alive yet.
    // SAFETY: argc/argv are the interpreter's.
    let der = unsafe {
        janet_fixarity(argc, 1);
        let view = janet_getbytes(argv, 0);
        std::slice::from_raw_parts(view.bytes, view.len.max(0) as usize)
    };
    // SAFETY: no preconditions.
    let nil = unsafe { janet_wrap_nil() };
    let (Some(k), Ok(req)) = (KEYS.get(), OcspRequest::from_der(der)) else { return nil };
    // The CertID's hash parameters are not among OpenSSL's accessors (its
    // AlgorithmIdentifier is private to OCSP_CERTID): :hash-null is written
    // as the benchmark's requests carry it, SHA-1 with a NULL, as `openssl
    // ocsp` writes. (Nor is :nonce-raw made: their nonces are wrapped.)
    // SAFETY: no preconditions.
    let null = unsafe { janet_wrap_boolean(1) };
    // SAFETY: no preconditions.
    let list = unsafe { janet_array(1) };
    let mut first = None;
    let mut ok = true;
    let nonce = ocsp_fields::read_with(&req, |r| {
        let Some(serial) = serial(&r.serial) else {
            ok = false;
            return;
        };
        let (name_hash, key_hash) = (buffer(r.issuer_name_hash), buffer(r.issuer_key_hash));
        // The benchmark's requests are SHA-1; another hash makes no result
        // (the module would name it by its dotted OID).
        let alg = match r.hash {
            "sha1" => k.sha1,
            "sha224" => k.sha224,
            "sha256" => k.sha256,
            "sha384" => k.sha384,
            "sha512" => k.sha512,
            _ => {
                ok = false;
                return;
            }
        };
        first.get_or_insert((serial, name_hash, key_hash, alg));
        let t = table(5);
        put_cert_id(t, k, serial, name_hash, key_hash, alg, null);
        // SAFETY: `list` is the array made above; the table was just made.
        unsafe { janet_array_push(list, janet_wrap_table(t)) };
    });
    let (true, Some((serial, name_hash, key_hash, alg))) = (ok, first) else { return nil };
    let top = table(6 + i32::from(nonce.is_some()));
    put_cert_id(top, k, serial, name_hash, key_hash, alg, null);
    // SAFETY: `list` is the array made above.
    put(top, k.requests, unsafe { janet_wrap_array(list) });
    if let Some(octets) = nonce {
        put(top, k.nonce, buffer(octets));
    }
    // SAFETY: the table was just made.
    unsafe { janet_wrap_table(top) }
}

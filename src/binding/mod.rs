//! The Janet binding: the native module `jsec/ca`.
//!
//! Thin by design: each cfunction reads its arguments into a core option
//! struct (`values`, `options`), calls the core, and converts the result back.
//! Errors cross into Janet only at the edge (`edge`). The registration table
//! below lists every function once; the `ca/CA` method table points at the
//! same cfunctions, so `(ca/issue ca o)` and `(:issue ca o)` are one code path.

pub mod abstract_box;
pub mod ca_type;
pub mod edge;
pub mod event_loop;
pub mod issuance;
pub mod ocsp;
pub mod options;
pub mod pkcs12;
pub mod store;
pub mod store_type;
pub mod revocation;
pub mod values;
pub mod version;

use std::ffi::CString;

use once_cell::sync::OnceCell;

use janetrs::lowlevel as raw;

use edge::cfunctions;

cfunctions! {
    cf_generate => issuance::generate;
    cf_generate_intermediate => issuance::generate_intermediate;
    cf_create => issuance::create;
    cf_issue => issuance::issue;
    cf_issue_async => issuance::issue_async;
    cf_sign => issuance::sign;
    cf_get_cert => issuance::get_cert;
    cf_get_key => issuance::get_key;
    cf_get_serial => issuance::get_serial;
    cf_set_serial => issuance::set_serial;
    cf_is_tracking => issuance::is_tracking;
    cf_get_issued => issuance::get_issued;
    cf_revoke => revocation::revoke;
    cf_get_revoked => revocation::get_revoked;
    cf_crl => revocation::crl;
    cf_get_crl_number => revocation::get_crl_number;
    cf_parse_ocsp_request => ocsp::parse_ocsp_request;
    cf_create_ocsp_response => ocsp::create_ocsp_response;
    cf_get_status => ocsp::get_status;
    cf_ocsp_error_response => ocsp::ocsp_error_response;
    cf_pkcs12 => pkcs12::pkcs12;
    cf_open_store => store::open_store;
    cf_store_save => store::store_save;
    cf_store_load => store::store_load;
    cf_store_cas => store::store_cas;
    cf_store_find => store::store_find;
    cf_store_location => store::store_location;
    cf_store_close => store::store_close;
    cf_version => version::version;
}

type CFun = unsafe extern "C-unwind" fn(i32, *mut raw::Janet) -> raw::Janet;

/// Every module function: Janet name (under `ca/`), cfunction, docstring.
pub const FUNCTIONS: &[(&str, CFun, &str)] = &[
    ("generate", cf_generate, issuance::GENERATE_DOC),
    ("generate-intermediate", cf_generate_intermediate, issuance::GENERATE_INTERMEDIATE_DOC),
    ("create", cf_create, issuance::CREATE_DOC),
    ("issue", cf_issue, issuance::ISSUE_DOC),
    ("issue-async", cf_issue_async, issuance::ISSUE_ASYNC_DOC),
    ("sign", cf_sign, issuance::SIGN_DOC),
    ("get-cert", cf_get_cert, issuance::GET_CERT_DOC),
    ("get-key", cf_get_key, issuance::GET_KEY_DOC),
    ("get-serial", cf_get_serial, issuance::GET_SERIAL_DOC),
    ("set-serial", cf_set_serial, issuance::SET_SERIAL_DOC),
    ("is-tracking", cf_is_tracking, issuance::IS_TRACKING_DOC),
    ("get-issued", cf_get_issued, issuance::GET_ISSUED_DOC),
    ("revoke", cf_revoke, revocation::REVOKE_DOC),
    ("get-revoked", cf_get_revoked, revocation::GET_REVOKED_DOC),
    ("crl", cf_crl, revocation::CRL_DOC),
    ("get-crl-number", cf_get_crl_number, revocation::GET_CRL_NUMBER_DOC),
    ("parse-ocsp-request", cf_parse_ocsp_request, ocsp::PARSE_OCSP_REQUEST_DOC),
    ("create-ocsp-response", cf_create_ocsp_response, ocsp::CREATE_OCSP_RESPONSE_DOC),
    ("get-status", cf_get_status, ocsp::GET_STATUS_DOC),
    ("ocsp-error-response", cf_ocsp_error_response, ocsp::OCSP_ERROR_RESPONSE_DOC),
    ("pkcs12", cf_pkcs12, pkcs12::PKCS12_DOC),
    ("open-store", cf_open_store, store::OPEN_STORE_DOC),
    ("store-save", cf_store_save, store::STORE_SAVE_DOC),
    ("store-load", cf_store_load, store::STORE_LOAD_DOC),
    ("store-cas", cf_store_cas, store::STORE_CAS_DOC),
    ("store-find", cf_store_find, store::STORE_FIND_DOC),
    ("store-location", cf_store_location, store::STORE_LOCATION_DOC),
    ("store-close", cf_store_close, store::STORE_CLOSE_DOC),
    ("version", cf_version, version::VERSION_DOC),
];

/// A NULL-terminated method table Janet can read from any thread.
pub struct MethodTable<const N: usize>(pub [raw::JanetMethod; N]);
// SAFETY: the table is immutable static data (string literals and fn pointers).
unsafe impl<const N: usize> Sync for MethodTable<N> {}

macro_rules! method {
    ($name:literal, $f:ident) => {
        raw::JanetMethod { name: $name.as_ptr(), cfun: Some($f) }
    };
}

/// Methods of `ca/CA`: the same cfunctions as the module functions.
pub static METHODS: MethodTable<21> = MethodTable([
    method!(c"generate-intermediate", cf_generate_intermediate),
    method!(c"issue", cf_issue),
    method!(c"issue-async", cf_issue_async),
    method!(c"sign-csr", cf_sign),
    method!(c"sign", cf_sign),
    method!(c"get-cert", cf_get_cert),
    method!(c"get-key", cf_get_key),
    method!(c"get-serial", cf_get_serial),
    method!(c"set-serial", cf_set_serial),
    method!(c"is-tracking", cf_is_tracking),
    method!(c"get-issued", cf_get_issued),
    method!(c"revoke", cf_revoke),
    method!(c"get-revoked", cf_get_revoked),
    method!(c"generate-crl", cf_crl),
    method!(c"crl", cf_crl),
    method!(c"get-crl-number", cf_get_crl_number),
    method!(c"parse-ocsp-request", cf_parse_ocsp_request),
    method!(c"create-ocsp-response", cf_create_ocsp_response),
    method!(c"get-status", cf_get_status),
    method!(c"ocsp-error-response", cf_ocsp_error_response),
    raw::JanetMethod { name: std::ptr::null(), cfun: None },
]);

include!(concat!(env!("OUT_DIR"), "/janet_header.rs"));

// evil-janet's bindings must come from the janet.h build.rs read: a cargo
// target directory reused with another JANET_HEADERPATH keeps the old
// bindings, and the module would then fail to load ("config mismatch").
const _: () = if let Some((major, minor, patch)) = JANET_HEADER_VERSION {
    assert!(
        major == raw::JANET_VERSION_MAJOR && minor == raw::JANET_VERSION_MINOR && patch == raw::JANET_VERSION_PATCH,
        "evil-janet's bindings were generated from another janet.h than JANET_HEADERPATH's: \
         run `cargo clean -p evil-janet` first (scripts/build-module does when the header changes)"
    );
};

/// Methods of `ca/Store`: the same cfunctions as the `ca/store-*` functions.
pub static STORE_METHODS: MethodTable<7> = MethodTable([
    method!(c"save", cf_store_save),
    method!(c"load", cf_store_load),
    method!(c"cas", cf_store_cas),
    method!(c"find", cf_store_find),
    method!(c"location", cf_store_location),
    method!(c"close", cf_store_close),
    raw::JanetMethod { name: std::ptr::null(), cfun: None },
]);

/// Tells the loader which Janet this module was built against.
#[no_mangle]
pub extern "C" fn _janet_mod_config() -> raw::JanetBuildConfig {
    raw::JanetBuildConfig {
        major: raw::JANET_VERSION_MAJOR,
        minor: raw::JANET_VERSION_MINOR,
        patch: raw::JANET_VERSION_PATCH,
        bits: raw::JANET_CURRENT_CONFIG_BITS,
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Function names: Janet's cfunction registry keeps pointers to them for the
/// life of the process, so they live in a static. (Docstrings are copied.)
static NAMES: OnceCell<Vec<CString>> = OnceCell::new();

/// Module entry point: registers every function into `env`.
///
/// # Safety
/// Called by Janet's native loader with a valid environment table.
#[no_mangle]
pub unsafe extern "C-unwind" fn _janet_init(env: *mut raw::JanetTable) {
    let names = NAMES.get_or_init(|| FUNCTIONS.iter().map(|(name, _, _)| cstring(name)).collect());
    let docs: Vec<CString> = FUNCTIONS.iter().map(|(_, _, doc)| cstring(doc)).collect();
    let mut regs: Vec<raw::JanetRegExt> = FUNCTIONS
        .iter()
        .zip(names.iter().zip(&docs))
        .map(|((_, f, _), (name, doc))| raw::JanetRegExt {
            name: name.as_ptr(),
            cfun: Some(*f),
            documentation: doc.as_ptr(),
            source_file: c"src/binding/mod.rs".as_ptr(),
            source_line: 0,
        })
        .collect();
    regs.push(raw::JanetRegExt {
        name: std::ptr::null(),
        cfun: None,
        documentation: std::ptr::null(),
        source_file: std::ptr::null(),
        source_line: 0,
    });
    // SAFETY: `regs` is NULL-terminated; its strings outlive the call (names forever).
    unsafe { raw::janet_cfuns_ext(env, c"ca".as_ptr(), regs.as_ptr()) };
}

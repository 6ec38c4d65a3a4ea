//! The Janet binding: the native module `jsec/ca`.
//!
//! Thin by design: each cfunction reads its arguments into a core option
//! struct (`values`, `options`), calls the core, and converts the result back.
//! Errors cross into Janet only at the edge (`edge`). Each binding file
//! declares its functions once, in a `registry!` table (name, body,
//! docstring, method names); the registration, the method tables of `ca/CA`
//! and `ca/Store` and the API reference (docs/gen-api.janet) are derived
//! from those, so `(ca/issue ca o)` and `(:issue ca o)` are one code path.

pub mod abstract_box;
pub mod acme;
pub mod acme_tls;
pub mod ca_type;
pub mod edge;
pub mod event_loop;
pub mod issuance;
pub mod keywords;
pub mod ocsp;
pub mod options;
pub mod pkcs12;
pub mod store;
pub mod store_type;
pub mod revocation;
pub mod string_hash;
pub mod values;
pub mod version;

use std::ffi::CString;

use once_cell::sync::OnceCell;

use janetrs::lowlevel as raw;

use edge::{Function, MethodOf};

/// Every binding file's registration table, in registration order. A new
/// function is one line in its file's `registry!`; a new file, one line here.
const REGISTRIES: &[&[Function]] =
    &[issuance::REGISTRY, revocation::REGISTRY, ocsp::REGISTRY, pkcs12::REGISTRY, store::REGISTRY, version::REGISTRY, acme::REGISTRY, acme_tls::REGISTRY];

/// Every module function, in registration order.
pub fn functions() -> impl Iterator<Item = &'static Function> {
    REGISTRIES.iter().flat_map(|r| r.iter())
}

/// Each function with the line that declares it: the entries of a
/// `registry!` table are one per line, below the line that opens it.
pub fn declarations() -> impl Iterator<Item = (&'static Function, u32)> {
    REGISTRIES.iter().flat_map(|r| r.iter().enumerate().map(|(i, f)| (f, f.line + 1 + i as u32)))
}

/// The methods of one abstract type, in registration order: (name, cfunction).
pub fn methods(of: MethodOf) -> impl Iterator<Item = (&'static str, edge::CFun)> {
    functions().flat_map(move |f| f.methods.iter().filter(move |(o, _)| *o == of).map(move |(_, m)| (*m, f.cfun)))
}

/// A NULL-terminated method table, built once from the registry and kept for
/// the life of the process (the abstract types point at it).
pub struct MethodTable {
    _names: Vec<CString>,
    table: Vec<raw::JanetMethod>,
}
// SAFETY: built once, then never changed: C strings owned by the table itself
// (their heap memory does not move with it) and fn pointers.
unsafe impl Sync for MethodTable {}
// SAFETY: as above.
unsafe impl Send for MethodTable {}

impl MethodTable {
    fn of(of: MethodOf) -> MethodTable {
        let names: Vec<CString> = methods(of).map(|(name, _)| cstring(name)).collect();
        let mut table: Vec<raw::JanetMethod> = names
            .iter()
            .zip(methods(of))
            .map(|(name, (_, f))| raw::JanetMethod { name: name.as_ptr(), cfun: Some(f) })
            .collect();
        table.push(raw::JanetMethod { name: std::ptr::null(), cfun: None });
        MethodTable { _names: names, table }
    }
}

/// Methods of `ca/CA` and of `ca/Store`: the same cfunctions as the module functions.
static CA_METHODS: OnceCell<MethodTable> = OnceCell::new();
static STORE_METHODS: OnceCell<MethodTable> = OnceCell::new();
static ACME_METHODS: OnceCell<MethodTable> = OnceCell::new();

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

/// A function's name in the module's environment: `import` adds the `ca/`.
fn short_name(name: &str) -> &str {
    name.strip_prefix("ca/").unwrap_or(name)
}

/// Function names and source files: Janet's cfunction registry keeps
/// pointers to them for the life of the process, so they live in a static.
/// (Docstrings are copied.)
static NAMES: OnceCell<Vec<(CString, CString)>> = OnceCell::new();

/// Module entry point: registers every function into `env`.
///
/// # Safety
/// Called by Janet's native loader with a valid environment table.
#[no_mangle]
pub unsafe extern "C-unwind" fn _janet_init(env: *mut raw::JanetTable) {
    ca_type::METHODS.set(&CA_METHODS.get_or_init(|| MethodTable::of(MethodOf::Ca)).table);
    store_type::METHODS.set(&STORE_METHODS.get_or_init(|| MethodTable::of(MethodOf::Store)).table);
    acme::METHODS.set(&ACME_METHODS.get_or_init(|| MethodTable::of(MethodOf::Acme)).table);
    let names = NAMES.get_or_init(|| functions().map(|f| (cstring(short_name(f.name)), cstring(f.file))).collect());
    let docs: Vec<CString> = functions().map(|f| cstring(f.doc)).collect();
    let mut regs: Vec<raw::JanetRegExt> = declarations()
        .zip(names.iter().zip(&docs))
        .map(|((f, line), ((name, file), doc))| raw::JanetRegExt {
            name: name.as_ptr(),
            cfun: Some(f.cfun),
            documentation: doc.as_ptr(),
            source_file: file.as_ptr(),
            source_line: i32::try_from(line).unwrap_or(0),
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


//! The keywords of `ca/parse-ocsp-request`'s result, interned once per Janet
//! VM instead of once per call: interning (hashing the name, probing the
//! symbol cache, comparing) was 2.3k of its 13.7k instructions a call.
//!
//! The keywords live in one abstract value of this module's own type
//! ([`TYPE`]) that holds them (its `gcmark` marks them) and is rooted
//! (`janet_gcroot`), so neither it nor they are ever collected while the VM
//! lives. A thread-local pointer finds it: Janet's VM is per thread. The
//! only way it dies is the VM's teardown (`janet_deinit` finalizes every
//! object, rooted or not): its `gc` callback then clears the pointer, so a
//! VM made later on the same thread interns them afresh on its first call.

use std::cell::Cell;
use std::ffi::c_void;

use janetrs::lowlevel as raw;

/// The names, in the order of [`Words`]'s fields.
const NAMES: [&str; WORDS] = [
    "serial",
    "issuer-name-hash",
    "issuer-key-hash",
    "hash-algorithm",
    "hash-null",
    "issuer-match",
    "requests",
    "nonce",
    "nonce-raw",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
];
const WORDS: usize = 14;

/// The interned keywords, as the abstract's memory holds them.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Words {
    pub serial: raw::Janet,
    pub issuer_name_hash: raw::Janet,
    pub issuer_key_hash: raw::Janet,
    pub hash_algorithm: raw::Janet,
    pub hash_null: raw::Janet,
    pub issuer_match: raw::Janet,
    pub requests: raw::Janet,
    pub nonce: raw::Janet,
    pub nonce_raw: raw::Janet,
    pub sha1: raw::Janet,
    pub sha224: raw::Janet,
    pub sha256: raw::Janet,
    pub sha384: raw::Janet,
    pub sha512: raw::Janet,
}

const _: () = assert!(std::mem::size_of::<Words>() == WORDS * std::mem::size_of::<raw::Janet>());

thread_local! {
    /// This thread's VM's keywords (the abstract's memory), or null.
    static CURRENT: Cell<*const Words> = const { Cell::new(std::ptr::null()) };
}

/// Marks the keywords (the `gcmark` callback).
///
/// # Safety
/// `data` is the memory of an abstract of [`TYPE`], which [`get`] filled.
unsafe extern "C" fn mark(data: *mut c_void, _len: usize) -> i32 {
    let words = data as *const raw::Janet;
    for i in 0..WORDS {
        // SAFETY: the memory holds WORDS keywords, written before it was rooted.
        unsafe { raw::janet_mark(*words.add(i)) };
    }
    0
}

/// Forgets this thread's pointer to the keywords (the `gc` callback: it runs
/// only when the VM is torn down, the abstract being rooted). Touches no
/// Janet value: the keywords may be freed already.
///
/// # Safety
/// Called by Janet's collector with the abstract's memory.
unsafe extern "C" fn forget(data: *mut c_void, _len: usize) -> i32 {
    // try_with: the thread may be exiting, its thread-locals gone.
    let _ = CURRENT.try_with(|c| {
        if c.get() == data as *const Words {
            c.set(std::ptr::null());
        }
    });
    0
}

/// The keywords' holder type (no methods; never seen by Janet code).
struct HolderType(raw::JanetAbstractType);
// SAFETY: immutable static data: a string literal and function pointers.
unsafe impl Sync for HolderType {}

static TYPE: HolderType = HolderType(raw::JanetAbstractType {
    name: c"jsec/ca-keywords".as_ptr(),
    gc: Some(forget),
    gcmark: Some(mark),
    get: None,
    put: None,
    marshal: None,
    unmarshal: None,
    tostring: None,
    compare: None,
    hash: None,
    next: None,
    call: None,
    length: None,
    bytes: None,
    #[cfg(janet_gcperthread)]
    gcperthread: None,
});

/// This VM's keywords, interned on the first call in it (values that stay
/// valid until the VM is torn down).
pub fn get() -> Words {
    let p = CURRENT.with(|c| c.get());
    if !p.is_null() {
        // SAFETY: set below to a rooted abstract's memory of this thread's VM;
        // cleared by `forget` when that VM finalizes it.
        return unsafe { *p };
    }
    // SAFETY: janet_abstract returns GC memory of the requested size, aligned
    // for Janet values; every word is written before anything can see it (no
    // collection runs inside a cfunction); janet_symbol copies each short name.
    unsafe {
        let mem = raw::janet_abstract(&TYPE.0, std::mem::size_of::<Words>()) as *mut raw::Janet;
        for (i, name) in NAMES.iter().enumerate() {
            mem.add(i).write(raw::janet_wrap_keyword(raw::janet_symbol(name.as_ptr(), name.len() as i32)));
        }
        raw::janet_gcroot(raw::janet_wrap_abstract(mem as *mut c_void));
        let words = mem as *const Words;
        CURRENT.with(|c| c.set(words));
        *words
    }
}

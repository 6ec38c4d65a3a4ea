//! The abstract type `ca/CA`: a GC-managed box holding a pointer to a core
//! [`Authority`]. Methods are looked up in [`super::METHODS`], which points at
//! the same cfunctions as the module functions.

use std::ffi::c_void;

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::authority::Authority;
use crate::core::error::{CaError, CaResult};

use super::values::type_name;

/// What Janet's GC allocates for a CA: one owned pointer, freed by `ca_gc`.
#[repr(C)]
struct CaBox {
    authority: *mut Authority,
}

/// The type descriptor, in a wrapper that may be a `static`.
pub struct AbstractType(pub raw::JanetAbstractType);
// SAFETY: immutable static data: a string literal and function pointers.
unsafe impl Sync for AbstractType {}

pub static CA_TYPE: AbstractType = AbstractType(raw::JanetAbstractType {
    name: c"ca/CA".as_ptr(),
    gc: Some(ca_gc),
    gcmark: None,
    get: Some(ca_get),
    put: None,
    marshal: None,
    unmarshal: None,
    tostring: Some(ca_tostring),
    compare: None,
    hash: None,
    next: None,
    call: None,
    length: None,
    bytes: None,
    // Janet 1.39+ (build.rs reads the version from the janet.h being built against).
    #[cfg(janet_gcperthread)]
    gcperthread: None,
});

/// Wraps an authority as a new `ca/CA` value; Janet's GC owns it from here.
pub fn wrap(authority: Authority) -> Janet {
    let ptr = Box::into_raw(Box::new(authority));
    // SAFETY: janet_abstract returns GC memory of the requested size, aligned for
    // any pointer; we initialise it fully before anything can observe it.
    unsafe {
        let mem = raw::janet_abstract(&CA_TYPE.0, std::mem::size_of::<CaBox>()) as *mut CaBox;
        mem.write(CaBox { authority: ptr });
        Janet::from(raw::janet_wrap_abstract(mem as *mut c_void))
    }
}

/// The authority behind a `ca/CA` argument, or an error naming the argument.
///
/// The reference is valid for the current cfunction call: the argument keeps
/// the abstract alive, and no Janet code runs while it is held (callbacks into
/// Janet, as in OCSP status functions, happen before the CA is borrowed).
pub fn authority<'a>(v: &Janet, what: &str) -> CaResult<&'a mut Authority> {
    // SAFETY: janet_checkabstract returns NULL unless `v` is an abstract of our type.
    let mem = unsafe { raw::janet_checkabstract(v.raw_data(), &CA_TYPE.0) } as *mut CaBox;
    if mem.is_null() {
        return Err(CaError::param(format!("{what} must be a ca/CA, got {}", type_name(v))));
    }
    // SAFETY: our abstracts are always initialised by `wrap`; the pointer is only
    // cleared by the GC callback, after which the value is unreachable.
    let ptr = unsafe { (*mem).authority };
    if ptr.is_null() {
        return Err(CaError::config(format!("{what} is a freed ca/CA")));
    }
    // SAFETY: the pointer came from Box::into_raw and is live (see above).
    Ok(unsafe { &mut *ptr })
}

pub fn is_ca(v: &Janet) -> bool {
    // SAFETY: as in `authority`.
    !unsafe { raw::janet_checkabstract(v.raw_data(), &CA_TYPE.0) }.is_null()
}

unsafe extern "C" fn ca_gc(data: *mut c_void, _len: usize) -> i32 {
    let mem = data as *mut CaBox;
    // SAFETY: Janet calls gc once per value, on memory `wrap` initialised.
    let ptr = unsafe { (*mem).authority };
    if !ptr.is_null() {
        // SAFETY: the pointer came from Box::into_raw and is freed exactly once here.
        drop(unsafe { Box::from_raw(ptr) });
        unsafe { (*mem).authority = std::ptr::null_mut() };
    }
    0
}

unsafe extern "C" fn ca_get(_data: *mut c_void, key: raw::Janet, out: *mut raw::Janet) -> i32 {
    // SAFETY: janet_checktype only reads the tag.
    if unsafe { raw::janet_checktype(key, raw::JanetType_JANET_KEYWORD) } == 0 {
        return 0;
    }
    // SAFETY: key is a keyword; METHODS is NULL-terminated and static.
    unsafe { raw::janet_getmethod(raw::janet_unwrap_keyword(key), super::METHODS.0.as_ptr(), out) }
}

unsafe extern "C" fn ca_tostring(data: *mut c_void, buffer: *mut raw::JanetBuffer) {
    let mem = data as *mut CaBox;
    // SAFETY: as in `authority`; formatting allocates no Janet memory.
    let text = match unsafe { (*mem).authority.as_mut() } {
        Some(a) => match a.next_serial() {
            Ok(n) => format!("<ca/CA {:?} next-serial {n}>", a.subject_display()),
            Err(_) => format!("<ca/CA {:?}>", a.subject_display()),
        },
        None => String::from("<ca/CA freed>"),
    };
    let len = i32::try_from(text.len()).unwrap_or(0);
    // SAFETY: pushes `len` bytes from a valid slice into Janet's buffer.
    unsafe { raw::janet_buffer_push_bytes(buffer, text.as_ptr(), len) };
}

//! The abstract type `ca/CA`: a GC-managed box holding a core [`Authority`]
//! ([`super::abstract_box`]). Methods are looked up in [`METHODS`],
//! which points at the same cfunctions as the module functions.

use std::ffi::c_void;

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::authority::Authority;
use crate::core::error::{CaError, CaResult};

use super::abstract_box::{self as ab, AbstractType};
use super::values::type_name;

pub static CA_TYPE: AbstractType = ab::descriptor(c"ca/CA", ab::gc::<Authority>, ca_get, ca_next, ca_tostring);

/// Wraps an authority as a new `ca/CA` value; Janet's GC owns it from here.
pub fn wrap(authority: Authority) -> Janet {
    ab::wrap(&CA_TYPE, authority)
}

/// The authority behind a `ca/CA` argument, or an error naming the argument.
///
/// The reference is valid for the current cfunction call: the argument keeps
/// the abstract alive, and no Janet code runs while it is held (callbacks into
/// Janet, as in OCSP status functions, happen before the CA is borrowed).
pub fn authority<'a>(v: &Janet, what: &str) -> CaResult<&'a mut Authority> {
    match ab::borrow::<Authority>(&CA_TYPE, v) {
        None => Err(CaError::param(format!("{what} must be a ca/CA, got {}", type_name(v)))),
        Some(None) => Err(CaError::config(format!("{what} is a freed ca/CA"))),
        Some(Some(a)) => Ok(a),
    }
}

pub fn is_ca(v: &Janet) -> bool {
    ab::borrow::<Authority>(&CA_TYPE, v).is_some()
}

/// This type's methods, set when the module is registered.
pub static METHODS: ab::MethodSlot = ab::MethodSlot::new();

unsafe extern "C" fn ca_get(_data: *mut c_void, key: raw::Janet, out: *mut raw::Janet) -> i32 {
    // SAFETY: the slot holds a NULL-terminated static table, or nothing yet.
    unsafe { ab::method(&METHODS, key, out) }
}

unsafe extern "C" fn ca_next(_data: *mut c_void, key: raw::Janet) -> raw::Janet {
    // SAFETY: the slot holds a NULL-terminated static table, or nothing yet.
    unsafe { ab::next_method(&METHODS, key) }
}

unsafe extern "C" fn ca_tostring(data: *mut c_void, buffer: *mut raw::JanetBuffer) {
    // SAFETY: `data` is a ca/CA's memory; formatting allocates no Janet memory.
    let text = match unsafe { ab::peek::<Authority>(data) } {
        Some(a) => match a.next_serial() {
            Ok(n) => format!("<ca/CA {:?} next-serial {n}>", a.subject_display()),
            Err(_) => format!("<ca/CA {:?}>", a.subject_display()),
        },
        None => String::from("<ca/CA freed>"),
    };
    // SAFETY: the buffer Janet passed.
    unsafe { ab::push_text(buffer, &text) };
}

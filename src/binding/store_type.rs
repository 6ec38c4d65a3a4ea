//! The abstract type `ca/Store`: a GC-managed box holding an open store
//! ([`crate::core::store::Engine`]); `ca/store-close` closes it early.
//! Methods are looked up in [`METHODS`].

use std::ffi::c_void;

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::error::{CaError, CaResult};
use crate::core::store::Engine;

use super::abstract_box::{self as ab, AbstractType};
use super::values::type_name;

/// An open store, or a closed one.
pub struct StoreHandle {
    pub engine: Option<Box<dyn Engine>>,
}

pub static STORE_TYPE: AbstractType = ab::descriptor(c"ca/Store", ab::gc::<StoreHandle>, store_get, store_next, store_tostring);

pub fn wrap(engine: Box<dyn Engine>) -> Janet {
    ab::wrap(&STORE_TYPE, StoreHandle { engine: Some(engine) })
}

/// The handle behind a `ca/Store` argument (open or closed).
pub fn handle<'a>(v: &Janet, what: &str) -> CaResult<&'a mut StoreHandle> {
    match ab::borrow::<StoreHandle>(&STORE_TYPE, v) {
        None => Err(CaError::param(format!("{what} must be a ca/Store, got {}", type_name(v)))),
        Some(None) => Err(CaError::config(format!("{what} is a freed ca/Store"))),
        Some(Some(h)) => Ok(h),
    }
}

/// The open store behind a `ca/Store` argument.
pub fn engine<'a>(v: &Janet, what: &str) -> CaResult<&'a mut dyn Engine> {
    match &mut handle(v, what)?.engine {
        Some(e) => Ok(e.as_mut()),
        None => Err(CaError::config(format!("{what} is a closed ca/Store"))),
    }
}

/// This type's methods, set when the module is registered.
pub static METHODS: ab::MethodSlot = ab::MethodSlot::new();

unsafe extern "C" fn store_get(_data: *mut c_void, key: raw::Janet, out: *mut raw::Janet) -> i32 {
    // SAFETY: the slot holds a NULL-terminated static table, or nothing yet.
    unsafe { ab::method(&METHODS, key, out) }
}

unsafe extern "C" fn store_next(_data: *mut c_void, key: raw::Janet) -> raw::Janet {
    // SAFETY: the slot holds a NULL-terminated static table, or nothing yet.
    unsafe { ab::next_method(&METHODS, key) }
}

unsafe extern "C" fn store_tostring(data: *mut c_void, buffer: *mut raw::JanetBuffer) {
    // SAFETY: `data` is a ca/Store's memory.
    let text = match unsafe { ab::peek::<StoreHandle>(data) } {
        Some(StoreHandle { engine: Some(e) }) => format!("<ca/Store {:?}>", e.location()),
        _ => String::from("<ca/Store closed>"),
    };
    // SAFETY: the buffer Janet passed.
    unsafe { ab::push_text(buffer, &text) };
}

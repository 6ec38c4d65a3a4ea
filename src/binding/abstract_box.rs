//! Rust values owned by Janet's garbage collector: an abstract value whose
//! memory holds one pointer to a boxed Rust value, freed exactly once by the
//! type's `gc` callback ([`gc`]). `ca/CA` and `ca/Store` are both this.

use std::ffi::c_void;

use janetrs::lowlevel as raw;
use janetrs::Janet;

/// A type descriptor, in a wrapper that may be a `static`.
pub struct AbstractType(pub raw::JanetAbstractType);
// SAFETY: immutable static data: a string literal and function pointers.
unsafe impl Sync for AbstractType {}

/// Builds a descriptor: its name, its `gc` (use [`gc::<T>`]), method lookup,
/// method iteration (`next`, so `(keys ca)` lists the methods, as Janet's
/// own files and streams do) and printing.
pub const fn descriptor(
    name: &'static std::ffi::CStr,
    gc: unsafe extern "C" fn(*mut c_void, usize) -> i32,
    get: unsafe extern "C" fn(*mut c_void, raw::Janet, *mut raw::Janet) -> i32,
    next: unsafe extern "C" fn(*mut c_void, raw::Janet) -> raw::Janet,
    tostring: unsafe extern "C" fn(*mut c_void, *mut raw::JanetBuffer),
) -> AbstractType {
    AbstractType(raw::JanetAbstractType {
        name: name.as_ptr(),
        gc: Some(gc),
        gcmark: None,
        get: Some(get),
        put: None,
        marshal: None,
        unmarshal: None,
        tostring: Some(tostring),
        compare: None,
        hash: None,
        next: Some(next),
        call: None,
        length: None,
        bytes: None,
        // Janet 1.40+: set when the janet.h being built against declares the field (build.rs).
        #[cfg(janet_gcperthread)]
        gcperthread: None,
    })
}

/// What Janet's GC allocates: one owned pointer (NULL once freed).
#[repr(C)]
struct Slot<T> {
    ptr: *mut T,
}

/// Wraps `value` as a new abstract of type `ty`; Janet's GC owns it from here.
pub fn wrap<T>(ty: &'static AbstractType, value: T) -> Janet {
    let ptr = Box::into_raw(Box::new(value));
    // SAFETY: janet_abstract returns GC memory of the requested size, aligned for
    // any pointer; we initialise it fully before anything can observe it.
    unsafe {
        let mem = raw::janet_abstract(&ty.0, std::mem::size_of::<Slot<T>>()) as *mut Slot<T>;
        mem.write(Slot { ptr });
        Janet::from(raw::janet_wrap_abstract(mem as *mut c_void))
    }
}

/// The value behind `v`: None when `v` is not an abstract of type `ty`,
/// Some(None) when it was freed.
///
/// The reference is valid for the current cfunction call: the argument keeps
/// the abstract alive, and callers run no Janet code while they hold it.
pub fn borrow<'a, T>(ty: &'static AbstractType, v: &Janet) -> Option<Option<&'a mut T>> {
    // SAFETY: janet_checkabstract returns NULL unless `v` is an abstract of type `ty`.
    let mem = unsafe { raw::janet_checkabstract(v.raw_data(), &ty.0) } as *mut Slot<T>;
    if mem.is_null() {
        return None;
    }
    // SAFETY: abstracts of `ty` are always initialised by `wrap::<T>`; the pointer is
    // live until the GC callback clears it, after which the value is unreachable.
    Some(unsafe { (*mem).ptr.as_mut() })
}

/// Drops the boxed value behind `data`, once.
///
/// # Safety
/// Janet calls a type's `gc` once per value, on memory `wrap::<T>` initialised.
pub unsafe extern "C" fn gc<T>(data: *mut c_void, _len: usize) -> i32 {
    let mem = data as *mut Slot<T>;
    // SAFETY: see above; the pointer came from Box::into_raw and is freed exactly once.
    let ptr = unsafe { (*mem).ptr };
    if !ptr.is_null() {
        drop(unsafe { Box::from_raw(ptr) });
        unsafe { (*mem).ptr = std::ptr::null_mut() };
    }
    0
}

/// The boxed value behind GC memory `data`, for `tostring` callbacks.
///
/// # Safety
/// `data` is the memory of an abstract whose type wraps `T`.
pub unsafe fn peek<'a, T>(data: *mut c_void) -> Option<&'a mut T> {
    // SAFETY: as in `gc`.
    unsafe { (*(data as *mut Slot<T>)).ptr.as_mut() }
}

/// Looks `key` up in a NULL-terminated method table (the `get` callback).
///
/// # Safety
/// `methods` is NULL-terminated and static.
pub unsafe fn method(methods: &MethodSlot, key: raw::Janet, out: *mut raw::Janet) -> i32 {
    let methods = methods.0.load(std::sync::atomic::Ordering::Acquire);
    // SAFETY: janet_checktype only reads the tag.
    if methods.is_null() || unsafe { raw::janet_checktype(key, raw::JanetType_JANET_KEYWORD) } == 0 {
        return 0;
    }
    // SAFETY: key is a keyword; the table is NULL-terminated and static.
    unsafe { raw::janet_getmethod(raw::janet_unwrap_keyword(key), methods, out) }
}

/// The method after `key` in a NULL-terminated method table (the `next`
/// callback): the first for nil, nil after the last or for an unknown key.
///
/// # Safety
/// `methods` is NULL-terminated and static.
pub unsafe fn next_method(methods: &MethodSlot, key: raw::Janet) -> raw::Janet {
    let methods = methods.0.load(std::sync::atomic::Ordering::Acquire);
    if methods.is_null() {
        // SAFETY: makes an immediate value.
        return unsafe { raw::janet_wrap_nil() };
    }
    // SAFETY: the table is NULL-terminated and static; janet_nextmethod compares
    // `key` with each name and allocates only the keyword it returns.
    unsafe { raw::janet_nextmethod(methods, key) }
}

/// A type's method table, handed in by the registration (which sits above
/// the types and names their methods' cfunctions): a NULL-terminated static table.
pub struct MethodSlot(std::sync::atomic::AtomicPtr<raw::JanetMethod>);

impl MethodSlot {
    pub const fn new() -> MethodSlot {
        MethodSlot(std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()))
    }

    /// `table` must be NULL-terminated and never freed (a static).
    pub fn set(&self, table: &'static [raw::JanetMethod]) {
        self.0.store(table.as_ptr().cast_mut(), std::sync::atomic::Ordering::Release);
    }
}

/// Appends `text` to a Janet buffer (the `tostring` callback).
///
/// # Safety
/// `buffer` is the buffer Janet passed to `tostring`.
pub unsafe fn push_text(buffer: *mut raw::JanetBuffer, text: &str) {
    let len = i32::try_from(text.len()).unwrap_or(0);
    // SAFETY: pushes `len` bytes from a valid slice into Janet's buffer.
    unsafe { raw::janet_buffer_push_bytes(buffer, text.as_ptr(), len) };
}

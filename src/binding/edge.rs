//! The cfunction edge: where Janet calls into Rust and errors go back out.
//!
//! A Janet error is a `longjmp`. Nothing with a destructor may be alive in
//! the frames it jumps over, and a Rust panic must never unwind into Janet's
//! C frames. So every cfunction body runs inside [`run`]: the body returns a
//! `CaResult`, panics are caught, every Rust value is dropped inside
//! [`compute`], and only then does [`run`] raise the error (a plain Janet
//! string, which has no destructor). The same holds for a body that waits on
//! the event loop (it returns a [`Deferred`]): `janet_await` is a `longjmp`
//! too, made from [`run`] once the job is a raw pointer.

use std::panic::{catch_unwind, AssertUnwindSafe};

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::error::{CaError, CaResult};

use super::event_loop::{self, Deferred};
use super::values::janet_string;

/// What a cfunction body returns: a Janet value, or a [`Deferred`] job whose
/// finishing step makes the value (see [`super::event_loop`]).
pub trait Reply {
    fn into_ready(self) -> Ready;
}

/// A body's reply with no destructor left: what [`run`] acts on.
pub enum Ready {
    Value(raw::Janet),
    /// A job from `Deferred::into_raw`.
    Await(*mut std::ffi::c_void),
}

impl Reply for Janet {
    fn into_ready(self) -> Ready {
        Ready::Value(self.raw_data())
    }
}

impl Reply for Deferred {
    fn into_ready(self) -> Ready {
        Ready::Await(self.into_raw())
    }
}

/// Runs `body` and drops every Rust value before returning; on error returns
/// the message as a Janet string for the caller to raise.
fn compute<R: Reply>(argc: i32, argv: *mut raw::Janet, body: fn(&[Janet]) -> CaResult<R>) -> Result<Ready, raw::Janet> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let args: &[Janet] = if argc <= 0 || argv.is_null() {
            &[]
        } else {
            // SAFETY: Janet passes `argc` initialised values at `argv`, valid for this
            // call; `Janet` is `repr(transparent)` over the C `Janet`.
            unsafe { std::slice::from_raw_parts(argv as *const Janet, argc as usize) }
        };
        body(args).map(Reply::into_ready)
    }));
    let message = match outcome {
        Ok(Ok(ready)) => return Ok(ready),
        Ok(Err(err)) => err.to_string(),
        Err(_) => CaError::resource("internal error in jsec/ca (a bug: please report it); the CA is unchanged")
            .to_string(),
    };
    Err(janet_string(&message))
}

/// The cfunction entry point: returns the body's value, or raises its error,
/// or suspends the calling fiber until its deferred job is done.
///
/// # Safety
/// Must be called only from a cfunction Janet invoked, with its `argc`/`argv`.
pub unsafe fn run<R: Reply>(argc: i32, argv: *mut raw::Janet, body: fn(&[Janet]) -> CaResult<R>) -> raw::Janet {
    match compute(argc, argv, body) {
        Ok(Ready::Value(value)) => value,
        // SAFETY: as below; the job is a raw pointer made in this call.
        Ok(Ready::Await(job)) => unsafe { event_loop::start(job) },
        // SAFETY: no value with a destructor is alive in this frame or in
        // `compute` (already returned); the message is GC-managed.
        Err(message) => unsafe { raw::janet_panicv(message) },
    }
}

/// Checks the argument count, naming the function.
pub fn arity(args: &[Janet], min: usize, max: usize, name: &str) -> CaResult<()> {
    let n = args.len();
    if n < min || n > max {
        let expected = match (min, max) {
            (1, 1) => "1 argument".to_string(),
            _ if min == max => format!("{min} arguments"),
            _ => format!("{min} to {max} arguments"),
        };
        return Err(CaError::param(format!("{name} expects {expected}, got {n}")));
    }
    Ok(())
}

/// A cfunction as Janet calls it.
pub type CFun = unsafe extern "C-unwind" fn(i32, *mut raw::Janet) -> raw::Janet;

/// The abstract type whose method table a method belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodOf {
    /// `ca/CA`
    Ca,
    /// `ca/Store`
    Store,
    /// `ca/Acme`
    Acme,
}

/// One module function, declared once: the registration, both method tables
/// and the API reference are derived from these (see [`registry`]).
pub struct Function {
    /// The Janet name, with its `ca/` prefix.
    pub name: &'static str,
    /// The `extern "C-unwind"` wrapper running the body through [`run`].
    pub cfun: CFun,
    /// The docstring; its first line is the call signature.
    pub doc: &'static str,
    /// Method names reaching the same cfunction, and whose methods they are.
    pub methods: &'static [(MethodOf, &'static str)],
    /// Where the declaring `registry!` table is (Janet's `:source-map`
    /// gives the entry's own line, see `binding::declarations`).
    pub file: &'static str,
    pub line: u32,
}

/// A binding file's registration table (Janet's `JANET_CORE_REG`): one line
/// per function, `"ca/name" => body, DOC` with, for a method of an abstract
/// type, `, ca ["method" ...]` or `, store ["method" ...]`. Defines
/// `pub const REGISTRY: &[Function]`, each entry with its cfunction wrapper.
macro_rules! registry {
    (@of ca) => { $crate::binding::edge::MethodOf::Ca };
    (@of store) => { $crate::binding::edge::MethodOf::Store };
    (@of acme) => { $crate::binding::edge::MethodOf::Acme };
    ($($name:literal => $body:path, $doc:expr $(, $of:ident [$($method:literal)*])?;)*) => {
        /// This file's functions, in registration order.
        pub const REGISTRY: &[$crate::binding::edge::Function] = &[$(
            $crate::binding::edge::Function {
                name: $name,
                cfun: {
                    unsafe extern "C-unwind" fn cfun(
                        argc: i32,
                        argv: *mut janetrs::lowlevel::Janet,
                    ) -> janetrs::lowlevel::Janet {
                        // SAFETY: Janet calls this cfunction with its own argc/argv.
                        unsafe { $crate::binding::edge::run(argc, argv, $body) }
                    }
                    cfun
                },
                doc: $doc,
                methods: &[$($(($crate::binding::edge::registry!(@of $of), $method)),*)?],
                file: file!(),
                line: line!(),
            },
        )*];
    };
}
pub(crate) use registry;

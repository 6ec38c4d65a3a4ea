//! The floors of `bench_floor --serve` as a C library, which bench/run.janet's
//! paired child calls in its own process through Janet's FFI (`ffi/native`):
//! module and floor then take turns on one core without a process switch or
//! a wake-up between their batches (issue 25: a process that sleeps while the
//! other runs comes back to cold caches, and the module's collected heap
//! paid for it far more than the floor's few hot chunks).
//!
//!     cargo build --release --example bench_floor_lib   # target/release/examples/libbench_floor_lib.so
//!
//! C interface (no Janet headers: any Janet with FFI loads it):
//!   int    jsec_floor_init(const char *csr_path)        0, or -1 if the CSR cannot be read
//!   double jsec_floor_batch(const char *op, uint32_t n)  seconds for n calls of `op`
//!                                                       (as `--serve` answers: the short
//!                                                       operations and crl-N), or -1

#![allow(dead_code)]

#[path = "bench_floor.rs"]
mod floor;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::sync::OnceLock;
use std::time::Instant;

static INPUTS: OnceLock<floor::Inputs> = OnceLock::new();

thread_local! {
    /// Each operation built once, warmed up by one call (as `--serve` does).
    static BUILT: RefCell<HashMap<String, Box<dyn FnMut()>>> = RefCell::new(HashMap::new());
}

/// Reads the CSR that `sign-csr` verifies and makes the CA key.
///
/// # Safety
/// `csr_path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn jsec_floor_init(csr_path: *const c_char) -> c_int {
    // SAFETY: the caller passes a NUL-terminated string.
    let path = unsafe { CStr::from_ptr(csr_path) };
    let Ok(pem) = std::fs::read(path.to_string_lossy().as_ref()) else { return -1 };
    std::panic::catch_unwind(|| {
        INPUTS.get_or_init(|| floor::Inputs::new(Some(pem)));
    })
    .map_or(-1, |_| 0)
}

/// Runs `calls` calls of the short operation `op` and returns the seconds
/// they took; -1 before `jsec_floor_init` or for an operation `--serve` does
/// not run.
///
/// # Safety
/// `op` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn jsec_floor_batch(op: *const c_char, calls: u32) -> f64 {
    // SAFETY: the caller passes a NUL-terminated string.
    let op = unsafe { CStr::from_ptr(op) }.to_string_lossy().into_owned();
    let Some(inputs) = INPUTS.get() else { return -1.0 };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        BUILT.with(|built| {
            let mut built = built.borrow_mut();
            if !built.contains_key(&op) {
                let Some(mut f) = floor::short_op(&op, inputs).or_else(|| floor::crl_op(&op, inputs)) else { return -1.0 };
                f();
                built.insert(op.clone(), f);
            }
            let Some(f) = built.get_mut(&op) else { return -1.0 };
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_secs_f64()
        })
    }))
    .unwrap_or(-1.0)
}

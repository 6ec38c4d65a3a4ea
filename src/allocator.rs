//! The module's memory allocator: mimalloc, for Rust's allocations and for
//! those of the OpenSSL built into the module (vendored builds).
//!
//! An issuance makes about a hundred small, short-lived allocations (OpenSSL's
//! BIGNUMs and points, the DER being built). With glibc's malloc they share
//! one heap with the interpreter's garbage-collected objects, which the
//! collector frees in bulk: in a loop of `:issue` that heap is fragmented and
//! every small allocation takes a slow path. mimalloc keeps the module's
//! allocations in pages of their own and is faster for small sizes besides
//! (a P-256 `:issue` 4% faster, paired against its floor).
//!
//! `JSEC_CA_ALLOCATOR=system` (read once, at the first allocation) keeps
//! everything on the system allocator, which valgrind's memcheck follows
//! allocation by allocation (test/memcheck.janet).
//!
//! The choice is made before the first allocation and never changes, so a
//! block is always freed by the allocator that made it. OpenSSL is switched
//! with CRYPTO_set_mem_functions, which OpenSSL refuses once it has
//! allocated anything; then it simply stays on malloc. A system OpenSSL (the
//! `system-openssl` feature) is shared with the rest of the process and is
//! never switched.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_char;
use std::sync::atomic::{AtomicU8, Ordering};

use mimalloc::MiMalloc;

/// Dispatches to mimalloc or to the system allocator, as chosen at the first call.
pub struct ModuleAllocator;

const UNDECIDED: u8 = 0;
const MIMALLOC: u8 = 1;
const SYSTEM: u8 = 2;
static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

extern "C" {
    /// libc's: reads the environment without allocating (std::env would).
    fn getenv(name: *const c_char) -> *const c_char;
}

fn use_mimalloc() -> bool {
    match CHOICE.load(Ordering::Relaxed) {
        MIMALLOC => true,
        SYSTEM => false,
        _ => {
            // SAFETY: a NUL-terminated name; getenv returns NULL or a NUL-terminated
            // value that stays valid while the environment is not modified, and it
            // is read here at once.
            let system = unsafe {
                let v = getenv(c"JSEC_CA_ALLOCATOR".as_ptr());
                !v.is_null() && std::ffi::CStr::from_ptr(v).to_bytes() == b"system"
            };
            let choice = if system { SYSTEM } else { MIMALLOC };
            // Two threads deciding at once read the same environment: the first
            // stored answer wins and both return it.
            let decided = match CHOICE.compare_exchange(UNDECIDED, choice, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => choice,
                Err(stored) => stored,
            };
            decided == MIMALLOC
        }
    }
}

// SAFETY: every call goes to the one allocator chosen before the first
// allocation, which upholds GlobalAlloc's contract itself.
unsafe impl GlobalAlloc for ModuleAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        unsafe { if use_mimalloc() { MiMalloc.alloc(layout) } else { System.alloc(layout) } }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the same allocator (the choice never changes).
        unsafe { if use_mimalloc() { MiMalloc.dealloc(ptr, layout) } else { System.dealloc(ptr, layout) } }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        unsafe { if use_mimalloc() { MiMalloc.alloc_zeroed(layout) } else { System.alloc_zeroed(layout) } }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from the same allocator; arguments as the caller's.
        unsafe {
            if use_mimalloc() { MiMalloc.realloc(ptr, layout, new_size) } else { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static GLOBAL: ModuleAllocator = ModuleAllocator;

/// OpenSSL's allocation hooks, on mimalloc.
#[cfg(feature = "vendored-openssl")]
mod openssl_hooks {
    use std::ffi::{c_char, c_int, c_void};

    extern "C" {
        pub fn CRYPTO_set_mem_functions(
            malloc: Option<unsafe extern "C" fn(usize, *const c_char, c_int) -> *mut c_void>,
            realloc: Option<unsafe extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void>,
            free: Option<unsafe extern "C" fn(*mut c_void, *const c_char, c_int)>,
        ) -> c_int;
    }

    pub unsafe extern "C" fn malloc(n: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
        // SAFETY: mi_malloc takes any size and returns NULL when out of memory, as malloc.
        unsafe { libmimalloc_sys::mi_malloc(n) }
    }

    pub unsafe extern "C" fn realloc(p: *mut c_void, n: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
        // SAFETY: `p` is NULL or came from these hooks (mimalloc).
        unsafe { libmimalloc_sys::mi_realloc(p, n) }
    }

    pub unsafe extern "C" fn free(p: *mut c_void, _file: *const c_char, _line: c_int) {
        // SAFETY: `p` is NULL or came from these hooks (mimalloc).
        unsafe { libmimalloc_sys::mi_free(p) }
    }
}

/// Puts the module's own OpenSSL on mimalloc too, when mimalloc is the choice
/// and OpenSSL has allocated nothing yet (else OpenSSL refuses and keeps malloc).
/// Called first thing at module load. Returns whether OpenSSL was switched.
pub fn route_openssl() -> bool {
    #[cfg(feature = "vendored-openssl")]
    {
        use openssl_hooks as h;
        if use_mimalloc() {
            // SAFETY: three functions with OpenSSL's signatures; OpenSSL installs
            // them only while it has no allocation that malloc made.
            return unsafe { h::CRYPTO_set_mem_functions(Some(h::malloc), Some(h::realloc), Some(h::free)) } == 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    /// Blocks of every size class, freed on the thread that made them and on
    /// another, through whichever allocator was chosen (this test binary's too).
    #[test]
    fn allocations_round_trip_across_threads() {
        let blocks: Vec<Vec<u8>> = (0..2000usize).map(|i| vec![(i % 251) as u8; 1 + i * 37 % 70_000]).collect();
        let moved = std::thread::spawn(move || {
            blocks.iter().enumerate().all(|(i, b)| b.iter().all(|x| *x == (i % 251) as u8))
        })
        .join()
        .unwrap();
        assert!(moved);
        let mut v = Vec::new();
        for i in 0..10_000u32 {
            v.push(i);
        }
        v.shrink_to_fit();
        assert_eq!(v.iter().map(|x| u64::from(*x)).sum::<u64>(), 49_995_000);
        assert!(super::use_mimalloc() || std::env::var_os("JSEC_CA_ALLOCATOR").is_some());
    }
}

//! Janet strings written in place, finished with Janet's own string hash
//! computed in lanes (`core::string_hash`): for results of megabytes (a CRL's
//! PEM) `janet_string_end`'s byte-at-a-time hash was a fifth of
//! `:generate-crl`'s instructions, and writing the PEM into a Rust `String`
//! first cost a copy and a second multi-megabyte buffer.
//!
//! Which hash the running Janet uses is not known when the module is built (a
//! Janet built with `JANET_PRF` keys it; Janet 1.41 mixes the length in where
//! 1.36 did not; a later version may change it again): [`model`] asks the
//! running Janet, once a process, for the hash of probe strings of several
//! lengths and contents, and the hash is set directly only when one model
//! gives every probe's value (a keyed hash matches one probe by chance with
//! probability 2^-32, nine of them never). Otherwise the string is finished by
//! `janet_string_end`, as before.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

use janetrs::lowlevel as raw;
use janetrs::Janet;

use crate::core::error::{CaError, CaResult};
use crate::core::string_hash::{hash, probes, Model};

/// The running Janet's string hash, if it is one of the models: asked once a
/// process (0 not yet asked, 1 neither, 2 Djb2, 3 Djb2Mixed).
fn model() -> Option<Model> {
    static MODEL: AtomicU8 = AtomicU8::new(0);
    let m = match MODEL.load(Ordering::Relaxed) {
        0 => {
            let m = probe();
            MODEL.store(
                match m {
                    None => 1,
                    Some(Model::Djb2) => 2,
                    Some(Model::Djb2Mixed) => 3,
                },
                Ordering::Relaxed,
            );
            return m;
        }
        m => m,
    };
    match m {
        2 => Some(Model::Djb2),
        3 => Some(Model::Djb2Mixed),
        _ => None,
    }
}

/// Which model gives the running Janet's hash of every probe string.
fn probe() -> Option<Model> {
    let probes = probes();
    let janet: Vec<i32> = probes
        .iter()
        .map(|p| {
            // SAFETY: janet_string copies `p.len()` (at most 1000) bytes of a valid
            // slice into a new string; janet_string_head gives that string's
            // header, which the janet.h this module is built against declares
            // (the module must match the running Janet's minor version).
            unsafe { (*raw::janet_string_head(raw::janet_string(p.as_ptr(), p.len() as i32))).hash }
        })
        .collect();
    [Model::Djb2Mixed, Model::Djb2]
        .into_iter()
        .find(|&m| probes.iter().zip(&janet).all(|(p, h)| hash(m, p) == *h))
}

/// A Janet string of `len` bytes written by `fill` straight into the
/// string's memory (no Rust copy of it). `fill` must return true only when
/// it wrote every byte; when it returns false the string is discarded and
/// this returns an error.
pub fn jstring_filled(len: usize, fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> bool) -> CaResult<Janet> {
    let n = i32::try_from(len).map_err(|_| CaError::resource(format!("a result of {len} bytes is too long for a Janet string")))?;
    // SAFETY: janet_string_begin allocates a string of `n` bytes (plus its
    // header and a NUL Janet writes); it raises no error (out of memory aborts).
    let data = unsafe { raw::janet_string_begin(n) };
    // SAFETY: `data` points at `len` bytes owned by the new, unreachable
    // string: nothing else reads or writes them until it is returned.
    let bytes = unsafe { std::slice::from_raw_parts_mut(data.cast::<MaybeUninit<u8>>(), len) };
    if !fill(bytes) {
        bytes.fill(MaybeUninit::new(0));
        // SAFETY: every byte is written (zeros); the string is left to the collector.
        unsafe { raw::janet_string_end(data) };
        return Err(CaError::resource("a result string was not written whole (a bug)"));
    }
    // SAFETY: `fill` wrote all `len` bytes (it returned true).
    let written = unsafe { std::slice::from_raw_parts(data.cast_const(), len) };
    let s = match model() {
        Some(m) => {
            let h = hash(m, written);
            // SAFETY: `data` is a string begun above; its header is the one
            // janet.h declares. Setting its hash to the value the running
            // Janet's own function gives these bytes (the model matched that
            // function on every probe) is what janet_string_end does.
            unsafe { (*raw::janet_string_head(data.cast_const())).hash = h };
            data.cast_const()
        }
        // SAFETY: as above; janet_string_end computes the hash itself.
        None => unsafe { raw::janet_string_end(data) },
    };
    // SAFETY: a finished string.
    Ok(Janet::from(unsafe { raw::janet_wrap_string(s) }))
}

//! Build script for the jsec-ca native module.
//!
//! Environment it reads:
//! - `CARGO_FEATURE_SYSTEM_JANET` (set by `--features system-janet`, which jpm's
//!   `project.janet` uses): build against an installed Janet's `janet.h`.
//! - `JANET_HEADERPATH`: the directory holding that `janet.h` (read by
//!   evil-janet's bindgen step; listed here so a change rebuilds us too).
//!
//! Why the empty `libjanet.a`: with the `system` feature, evil-janet's build
//! script prints `cargo:rustc-link-lib=janet`, so the final link of our cdylib
//! gets `-ljanet`. A Janet native module must NOT link a Janet library: the
//! interpreter that loads it (`janet`, built with `-rdynamic`) provides every
//! `janet_*` symbol, and a second copy of Janet inside the module would have
//! its own GC and VM state. Not every machine has a `libjanet.so`/`.a` either.
//! So we put an empty static archive named `libjanet.a` first on the library
//! search path: `-ljanet` resolves to it, contributes nothing, and the
//! `janet_*` references stay undefined in `libjsec_ca.so` (check with
//! `nm -D target/release/libjsec_ca.so | grep ' U janet_'`), to be bound when
//! Janet loads the module. `!<arch>\n` alone is a valid, empty ar archive.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=JANET_HEADERPATH");

    if env::var_os("CARGO_FEATURE_SYSTEM_JANET").is_some() {
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        fs::write(out_dir.join("libjanet.a"), b"!<arch>\n")
            .expect("could not write the empty libjanet.a stub");
        println!("cargo:rustc-link-search=native={}", out_dir.display());
    }
}

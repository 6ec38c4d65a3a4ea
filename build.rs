//! Build script for the jsec-ca native module.
//!
//! Environment it reads:
//! - `CARGO_FEATURE_VENDORED_OPENSSL` / `CARGO_FEATURE_SYSTEM_OPENSSL`: the
//!   OpenSSL to link (built from source, the default, or the system's). Both
//!   at once is refused: features are additive, so `--features system-openssl`
//!   alone would still build the vendored one; it needs `--no-default-features`.
//! - `CARGO_FEATURE_SYSTEM_JANET` (set by `--features system-janet`, which jpm's
//!   `project.janet` uses): build against an installed Janet's `janet.h`.
//! - `JANET_HEADERPATH`: the directory holding that `janet.h` (read by
//!   evil-janet's bindgen step; listed here so a change rebuilds us too).
//!
//! What it emits:
//! - The cfg `janet_gcperthread` when the `janet.h` being built against
//!   declares a `gcperthread` member in `struct JanetAbstractType` (Janet
//!   1.40.0 added it; 1.39 and older lack it). Decided from the struct in the
//!   header itself, not from a version number: `$JANET_HEADERPATH/janet.h`
//!   with `system-janet`, otherwise the `csrc/janet.h` that evil-janet ships.
//! - `$OUT_DIR/janet_header.rs`: that version as a constant, which
//!   `src/binding` compares at compile time with the version in evil-janet's
//!   generated bindings. evil-janet's build script does not rerun when
//!   `JANET_HEADERPATH` changes, so a cargo target directory reused across
//!   Janet versions keeps bindings of the old header; the comparison turns
//!   that into a compile error instead of a module Janet refuses to load
//!   ("config mismatch"). scripts/build-module avoids it: when the header
//!   changes it runs `cargo clean -p evil-janet` before building.
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
//! The janetrs_macros proc-macro links `-ljanet` too and this script cannot
//! reach it: scripts/build-module puts the same stub on `LIBRARY_PATH`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=JANET_HEADERPATH");
    println!("cargo::rustc-check-cfg=cfg(janet_gcperthread)");

    if env::var_os("CARGO_FEATURE_VENDORED_OPENSSL").is_some() && env::var_os("CARGO_FEATURE_SYSTEM_OPENSSL").is_some() {
        panic!(
            "features vendored-openssl (a default feature) and system-openssl exclude each other: \
             build with --no-default-features --features module,system-openssl"
        );
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let system = env::var_os("CARGO_FEATURE_SYSTEM_JANET").is_some();

    let header = if system {
        env::var_os("JANET_HEADERPATH").map(|dir| PathBuf::from(dir).join("janet.h"))
    } else {
        bundled_header()
    };
    let version = match &header {
        Some(path) => {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let version = header_version(&text)
                .unwrap_or_else(|| panic!("no JANET_VERSION_MAJOR/MINOR/PATCH in {}", path.display()));
            let declared = declares_gcperthread(&text)
                .unwrap_or_else(|| panic!("no `struct JanetAbstractType {{ ... }};` in {}", path.display()));
            if declared {
                println!("cargo:rustc-cfg=janet_gcperthread");
            }
            Some(version)
        }
        None => {
            // Not found (an unusual cargo home or vendoring): the pinned
            // evil-janet (1.41.2) has the field; the compiler reports it otherwise.
            println!("cargo:warning=could not locate evil-janet's csrc/janet.h; assuming its JanetAbstractType has gcperthread");
            println!("cargo:rustc-cfg=janet_gcperthread");
            None
        }
    };
    let constant = match version {
        Some((major, minor, patch)) => format!("Some(({major}, {minor}, {patch}))"),
        None => "None".to_string(),
    };
    fs::write(
        out_dir.join("janet_header.rs"),
        format!(
            "/// The Janet version of the janet.h this module is built against, read by build.rs.\n\
             pub const JANET_HEADER_VERSION: Option<(u32, u32, u32)> = {constant};\n"
        ),
    )
    .expect("could not write janet_header.rs");

    if system {
        fs::write(out_dir.join("libjanet.a"), b"!<arch>\n")
            .expect("could not write the empty libjanet.a stub");
        println!("cargo:rustc-link-search=native={}", out_dir.display());
    }
}

/// `(major, minor, patch)` from the `#define JANET_VERSION_*` lines of a janet.h.
fn header_version(text: &str) -> Option<(u32, u32, u32)> {
    let define = |name: &str| {
        text.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("#define"), Some(n), Some(value)) if n == name => value.parse().ok(),
                _ => None,
            }
        })
    };
    Some((define("JANET_VERSION_MAJOR")?, define("JANET_VERSION_MINOR")?, define("JANET_VERSION_PATCH")?))
}

/// Whether the header's `struct JanetAbstractType` declares a `gcperthread`
/// member (a function pointer, `int (*gcperthread)(void *data, size_t len);`
/// in Janet 1.40.0 and later), with comments left out; `None` if the header
/// has no such struct.
fn declares_gcperthread(text: &str) -> Option<bool> {
    let start = text.find("struct JanetAbstractType {")?;
    let body = &text[start..];
    let body = &body[..body.find("};")?];
    let mut code = String::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else {
            let c = rest.chars().next().expect("not empty");
            code.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    let code: String = code.split_whitespace().collect();
    Some(code.contains("(*gcperthread)("))
}

/// The janet.h inside the evil-janet package that Cargo.lock selects, in
/// cargo's registry sources (`$CARGO_HOME/registry/src/*/evil-janet-V/`) or a
/// `vendor/` directory.
fn bundled_header() -> Option<PathBuf> {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
    let lock = fs::read_to_string(manifest_dir.join("Cargo.lock")).ok()?;
    println!("cargo:rerun-if-changed=Cargo.lock");
    let version = locked_version(&lock, "evil-janet")?;
    let package = format!("evil-janet-{version}");
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    let mut candidates = vec![manifest_dir.join("vendor/evil-janet/csrc/janet.h")];
    if let Ok(registries) = fs::read_dir(cargo_home.join("registry/src")) {
        for registry in registries.flatten() {
            candidates.push(registry.path().join(&package).join("csrc/janet.h"));
        }
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// The `version` of package `name` in a Cargo.lock.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let next = lines.next()?.trim();
            let version = next.strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(version.to_string());
        }
    }
    None
}

//! PKCS#11 libraries, loaded and initialized once per process each: a
//! library is initialized once however many keys, CAs and threads use it
//! (C_Initialize twice is an error), and is never finalized while the
//! process runs (another CA may still be signing with it).

use std::collections::HashMap;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use once_cell::sync::Lazy;

use crate::core::error::{CaError, CaResult};
use crate::core::keys::shown;

static MODULES: Lazy<Mutex<HashMap<String, Pkcs11>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// A PKCS#11 login holds for the whole process and token: once one session
/// logged in, C_Login answers "already logged in" to any PIN. So each
/// successful login is remembered, per library and slot, as a salted
/// SHA-256 of its PIN, and a later PIN must match it.
static LOGINS: Lazy<Mutex<HashMap<(String, u64), [u8; 32]>>> = Lazy::new(|| Mutex::new(HashMap::new()));
static SALT: Lazy<[u8; 32]> = Lazy::new(|| {
    let mut salt = [0u8; 32];
    // Without randomness the salt stays fixed: the digest is still never shown or stored.
    let _ = openssl::rand::rand_bytes(&mut salt);
    salt
});

fn pin_digest(pin: &[u8]) -> [u8; 32] {
    let mut salted = crate::core::secret::Secret::new(Vec::with_capacity(32 + pin.len()));
    salted.extend(&SALT[..]);
    salted.extend(pin);
    crate::core::digest::sha256(salted.as_bytes())
}

/// Remembers that `pin` logged in to `slot` of the library at `path`.
pub fn remember_login(path: &str, slot: u64, pin: &[u8]) {
    if let Ok(mut logins) = LOGINS.lock() {
        logins.insert((path.to_string(), slot), pin_digest(pin));
    }
}

/// Whether `pin` is the one that logged in to `slot` (None: no login known).
pub fn same_login(path: &str, slot: u64, pin: &[u8]) -> Option<bool> {
    let logins = LOGINS.lock().ok()?;
    let known = logins.get(&(path.to_string(), slot))?;
    Some(openssl::memcmp::eq(known, &pin_digest(pin)))
}

/// The library at `path`, loaded and initialized (OS locking: several
/// threads of this process may call it at once).
pub fn load(path: &str) -> CaResult<Pkcs11> {
    let mut modules = MODULES.lock().map_err(|_| CaError::resource("the PKCS#11 library table is poisoned"))?;
    if let Some(m) = modules.get(path) {
        return Ok(m.clone());
    }
    if std::fs::metadata(path).is_err() {
        return Err(CaError::config(format!("PKCS#11 module-path {}: no such file", shown(path))));
    }
    let module = Pkcs11::new(path).map_err(|e| {
        CaError::config(format!("PKCS#11 module-path {} is not a PKCS#11 library: {}", shown(path), short(&e)))
    })?;
    match module.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(CaError::config(format!("PKCS#11 library {} failed to initialize: {}", shown(path), short(&e))))
        }
    }
    modules.insert(path.to_string(), module.clone());
    Ok(module)
}

/// A PKCS#11 error as a short name (`PinIncorrect in Login`), never a PIN.
pub fn short(e: &Error) -> String {
    match e {
        Error::Pkcs11(rv, function) => format!("{rv:?} in {function:?}"),
        Error::LibraryLoading(_) => "the library cannot be loaded (not a shared library, or it lacks C_GetFunctionList)".into(),
        Error::MissingSymbol(s) => format!("the library lacks {s}"),
        other => format!("{other:?}").chars().take(120).collect(),
    }
}

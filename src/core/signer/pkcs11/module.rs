//! PKCS#11 libraries, loaded and initialized once per process each: a
//! library is initialized once however many keys, CAs and threads use it
//! (C_Initialize twice is an error). It is finalized only to start it again
//! ([`restart`]) when its token went away and may be back: libraries such as
//! SoftHSM2 do not find a token again without that. Each start is a
//! generation; sessions of an older one are never used or closed (their
//! handles may now name another caller's sessions).

use std::collections::HashMap;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use once_cell::sync::Lazy;

use crate::core::error::{CaError, CaResult};
use crate::core::error::shown;

/// A loaded library and how many times it was started.
struct Loaded {
    module: Pkcs11,
    generation: u64,
}

static MODULES: Lazy<Mutex<HashMap<String, Loaded>>> = Lazy::new(|| Mutex::new(HashMap::new()));

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

fn start(module: &Pkcs11, path: &str) -> CaResult<()> {
    match module.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(()),
        Err(e) => Err(CaError::config(format!("PKCS#11 library {} failed to initialize: {}", shown(path), short(&e)))),
    }
}

fn table() -> CaResult<std::sync::MutexGuard<'static, HashMap<String, Loaded>>> {
    MODULES.lock().map_err(|_| CaError::resource("the PKCS#11 library table is poisoned"))
}

/// The library at `path`, loaded and initialized (OS locking: several
/// threads of this process may call it at once), and its generation.
pub fn load(path: &str) -> CaResult<(Pkcs11, u64)> {
    let mut modules = table()?;
    if let Some(m) = modules.get(path) {
        return Ok((m.module.clone(), m.generation));
    }
    if std::fs::metadata(path).is_err() {
        return Err(CaError::config(format!("PKCS#11 module-path {}: no such file", shown(path))));
    }
    let module = Pkcs11::new(path).map_err(|e| {
        CaError::config(format!("PKCS#11 module-path {} is not a PKCS#11 library: {}", shown(path), short(&e)))
    })?;
    start(&module, path)?;
    modules.insert(path.to_string(), Loaded { module: module.clone(), generation: 0 });
    Ok((module, 0))
}

/// The library's generation now (None: not loaded).
pub fn generation(path: &str) -> Option<u64> {
    table().ok()?.get(path).map(|m| m.generation)
}

/// Finalizes and initializes the library again, unless another caller did
/// since `seen` (its generation when the caller's session failed). Every
/// login is forgotten with it.
pub fn restart(path: &str, seen: u64) -> CaResult<()> {
    let mut modules = table()?;
    let Some(m) = modules.get_mut(path) else { return Ok(()) };
    if m.generation != seen {
        return Ok(());
    }
    // A failed finalize (a library already broken) does not stop a new start.
    let _ = m.module.clone().finalize();
    m.generation += 1;
    if let Ok(mut logins) = LOGINS.lock() {
        logins.retain(|(p, _), _| p != path);
    }
    start(&m.module, path)
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

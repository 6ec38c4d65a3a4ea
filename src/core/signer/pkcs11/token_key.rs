//! A CA key inside a PKCS#11 token: generated there (sensitive, never
//! extractable) or found there, and used only through the token's signing
//! mechanisms. Hashing for ECDSA is OpenSSL's; the signature is the token's;
//! every signature is verified with the public key before it is used, so a
//! faulty token yields an error, never a certificate that does not verify.

use std::sync::{Mutex, MutexGuard};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use openssl::bn::BigNum;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;

use super::module::{self, short};
use super::uri::KeyUri;
use crate::core::der::{self, tag};
use crate::core::digest;
use crate::core::error::{CaError, CaResult, SslContext};
use crate::core::algorithm::{sig_alg_for, Digest, Generation, KeyType, SigAlg, TokenSigning};
use crate::core::keys;
use crate::core::oid;
use crate::core::signer::Signer;

/// An open session on the key's token, the private key's handle in it, and
/// the library generation it belongs to.
struct Open {
    session: Session,
    key: ObjectHandle,
    generation: u64,
}

impl Open {
    /// Closes the session, unless its library was restarted since: then its
    /// handle may name another caller's new session, and is left alone.
    fn close(self, path: &str) {
        if module::generation(path) != Some(self.generation) {
            std::mem::forget(self.session);
        }
    }
}

pub struct TokenSigner {
    module: Pkcs11,
    generation: u64,
    uri: KeyUri,
    alg: SigAlg,
    spki_der: Vec<u8>,
    public: PKey<Public>,
    /// One session per key, opened on first use and again after a fault.
    open: Mutex<Option<Open>>,
}

/// What failed, as a `[CA:...]` error naming the key (never its PIN).
fn fault(uri: &KeyUri, what: &str, e: &Error) -> CaError {
    let message = format!("PKCS#11 key {}: {what}: {}", uri.display(), short(e));
    match e {
        Error::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _) => {
            CaError::verify(format!("PKCS#11 key {}: the token refused the PIN (wrong PIN)", uri.display()))
        }
        Error::Pkcs11(RvError::PinLocked, _) => {
            CaError::verify(format!("PKCS#11 key {}: the token's user PIN is locked", uri.display()))
        }
        Error::Pkcs11(RvError::MechanismInvalid | RvError::MechanismParamInvalid | RvError::CurveNotSupported, _) => {
            CaError::param(message)
        }
        _ => CaError::resource(message),
    }
}

/// Faults after which a new session may succeed: the session, the login or
/// the token went away, or the library had a passing failure.
fn reconnectable(e: &Error) -> bool {
    matches!(
        e,
        Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid
                | RvError::GeneralError
                | RvError::FunctionFailed,
            _
        )
    )
}

/// DER of a named curve's OID: CKA_EC_PARAMS.
fn ec_params(curve: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(curve.len() + 2);
    der::oid(&mut out, curve);
    out
}

fn no_token(uri: &KeyUri) -> CaError {
    CaError::config(format!("PKCS#11 key {}: no token matches it", uri.display()))
}

/// The slot holding the one token `uri` matches; None when none does.
fn find_slot_once(module: &Pkcs11, uri: &KeyUri) -> CaResult<Option<Slot>> {
    let slots = module.get_slots_with_token().map_err(|e| fault(uri, "listing the tokens", &e))?;
    let m = &uri.token;
    let mut found = Vec::new();
    for slot in slots {
        if m.slot_id.is_some_and(|id| id != slot.id()) {
            continue;
        }
        let Ok(info) = module.get_token_info(slot) else { continue };
        let same = |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| w.as_str() == have.trim_end());
        if same(&m.token, info.label())
            && same(&m.manufacturer, info.manufacturer_id())
            && same(&m.model, info.model())
            && same(&m.serial, info.serial_number())
        {
            found.push(slot);
        }
    }
    match found.as_slice() {
        [slot] => Ok(Some(*slot)),
        [] => Ok(None),
        _ => Err(CaError::config(format!(
            "PKCS#11 key {}: {} tokens match it; name one with token=, serial= or slot-id=",
            uri.display(),
            found.len()
        ))),
    }
}

/// A session on the key's token, logged in as the user.
fn session(module: &Pkcs11, uri: &KeyUri, read_write: bool) -> CaResult<Session> {
    try_session(module, uri, read_write).map_err(|fault| fault.error)
}

/// Why no session was had, and whether a later attempt may see otherwise.
struct SessionFault {
    error: CaError,
    passing: bool,
}

impl From<CaError> for SessionFault {
    fn from(error: CaError) -> SessionFault {
        SessionFault { error, passing: false }
    }
}

/// Faults a token shows while another process rewrites its state: SoftHSM2
/// reading a half-written token file answers these. A wrong or locked PIN is
/// never one of them (trying it again would count against the PIN).
fn passing(e: &Error) -> bool {
    matches!(
        e,
        Error::Pkcs11(
            RvError::UserPinNotInitialized
                | RvError::GeneralError
                | RvError::FunctionFailed
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized,
            _
        )
    )
}

/// As [`session`], saying whether the fault may pass.
fn try_session(module: &Pkcs11, uri: &KeyUri, read_write: bool) -> Result<Session, SessionFault> {
    let Some(pin) = uri.pin() else {
        return Err(CaError::config(format!(
            "PKCS#11 key {}: no PIN; give pin-source=file:/path (or pin-value=) in the URI, or :password",
            uri.display()
        ))
        .into());
    };
    let Some(slot) = find_slot_once(module, uri)? else {
        return Err(SessionFault { error: no_token(uri), passing: true });
    };
    let token_fault = |what: &str, e: &Error| SessionFault { error: fault(uri, what, e), passing: passing(e) };
    let session = if read_write { module.open_rw_session(slot) } else { module.open_ro_session(slot) }
        .map_err(|e| token_fault("opening a session", &e))?;
    let login = |session: &Session| session.login_with_raw(UserType::User, &RawAuthPin::new(Box::new(pin.as_bytes().to_vec())));
    let wrong_pin = || CaError::verify(format!("PKCS#11 key {}: the token refused the PIN (wrong PIN)", uri.display()));
    match login(&session) {
        Ok(()) => {}
        // Login is per token and process: another session of ours holds it, and
        // the token did not check this PIN. Check it against the one that logged in.
        Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => match module::same_login(&uri.module_path, slot.id(), pin.as_bytes()) {
            Some(true) => return Ok(session),
            Some(false) => return Err(wrong_pin().into()),
            // Logged in by nobody we know: log out and let the token check this PIN.
            None => {
                session.logout().map_err(|e| token_fault("logging out", &e))?;
                login(&session).map_err(|e| token_fault("logging in", &e))?;
            }
        },
        Err(e) => return Err(token_fault("logging in", &e)),
    }
    module::remember_login(&uri.module_path, slot.id(), pin.as_bytes());
    Ok(session)
}

/// The objects of `class` that `uri` names (by label and/or id).
fn find(session: &Session, uri: &KeyUri, class: Option<ObjectClass>) -> CaResult<Vec<ObjectHandle>> {
    let mut template = Vec::with_capacity(3);
    template.extend(class.map(Attribute::Class));
    template.extend(uri.object.as_ref().map(|l| Attribute::Label(l.as_bytes().to_vec())));
    template.extend(uri.id.as_ref().map(|id| Attribute::Id(id.clone())));
    session.find_objects(&template).map_err(|e| fault(uri, "looking the key up", &e))
}

fn one(handles: Vec<ObjectHandle>, uri: &KeyUri, what: &str) -> CaResult<ObjectHandle> {
    match handles.as_slice() {
        [h] => Ok(*h),
        [] => Err(CaError::config(format!("PKCS#11 key {}: the token holds no {what} of that name", uri.display()))),
        _ => Err(CaError::config(format!(
            "PKCS#11 key {}: {} {what}s match it; name one with object= and id=",
            uri.display(),
            handles.len()
        ))),
    }
}

fn attributes(session: &Session, uri: &KeyUri, object: ObjectHandle, types: &[AttributeType]) -> CaResult<Vec<Attribute>> {
    session.get_attributes(object, types).map_err(|e| fault(uri, "reading the key's attributes", &e))
}

/// An EC point from CKA_EC_POINT: a DER OCTET STRING around the point, as
/// PKCS#11 says, or the bare point, as some tokens return it.
fn ec_point(value: &[u8]) -> &[u8] {
    match der::parse_one(value, "EC point") {
        Ok(t) if t.tag == tag::OCTET_STRING => t.content,
        _ => value,
    }
}

/// The key's SubjectPublicKeyInfo, read from the token: RSA from the private
/// key's modulus and exponent, EC and EdDSA from the public key object.
fn public_key_der(session: &Session, uri: &KeyUri, private: ObjectHandle) -> CaResult<Vec<u8>> {
    let unusable = |what: &str| {
        CaError::param(format!(
            "PKCS#11 key {} is {what}; a CA key must be EC P-256/P-384/P-521, RSA (2048 bits or more) or Ed25519",
            uri.display()
        ))
    };
    let key_type = match attributes(session, uri, private, &[AttributeType::KeyType])?.first() {
        Some(Attribute::KeyType(t)) => *t,
        _ => return Err(unusable("a key of no stated type")),
    };
    if key_type == CkKeyType::RSA {
        let (mut n, mut e) = (None, None);
        for a in attributes(session, uri, private, &[AttributeType::Modulus, AttributeType::PublicExponent])? {
            match a {
                Attribute::Modulus(v) => n = Some(v),
                Attribute::PublicExponent(v) => e = Some(v),
                _ => {}
            }
        }
        let (Some(n), Some(e)) = (n, e) else { return Err(unusable("an RSA key without a readable modulus")) };
        let rsa = Rsa::from_public_components(
            BigNum::from_slice(&n).ssl("reading the modulus")?,
            BigNum::from_slice(&e).ssl("reading the exponent")?,
        )
        .ssl("reading the RSA key")?;
        if rsa.size() < 256 {
            return Err(unusable("an RSA key of fewer than 2048 bits"));
        }
        return PKey::from_rsa(rsa).ssl("reading the RSA key")?.public_key_to_der().ssl("encoding the public key");
    }
    if key_type != CkKeyType::EC && key_type != CkKeyType::EC_EDWARDS {
        return Err(unusable(&format!("a key of type {key_type}")));
    }
    let public = one(find(session, uri, Some(ObjectClass::PUBLIC_KEY))?, uri, "public key")?;
    let (mut params, mut point) = (None, None);
    for a in attributes(session, uri, public, &[AttributeType::EcParams, AttributeType::EcPoint])? {
        match a {
            Attribute::EcParams(v) => params = Some(v),
            Attribute::EcPoint(v) => point = Some(v),
            _ => {}
        }
    }
    let (Some(params), Some(point)) = (params, point) else { return Err(unusable("a key without its public point")) };
    let curve = der::parse_one(&params, "EC parameters")
        .ok()
        .filter(|t| t.tag == tag::OID)
        .map(|t| t.content)
        .ok_or_else(|| unusable("on curve parameters given by name or explicitly, not by OID"))?;
    let mut spki = Vec::with_capacity(point.len() + 32);
    der::sequence(&mut spki, |o| {
        der::sequence(o, |o| {
            if key_type == CkKeyType::EC_EDWARDS {
                der::oid(o, curve);
            } else {
                der::oid(o, oid::EC_PUBLIC_KEY);
                der::oid(o, curve);
            }
        });
        der::bit_string(o, ec_point(&point));
    });
    Ok(spki)
}

impl TokenSigner {
    /// The existing key `uri` names.
    pub fn open(uri: &KeyUri) -> CaResult<TokenSigner> {
        let (mut module, mut generation) = module::load(&uri.module_path)?;
        // SoftHSM2 rewrites its token file at every login: a library starting
        // meanwhile can skip the token (it cannot lock it) or read the file
        // half-written (no user PIN, a general error). Look again, after
        // restarting the library, for about three seconds before giving up.
        let mut pauses = [50, 100, 200, 400, 800, 1500].into_iter();
        let session = loop {
            match try_session(&module, uri, false) {
                Ok(session) => break session,
                Err(fault) => match pauses.next() {
                    Some(pause_ms) if fault.passing => {
                        std::thread::sleep(std::time::Duration::from_millis(pause_ms));
                        module::restart(&uri.module_path, generation)?;
                        (module, generation) = module::load(&uri.module_path)?;
                    }
                    _ => return Err(fault.error),
                },
            }
        };
        let private = one(find(&session, uri, Some(ObjectClass::PRIVATE_KEY))?, uri, "private key")?;
        if let Some(Attribute::Sign(false)) = attributes(&session, uri, private, &[AttributeType::Sign])?.first() {
            return Err(CaError::param(format!("PKCS#11 key {} may not sign (CKA_SIGN is false)", uri.display())));
        }
        TokenSigner::with_session(module, generation, uri, session, private)
    }

    /// A new key pair of `key_type` generated inside the token, under the
    /// label (and id) `uri` names: private key sensitive and not
    /// extractable. Refused when the token already holds an object of that
    /// name.
    pub fn generate(uri: &KeyUri, key_type: KeyType) -> CaResult<TokenSigner> {
        if key_type.desc().sig.token == TokenSigning::None {
            return Err(CaError::param(format!(
                "PKCS#11 key {}: :key-type {} keys are not made in tokens here (PKCS#11 3.2 ML-DSA is not supported)",
                uri.display(),
                key_type.desc().names[0]
            )));
        }
        let Some(label) = uri.object.clone() else {
            return Err(CaError::param(format!(
                "PKCS#11 key {}: name the new key with object= (its label)",
                uri.display()
            )));
        };
        let (module, generation) = module::load(&uri.module_path)?;
        let session = session(&module, uri, true)?;
        let mut by_label = uri.clone();
        by_label.id = None;
        let mut by_id = uri.clone();
        by_id.object = None;
        if !find(&session, &by_label, None)?.is_empty() || (uri.id.is_some() && !find(&session, &by_id, None)?.is_empty()) {
            return Err(CaError::param(format!(
                "PKCS#11 key {}: the token already holds an object of that name; a new key needs a new \
                 object= (to use the existing key, pass its URI to ca/create)",
                uri.display()
            )));
        }
        let id = match &uri.id {
            Some(id) => id.clone(),
            None => {
                let mut id = vec![0u8; 16];
                openssl::rand::rand_bytes(&mut id).ssl("drawing the key id")?;
                id
            }
        };
        let label = label.into_bytes();
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            // A CA key signs and does nothing else (tokens default some of these on).
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::Derive(false),
            Attribute::Label(label.clone()),
            Attribute::Id(id.clone()),
        ];
        let private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
            Attribute::Label(label),
            Attribute::Id(id),
        ];
        // The token's generation mechanism, by the key type's kind of generation.
        let mechanism = match key_type.desc().generation {
            Generation::Ec { curve_oid, .. } => {
                public.push(Attribute::EcParams(ec_params(curve_oid)));
                Mechanism::EccKeyPairGen
            }
            Generation::Rsa { bits } => {
                public.push(Attribute::ModulusBits(u64::from(bits).into()));
                public.push(Attribute::PublicExponent(vec![1, 0, 1]));
                Mechanism::RsaPkcsKeyPairGen
            }
            Generation::Ed25519 => {
                public.push(Attribute::EcParams(ec_params(oid::ED25519)));
                Mechanism::EccEdwardsKeyPairGen
            }
            // Refused above (no token signing).
            Generation::MlDsa { .. } => return Err(CaError::param("ML-DSA keys are not made in tokens here")),
        };
        let (_, private) = session
            .generate_key_pair(&mechanism, &public, &private)
            .map_err(|e| fault(uri, "generating the key pair in the token", &e))?;
        // The token must have kept the key in: check rather than trust.
        let kept = attributes(&session, uri, private, &[AttributeType::Sensitive, AttributeType::Extractable])?;
        if !kept.iter().any(|a| matches!(a, Attribute::Sensitive(true))) || kept.iter().any(|a| matches!(a, Attribute::Extractable(true))) {
            return Err(CaError::config(format!(
                "PKCS#11 key {}: the token made the new private key readable (not sensitive, or extractable)",
                uri.display()
            )));
        }
        TokenSigner::with_session(module, generation, uri, session, private)
    }

    fn with_session(module: Pkcs11, generation: u64, uri: &KeyUri, session: Session, key: ObjectHandle) -> CaResult<TokenSigner> {
        let spki_der = public_key_der(&session, uri, key)?;
        let public = keys::public_key_from_spki(&spki_der)
            .map_err(|e| CaError::param(format!("PKCS#11 key {}: {}", uri.display(), e.message)))?;
        let alg = sig_alg_for(&public)
            .map_err(|e| CaError::param(format!("PKCS#11 key {}: {}", uri.display(), e.message)))?;
        let open = Mutex::new(Some(Open { session, key, generation }));
        Ok(TokenSigner { module, generation, uri: uri.clone(), alg, spki_der, public, open })
    }

    fn guard(&self) -> CaResult<MutexGuard<'_, Option<Open>>> {
        self.open.lock().map_err(|_| CaError::resource("a PKCS#11 session lock is poisoned"))
    }

    /// A session and the key's handle, opened again after a fault; when that
    /// fails too, once more after restarting the library (a token that went
    /// away and came back is found again only so).
    fn reconnect(&self) -> CaResult<Open> {
        let path = &self.uri.module_path;
        let generation = module::generation(path).unwrap_or(self.generation);
        match self.connect(generation) {
            Ok(open) => Ok(open),
            Err(_) => {
                let again = module::restart(path, generation)
                    .and_then(|()| self.connect(module::generation(path).unwrap_or(generation)));
                // A key that was there and is not now: the token is unavailable (a
                // wrong PIN stays what it is).
                again.map_err(|e| match e.category {
                    crate::core::error::Category::Verify => e,
                    _ if e.message.contains(self.uri.display()) => {
                        CaError::resource(format!("{} (the token is unavailable)", e.message))
                    }
                    _ => CaError::resource(format!(
                        "PKCS#11 key {}: the token is unavailable: {}",
                        self.uri.display(),
                        e.message
                    )),
                })
            }
        }
    }

    fn connect(&self, generation: u64) -> CaResult<Open> {
        let session = session(&self.module, &self.uri, false)?;
        let key = one(find(&session, &self.uri, Some(ObjectClass::PRIVATE_KEY))?, &self.uri, "private key")?;
        if public_key_der(&session, &self.uri, key)? != self.spki_der {
            return Err(CaError::verify(format!(
                "PKCS#11 key {}: the token now holds another key under that name",
                self.uri.display()
            )));
        }
        Ok(Open { session, key, generation })
    }

    /// The token's signature over `data`, as X.509 carries it.
    fn token_sign(&self, open: &Open, data: &[u8]) -> Result<Vec<u8>, Error> {
        match (self.alg.token, self.alg.digest()) {
            (TokenSigning::EcdsaPrehashed, Some(d)) => {
                let hashed = match d {
                    Digest::Sha256 => digest::sha256(data).to_vec(),
                    Digest::Sha384 => digest::sha384(data).to_vec(),
                    Digest::Sha512 => digest::sha512(data).to_vec(),
                };
                // CKM_ECDSA gives r ‖ s, each as long as the order; X.509 wants Ecdsa-Sig-Value.
                let raw = open.session.sign(&Mechanism::Ecdsa, open.key, &hashed)?;
                let (r, s) = raw.split_at(raw.len() / 2);
                let mut out = Vec::with_capacity(raw.len() + 9);
                der::sequence(&mut out, |o| {
                    der::uint(o, r);
                    der::uint(o, s);
                });
                Ok(out)
            }
            (TokenSigning::Sha256RsaPkcs, _) => open.session.sign(&Mechanism::Sha256RsaPkcs, open.key, data),
            (TokenSigning::EddsaPure, _) => {
                open.session.sign(&Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)), open.key, data)
            }
            // A key a token cannot sign with is refused when it is opened (TokenSigning::None).
            _ => Err(Error::NotSupported),
        }
    }
}

impl Signer for TokenSigner {
    fn algorithm(&self) -> SigAlg {
        self.alg
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    fn sign(&self, data: &[u8]) -> CaResult<Vec<u8>> {
        let mut open = self.guard()?;
        // Twice at most: once more on a new session after a fault that a new one may cure.
        for retry in [true, false] {
            let path = &self.uri.module_path;
            let current = match open.take() {
                Some(o) if module::generation(path) == Some(o.generation) => o,
                stale => {
                    stale.into_iter().for_each(|o| o.close(path));
                    self.reconnect()?
                }
            };
            match self.token_sign(&current, data) {
                Ok(signature) => {
                    *open = Some(current);
                    if !self.alg.verify(&self.public, data, &signature)? {
                        return Err(CaError::verify(format!(
                            "PKCS#11 key {}: the token's signature does not verify; nothing was signed",
                            self.uri.display()
                        )));
                    }
                    return Ok(signature);
                }
                Err(e) if retry && reconnectable(&e) => current.close(path),
                Err(e) => {
                    current.close(path);
                    return Err(fault(&self.uri, "signing", &e));
                }
            }
        }
        Err(CaError::resource(format!("PKCS#11 key {}: signing failed", self.uri.display())))
    }

    fn private_key(&self) -> Option<&PKey<Private>> {
        None
    }

    fn location(&self) -> Option<&str> {
        Some(self.uri.display())
    }
}

impl Drop for TokenSigner {
    fn drop(&mut self) {
        if let Some(open) = self.open.get_mut().ok().and_then(Option::take) {
            open.close(&self.uri.module_path);
        }
    }
}

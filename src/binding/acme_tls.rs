//! tls-alpn-01's handshake in Janet: the abstract type `ca/AcmeTls` (one
//! validation's TLS client over memory, core::acme::tls_alpn) and the two
//! calls `jsec/acme-server` drives it with while it moves the bytes itself.

use std::ffi::c_void;

use janetrs::lowlevel as raw;
use janetrs::{Janet, JanetString};

use crate::core::acme::tls_alpn::{Step, TlsAlpnClient};
use crate::core::error::{CaError, CaResult};

use super::abstract_box::{self as ab, AbstractType};
use super::edge::{arity, registry};
use super::values::{self as v, type_name};

registry! {
    "ca/acme-tls-client" => acme_tls_client, ACME_TLS_CLIENT_DOC;
    "ca/acme-tls-step" => acme_tls_step, ACME_TLS_STEP_DOC;
}

pub static TLS_TYPE: AbstractType =
    ab::descriptor(c"ca/AcmeTls", ab::gc::<TlsAlpnClient>, tls_get, tls_next, tls_tostring);

/// No methods: the slot stays empty, so lookups find nothing.
static METHODS: ab::MethodSlot = ab::MethodSlot::new();

unsafe extern "C" fn tls_get(_data: *mut c_void, key: raw::Janet, out: *mut raw::Janet) -> i32 {
    // SAFETY: the slot is empty (no table), so nothing is read through it.
    unsafe { ab::method(&METHODS, key, out) }
}

unsafe extern "C" fn tls_next(_data: *mut c_void, key: raw::Janet) -> raw::Janet {
    // SAFETY: as tls_get.
    unsafe { ab::next_method(&METHODS, key) }
}

unsafe extern "C" fn tls_tostring(_data: *mut c_void, buffer: *mut raw::JanetBuffer) {
    // SAFETY: the buffer Janet passed.
    unsafe { ab::push_text(buffer, "<ca/AcmeTls>") };
}

pub const ACME_TLS_CLIENT_DOC: &str = "(ca/acme-tls-client server-name)\n\n\
A TLS client for one tls-alpn-01 validation (RFC 8737), over no socket: it offers only ALPN\n\
\"acme-tls/1\", sends `server-name` (the identifier) as SNI and verifies no chain (the challenge\n\
certificate proves control by the digest inside it, which ca/acme-validated judges). The caller\n\
connects and moves the bytes with ca/acme-tls-step.";

pub fn acme_tls_client(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/acme-tls-client")?;
    let sni = v::text(&args[0], "ca/acme-tls-client server-name")?;
    let client = TlsAlpnClient::start(&sni)?;
    Ok(ab::wrap(&TLS_TYPE, client))
}

pub const ACME_TLS_STEP_DOC: &str = "(ca/acme-tls-step client bytes)\n\n\
Feeds `client` (a ca/acme-tls-client) the bytes read from the server (nil or empty on the first\n\
call). Returns {:send bytes} while the handshake goes on (write them, read, call again), then\n\
{:send bytes :alpn protocol :certificate der}: the server's chosen protocol and certificate, which\n\
ca/acme-validated takes as `seen`. A failed handshake is a [CA:RESOURCE] error.";

pub fn acme_tls_step(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 2, "ca/acme-tls-step")?;
    let input = match args[1].is_nil() {
        true => &[][..],
        false => v::bytes(&args[1], "ca/acme-tls-step bytes")?,
    };
    let client = match ab::borrow::<TlsAlpnClient>(&TLS_TYPE, &args[0]) {
        None => return Err(CaError::param(format!("ca/acme-tls-step client must be a ca/AcmeTls, got {}", type_name(&args[0])))),
        Some(None) => return Err(CaError::config("ca/acme-tls-step client is a freed ca/AcmeTls")),
        Some(Some(c)) => c,
    };
    Ok(match client.step(input)? {
        Step::Continue(send) => v::table(&[("send", v::jbuffer(&send))]),
        Step::Done { send, alpn, certificate } => {
            let alpn = alpn.map_or_else(Janet::nil, |a| v::jstring(&a));
            v::table(&[("send", v::jbuffer(&send)), ("alpn", alpn), ("certificate", Janet::string(JanetString::new(&certificate[..])))])
        }
    })
}

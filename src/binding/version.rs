//! `ca/version`: which jsec-ca, OpenSSL and Janet this module is.

use janetrs::{lowlevel as raw, Janet};

use crate::core::error::CaResult;

use super::edge::{arity, registry};
use super::values as v;

registry! {
    "ca/version" => version, VERSION_DOC;
}

pub const VERSION_DOC: &str = "(ca/version)\n\n\
Returns a table of what this module is made of: {:jsec-ca \"0.1.0\" :openssl \"OpenSSL 3.5.5 27 Jan 2026\"\n\
:janet \"1.41.2\"}. :openssl is the text of the OpenSSL library the module runs on (built from source and\n\
linked in by default; the system's with the system-openssl build, see README); :janet is the Janet whose\n\
headers the module was built against (Janet loads it only into that minor version). A new table each call.";

pub fn version(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 0, 0, "ca/version")?;
    let janet = format!("{}.{}.{}", raw::JANET_VERSION_MAJOR, raw::JANET_VERSION_MINOR, raw::JANET_VERSION_PATCH);
    Ok(v::table(&[
        ("jsec-ca", v::jstring(env!("CARGO_PKG_VERSION"))),
        ("openssl", v::jstring(openssl::version::version())),
        ("janet", v::jstring(&janet)),
    ]))
}

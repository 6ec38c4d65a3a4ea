//! PKCS#12 export.

use janetrs::Janet;

use crate::core::error::CaResult;
use crate::core::pkcs12::{self, Pkcs12Options};

use super::edge::{arity, registry};
use super::values::{self as v, Opts};

registry! {
    "ca/pkcs12" => pkcs12, PKCS12_DOC;
}

pub const PKCS12_DOC: &str = "(ca/pkcs12 cert-pem key-pem &opt opts)\n\n\
Returns a PKCS#12 (PFX) file as a DER buffer holding the certificate (PEM or DER), its private key (PEM or\n\
DER, PKCS#8 or traditional) and an optional chain, the form browsers, Java keystores, Windows and many TLS\n\
servers import. By default the key and the certificates are encrypted with AES-256-CBC under PBKDF2\n\
(HMAC-SHA256, 600,000 iterations) and the file carries a SHA-256 MAC: the algorithms of\n\
`openssl pkcs12 -export` in OpenSSL 3, with far more iterations than its 2048. A key that does not match the certificate is refused.\n\n\
Options:\n\
* :password - required (string or buffer, UTF-8, no NUL); \"\" makes a file anyone can open, so it must be\n  \
given explicitly\n\
* :chain - list of certificate PEMs (or DER) stored after the certificate, e.g. [intermediate root]; at most 32\n\
* :name - friendlyName of the certificate and key (the alias Java and Windows show)\n\
* :legacy - true encrypts with PBE-SHA1-3DES and uses a SHA-1 MAC, for Java before 8u301 and Windows before\n  \
Windows 10 1709 and Server 2019; default false\n\
* :iterations - key derivation and MAC iterations, 1000 to 10000000; default 600000 (OWASP's guidance for\n  \
PBKDF2-HMAC-SHA256), 2048 with :legacy\n\
* :key-password - the password of an encrypted key-pem\n\
Write it with (spit \"leaf.p12\" (ca/pkcs12 cert key {:password pw :chain [(ca/get-cert ca)]})).";

pub fn pkcs12(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 3, "ca/pkcs12")?;
    let cert = v::bytes(&args[0], "ca/pkcs12 cert-pem")?;
    let key = v::bytes(&args[1], "ca/pkcs12 key-pem")?;
    let (mut opts, chain) = Opts::parse(args.get(2), "ca/pkcs12", |o| {
        let d = Pkcs12Options::default();
        let chain = o.opt("chain");
        let opts = Pkcs12Options {
            password: o.with("password", v::secret)?,
            key_password: o.with("key-password", v::secret)?,
            chain: d.chain,
            name: o.with("name", v::text)?,
            legacy: o.with("legacy", v::boolean)?.unwrap_or(d.legacy),
            iterations: o
                .with("iterations", |x, w| v::int_in(x, w, pkcs12::MIN_ITERATIONS.into(), pkcs12::MAX_ITERATIONS.into()))?
                .map(|n| n as u32),
        };
        Ok((opts, chain.read(v::list)?))
    })?;
    // The chain's bytes borrow its items: read here, where they live.
    let items = chain.unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        opts.chain.push(v::bytes(item, &format!(":chain item {}", i + 1))?);
    }
    Ok(v::jbuffer(&pkcs12::build(cert, key, &opts)?))
}

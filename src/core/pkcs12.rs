//! PKCS#12 (PFX) export: a certificate, its private key and an optional chain
//! in one password-protected file, as browsers, Java, Windows and most TLS
//! servers import them.
//!
//! By default both the key and the certificates are encrypted with PBES2
//! (PBKDF2 with HMAC-SHA256, AES-256-CBC) under a SHA-256 MAC: what OpenSSL 3's
//! `openssl pkcs12 -export` writes. `legacy` writes PBE-SHA1-3DES for both
//! and a SHA-1 MAC, which old Java (before 8u301) and Windows (before Windows
//! 10 1709 and Server 2019) read. (RC2, OpenSSL's old default for
//! certificates, needs OpenSSL 3's legacy provider; 3DES does not.)

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::stack::Stack;
use openssl::x509::X509;

use super::der;
use super::error::{CaError, CaResult, SslContext};
use super::error::shown;
use super::keys;
use super::pem;
use super::secret::Secret;

/// Each certificate and the key: far above any real one (as `ca/create`).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;
/// Chain certificates: real chains hold two or three.
pub const MAX_CHAIN: usize = 32;
/// Friendly name, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Password, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// PBKDF2-HMAC-SHA256 iterations (and the MAC's) by default: OWASP's
/// current guidance for PBKDF2-HMAC-SHA256 (OpenSSL's own default, 2048, is
/// from another decade).
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// With `legacy`: PBE-SHA1-3DES readers are the old ones this mode is for,
/// and OpenSSL's old default is what they were tested with.
pub const LEGACY_ITERATIONS: u32 = 2048;
/// The range `iterations` may take.
pub const MIN_ITERATIONS: u32 = 1000;
pub const MAX_ITERATIONS: u32 = 10_000_000;

#[derive(Debug, Default)]
pub struct Pkcs12Options<'a> {
    /// The file's password; required (`Some`), may be empty only when given so.
    pub password: Option<Secret>,
    /// The password of an encrypted input key.
    pub key_password: Option<Secret>,
    /// Chain certificates (PEM or DER each), stored after the certificate.
    pub chain: Vec<&'a [u8]>,
    /// friendlyName of the certificate and the key.
    pub name: Option<String>,
    /// PBE-SHA1-3DES and a SHA-1 MAC instead of AES-256/PBKDF2 and SHA-256.
    pub legacy: bool,
    /// Key derivation and MAC iterations; None: [`DEFAULT_ITERATIONS`]
    /// ([`LEGACY_ITERATIONS`] with `legacy`).
    pub iterations: Option<u32>,
}

/// One certificate, PEM or DER, exactly one DER structure. Errors about a chain
/// entry start with `within` (":chain item 2"); the certificate's need no prefix.
fn certificate(data: &[u8], within: Option<&str>) -> CaResult<X509> {
    let label = within.unwrap_or("the certificate");
    let prefixed = |e: CaError| match within {
        Some(w) => CaError::new(e.category, format!("{w}: {}", e.message)),
        None => e,
    };
    if data.len() > MAX_INPUT_BYTES {
        return Err(CaError::resource(format!("{label} is larger than the {MAX_INPUT_BYTES}-byte limit")));
    }
    let der = pem::certificate_der(data).map_err(prefixed)?;
    der::parse_one(&der, "certificate").map_err(prefixed)?;
    X509::from_der(&der).map_err(|_| CaError::parse(format!("{label} cannot be parsed as a certificate")))
}

/// The password as OpenSSL takes it: UTF-8 text without NUL.
fn password_text(password: &Secret) -> CaResult<&str> {
    let bytes = password.as_bytes();
    if bytes.len() > MAX_PASSWORD_BYTES {
        return Err(CaError::param(format!(":password is longer than {MAX_PASSWORD_BYTES} bytes")));
    }
    let text = password.as_str().ok_or_else(|| CaError::param(":password must be valid UTF-8 text"))?;
    if text.contains('\0') {
        return Err(CaError::param(":password must not contain NUL characters"));
    }
    Ok(text)
}

fn check_name(name: &str) -> CaResult<()> {
    if name.is_empty() {
        return Err(CaError::param(":name must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(CaError::param(format!(":name is longer than {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(CaError::param(format!(":name must not contain control characters, got {}", shown(name))));
    }
    Ok(())
}

/// The DER of a PKCS#12 file holding `cert`, its private key `key` (PEM or DER;
/// PKCS#8 or traditional) and `opts.chain`.
pub fn build(cert: &[u8], key: &[u8], opts: &Pkcs12Options<'_>) -> CaResult<Vec<u8>> {
    let Some(password) = opts.password.as_ref() else {
        return Err(CaError::param(
            ":password is required: a PKCS#12 file without one is readable by anyone (pass :password \"\" only if \
             that is what you want)",
        ));
    };
    let password = password_text(password)?;
    if let Some(name) = &opts.name {
        check_name(name)?;
    }
    if opts.chain.len() > MAX_CHAIN {
        return Err(CaError::resource(format!(":chain holds {} certificates; the limit is {MAX_CHAIN}", opts.chain.len())));
    }
    let x509 = certificate(cert, None)?;
    if key.len() > MAX_INPUT_BYTES {
        return Err(CaError::resource(format!("the private key is larger than the {MAX_INPUT_BYTES}-byte limit")));
    }
    // load_private_key's messages name ca/create's :password; the key's password is :key-password here.
    let pkey = keys::load_private_key(key, opts.key_password.as_ref().map(Secret::as_bytes))
        .map_err(|e| CaError::new(e.category, e.message.replace(":password", ":key-password")))?;
    let cert_key = x509.public_key().ssl("reading the certificate's public key")?;
    if !cert_key.public_eq(&pkey) {
        return Err(CaError::verify("the private key does not match the certificate's public key"));
    }
    let mut chain = Stack::new().ssl("allocating the chain")?;
    for (i, data) in opts.chain.iter().enumerate() {
        chain.push(certificate(data, Some(&format!(":chain item {}", i + 1)))?).ssl("adding a chain certificate")?;
    }
    let iterations = opts.iterations.unwrap_or(if opts.legacy { LEGACY_ITERATIONS } else { DEFAULT_ITERATIONS });
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
        return Err(CaError::param(format!(
            ":iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}, got {iterations}"
        )));
    }
    let (cipher, mac) = if opts.legacy {
        (Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC, MessageDigest::sha1())
    } else {
        (Nid::AES_256_CBC, MessageDigest::sha256())
    };
    let mut builder = Pkcs12::builder();
    builder
        .pkey(&pkey)
        .cert(&x509)
        .key_algorithm(cipher)
        .cert_algorithm(cipher)
        .key_iter(iterations)
        .mac_iter(iterations)
        .mac_md(mac);
    if !opts.chain.is_empty() {
        builder.ca(chain);
    }
    if let Some(name) = &opts.name {
        builder.name(name);
    }
    let p12 = builder.build2(password).ssl("building the PKCS#12 file")?;
    p12.to_der().ssl("encoding the PKCS#12 file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::authority::Authority;
    use crate::core::options::{CaOptions, IssueOptions};
    use crate::core::error::Category;
    use crate::core::algorithm::KeyType;
    use crate::core::names::{Attr, Subject};

    fn subject(cn: &str) -> Subject {
        Subject { attrs: vec![(Attr::CommonName, cn.to_string())] }
    }

    /// Root → intermediate → leaf: (leaf cert PEM, leaf key PEM, [intermediate, root] PEMs).
    fn chain() -> (String, Secret, Vec<String>) {
        let mut root = Authority::generate_root(CaOptions { subject: subject("P12 Root"), ..CaOptions::root() }).unwrap();
        let mut inter = root
            .generate_intermediate(CaOptions { subject: subject("P12 Intermediate"), ..CaOptions::intermediate() })
            .unwrap();
        let leaf = inter.issue(IssueOptions { subject: subject("p12.example"), ..IssueOptions::default() }).unwrap();
        (leaf.cert_pem, leaf.key_pem, vec![inter.cert_pem(), root.cert_pem()])
    }

    fn opts(password: &str) -> Pkcs12Options<'static> {
        Pkcs12Options { password: Some(Secret::new(password.as_bytes().to_vec())), ..Pkcs12Options::default() }
    }

    #[test]
    fn round_trip_modern_and_legacy() {
        let (cert, key, ca) = chain();
        for legacy in [false, true] {
            let o = Pkcs12Options {
                chain: ca.iter().map(|c| c.as_bytes()).collect(),
                name: Some("p12 leaf é".into()),
                legacy,
                ..opts("s3cret")
            };
            let der = build(cert.as_bytes(), key.as_bytes(), &o).unwrap();
            let parsed = Pkcs12::from_der(&der).unwrap().parse2("s3cret").unwrap();
            let got = parsed.cert.unwrap();
            assert_eq!(got.to_der().unwrap(), pem::certificate_der(cert.as_bytes()).unwrap());
            assert!(got.public_key().unwrap().public_eq(&parsed.pkey.unwrap()));
            assert_eq!(got.alias(), Some("p12 leaf é".as_bytes()));
            let stack = parsed.ca.unwrap();
            assert_eq!(stack.len(), 2);
            assert!(Pkcs12::from_der(&der).unwrap().parse2("wrong").is_err());
        }
    }

    #[test]
    fn der_inputs_traditional_keys_and_empty_password() {
        let (cert, key, _) = chain();
        let x = X509::from_pem(cert.as_bytes()).unwrap();
        let k = keys::load_private_key(key.as_bytes(), None).unwrap();
        let traditional = k.ec_key().unwrap().private_key_to_pem().unwrap();
        assert!(traditional.starts_with(b"-----BEGIN EC PRIVATE KEY"));
        let der = build(&x.to_der().unwrap(), &k.private_key_to_der().unwrap(), &opts("")).unwrap();
        let parsed = Pkcs12::from_der(&der).unwrap().parse2("").unwrap();
        assert!(parsed.pkey.unwrap().public_eq(&k));
        assert!(parsed.ca.is_none_or(|c| c.is_empty()));
        let der = build(cert.as_bytes(), &traditional, &opts("pw")).unwrap();
        assert!(Pkcs12::from_der(&der).unwrap().parse2("pw").unwrap().pkey.unwrap().public_eq(&k));
        // An encrypted key needs :key-password.
        let enc = keys::encrypted_private_key_pem(&k, b"kpw").unwrap();
        let err = build(cert.as_bytes(), &enc, &opts("pw")).unwrap_err();
        assert!(err.message.contains(":key-password"), "{err}");
        let o = Pkcs12Options { key_password: Some(Secret::new(b"kpw".to_vec())), ..opts("pw") };
        assert!(build(cert.as_bytes(), &enc, &o).is_ok());
    }

    #[test]
    fn refusals() {
        let (cert, key, ca) = chain();
        let cat = |r: CaResult<Vec<u8>>| r.unwrap_err().category;
        let none = Pkcs12Options::default();
        let err = build(cert.as_bytes(), key.as_bytes(), &none).unwrap_err();
        assert_eq!(err.category, Category::Param);
        assert!(err.message.starts_with(":password is required"));
        let other = KeyType::EcP256.generate().unwrap();
        let other_pem = keys::private_key_pem(&other).unwrap();
        assert_eq!(cat(build(cert.as_bytes(), other_pem.as_bytes(), &opts("pw"))), Category::Verify);
        assert_eq!(cat(build(b"garbage", key.as_bytes(), &opts("pw"))), Category::Parse);
        assert_eq!(cat(build(cert.as_bytes(), b"garbage", &opts("pw"))), Category::Parse);
        let bad_chain = Pkcs12Options { chain: vec![ca[0].as_bytes(), key.as_bytes()], ..opts("pw") };
        let err = build(cert.as_bytes(), key.as_bytes(), &bad_chain).unwrap_err();
        assert_eq!(err.category, Category::Parse);
        assert!(err.message.starts_with(":chain item 2:"), "{err}");
        let long_chain = Pkcs12Options { chain: vec![ca[0].as_bytes(); MAX_CHAIN + 1], ..opts("pw") };
        assert_eq!(cat(build(cert.as_bytes(), key.as_bytes(), &long_chain)), Category::Resource);
        let big = vec![b'A'; MAX_INPUT_BYTES + 1];
        assert_eq!(cat(build(&big, key.as_bytes(), &opts("pw"))), Category::Resource);
        assert_eq!(cat(build(cert.as_bytes(), &big, &opts("pw"))), Category::Resource);
        assert_eq!(cat(build(cert.as_bytes(), key.as_bytes(), &opts("a\0b"))), Category::Param);
        let non_utf8 = Pkcs12Options { password: Some(Secret::new(vec![0xff, 0xfe])), ..Pkcs12Options::default() };
        assert_eq!(cat(build(cert.as_bytes(), key.as_bytes(), &non_utf8)), Category::Param);
        for name in ["", "a\0b", "line\nbreak"] {
            let o = Pkcs12Options { name: Some(name.into()), ..opts("pw") };
            assert_eq!(cat(build(cert.as_bytes(), key.as_bytes(), &o)), Category::Param, "{name:?}");
        }
        // Trailing bytes after the certificate's DER.
        let mut der = pem::certificate_der(cert.as_bytes()).unwrap();
        der.push(0);
        assert_eq!(cat(build(&der, key.as_bytes(), &opts("pw"))), Category::Parse);
    }
}

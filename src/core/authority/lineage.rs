//! A CA from a certificate and key, or from a store; and what a CA may
//! certify given its own certificate and the CAs above and below it.


use openssl::x509::X509;

use super::super::cert_info::CertInfo;
use super::super::error::{CaError, CaResult, SslContext};
use super::super::general_names::GeneralName;
use super::super::keys;
use super::super::names::{self, Subject};
use super::super::pem;
use super::super::secret::Secret;
use super::super::signer::{self, pkcs11, KeySigner, Signer};
use super::super::store::{CaRecord, Engine};
use super::super::time;
use super::super::error::shown;
use super::super::usage::ku;

use super::super::options::{LoadOptions, RestoreState};

use super::*;

impl Authority {
    /// `ca/create`: a CA from an existing certificate and its private key.
    pub fn load(cert: &[u8], key: &[u8], opts: LoadOptions) -> CaResult<Authority> {
        if cert.len() > MAX_PEM_BYTES || key.len() > MAX_PEM_BYTES {
            return Err(CaError::resource(format!("certificate and key must each be under {MAX_PEM_BYTES} bytes")));
        }
        let cert_der = pem::certificate_der(cert)?;
        let x509 = X509::from_der(&cert_der).map_err(|_| CaError::parse("the certificate cannot be parsed"))?;
        let cert_key = x509.public_key().ssl("reading the certificate's public key")?;
        let signer: Box<dyn Signer> = match pkcs11::KeyUri::recognize(key) {
            Some(uri) => {
                let uri = pkcs11::KeyUri::parse(uri, opts.password.as_ref())?;
                let token_key = pkcs11::TokenSigner::open(&uri)?;
                if !signer::signs_for(&token_key, &cert_key)? {
                    return Err(CaError::verify(format!(
                        "the token key {} does not match the certificate's public key",
                        uri.display()
                    )));
                }
                Box::new(token_key)
            }
            None => {
                let key = keys::load_private_key(key, opts.password.as_ref().map(Secret::as_bytes))?;
                if !signer::private_matches(&key, &cert_key)? {
                    return Err(CaError::verify("the private key does not match the certificate's public key"));
                }
                Box::new(KeySigner::new(key)?)
            }
        };
        let info = CertInfo::parse(&cert_der)?;
        match info.basic_constraints()? {
            Some((true, _)) => {}
            _ => return Err(CaError::param("the certificate is not a CA certificate (basicConstraints CA:TRUE is missing)")),
        }
        if let Some(bits) = info.key_usage_bits()? {
            if bits & ku::KEY_CERT_SIGN == 0 {
                return Err(CaError::param("the certificate's key usage does not allow keyCertSign"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, der) in opts.restore.issued.iter().enumerate() {
            let what = format!(":issued item {}", i + 1);
            let issued = CertInfo::parse(der).map_err(|e| CaError::parse(format!("{what}: {}", e.message)))?;
            if issued.issuer_der != info.subject_der || !keys::verify_signed(der, &cert_key)? {
                return Err(CaError::param(format!("{what} was not issued by this CA")));
            }
            if !seen.insert(issued.serial) {
                return Err(CaError::param(format!("{what} repeats serial {}", issued.serial.to_hex())));
            }
        }
        Authority::from_parts(signer, cert_der, opts.serial, opts.track_issued, opts.pointers, opts.restore, true)
    }

    /// Saves this CA into a store under `name` (its key encrypted with
    /// `password` when given) and moves its state there: from now on every
    /// change this CA makes is committed to the store.
    pub fn save_to(&mut self, store: &mut dyn Engine, name: &str, password: Option<&[u8]>) -> CaResult<()> {
        // A token key is stored as its URI (no PIN), never as bytes.
        let (key_pem, key_encrypted) = match self.signer.location() {
            Some(uri) => (Secret::new(uri.as_bytes().to_vec()), false),
            None => (self.key_pem(password)?, password.is_some()),
        };
        let record = CaRecord { cert_der: self.cert_der.clone(), key_pem, key_encrypted, pointers: self.pointers.clone() };
        let snapshot = self.state.snapshot()?;
        self.state = store.save(name, &record, snapshot)?;
        Ok(())
    }

    /// The CA saved in `store` under `name`, writing through to it.
    pub fn load_from(store: &mut dyn Engine, name: &str, password: Option<&[u8]>) -> CaResult<Authority> {
        let (record, state) = store.load(name)?;
        if record.key_encrypted && password.is_none() {
            return Err(CaError::param(format!(
                "the key of CA {name:?} in store {} is encrypted; pass :password",
                store.location()
            )));
        }
        let signer: Box<dyn Signer> = match pkcs11::KeyUri::recognize(record.key_pem.as_bytes()) {
            // The PIN: the URI's pin-source, or :password.
            Some(uri) => {
                let pin = password.map(|p| Secret::new(p.to_vec()));
                Box::new(pkcs11::TokenSigner::open(&pkcs11::KeyUri::parse(uri, pin.as_ref())?)?)
            }
            None => Box::new(KeySigner::new(keys::load_private_key(record.key_pem.as_bytes(), password)?)?),
        };
        let mut ca = Authority::from_parts(signer, record.cert_der, 1, true, record.pointers, RestoreState::default(), true)?;
        ca.state = state;
        Ok(ca)
    }

    /// A CA this CA certifies must not have this CA's name or an ancestor's:
    /// it would issue certificates with the same issuer name and serials.
    pub(super) fn check_new_ca_name(&self, subject_der: &[u8], what: &str) -> CaResult<()> {
        let name = names::comparable(subject_der);
        if self.lineage.contains(&name) {
            return Err(CaError::param(format!(
                "{what}: the subject {} is the subject of this CA or of a CA above it; a CA it certifies needs a \
                 name of its own, or both would issue certificates under one issuer name",
                shown(&names::display_name(subject_der))
            )));
        }
        if self.certified_ca_names.contains(&name) {
            return Err(CaError::param(format!(
                "{what}: this CA already certified a CA named {}; two CAs of one name would issue certificates \
                 under one issuer name (and the same serials)",
                shown(&names::display_name(subject_der))
            )));
        }
        Ok(())
    }

    /// A certificate must not outlive this CA's own: refuse, or end it at the
    /// CA's notAfter when the caller asked for that (`:truncate-to-issuer`).
    pub(super) fn fit_validity(&self, not_after: i64, truncate: bool, what: &str) -> CaResult<i64> {
        let limit = self.info.not_after;
        if not_after <= limit {
            return Ok(not_after);
        }
        if truncate {
            return Ok(limit);
        }
        Err(CaError::param(format!(
            "{what}: the certificate would end {}, after this CA's certificate (notAfter {}); ask for a shorter \
             validity or pass :truncate-to-issuer true to end it at the CA's notAfter",
            time::to_iso(not_after),
            time::to_iso(limit)
        )))
    }

    /// A CA certificate this CA signs must respect this CA's own pathlen:
    /// with pathlen 0 it signs no CA at all, else the child's pathlen is lower.
    pub(super) fn check_may_certify_ca(&self, child_path_len: Option<u32>, what: &str) -> CaResult<()> {
        let Some((_, Some(own))) = self.info.basic_constraints()? else { return Ok(()) };
        match child_path_len {
            _ if own == 0 => Err(CaError::config("this CA's certificate has pathlen 0: it cannot certify other CAs")),
            Some(n) if u64::from(n) < own => Ok(()),
            _ => Err(CaError::param(format!("{what} must be below this CA's pathlen {own}"))),
        }
    }

    pub(super) fn check_constraints(&self, subject: &Subject, san: &[GeneralName]) -> CaResult<()> {
        self.constraints.iter().try_for_each(|nc| super::super::constraints::check_names(nc, subject, san))
    }
}

//! The certificate authority: its key and certificate, serial counter, issued
//! certificates and revocations. One concept per file: `issue.rs` (new CAs and
//! keys with their certificates), `sign_csr.rs` (certifying a request),
//! `finish.rs` (the one step both end in: extensions, then signing),
//! `lineage.rs` (loading, saving, what a CA may certify), `responder.rs`
//! (what OCSP responses and CRLs are signed with, and its caches).
//!
//! Every operation computes its full result first and changes the CA's state
//! only at the very end, so a failed call never leaves a partial update.

mod finish;
mod issue;
mod lineage;
mod responder;
mod sign_csr;

use std::cell::RefCell;


use super::cert_info::CertInfo;
use super::error::{named_on_error, CaError, CaResult};
use super::algorithm::SigAlg;
use super::keys;
use super::names;
use super::pem;
use super::revocation::{Revocation, RevocationList};
use super::secret::Secret;
use super::serial::Serial;
use super::signer::Signer;
use super::state::memory::{self, MemoryState};
use super::state::{self, CaState, SerialStatus};
use super::time;
use super::usage::ku;

use super::constraints::NameConstraints;
use super::options::{Pointers, RestoreState};


pub use issue::IssuePlan;

/// A freshly issued certificate and its key, both PEM, and its serial.
pub struct Issued {
    pub cert_pem: String,
    pub serial: Serial,
    /// Zeroed when dropped: copy it out, then let it go.
    pub key_pem: Secret,
}

pub struct Authority {
    /// The CA's key: in memory or in a token.
    signer: Box<dyn Signer>,
    cert_der: Vec<u8>,
    info: CertInfo,
    key_id: Vec<u8>,
    /// Serial counter, issued index, revocations, CRL number: in memory or in a store.
    state: Box<dyn CaState>,
    /// Subjects of this CA and every CA above it that we know (comparable form):
    /// a CA certified here must not share a name with any, or two CAs would
    /// issue under one issuer name.
    lineage: Vec<Vec<Vec<(Vec<u8>, String)>>>,
    /// Names of the CAs this CA has certified (in this process), same form.
    certified_ca_names: Vec<Vec<Vec<(Vec<u8>, String)>>>,
    pointers: Pointers,
    /// Name constraints to enforce: this CA's own, then its ancestors' when known.
    constraints: Vec<NameConstraints>,
    /// SHA-1 of the public key bits: the OCSP responder ID byKey.
    key_sha1: Vec<u8>,
    /// OCSP issuer (name, key) hashes per hash algorithm OID, computed on first use.
    issuer_hashes: RefCell<Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>>,
}

/// Input size limits: far above any real CSR, certificate or key, far below
/// what would make parsing them costly.
const MAX_CSR_BYTES: usize = 64 * 1024;
const MAX_PEM_BYTES: usize = 1024 * 1024;

pub(super) fn check_days(days: u32, from: i64, what: &str) -> CaResult<i64> {
    if days == 0 {
        return Err(CaError::param(format!("{what} must be a positive number of days, got 0")));
    }
    let end = from + i64::from(days) * time::DAY;
    named_on_error(|w| time::check_range(end, w), || format!("{what} {days} (end of validity)"))
}

impl Authority {
    pub(super) fn from_parts(
        signer: Box<dyn Signer>,
        cert_der: Vec<u8>,
        next_serial: u64,
        tracking: bool,
        pointers: Pointers,
        restore: RestoreState,
        loaded: bool,
    ) -> CaResult<Authority> {
        let info = CertInfo::parse(&cert_der)?;
        let key_sha1 = keys::key_identifier(&info.spki_der)?;
        let key_id = match info.subject_key_id()? {
            Some(id) => id,
            None => key_sha1.clone(),
        };
        let mut revocations = RevocationList::default();
        revocations.apply_all(&restore.revoked)?;
        if restore.crl_number == Some(0) {
            return Err(CaError::param(":crl-number must be at least 1"));
        }
        let state = MemoryState::new(memory::Start {
            next_serial,
            tracking,
            revocations,
            crl_number: if loaded { restore.crl_number } else { Some(restore.crl_number.unwrap_or(1)) },
            loaded,
            // A self-issued CA certificate shares the issuer of everything we issue.
            own_serial: (info.issuer_der == info.subject_der).then_some(info.serial),
            issued: restore.issued,
        })?;
        let mut lineage = vec![names::comparable(&info.subject_der)];
        if info.issuer_der != info.subject_der {
            lineage.push(names::comparable(&info.issuer_der));
        }
        let constraints = super::constraints::from_certificate(&info)?.into_iter().collect();
        Ok(Authority {
            signer,
            cert_der,
            info,
            key_id,
            state: Box::new(state),
            lineage,
            certified_ca_names: Vec::new(),
            pointers,
            constraints,
            key_sha1,
            issuer_hashes: RefCell::new(Vec::new()),
        })
    }

    /// RFC 5280 §6.3.3: CRLs are signed only with a key certified for cRLSign.
    pub fn check_may_sign_crls(&self) -> CaResult<()> {
        match self.info.key_usage_bits()? {
            Some(bits) if bits & ku::CRL_SIGN == 0 => Err(CaError::config(
                "this CA's certificate has a key usage without cRLSign: it cannot sign CRLs",
            )),
            _ => Ok(()),
        }
    }

    /// What this CA knows of `serial` now (revoked, good, or never issued).
    pub fn status(&mut self, serial: &Serial) -> CaResult<SerialStatus> {
        self.state.status(serial)
    }

    /// Moves this CA's state to `state` (a store that now holds it).
    pub fn attach_state(&mut self, state: Box<dyn CaState>) {
        self.state = state;
    }

    // ------------------------------------------------------------ serials

    /// The serial the counter will hand out next (skipping used ones).
    pub fn next_serial(&mut self) -> CaResult<u64> {
        self.state.next_serial()
    }

    pub fn set_serial(&mut self, n: u64) -> CaResult<()> {
        self.state.set_serial(n)
    }

    pub fn is_tracking(&self) -> bool {
        self.state.is_tracking()
    }

    /// DER of the certificates issued (oldest first), or None when not tracking.
    pub fn issued(&mut self) -> CaResult<Option<&[Vec<u8>]>> {
        self.state.issued()
    }
    /// Reserves a serial, signs with it (`sign`), and records the result in the
    /// index before handing it back.
    pub(super) fn issue_with_serial(
        &mut self,
        explicit: Option<Serial>,
        sign: impl FnOnce(&Authority, Serial) -> CaResult<Vec<u8>>,
    ) -> CaResult<(Vec<u8>, Serial)> {
        let serial = self.state.reserve_serial(explicit)?;
        let cert = sign(self, serial)?;
        self.state.record_issued(serial, &cert, &|| state::describe(&cert))?;
        Ok((cert, serial))
    }
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn cert_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.cert_der)
    }

    pub fn info(&self) -> &CertInfo {
        &self.info
    }

    /// What signs for this CA.
    pub fn signer(&self) -> &dyn Signer {
        self.signer.as_ref()
    }

    pub fn sig_alg(&self) -> SigAlg {
        self.signer.algorithm()
    }

    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    pub fn subject_display(&self) -> String {
        names::display_name(&self.info.subject_der)
    }

    pub fn key_pem(&self, password: Option<&[u8]>) -> CaResult<Secret> {
        let Some(key) = self.signer.private_key() else {
            return Err(CaError::config(format!(
                "this CA's key is in a token ({}) and never leaves it",
                self.signer.location().unwrap_or("pkcs11")
            )));
        };
        match password {
            Some(p) => keys::encrypted_private_key_pem(key, p).map(Secret::new),
            None => keys::private_key_pem(key),
        }
    }

    // ------------------------------------------------------------ revocation

    pub fn revocations(&mut self) -> CaResult<&RevocationList> {
        self.state.revocations()
    }

    /// Records a revocation (see [`RevocationList::apply`]); unchanged on error.
    pub fn revoke(&mut self, r: Revocation) -> CaResult<()> {
        self.state.revoke(r)
    }

    /// The number the next CRL will carry.
    pub fn crl_number(&mut self) -> CaResult<u64> {
        self.state.crl_number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::algorithm::KeyType;
    use crate::core::general_names::GeneralName;
    use crate::core::keys::NewKey;
    use crate::core::names::{Attr, Subject};
    use crate::core::options::{CaOptions, IssueOptions, LoadOptions};
    use openssl::x509::X509;
    use openssl::pkey::PKey;

    fn subject(cn: &str) -> Subject {
        Subject { attrs: vec![(Attr::CommonName, cn.to_string())] }
    }

    #[test]
    fn root_intermediate_leaf_verify() {
        let mut root = Authority::generate_root(CaOptions { subject: subject("Root"), ..CaOptions::root() }).unwrap();
        let mut inter = root
            .generate_intermediate(CaOptions { subject: subject("Inter"), ..CaOptions::intermediate() })
            .unwrap();
        assert_eq!(root.next_serial().unwrap(), 2);
        let leaf = inter
            .issue(IssueOptions {
                subject: subject("leaf"),
                san: vec![GeneralName::Dns("leaf.example".into())],
                ..IssueOptions::default()
            })
            .unwrap();
        let root_x = X509::from_der(root.cert_der()).unwrap();
        let inter_x = X509::from_der(inter.cert_der()).unwrap();
        let leaf_x = X509::from_pem(leaf.cert_pem.as_bytes()).unwrap();
        assert!(root_x.verify(&root_x.public_key().unwrap()).unwrap());
        assert!(inter_x.verify(&root_x.public_key().unwrap()).unwrap());
        assert!(leaf_x.verify(&inter_x.public_key().unwrap()).unwrap());
        assert_eq!(inter.next_serial().unwrap(), 2);
    }

    #[test]
    fn prepared_issuance_finishes_with_a_key_made_elsewhere() {
        let mut root = Authority::generate_root(CaOptions { subject: subject("Root"), ..CaOptions::root() }).unwrap();
        let plan = root
            .prepare_issue(IssueOptions {
                subject: subject("leaf"),
                san: vec![GeneralName::Dns("leaf.example".into())],
                key_type: KeyType::Ed25519,
                ..IssueOptions::default()
            })
            .unwrap();
        assert_eq!(root.next_serial().unwrap(), 1, "preparing reserves no serial");
        let key_type = plan.key_type();
        let key = std::thread::spawn(move || key_type.generate_encoded()).join().unwrap().unwrap();
        let issued = root.finish_issue(plan, key).unwrap();
        let leaf = X509::from_pem(issued.cert_pem.as_bytes()).unwrap();
        let root_x = X509::from_der(root.cert_der()).unwrap();
        assert!(leaf.verify(&root_x.public_key().unwrap()).unwrap());
        assert_eq!(root.next_serial().unwrap(), 2);
        let private = PKey::private_key_from_pem(issued.key_pem.as_bytes()).unwrap();
        assert!(private.public_eq(&leaf.public_key().unwrap()));
    }

    #[test]
    fn a_plan_finishes_only_at_the_ca_that_prepared_it() {
        let a = Authority::generate_root(CaOptions { subject: subject("A"), ..CaOptions::root() }).unwrap();
        let mut b = Authority::generate_root(CaOptions { subject: subject("B"), ..CaOptions::root() }).unwrap();
        let plan = a.prepare_issue(IssueOptions { subject: subject("leaf"), ..IssueOptions::default() }).unwrap();
        let key = plan.key_type().generate_encoded().unwrap();
        let err = b.finish_issue(plan, key).err().unwrap();
        assert_eq!(err.category, crate::core::error::Category::Config);
        assert_eq!(b.next_serial().unwrap(), 1);
    }

    #[test]
    fn a_new_key_can_cross_threads() {
        fn send<T: Send + 'static>() {}
        send::<NewKey>();
        send::<CaResult<NewKey>>();
    }

    #[test]
    fn serial_collisions_are_skipped() {
        let mut root = Authority::generate_root(CaOptions { subject: subject("Root"), ..CaOptions::root() }).unwrap();
        let key = root.key_pem(None).unwrap();
        let mut again = Authority::load(root.cert_pem().as_bytes(), key.as_bytes(), LoadOptions::default()).unwrap();
        again.set_serial(5).unwrap();
        let issued = again.issue(IssueOptions { subject: subject("a"), ..IssueOptions::default() }).unwrap();
        assert!(issued.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        again.set_serial(5).unwrap();
        assert_eq!(again.next_serial().unwrap(), 6);
        let _ = root.issue(IssueOptions { subject: subject("b"), ..IssueOptions::default() }).unwrap();
    }
}

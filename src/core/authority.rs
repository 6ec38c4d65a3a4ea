//! The certificate authority: its key and certificate, serial counter, issued
//! certificates and revocations; issuing and signing.
//!
//! Every operation computes its full result first and changes the CA's state
//! only at the very end, so a failed call never leaves a partial update.

use std::cell::RefCell;

use openssl::x509::X509;

use super::oid;
use super::cert_info::{CertInfo, CsrInfo};
use super::der::{self, tag};
use super::error::{named_on_error, CaError, CaResult, SslContext};
use super::extensions::{self as ext, ExtensionSet};
use super::general_names::{self, GeneralName};
use super::algorithm::{self, KeyType, SigAlg};
use super::keys::{self, NewKey};
use super::names::{self, Subject};
use super::pem;
use super::revocation::{Revocation, RevocationList};
use super::secret::Secret;
use super::serial::Serial;
use super::signer::{self, pkcs11, KeySigner, Signer};
use super::state::memory::{self, MemoryState};
use super::state::{self, CaState, SerialStatus};
use super::store::{CaRecord, Engine};
use super::time;
use super::error::shown;
use super::usage::{self, ku, ExtKeyUsage};

use super::constraints::NameConstraints;
use super::options::{CaOptions, IssueOptions, LoadOptions, PointerOverrides, Pointers, RestoreState, SignOptions};

/// RFC 5280 §4.1.2.6: an emailAddress in the subject is also an rfc822Name in
/// the SAN (the subject asked for it, so the SAN carries no name not asked for).
fn add_subject_emails(subject: &Subject, san: &mut Vec<GeneralName>) {
    for (attr, value) in &subject.attrs {
        let email = GeneralName::Email(value.clone());
        if *attr == names::Attr::Email && !san.contains(&email) {
            san.push(email);
        }
    }
}

/// What signs this CA's CRLs.
pub(crate) struct CrlSigner<'a> {
    pub signer: &'a dyn Signer,
    pub subject_der: &'a [u8],
    pub key_id: &'a [u8],
}

/// A freshly issued certificate and its key, both PEM, and its serial.
pub struct Issued {
    pub cert_pem: String,
    pub serial: Serial,
    /// Zeroed when dropped: copy it out, then let it go.
    pub key_pem: Secret,
}

/// An issuance checked against its CA and waiting for its key
/// ([`Authority::prepare_issue`], then [`Authority::finish_issue`]): plain
/// data, so the key can be generated anywhere meanwhile.
pub struct IssuePlan {
    /// The key identifier of the CA that prepared it.
    issuer_key_id: Vec<u8>,
    key_type: KeyType,
    subject_der: Vec<u8>,
    /// (notBefore, notAfter), Unix seconds.
    validity: (i64, i64),
    ku_bits: u16,
    ext_key_usage: Option<ExtKeyUsage>,
    /// The encoded subjectAltName, when there are names.
    san: Option<Vec<u8>>,
    pointers: PointerOverrides,
    must_staple: bool,
    policies: Vec<Vec<u8>>,
}

impl IssuePlan {
    /// The type of key the certificate is for.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }
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

fn check_days(days: u32, from: i64, what: &str) -> CaResult<i64> {
    if days == 0 {
        return Err(CaError::param(format!("{what} must be a positive number of days, got 0")));
    }
    let end = from + i64::from(days) * time::DAY;
    named_on_error(|w| time::check_range(end, w), || format!("{what} {days} (end of validity)"))
}

/// Everything needed to encode a TBSCertificate.
struct Tbs<'a> {
    serial: Serial,
    issuer_der: &'a [u8],
    subject_der: &'a [u8],
    not_before: i64,
    not_after: i64,
    spki_der: &'a [u8],
    extensions: &'a ExtensionSet,
}

fn sign_certificate(tbs: &Tbs<'_>, signer: &dyn Signer) -> CaResult<Vec<u8>> {
    let alg = signer.algorithm();
    let mut t = Vec::with_capacity(512 + tbs.spki_der.len());
    der::sequence(&mut t, |o| {
        der::nested(o, tag::explicit(0), |o| der::small_uint(o, 2));
        tbs.serial.write(o);
        alg.write_algorithm(o);
        o.extend_from_slice(tbs.issuer_der);
        der::sequence(o, |o| {
            time::x509_time(o, tbs.not_before);
            time::x509_time(o, tbs.not_after);
        });
        o.extend_from_slice(tbs.subject_der);
        o.extend_from_slice(tbs.spki_der);
        if !tbs.extensions.is_empty() {
            der::nested(o, tag::explicit(3), |o| tbs.extensions.write(o));
        }
    });
    signer::signed_structure(&t, signer, |_| {})
}

/// A new CA key: generated in the token `opts.token` names, else in memory.
fn new_ca_key(opts: &CaOptions) -> CaResult<Box<dyn Signer>> {
    match &opts.token {
        Some(uri) => Ok(Box::new(pkcs11::TokenSigner::generate(uri, opts.key_type)?)),
        None => Ok(Box::new(KeySigner::new(opts.key_type.generate()?)?)),
    }
}

fn ca_extensions(opts: &CaOptions, spki_der: &[u8], issuer_key_id: Option<&[u8]>) -> CaResult<(ExtensionSet, Vec<u8>)> {
    let key_id = keys::key_identifier(spki_der)?;
    let mut set = ExtensionSet::default();
    set.set(oid::BASIC_CONSTRAINTS, true, ext::basic_constraints(true, opts.path_length));
    set.set(oid::KEY_USAGE, true, ext::key_usage(ku::KEY_CERT_SIGN | ku::CRL_SIGN));
    ext::set_key_identifiers(&mut set, &key_id, issuer_key_id.unwrap_or(&key_id));
    if let Some(nc) = &opts.name_constraints {
        set.set(oid::NAME_CONSTRAINTS, true, super::constraints::encode(nc));
    }
    if !opts.policies.is_empty() {
        set.set(oid::CERT_POLICIES, false, ext::certificate_policies(&opts.policies));
    }
    Ok((set, key_id))
}

impl Authority {
    fn from_parts(
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

    /// `ca/generate`: a new self-signed root.
    pub fn generate_root(opts: CaOptions) -> CaResult<Authority> {
        state::check_counter(opts.serial, ":serial")?;
        let now = time::now();
        let not_after = check_days(opts.days_valid, now, ":days-valid")?;
        let signer = new_ca_key(&opts)?;
        let spki = signer.public_key_der().to_vec();
        let (set, _) = ca_extensions(&opts, &spki, None)?;
        let subject = opts.subject.to_der();
        let tbs = Tbs {
            serial: Serial::random()?,
            issuer_der: &subject,
            subject_der: &subject,
            not_before: now,
            not_after,
            spki_der: &spki,
            extensions: &set,
        };
        let cert = sign_certificate(&tbs, signer.as_ref())?;
        Authority::from_parts(signer, cert, opts.serial, opts.track_issued, opts.pointers, opts.restore, false)
    }

    /// `ca/generate-intermediate`: a new CA whose certificate this CA signs,
    /// with one serial from this CA's counter.
    pub fn generate_intermediate(&mut self, opts: CaOptions) -> CaResult<Authority> {
        state::check_counter(opts.serial, ":serial")?;
        let now = time::now();
        let not_after = check_days(opts.days_valid, now, ":days-valid")?;
        let not_after = self.fit_validity(not_after, opts.truncate_to_issuer, ":days-valid")?;
        self.check_may_certify_ca(opts.path_length, ":path-length")?;
        let subject = opts.subject.to_der();
        self.check_new_ca_name(&subject, ":common-name / :subject")?;
        // A CA certificate's own names are held to this CA's constraints too (validators check every
        // certificate below a constrained CA).
        self.check_constraints(&opts.subject, &[])?;
        let signer = new_ca_key(&opts)?;
        let spki = signer.public_key_der().to_vec();
        let (mut set, _) = ca_extensions(&opts, &spki, Some(&self.key_id))?;
        self.stamp_pointers(&mut set, &PointerOverrides::default());
        let (cert, _) =
            self.issue_with_serial(None, |ca, serial| ca.certify(serial, &subject, (now, not_after), &spki, &set))?;
        let mut child = Authority::from_parts(signer, cert, opts.serial, opts.track_issued, opts.pointers, opts.restore, false)?;
        // What the parent may not certify, its child may not either; nor share its ancestors' names.
        child.constraints.extend(self.constraints.iter().cloned());
        child.lineage.extend(self.lineage.iter().cloned());
        self.certified_ca_names.push(names::comparable(&subject));
        Ok(child)
    }

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
    fn check_new_ca_name(&self, subject_der: &[u8], what: &str) -> CaResult<()> {
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
    fn fit_validity(&self, not_after: i64, truncate: bool, what: &str) -> CaResult<i64> {
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

    /// A CA certificate this CA signs must respect this CA's own pathlen:
    /// with pathlen 0 it signs no CA at all, else the child's pathlen is lower.
    fn check_may_certify_ca(&self, child_path_len: Option<u32>, what: &str) -> CaResult<()> {
        let Some((_, Some(own))) = self.info.basic_constraints()? else { return Ok(()) };
        match child_path_len {
            _ if own == 0 => Err(CaError::config("this CA's certificate has pathlen 0: it cannot certify other CAs")),
            Some(n) if u64::from(n) < own => Ok(()),
            _ => Err(CaError::param(format!("{what} must be below this CA's pathlen {own}"))),
        }
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
    fn issue_with_serial(
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

    /// SHA-1 of the CA's public key bits (OCSP ResponderID byKey).
    pub fn key_sha1(&self) -> &[u8] {
        &self.key_sha1
    }

    /// The CA's OCSP (issuerNameHash, issuerKeyHash) for the hash algorithm
    /// `alg_oid`, computed by `compute` once per algorithm.
    pub fn issuer_hashes(
        &self,
        alg_oid: &[u8],
        compute: impl FnOnce(&[u8], &[u8]) -> CaResult<(Vec<u8>, Vec<u8>)>,
    ) -> CaResult<(Vec<u8>, Vec<u8>)> {
        if let Some((_, n, k)) = self.issuer_hashes.borrow().iter().find(|(o, _, _)| o == alg_oid) {
            return Ok((n.clone(), k.clone()));
        }
        let (n, k) = compute(&self.info.subject_der, &self.info.spki_der)?;
        self.issuer_hashes.borrow_mut().push((alg_oid.to_vec(), n.clone(), k.clone()));
        Ok((n, k))
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

    /// The state and, borrowed beside it, what signs a CRL.
    pub(crate) fn crl_parts(&mut self) -> (&mut dyn CaState, CrlSigner<'_>) {
        let signer = CrlSigner { signer: self.signer.as_ref(), subject_der: &self.info.subject_der, key_id: &self.key_id };
        (self.state.as_mut(), signer)
    }

    // ------------------------------------------------------------ issuing

    fn stamp_pointers(&self, set: &mut ExtensionSet, o: &PointerOverrides) {
        let crl = o.crl_urls.as_ref().unwrap_or(&self.pointers.crl_urls);
        let ocsp = o.ocsp_urls.as_ref().unwrap_or(&self.pointers.ocsp_urls);
        let issuers = o.ca_issuers_urls.as_ref().unwrap_or(&self.pointers.ca_issuers_urls);
        if !crl.is_empty() {
            set.set(oid::CRL_DP, false, ext::crl_distribution_points(crl));
        }
        if !ocsp.is_empty() || !issuers.is_empty() {
            set.set(oid::AIA, false, ext::authority_info_access(ocsp, issuers));
        }
    }

    /// The extensions every certificate we issue or sign ends with: revocation
    /// pointers, must-staple, policies, and id-pkix-ocsp-nocheck for delegated
    /// OCSP responders (RFC 6960 §4.2.2.2.1: their own status is not checked).
    fn finish_extensions(&self, set: &mut ExtensionSet, pointers: &PointerOverrides, must_staple: bool, policies: &[Vec<u8>]) {
        self.stamp_pointers(set, pointers);
        if must_staple {
            set.set(oid::TLS_FEATURE, false, ext::tls_feature_must_staple());
        }
        if !policies.is_empty() {
            set.set(oid::CERT_POLICIES, false, ext::certificate_policies(policies));
        }
        let ocsp_signer = set
            .get(oid::EXT_KEY_USAGE)
            .is_some_and(|e| usage::eku_der_contains(&e.value, oid::KP_OCSP_SIGNING));
        if ocsp_signer {
            set.set(oid::OCSP_NOCHECK, false, vec![0x05, 0x00]);
        }
    }

    /// Signs a certificate whose issuer is this CA.
    fn certify(
        &self,
        serial: Serial,
        subject_der: &[u8],
        (not_before, not_after): (i64, i64),
        spki_der: &[u8],
        extensions: &ExtensionSet,
    ) -> CaResult<Vec<u8>> {
        let tbs = Tbs { serial, issuer_der: &self.info.subject_der, subject_der, not_before, not_after, spki_der, extensions };
        sign_certificate(&tbs, self.signer.as_ref())
    }

    fn check_constraints(&self, subject: &Subject, san: &[GeneralName]) -> CaResult<()> {
        self.constraints.iter().try_for_each(|nc| super::constraints::check_names(nc, subject, san))
    }

    /// `ca/issue`: a new key pair and its certificate. The three steps below,
    /// in a row: check every option, generate the key, sign and record.
    pub fn issue(&mut self, opts: IssueOptions) -> CaResult<Issued> {
        let plan = self.prepare_issue(opts)?;
        // Only now, with every option checked, do the expensive work.
        let key = plan.key_type().generate_encoded()?;
        self.finish_issue(plan, key)
    }

    /// The first step of `issue`: checks every option against this CA and
    /// returns what the certificate will say, all but its key and serial.
    /// Changes nothing: a plan that is never finished costs the CA nothing.
    pub fn prepare_issue(&self, opts: IssueOptions) -> CaResult<IssuePlan> {
        if opts.subject.common_name().is_none() {
            return Err(CaError::param(":common-name is required"));
        }
        let now = time::now();
        let not_after = check_days(opts.days_valid, now, ":days-valid")?;
        let not_after = self.fit_validity(not_after, opts.truncate_to_issuer, ":days-valid")?;
        let family = opts.key_type.family();
        let ku_bits = match opts.key_usage {
            Some(k) => k.bits,
            None => family.default_end_entity,
        };
        family.check_usage(ku_bits)?;
        if ku_bits & (ku::KEY_CERT_SIGN | ku::CRL_SIGN) != 0 {
            return Err(CaError::param(":key-usage keyCertSign/cRLSign is for CA certificates; use ca/generate-intermediate"));
        }
        let subject_der = opts.subject.to_der();
        let mut san_names = opts.san;
        add_subject_emails(&opts.subject, &mut san_names);
        self.check_constraints(&opts.subject, &san_names)?;
        let san = (!san_names.is_empty()).then(|| ext::subject_alt_names(&san_names));
        Ok(IssuePlan {
            issuer_key_id: self.key_id.clone(),
            key_type: opts.key_type,
            subject_der,
            validity: (now, not_after),
            ku_bits,
            ext_key_usage: opts.ext_key_usage,
            san,
            pointers: opts.pointers,
            must_staple: opts.must_staple,
            policies: opts.policies,
        })
    }

    /// The last step of `issue`: signs `plan` for `new_key` (generated for
    /// `plan.key_type()`) with the next serial, and records the certificate.
    /// Refuses a plan another CA prepared.
    pub fn finish_issue(&mut self, plan: IssuePlan, new_key: NewKey) -> CaResult<Issued> {
        if plan.issuer_key_id != self.key_id {
            return Err(CaError::config("an issuance prepared by one CA cannot be finished by another"));
        }
        let NewKey { spki_der: spki, pkcs8_pem: key_pem } = new_key;
        let mut set = ExtensionSet::default();
        set.set(oid::BASIC_CONSTRAINTS, true, ext::basic_constraints(false, None));
        set.set(oid::KEY_USAGE, true, ext::key_usage(plan.ku_bits));
        if let Some(eku) = &plan.ext_key_usage {
            set.set(oid::EXT_KEY_USAGE, eku.critical, eku.to_der());
        }
        if let Some(san) = plan.san {
            set.set(oid::SAN, false, san);
        }
        ext::set_key_identifiers(&mut set, &keys::key_identifier(&spki)?, &self.key_id);
        self.finish_extensions(&mut set, &plan.pointers, plan.must_staple, &plan.policies);
        let subject = plan.subject_der;
        let validity = plan.validity;
        let (cert, serial) =
            self.issue_with_serial(None, |ca, serial| ca.certify(serial, &subject, validity, &spki, &set))?;
        Ok(Issued { cert_pem: pem::encode("CERTIFICATE", &cert), serial, key_pem })
    }

    /// `ca/sign`: certifies the subject and public key of a PKCS#10 request.
    ///
    /// Parse, don't copy: the subject and every requested extension are decoded
    /// strictly into typed values, validated, and re-encoded here; of the
    /// requester's bytes only the public key (checked to be a usable key)
    /// reaches the certificate.
    pub fn sign_csr(&mut self, csr: &[u8], opts: SignOptions) -> CaResult<String> {
        if csr.len() > MAX_CSR_BYTES {
            return Err(CaError::resource(format!("the CSR is larger than {MAX_CSR_BYTES} bytes")));
        }
        let csr_der = pem::csr_der(csr)?;
        let req = CsrInfo::parse(&csr_der)?;
        let public = keys::public_key_from_spki(&req.spki_der)?;
        if !keys::verify_signed(&csr_der, &public)? {
            return Err(CaError::verify("the CSR's signature does not verify: refusing to sign it"));
        }
        // public_key_from_spki returns keys of known families only.
        let family = algorithm::family(&public).ok_or_else(|| CaError::param("the CSR's public key is not supported"))?;
        if family == &algorithm::RSA && public.bits() < 2048 {
            return Err(CaError::param(format!(
                "the CSR's RSA key has {} bits; at least 2048 are required",
                public.bits()
            )));
        }
        let now = time::now();
        let not_before = opts.not_before.unwrap_or(now);
        let not_after = match opts.not_after {
            Some(t) => t,
            None => check_days(opts.days_valid, not_before, ":days-valid")?,
        };
        time::check_range(not_before, ":not-before")?;
        time::check_range(not_after, ":not-after")?;
        if not_after <= not_before {
            return Err(CaError::param(format!(
                ":not-after {} must be after :not-before {}",
                time::to_iso(not_after),
                time::to_iso(not_before)
            )));
        }
        let validity_option = if opts.not_after.is_some() { ":not-after" } else { ":days-valid" };
        let not_after = self.fit_validity(not_after, opts.truncate_to_issuer, validity_option)?;
        if not_after <= not_before {
            return Err(CaError::param(":not-before is at or after this CA's notAfter"));
        }
        let subject_der = req.subject.to_der();
        let bc = opts.basic_constraints;
        if bc.ca {
            self.check_may_certify_ca(bc.path_len, ":basic-constraints pathlen")?;
            self.check_new_ca_name(&subject_der, "the CSR's subject")?;
        }
        let ku_bits = match opts.key_usage {
            Some(k) => k.bits,
            None if bc.ca => ku::KEY_CERT_SIGN | ku::CRL_SIGN | ku::DIGITAL_SIGNATURE,
            None => family.default_end_entity,
        };
        family.check_usage(ku_bits)?;
        if !bc.ca && ku_bits & (ku::KEY_CERT_SIGN | ku::CRL_SIGN) != 0 {
            return Err(CaError::param(":key-usage keyCertSign/cRLSign needs :basic-constraints \"CA:TRUE\""));
        }

        // Names and usages: the caller's options win; otherwise, with
        // :copy-extensions, what the request asked for, decoded and checked.
        let mut san: Vec<GeneralName> = Vec::new();
        let mut eku: Option<ExtKeyUsage> = None;
        if opts.copy_extensions {
            for e in &req.requested {
                if e.oid == oid::SAN && opts.san.is_none() {
                    san = general_names::parse_requested(&e.value)?;
                } else if e.oid == oid::EXT_KEY_USAGE && opts.ext_key_usage.is_none() {
                    let requested = usage::parse_ext_key_usage_der(&e.value, e.critical)?;
                    // Usages that would make the requester an OCSP responder or let it act
                    // for any purpose are the CA's to grant (with :extended-key-usage).
                    for reserved in [oid::KP_OCSP_SIGNING, oid::ANY_EKU] {
                        if requested.contains(reserved) {
                            return Err(CaError::param(format!(
                                "the CSR requests extended key usage {}, which is not copied; \
                                 grant it with :extended-key-usage if you mean to",
                                der::oid_to_string(reserved)
                            )));
                        }
                    }
                    eku = Some(requested);
                }
            }
        }
        if let Some(list) = &opts.san {
            san = list.clone();
        }
        if let Some(e) = &opts.ext_key_usage {
            eku = Some(e.clone());
        }
        add_subject_emails(&req.subject, &mut san);
        if san.is_empty() && req.subject.is_empty() {
            return Err(CaError::param("the CSR has an empty subject and no subject alternative names were given (:san)"));
        }
        self.check_constraints(&req.subject, &san)?;

        let mut set = ExtensionSet::default();
        // The CA decides basic constraints and key usage; a requester never does.
        set.set(oid::BASIC_CONSTRAINTS, true, ext::basic_constraints(bc.ca, bc.path_len));
        set.set(oid::KEY_USAGE, true, ext::key_usage(ku_bits));
        if let Some(eku) = &eku {
            set.set(oid::EXT_KEY_USAGE, eku.critical, eku.to_der());
        }
        if !san.is_empty() {
            // RFC 5280 §4.2.1.6: SAN is critical when the subject is empty.
            set.set(oid::SAN, req.subject.is_empty(), ext::subject_alt_names(&san));
        }
        ext::set_key_identifiers(&mut set, &keys::key_identifier(&req.spki_der)?, &self.key_id);
        self.finish_extensions(&mut set, &opts.pointers, opts.must_staple, &opts.policies);
        let (cert, _) = self.issue_with_serial(opts.serial, |ca, serial| {
            ca.certify(serial, &subject_der, (not_before, not_after), &req.spki_der, &set)
        })?;
        if bc.ca {
            self.certified_ca_names.push(names::comparable(&subject_der));
        }
        Ok(pem::encode("CERTIFICATE", &cert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::names::Attr;
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

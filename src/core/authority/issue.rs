//! New CAs (`ca/generate`, `ca/generate-intermediate`) and new keys with
//! their certificates (`ca/issue`): check every option, generate the key,
//! then the shared finishing step.



use super::super::oid;
use super::super::error::{CaError, CaResult};
use super::super::extensions::{self as ext, ExtensionSet};
use super::super::algorithm::KeyType;
use super::super::keys::{self, NewKey};
use super::super::names;
use super::super::pem;
use super::super::serial::Serial;
use super::super::signer::{pkcs11, KeySigner, Signer};
use super::super::state::{self};
use super::super::time;
use super::super::usage::{ku, ExtKeyUsage};

use super::super::options::{CaOptions, IssueOptions, PointerOverrides};

use super::*;
use super::finish::{add_subject_emails, sign_certificate, LeafParams, Tbs};

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

/// A new CA key: generated in the token `opts.token` names, else in memory.
pub(super) fn new_ca_key(opts: &CaOptions) -> CaResult<Box<dyn Signer>> {
    match &opts.token {
        Some(uri) => Ok(Box::new(pkcs11::TokenSigner::generate(uri, opts.key_type)?)),
        None => Ok(Box::new(KeySigner::new(opts.key_type.generate()?)?)),
    }
}

pub(super) fn ca_extensions(opts: &CaOptions, spki_der: &[u8], issuer_key_id: Option<&[u8]>) -> CaResult<(ExtensionSet, Vec<u8>)> {
    let key_id = keys::key_identifier(spki_der)?;
    let mut set = ExtensionSet::default();
    set.set(oid::BASIC_CONSTRAINTS, true, ext::basic_constraints(true, opts.path_length));
    set.set(oid::KEY_USAGE, true, ext::key_usage(ku::KEY_CERT_SIGN | ku::CRL_SIGN));
    ext::set_key_identifiers(&mut set, &key_id, issuer_key_id.unwrap_or(&key_id));
    if let Some(nc) = &opts.name_constraints {
        set.set(oid::NAME_CONSTRAINTS, true, super::super::constraints::encode(nc));
    }
    if !opts.policies.is_empty() {
        set.set(oid::CERT_POLICIES, false, ext::certificate_policies(&opts.policies));
    }
    Ok((set, key_id))
}

impl Authority {
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
        let (cert, serial) = self.sign_leaf(LeafParams {
            serial: None,
            subject_der: &plan.subject_der,
            validity: plan.validity,
            spki_der: &spki,
            basic: (false, None),
            ku_bits: plan.ku_bits,
            eku: plan.ext_key_usage.as_ref(),
            // The subject has a common name: the SAN is not critical.
            san: plan.san.map(|san| (san, false)),
            pointers: &plan.pointers,
            must_staple: plan.must_staple,
            policies: &plan.policies,
        })?;
        Ok(Issued { cert_pem: pem::encode("CERTIFICATE", &cert), serial, key_pem })
    }
}

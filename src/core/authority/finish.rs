//! The step every certificate this CA signs ends in: the extensions, then the
//! TBSCertificate, signed.



use super::super::oid;
use super::super::der::{self, tag};
use super::super::error::CaResult;
use super::super::extensions::{self as ext, ExtensionSet};
use super::super::general_names::GeneralName;
use super::super::keys;
use super::super::names::{self, Subject};
use super::super::serial::Serial;
use super::super::signer::{self, Signer};
use super::super::time;
use super::super::usage::{self, ExtKeyUsage};

use super::super::options::PointerOverrides;

use super::*;

/// RFC 5280 §4.1.2.6: an emailAddress in the subject is also an rfc822Name in
/// the SAN (the subject asked for it, so the SAN carries no name not asked for).
pub(super) fn add_subject_emails(subject: &Subject, san: &mut Vec<GeneralName>) {
    for (attr, value) in &subject.attrs {
        let email = GeneralName::Email(value.clone());
        if *attr == names::Attr::Email && !san.contains(&email) {
            san.push(email);
        }
    }
}

/// Everything needed to encode a TBSCertificate.
pub(super) struct Tbs<'a> {
    pub serial: Serial,
    pub issuer_der: &'a [u8],
    pub subject_der: &'a [u8],
    pub not_before: i64,
    pub not_after: i64,
    pub spki_der: &'a [u8],
    pub extensions: &'a ExtensionSet,
}

pub(super) fn sign_certificate(tbs: &Tbs<'_>, signer: &dyn Signer) -> CaResult<Vec<u8>> {
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
    signer::signed_structure(&t, signer, 0, |_| {})
}

impl Authority {
    pub(super) fn stamp_pointers(&self, set: &mut ExtensionSet, o: &PointerOverrides) {
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
    pub(super) fn finish_extensions(&self, set: &mut ExtensionSet, pointers: &PointerOverrides, must_staple: bool, policies: &[Vec<u8>]) {
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
    pub(super) fn certify(
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
}

/// What a certificate below this CA says, whichever call asked for it
/// (`ca/issue` or `ca/sign`): plain data, checked, waiting to be signed.
pub(super) struct LeafParams<'a> {
    /// The caller's serial, or None for the counter's next.
    pub serial: Option<Serial>,
    pub subject_der: &'a [u8],
    /// (notBefore, notAfter), Unix seconds.
    pub validity: (i64, i64),
    pub spki_der: &'a [u8],
    /// basicConstraints: CA, pathLenConstraint.
    pub basic: (bool, Option<u32>),
    pub ku_bits: u16,
    pub eku: Option<&'a ExtKeyUsage>,
    /// The encoded subjectAltName and whether it is critical.
    pub san: Option<(Vec<u8>, bool)>,
    pub pointers: &'a PointerOverrides,
    pub must_staple: bool,
    pub policies: &'a [Vec<u8>],
}

impl Authority {
    /// The one finishing step of `ca/issue` and `ca/sign`: builds the
    /// extensions from `p`, signs with the next serial (or `p.serial`), and
    /// records the certificate.
    pub(super) fn sign_leaf(&mut self, p: LeafParams<'_>) -> CaResult<(Vec<u8>, Serial)> {
        let mut set = ExtensionSet::default();
        // The CA decides basic constraints and key usage; a requester never does.
        set.set(oid::BASIC_CONSTRAINTS, true, ext::basic_constraints(p.basic.0, p.basic.1));
        set.set(oid::KEY_USAGE, true, ext::key_usage(p.ku_bits));
        if let Some(eku) = p.eku {
            set.set(oid::EXT_KEY_USAGE, eku.critical, eku.to_der());
        }
        if let Some((san, critical)) = p.san {
            set.set(oid::SAN, critical, san);
        }
        ext::set_key_identifiers(&mut set, &keys::key_identifier(p.spki_der)?, &self.key_id);
        self.finish_extensions(&mut set, p.pointers, p.must_staple, p.policies);
        let LeafParams { subject_der, validity, spki_der, .. } = p;
        self.issue_with_serial(p.serial, |ca, serial| ca.certify(serial, subject_der, validity, spki_der, &set))
    }
}

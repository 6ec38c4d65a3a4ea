//! `ca/sign`: certifying the subject and public key of a PKCS#10 request.



use super::super::oid;
use super::super::cert_info::CsrInfo;
use super::super::der::{self};
use super::super::error::{CaError, CaResult};
use super::super::extensions::{self as ext};
use super::super::general_names::{self, GeneralName};
use super::super::algorithm::{self};
use super::super::keys;
use super::super::names;
use super::super::pem;
use super::super::time;
use super::super::usage::{self, ku, ExtKeyUsage};

use super::super::options::SignOptions;

use super::*;
use super::finish::{add_subject_emails, LeafParams};

impl Authority {
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

        // RFC 5280 §4.2.1.6: SAN is critical when the subject is empty.
        let san = (!san.is_empty()).then(|| (ext::subject_alt_names(&san), req.subject.is_empty()));
        let (cert, _) = self.sign_leaf(LeafParams {
            serial: opts.serial,
            subject_der: &subject_der,
            validity: (not_before, not_after),
            spki_der: &req.spki_der,
            basic: (bc.ca, bc.path_len),
            ku_bits,
            eku: eku.as_ref(),
            san,
            pointers: &opts.pointers,
            must_staple: opts.must_staple,
            policies: &opts.policies,
        })?;
        if bc.ca {
            self.certified_ca_names.push(names::comparable(&subject_der));
        }
        Ok(pem::encode("CERTIFICATE", &cert))
    }
}

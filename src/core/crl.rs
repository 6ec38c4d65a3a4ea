//! Certificate revocation lists (RFC 5280 §5): v2, with authority key
//! identifier and CRL number, one entry per serial, a reason code only when
//! the reason is not `unspecified`. Encoded in one pass: a million entries
//! cost a few tens of megabytes of appends and one signature.

use std::collections::HashMap;

use super::oid;
use super::options::CrlOptions;
use super::authority::Authority;
use super::der::{self, tag};
use super::error::{CaError, CaResult};
use super::extensions::authority_key_id;
use super::signer;
use super::pem;
use super::revocation::{Reason, Revocation};
use super::serial::Serial;
use super::time;


/// The DER of the last revocation date written: entries revoked in the same
/// second (the common case in bulk revocations) reuse it.
struct DateCache {
    t: Option<i64>,
    der: Vec<u8>,
}

impl DateCache {
    fn write(&mut self, out: &mut Vec<u8>, t: i64) {
        if self.t != Some(t) {
            self.der.clear();
            time::x509_time(&mut self.der, t);
            self.t = Some(t);
        }
        out.extend_from_slice(&self.der);
    }
}

fn write_entry(out: &mut Vec<u8>, r: &Revocation, dates: &mut DateCache) {
    der::sequence(out, |o| {
        r.serial.write(o);
        dates.write(o, r.date);
        if r.reason != Reason::Unspecified {
            der::sequence(o, |o| {
                der::sequence(o, |o| {
                    der::oid(o, oid::REASON_CODE);
                    // extnValue = OCTET STRING { ENUMERATED reason }
                    der::octet_string(o, &[tag::ENUMERATED, 1, r.reason.code()]);
                })
            });
        }
    });
}

/// Builds and signs the CRL; returns its DER. The CA's CRL number advances
/// only when the CRL was produced.
pub fn generate(ca: &mut Authority, opts: &CrlOptions) -> CaResult<Vec<u8>> {
    ca.check_may_sign_crls()?;
    let this_update = time::now();
    let next_update = match (opts.days_valid, opts.next_update) {
        (Some(_), Some(_)) => return Err(CaError::param(":days-valid and :next-update cannot both be given")),
        (_, Some(t)) => time::check_range(t, ":next-update")?,
        (days, None) => {
            let days = days.unwrap_or(CrlOptions::DEFAULT_DAYS_VALID);
            if days == 0 {
                return Err(CaError::param(":days-valid must be a positive number of days, got 0"));
            }
            time::check_range(this_update + i64::from(days) * time::DAY, ":days-valid")?
        }
    };
    if next_update <= this_update {
        return Err(CaError::param(format!(
            ":next-update {} must be after this update {}",
            time::to_iso(next_update),
            time::to_iso(this_update)
        )));
    }
    for r in &opts.extra {
        if r.reason == Reason::RemoveFromCrl {
            return Err(CaError::param(":revoked entries cannot have reason :remove-from-crl"));
        }
    }
    // Extras win over recorded entries of the same serial; later extras win over earlier ones.
    let mut extra_index: HashMap<Serial, usize> = HashMap::with_capacity(opts.extra.len());
    for (i, r) in opts.extra.iter().enumerate() {
        extra_index.insert(r.serial, i);
    }
    let (state, signer) = ca.crl_parts();
    state.with_next_crl(&mut |crl_number, list| {
        if crl_number >= i64::MAX as u64 {
            return Err(CaError::resource("the CRL number is exhausted"));
        }
        let recorded = list.entries();
        // Entries are ~40 bytes each; reserve once.
        let mut tbs = Vec::with_capacity(256 + signer.subject_der.len() + 48 * (recorded.len() + opts.extra.len()));
        der::sequence(&mut tbs, |o| {
            der::small_uint(o, 1); // v2
            signer.signer.algorithm().write_algorithm(o);
            o.extend_from_slice(signer.subject_der);
            time::x509_time(o, this_update);
            time::x509_time(o, next_update);
            if !recorded.is_empty() || !opts.extra.is_empty() {
                let mut dates = DateCache { t: None, der: Vec::with_capacity(17) };
                der::sequence(o, |o| {
                    for r in recorded.iter().filter(|r| extra_index.is_empty() || !extra_index.contains_key(&r.serial)) {
                        write_entry(o, r, &mut dates);
                    }
                    for (i, r) in opts.extra.iter().enumerate() {
                        if extra_index.get(&r.serial) == Some(&i) {
                            write_entry(o, r, &mut dates);
                        }
                    }
                });
            }
            der::nested(o, tag::explicit(0), |o| {
                der::sequence(o, |o| {
                    der::sequence(o, |o| {
                        der::oid(o, oid::AUTHORITY_KEY_ID);
                        der::octet_string(o, &authority_key_id(signer.key_id));
                    });
                    der::sequence(o, |o| {
                        der::oid(o, oid::CRL_NUMBER);
                        let mut n = Vec::new();
                        der::small_uint(&mut n, crl_number);
                        der::octet_string(o, &n);
                    });
                })
            });
        });
        signer::signed_structure(&tbs, signer.signer, |_| {})
    })
}

pub fn generate_pem(ca: &mut Authority, opts: &CrlOptions) -> CaResult<String> {
    generate(ca, opts).map(|der| pem::encode("X509 CRL", &der))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::options::CaOptions;
    use openssl::x509::{X509Crl, X509};

    #[test]
    fn crl_verifies_and_lists_entries() {
        let mut ca = Authority::generate_root(CaOptions::root()).unwrap();
        for (n, reason) in [(5, Reason::KeyCompromise), (6, Reason::Unspecified)] {
            ca.revoke(Revocation { serial: Serial::from_u64(n).unwrap(), reason, date: 1_700_000_000 }).unwrap();
        }
        let extra = vec![Revocation { serial: Serial::from_hex("0x0123456789abcdef0123456789abcdef", "s").unwrap(), reason: Reason::Superseded, date: 1_700_000_001 }];
        let der = generate(&mut ca, &CrlOptions { extra, ..CrlOptions::default() }).unwrap();
        let crl = X509Crl::from_der(&der).unwrap();
        let cert = X509::from_der(ca.cert_der()).unwrap();
        assert!(crl.verify(&cert.public_key().unwrap()).unwrap());
        assert_eq!(crl.get_revoked().unwrap().len(), 3);
        assert_eq!(ca.crl_number().unwrap(), 2);
        let err = generate(&mut ca, &CrlOptions { days_valid: Some(1), next_update: Some(5), ..CrlOptions::default() });
        assert!(err.is_err());
        assert_eq!(ca.crl_number().unwrap(), 2);
    }
}

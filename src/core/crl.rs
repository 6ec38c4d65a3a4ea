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
use super::pem;
use super::revocation::{Reason, Revocation, REASON_NAMES};
use super::serial::Serial;
use super::time;


/// The DER of the last revocation date written: entries revoked in the same
/// second (the common case in bulk revocations) reuse it.
struct DateCache {
    t: Option<i64>,
    der: [u8; 17],
    len: usize,
}

impl DateCache {
    fn new() -> DateCache {
        DateCache { t: None, der: [0; 17], len: 0 }
    }

    /// The DER of `t` as RFC 5280 `Time` (15 or 17 bytes).
    #[inline]
    fn get(&mut self, t: i64) -> &[u8] {
        if self.t != Some(t) {
            let mut v = Vec::with_capacity(17);
            time::x509_time(&mut v, t);
            self.len = v.len();
            self.der[..v.len()].copy_from_slice(&v);
            self.t = Some(t);
        }
        &self.der[..self.len]
    }
}

/// `crlEntryExtensions` with the reasonCode of `reason`:
/// SEQUENCE { SEQUENCE { OID reasonCode, OCTET STRING { ENUMERATED reason } } }.
fn reason_extensions(reason: Reason) -> Vec<u8> {
    let mut o = Vec::with_capacity(16);
    der::sequence(&mut o, |o| {
        der::sequence(o, |o| {
            der::oid(o, oid::REASON_CODE);
            der::octet_string(o, &[tag::ENUMERATED, 1, reason.code()]);
        })
    });
    o
}

/// Writes the entries of a CRL: their sizes are known before a byte is
/// written, so each goes out in one pass with no length patched afterwards.
struct EntryWriter {
    dates: DateCache,
    /// By reason code: its crlEntryExtensions (at most 14 bytes) zero-padded to
    /// 16, and their length; none (0) for `unspecified`.
    reasons: [([u8; 16], usize); 16],
}

impl EntryWriter {
    fn new() -> EntryWriter {
        let mut reasons = [([0u8; 16], 0usize); 16];
        for (_, r) in REASON_NAMES {
            if *r != Reason::Unspecified {
                let ext = reason_extensions(*r);
                let slot = &mut reasons[r.code() as usize];
                slot.0[..ext.len()].copy_from_slice(&ext);
                slot.1 = ext.len();
            }
        }
        EntryWriter { dates: DateCache::new(), reasons }
    }

    /// The whole entry's length: header, serial, date, extensions (at most
    /// 2 + 23 + 17 + 14 = 56 bytes: a short-form length).
    fn len(&mut self, r: &Revocation) -> usize {
        2 + r.serial.der_len() + self.dates.get(r.date).len() + self.reasons[r.reason.code() as usize].1
    }

    /// `SEQUENCE { userCertificate, revocationDate, crlEntryExtensions OPTIONAL }`
    /// at the start of `buf`, which [`EntryWriter::len`] sized, plus
    /// [`WRITE_SLACK`] bytes of room past it; returns the entry's length. The
    /// parts are copied as fixed-size blocks (a few moves, no memcpy call),
    /// each overwriting the previous one's unused tail.
    #[inline]
    fn write_into(&mut self, buf: &mut [u8], r: &Revocation) -> usize {
        let serial = r.serial.as_bytes();
        let pad = usize::from(serial[0] & 0x80 != 0);
        let int_len = pad + serial.len();
        let (reason_ext, ext_len) = self.reasons[r.reason.code() as usize];
        let date_len = self.dates.get(r.date).len();
        let content = 2 + int_len + date_len + ext_len;
        debug_assert!(content < 0x80);
        // an INTEGER whose magnitude's top bit is set gets a 0x00 first (as der::uint)
        buf[..5].copy_from_slice(&[tag::SEQUENCE, content as u8, tag::INTEGER, int_len as u8, 0]);
        let mut at = 4 + pad;
        buf[at..at + 20].copy_from_slice(r.serial.padded());
        at += serial.len();
        buf[at..at + 17].copy_from_slice(&self.dates.der);
        at += date_len;
        buf[at..at + 16].copy_from_slice(&reason_ext);
        at + ext_len
    }
}

/// Room [`EntryWriter::write_into`] needs past the last entry.
const WRITE_SLACK: usize = 20;

/// Bytes of a DER length field for `n`.
fn len_of_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - n.leading_zeros() as usize / 8)
    }
}

/// A DER header (tag and length) into `out`.
fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = len.leading_zeros() as usize / 8;
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Room kept before the TBSCertList for the CertificateList's header, written
/// once the signature's length is known: a tag and at most 9 length bytes.
const HEADER_ROOM: usize = 10;

/// Builds and signs the CRL (see [`generate`]).
fn build(ca: &mut Authority, opts: &CrlOptions) -> CaResult<Built> {
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
    let mut start = 0;
    let der = state.with_next_crl(&mut |crl_number, list| {
        if crl_number >= i64::MAX as u64 {
            return Err(CaError::resource("the CRL number is exhausted"));
        }
        let recorded = list.entries();
        let entries = || {
            recorded
                .iter()
                .filter(|r| extra_index.is_empty() || !extra_index.contains_key(&r.serial))
                .chain(opts.extra.iter().enumerate().filter(|(i, r)| extra_index.get(&r.serial) == Some(i)).map(|(_, r)| r))
        };
        let mut w = EntryWriter::new();
        let entries_len: usize = entries().map(|r| w.len(r)).sum();
        let mut head = Vec::with_capacity(128 + signer.subject_der.len());
        der::small_uint(&mut head, 1); // v2
        signer.signer.algorithm().write_algorithm(&mut head);
        head.extend_from_slice(signer.subject_der);
        time::x509_time(&mut head, this_update);
        time::x509_time(&mut head, next_update);
        let mut exts = Vec::with_capacity(64);
        der::nested(&mut exts, tag::explicit(0), |o| {
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
        // revokedCertificates is left out when empty (RFC 5280 §5.1.2.6).
        let list_len = if entries_len == 0 { 0 } else { 1 + len_of_len(entries_len) + entries_len };
        let tbs_content = head.len() + list_len + exts.len();
        let tbs_len = 1 + len_of_len(tbs_content) + tbs_content;
        // The whole CertificateList in one buffer: room for its header, the
        // TBS, then the algorithm and signature (an EC signature or an RSA /
        // ML-DSA one: the tail is reserved generously, it grows if need be).
        let mut out = Vec::with_capacity(HEADER_ROOM + tbs_len + 64 + 8192);
        out.resize(HEADER_ROOM, 0);
        header(&mut out, tag::SEQUENCE, tbs_content);
        out.extend_from_slice(&head);
        if entries_len != 0 {
            header(&mut out, tag::SEQUENCE, entries_len);
            // sized once, each entry written in place
            let mut at = out.len();
            out.resize(at + entries_len + WRITE_SLACK, 0);
            for r in entries() {
                at += w.write_into(&mut out[at..], r);
            }
            out.truncate(at);
        }
        out.extend_from_slice(&exts);
        debug_assert_eq!(out.len(), HEADER_ROOM + tbs_len);
        // As signer::signed_structure: SEQUENCE { tbs, algorithm, BIT STRING signature }.
        let signature = signer.signer.sign(&out[HEADER_ROOM..])?;
        let mut tail = Vec::with_capacity(signature.len() + 64);
        signer.signer.algorithm().write_algorithm(&mut tail);
        der::bit_string(&mut tail, &signature);
        out.extend_from_slice(&tail);
        let mut outer = Vec::with_capacity(HEADER_ROOM);
        header(&mut outer, tag::SEQUENCE, tbs_len + tail.len());
        start = HEADER_ROOM - outer.len();
        out[start..HEADER_ROOM].copy_from_slice(&outer);
        Ok(out)
    })?;
    Ok(Built { der, start })
}

/// A CertificateList at `der[start..]`.
pub struct Built {
    der: Vec<u8>,
    start: usize,
}

impl Built {
    /// The CertificateList's DER.
    pub fn der(&self) -> &[u8] {
        &self.der[self.start..]
    }
}

/// Builds and signs the CRL, leaving its DER where it was built (see
/// [`generate`]): the caller encodes it once into its final place.
pub fn generate_built(ca: &mut Authority, opts: &CrlOptions) -> CaResult<Built> {
    build(ca, opts)
}

/// Builds and signs the CRL; returns its DER. The CA's CRL number advances
/// only when the CRL was produced.
pub fn generate(ca: &mut Authority, opts: &CrlOptions) -> CaResult<Vec<u8>> {
    let mut b = build(ca, opts)?;
    b.der.drain(..b.start);
    Ok(b.der)
}

pub fn generate_pem(ca: &mut Authority, opts: &CrlOptions) -> CaResult<String> {
    // PEM straight from the built buffer: the DER is never moved.
    build(ca, opts).map(|b| pem::encode("X509 CRL", &b.der[b.start..]))
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

    /// The encoder before issue 25 (closures, lengths patched afterwards),
    /// kept to check the one-pass writer byte for byte.
    fn old_entry(out: &mut Vec<u8>, r: &Revocation) {
        der::sequence(out, |o| {
            r.serial.write(o);
            time::x509_time(o, r.date);
            if r.reason != Reason::Unspecified {
                der::sequence(o, |o| {
                    der::sequence(o, |o| {
                        der::oid(o, oid::REASON_CODE);
                        der::octet_string(o, &[tag::ENUMERATED, 1, r.reason.code()]);
                    })
                });
            }
        });
    }

    #[test]
    fn one_pass_writer_is_byte_identical() {
        let reasons: Vec<Reason> =
            REASON_NAMES.iter().map(|(_, r)| *r).filter(|r| *r != Reason::RemoveFromCrl).collect();
        for count in [0usize, 1, 5, 200, 4000] {
            let mut ca = Authority::generate_root(CaOptions::root()).unwrap();
            let mut expected: Vec<Revocation> = Vec::new();
            for i in 0..count {
                // serials of 1 to 20 octets, with and without the top bit set
                let len = 1 + i % 20;
                let mut b = [0u8; 20];
                for (j, x) in b.iter_mut().enumerate().take(len) {
                    *x = (i as u8).wrapping_mul(31).wrapping_add(j as u8 * 7 + 1);
                }
                b[0] = if i % 3 == 0 { b[0] | 0x80 } else { (b[0] & 0x7f) | 1 };
                if len == 20 {
                    b[0] &= 0x7f;
                }
                let serial = Serial::from_be_bytes(&b[..len]).unwrap();
                // dates shared by runs of entries, some after 2049 (GeneralizedTime)
                let date = if i % 7 == 0 { 2_600_000_000 + (i / 50) as i64 } else { 1_700_000_000 + (i / 10) as i64 };
                let r = Revocation { serial, reason: reasons[i % reasons.len()], date };
                // each serial once (a second revocation may change the first one's reason)
                if !expected.iter().any(|e| e.serial == serial) {
                    ca.revoke(r).unwrap();
                    expected.push(r);
                }
            }
            // extras: one replacing a recorded entry, a new one given twice (the later wins)
            let mut extra = Vec::new();
            if let Some(first) = expected.first().copied() {
                extra.push(Revocation { serial: first.serial, reason: Reason::Superseded, date: 1_800_000_000 });
            }
            let wide = Serial::from_hex("0x0123456789abcdef0123456789abcdef01234567", "s").unwrap();
            extra.push(Revocation { serial: wide, reason: Reason::KeyCompromise, date: 1_700_000_123 });
            extra.push(Revocation { serial: wide, reason: Reason::Unspecified, date: 1_700_000_124 });
            let mut listed: Vec<Revocation> =
                expected.iter().filter(|e| !extra.iter().any(|x| x.serial == e.serial)).copied().collect();
            listed.extend_from_slice(&extra[..extra.len() - 2]);
            listed.push(extra[extra.len() - 1]);
            for opts in [CrlOptions::default(), CrlOptions { extra: extra.clone(), ..CrlOptions::default() }] {
                let with_extra = !opts.extra.is_empty();
                let der_out = generate(&mut ca, &opts).unwrap();
                assert!(X509Crl::from_der(&der_out).unwrap().verify(&X509::from_der(ca.cert_der()).unwrap().public_key().unwrap()).unwrap());
                let crl = der::parse_one(&der_out, "crl").unwrap();
                let mut c = crl.reader();
                let tbs = c.read("tbs").unwrap();
                let mut t = tbs.reader();
                let mut head = Vec::new();
                for _ in 0..5 {
                    head.extend_from_slice(t.read("head").unwrap().raw);
                }
                let entries: &[Revocation] = if with_extra { &listed } else { &expected };
                let mut old = Vec::new();
                der::sequence(&mut old, |o| {
                    o.extend_from_slice(&head);
                    if !entries.is_empty() {
                        der::sequence(o, |o| entries.iter().for_each(|r| old_entry(o, r)));
                        t.read("entries").unwrap();
                    }
                    o.extend_from_slice(t.read("extensions").unwrap().raw);
                });
                assert_eq!(old, tbs.raw, "{count} entries, extras {with_extra}");
                let pem_out = generate_pem(&mut ca, &opts).unwrap();
                let reread = X509Crl::from_pem(pem_out.as_bytes()).unwrap();
                assert_eq!(reread.get_revoked().map_or(0, |r| r.len()), entries.len());
            }
        }
    }
}

//! The floors of the benchmark (issue 7): what raw OpenSSL needs for each
//! operation of `bench/run.janet`, on the same library and machine.
//!
//!     cargo run --release --example bench_floor -- [options] [op[=iters] ...]
//!
//! The floors are the least raw OpenSSL needs, done the way a careful caller
//! would: EC groups are created once, the CA key and the CSR's public key are
//! decoded once (the CSR key's export to OpenSSL 3's provider is then cached),
//! signatures go through EVP_DigestSign* as the openssl crate's Signer does.
//!
//! `op=I` runs I iterations per round, `op=IxR` also overrides the rounds for that
//! operation (e.g. `issue-rsa-2048=1x15`: the median of 15 single key generations).
//!
//! Options:
//!   --serve        read lines `<op> <calls>` on stdin and answer each with the seconds
//!                  those calls took (short operations only); bench/run.janet pairs
//!                  these batches with its own
//!   --rounds N     rounds per operation; the median round is printed (default 5)
//!   --csr PATH     the P-256 CSR (PEM) to verify for `sign-csr` (default: one made here)
//!   --list         print the operation names and exit
//!   --dump DIR     also write DIR/crl-N.der, DIR/ocsp-request.der, DIR/ocsp-request-160.der and DIR/ca.der (the signing
//!                  key's public key, SPKI DER) so the floors' outputs can be checked with openssl
//!
//! Operations (default: all, with the iteration counts below):
//!   issue-ec-p256   P-256 keygen + one ECDSA-SHA256 signature over 600 bytes by a P-256 CA key
//!   issue-ec-p384   P-384 keygen + one signature by the P-256 CA key (ECDSA-SHA256), which is
//!                   what the benchmark's (:issue ca {:key-type :ec-p384}) does: its CA is P-256
//!   issue-ec-p521   P-521 keygen + one signature by the P-256 CA key
//!   issue-rsa-2048  RSA-2048 keygen + one signature by the P-256 CA key
//!   issue-rsa-3072  RSA-3072 keygen + one signature by the P-256 CA key
//!   issue-ed25519   Ed25519 keygen + one signature by the P-256 CA key
//!   issue-ml-dsa-44, -65, -87 (not in the default set) ML-DSA keygen (EVP) + one ML-DSA signature of
//!                   the same set by a CA key of that set, over 600 bytes and the new public key
//!   issue-ec-p256-encoded (not in the default set) issue-ec-p256 with the new key's public
//!                   point read out as bytes (its affine conversion, which OpenSSL defers)
//!   issue-ec-p384-ca384   (not in the default set) P-384 keygen + one ECDSA-SHA384 signature by
//!                   a P-384 CA key: the floor of a P-384 hierarchy
//!   issue-rsa-2048-carsa  (not in the default set) RSA-2048 keygen + one RSA-SHA256 (PKCS#1 v1.5)
//!                   signature by an RSA-2048 CA key
//!   sign-csr        verify the CSR's P-256 signature (key decoded once) + one P-256 signature
//!                   over 600 bytes
//!   ocsp-sign       one P-256 signature over 250 bytes (an OCSP ResponseData)
//!   ocsp-parse      what ca/parse-ocsp-request returns, from a one-request OCSP request with
//!                   a nonce (serial 4242): d2i_OCSP_REQUEST, then every field read out with
//!                   OpenSSL's accessors and copied (both issuer hashes, the hash algorithm,
//!                   the serial as an i64 or its hex, the nonce's octets), the request freed
//!   ocsp-parse-160  the same for a 160-bit serial (20 octets, top bit clear: what `openssl
//!                   x509 -req` and most CAs' random serials are)
//!   ocsp-parse-d2i, ocsp-parse-160-d2i (not in the default set) d2i_OCSP_REQUEST alone, no
//!                   field read (the floor of the same rows before issue 25's second round)
//!   part-*          (not in the default set) pieces of the module's work, to rank fixes:
//!                   part-keygen-p256, part-spki-der, part-pkcs8-pem, part-point-bytes,
//!                   part-sign-evp, part-sign-ecdsa-do, part-verify-evp-fresh,
//!                   part-verify-ecdsa-do-fresh
//!   crl-N           what :generate-crl returns: DER-encode N entries SEQUENCE { INTEGER serial,
//!                   UTCTime } (serials 1..N; their one date encoded once, as the module encodes
//!                   a date once for a run of entries of the same second), wrap them, SHA-256 +
//!                   one P-256 signature over the whole, then the PEM of it (OpenSSL's
//!                   EVP_EncodeBlock, 48 bytes a line, into one buffer of its exact size);
//!                   N = 10000, 100000, 1000000 by default, any N accepted
//!   crl-der-N       the same without the PEM (the DER alone; information: the API returns PEM)
//!
//! Output: first `floor-openssl <version text>` (the OpenSSL linked: the same
//! as the module's with the same cargo features); per operation `floor <name> <seconds-per-op>`, the median over the
//! rounds, and `floor-p25` / `floor-p75` lines with the quartiles of the rounds;
//! for CRLs also `floor-bytes crl-N <DER bytes of the entries>`.

use std::hint::black_box;
use std::time::Instant;

use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::ocsp::OcspRequest;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};
use openssl::x509::{X509NameBuilder, X509Req};

const DEFAULT_OPS: &[(&str, u32)] = &[
    ("issue-ec-p256", 400),
    ("issue-ec-p384", 150),
    ("issue-ec-p521", 100),
    ("issue-rsa-2048", 1),
    ("issue-rsa-3072", 1),
    ("issue-ed25519", 400),
    ("sign-csr", 400),
    ("ocsp-sign", 800),
    ("ocsp-parse", 5000),
    ("ocsp-parse-160", 5000),
    ("crl-10000", 40),
    ("crl-100000", 5),
    ("crl-1000000", 1),
];

/// The curve's group, created once (as jsec/ca does: creating a group costs a
/// fifth of a P-256 key generation in OpenSSL 3.0).
fn group(nid: Nid) -> &'static EcGroup {
    static P256: std::sync::OnceLock<EcGroup> = std::sync::OnceLock::new();
    static P384: std::sync::OnceLock<EcGroup> = std::sync::OnceLock::new();
    static P521: std::sync::OnceLock<EcGroup> = std::sync::OnceLock::new();
    let cell = match nid {
        Nid::X9_62_PRIME256V1 => &P256,
        Nid::SECP384R1 => &P384,
        Nid::SECP521R1 => &P521,
        _ => panic!("unsupported curve"),
    };
    cell.get_or_init(|| EcGroup::from_curve_name(nid).unwrap())
}

fn ec_key(nid: Nid) -> PKey<Private> {
    PKey::from_ec_key(EcKey::generate(group(nid)).unwrap()).unwrap()
}

/// One signature, the cheapest way raw OpenSSL offers: ECDSA directly on the
/// EC key (EVP's per-call setup adds ~20%), EVP for RSA.
fn sign(key: &PKey<Private>, md: MessageDigest, data: &[u8]) -> Vec<u8> {
    if key.id() == openssl::pkey::Id::EC {
        let ec = key.ec_key().unwrap();
        let digest = openssl::hash::hash(md, data).unwrap();
        return openssl::ecdsa::EcdsaSig::sign(&digest, &ec).unwrap().to_der().unwrap();
    }
    let mut s = Signer::new(md, key).unwrap();
    s.sign_oneshot_to_vec(data).unwrap()
}

// ------------------------------------------------------------------ DER, by hand

fn push_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Wraps `out[start..]` in a TLV with `tag` (content appended first, header inserted after).
fn wrap(out: &mut Vec<u8>, start: usize, tag: u8) {
    let len = out.len() - start;
    let mut hdr = [0u8; 10];
    let mut h = Vec::with_capacity(10);
    h.push(tag);
    push_len(&mut h, len);
    hdr[..h.len()].copy_from_slice(&h);
    out.splice(start..start, hdr[..h.len()].iter().copied());
}

fn push_uint(out: &mut Vec<u8>, v: u64) {
    let bytes = v.to_be_bytes();
    let mut skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    if bytes[skip] & 0x80 != 0 {
        skip -= 1; // keep a leading zero: INTEGER is signed
        out.push(0x02);
        out.push((8 - skip) as u8);
        out.push(0);
        out.extend_from_slice(&bytes[skip + 1..]);
        return;
    }
    out.push(0x02);
    out.push((8 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// UTCTime YYMMDDHHMMSSZ of Unix seconds `t` (civil-from-days, Howard Hinnant).
fn push_utctime(out: &mut Vec<u8>, t: i64) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let two = |v: i64| [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8];
    out.push(0x17);
    out.push(13);
    for v in [y % 100, m, d, secs / 3600, secs / 60 % 60, secs % 60] {
        out.extend_from_slice(&two(v));
    }
    out.push(b'Z');
}

/// One CRL entry: SEQUENCE { INTEGER serial, UTCTime date } (short form
/// length: < 128 bytes), the date already encoded: the entries share it, and
/// the module encodes a date once for a run of entries of the same second.
fn push_entry(out: &mut Vec<u8>, serial: u64, date: &[u8]) {
    out.push(0x30);
    let len_at = out.len();
    out.push(0);
    push_uint(out, serial);
    out.extend_from_slice(date);
    out[len_at] = (out.len() - len_at - 1) as u8;
}

fn len_of_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else {
        1 + (usize::BITS as usize / 8 - n.leading_zeros() as usize / 8)
    }
}

fn uint_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    bits / 8 + 1 // one more byte when the top bit of the top byte is set (sign); 1 byte for 0
}

/// The CRL floor: sizes computed first, then the whole CRL written once into
/// one buffer (no copies, no header splicing): version, algorithm, issuer, two
/// times, the entries, extensions (authority key id, CRL number); then SHA-256 and
/// one P-256 signature over the TBSCertList. Returns (entry bytes, CRL DER).
fn crl_floor(n: u64, key: &PKey<Private>, issuer: &[u8], now: i64) -> (usize, Vec<u8>) {
    const ALG: &[u8] = &[0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    // [0] { SEQUENCE { authorityKeyIdentifier (a 20-byte key id), cRLNumber 1 } }
    const EXTS: &[u8] = &[
        0xa0, 0x2f, 0x30, 0x2d, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0x33,
        0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
        0x33, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x14, 0x04, 0x03, 0x02, 0x01, 0x01,
    ];
    let entries_len: usize = (1..=n).map(|s| 2 + 2 + uint_len(s) + 15).sum();
    let list_len = 1 + len_of_len(entries_len) + entries_len;
    let tbs_content = 3 + ALG.len() + issuer.len() + 15 + 15 + list_len + EXTS.len();
    let tbs_len = 1 + len_of_len(tbs_content) + tbs_content;
    const SLACK: usize = 8; // room for the outer SEQUENCE header, written after signing
    let mut out = Vec::with_capacity(SLACK + tbs_len + ALG.len() + 80);
    out.resize(SLACK, 0);
    out.push(0x30);
    push_len(&mut out, tbs_content);
    out.extend_from_slice(&[0x02, 0x01, 0x01]); // v2
    out.extend_from_slice(ALG);
    out.extend_from_slice(issuer);
    push_utctime(&mut out, now);
    push_utctime(&mut out, now + 30 * 86_400);
    out.push(0x30);
    push_len(&mut out, entries_len);
    let mut date = Vec::with_capacity(15);
    push_utctime(&mut date, now);
    for serial in 1..=n {
        push_entry(&mut out, serial, &date);
    }
    out.extend_from_slice(EXTS);
    debug_assert_eq!(out.len(), SLACK + tbs_len);
    let sig = sign(key, MessageDigest::sha256(), &out[SLACK..]);
    let mut tail = Vec::with_capacity(ALG.len() + sig.len() + 8);
    tail.extend_from_slice(ALG);
    tail.push(0x03);
    push_len(&mut tail, sig.len() + 1);
    tail.push(0);
    tail.extend_from_slice(&sig);
    out.extend_from_slice(&tail);
    let mut hdr = vec![0x30];
    push_len(&mut hdr, tbs_len + tail.len());
    let start = SLACK - hdr.len();
    out[start..SLACK].copy_from_slice(&hdr);
    // The CRL is out[start..]; handing back the buffer as is avoids a copy.
    (entries_len, out)
}

/// The PEM of `der` as `:generate-crl` returns it: `-----BEGIN label-----`,
/// OpenSSL's base64 (EVP_EncodeBlock) of 48 bytes a line, `-----END label-----`,
/// each line ending in "\n", written into one buffer of its exact size.
fn pem_floor(label: &str, der: &[u8]) -> Vec<u8> {
    let chars = der.len().div_ceil(3) * 4;
    let len = 2 * label.len() + 11 + 6 + 9 + 6 + chars + chars.div_ceil(64);
    let mut out = Vec::with_capacity(len + 1); // EVP_EncodeBlock also writes a NUL after its output
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    for line in der.chunks(48) {
        let at = out.len();
        // SAFETY: `out` has room for this line's 64 characters and the NUL (capacity len + 1);
        // EVP_EncodeBlock writes exactly 4 * ceil(n / 3) characters and a NUL.
        unsafe {
            let n = openssl_sys::EVP_EncodeBlock(out.as_mut_ptr().add(at), line.as_ptr(), line.len() as i32);
            out.set_len(at + n as usize);
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    debug_assert_eq!(out.len(), len);
    out
}

/// crl-N: the CRL's DER, then its PEM (what the module returns).
fn crl_pem_floor(n: u64, key: &PKey<Private>, issuer: &[u8], now: i64) -> Vec<u8> {
    let (_, crl) = crl_floor(n, key, issuer, now);
    let start = crl.iter().position(|b| *b == 0x30).unwrap_or(0);
    pem_floor("X509 CRL", &crl[start..])
}

/// The CRL floor's issuer name: SEQUENCE { SET { SEQUENCE { OID CN, UTF8String "Bench CA" } } }
const CRL_ISSUER: &[u8] = &[
    0x30, 0x13, 0x31, 0x11, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x08, b'B', b'e', b'n', b'c', b'h', b' ',
    b'C', b'A',
];

/// `crl-N` as one call of an operation, for the paired floors (`--serve` and
/// bench/floor_lib.rs): N entries' CRL, then its PEM. None for other names.
pub(crate) fn crl_op<'a>(name: &str, inp: &'a Inputs) -> Option<Box<dyn FnMut() + 'a>> {
    let n: u64 = name.strip_prefix("crl-")?.parse().ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(Box::new(move || {
        black_box(crl_pem_floor(n, &inp.ca_key, CRL_ISSUER, now));
    }))
}

// ------------------------------------------------------------------ inputs

/// (DER of the to-be-signed part, DER signature) of a PKCS#10 request's outer SEQUENCE.
fn split_signed(der: &[u8]) -> (&[u8], Vec<u8>) {
    fn tlv(d: &[u8]) -> (usize, usize) {
        // (header length, content length)
        let b = d[1] as usize;
        if b < 0x80 {
            (2, b)
        } else {
            let n = b & 0x7f;
            let len = d[2..2 + n].iter().fold(0usize, |a, x| a << 8 | *x as usize);
            (2 + n, len)
        }
    }
    let (h, _) = tlv(der);
    let body = &der[h..];
    let (th, tl) = tlv(body);
    let tbs = &body[..th + tl];
    let rest = &body[th + tl..];
    let (ah, al) = tlv(rest);
    let sig = &rest[ah + al..];
    let (sh, sl) = tlv(sig);
    (tbs, sig[sh + 1..sh + sl].to_vec())
}

fn make_csr() -> Vec<u8> {
    let key = ec_key(Nid::X9_62_PRIME256V1);
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "bench.example").unwrap();
    let mut b = X509Req::builder().unwrap();
    b.set_subject_name(&name.build()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.sign(&key, MessageDigest::sha256()).unwrap();
    b.build().to_pem().unwrap()
}

/// The serial of `ocsp-parse-160`: 20 octets, top bit clear.
const SERIAL_160: [u8; 20] = [
    0x5a, 0x3c, 0x1f, 0x0e, 0x9d, 0x8b, 0x7a, 0x69, 0x58, 0x47, 0x36, 0x25, 0x14, 0xf3, 0xe2, 0xd1, 0xc0, 0xb0, 0xa0, 0x90,
];

/// A DER OCSPRequest as `openssl ocsp -reqout` writes it: one CertID (SHA-1)
/// for serial 4242, or for [`SERIAL_160`] when `wide`, and a nonce extension.
fn make_ocsp_request(wide: bool) -> Vec<u8> {
    let mut certid = Vec::new();
    certid.extend_from_slice(&[0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00]);
    certid.extend_from_slice(&[0x04, 0x14]);
    certid.extend_from_slice(&[0x11; 20]);
    certid.extend_from_slice(&[0x04, 0x14]);
    certid.extend_from_slice(&[0x22; 20]);
    if wide {
        certid.extend_from_slice(&[0x02, 20]);
        certid.extend_from_slice(&SERIAL_160);
    } else {
        push_uint(&mut certid, 4242);
    }
    wrap(&mut certid, 0, 0x30); // CertID
    wrap(&mut certid, 0, 0x30); // Request
    wrap(&mut certid, 0, 0x30); // requestList
    let mut ext = vec![0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02];
    let mut nonce = vec![0x04, 0x10];
    nonce.extend_from_slice(&[0x5a; 16]);
    ext.push(0x04);
    push_len(&mut ext, nonce.len());
    ext.extend_from_slice(&nonce);
    wrap(&mut ext, 0, 0x30); // Extension
    wrap(&mut ext, 0, 0x30); // Extensions
    wrap(&mut ext, 0, 0xa2); // [2] requestExtensions
    let mut tbs = certid;
    tbs.extend_from_slice(&ext);
    wrap(&mut tbs, 0, 0x30); // TBSRequest
    wrap(&mut tbs, 0, 0x30); // OCSPRequest
    tbs
}

// ------------------------------------------------------------------ timing

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Quartile `q` (0.25, 0.75) of sorted `v`, linearly interpolated.
fn quartile(v: &[f64], q: f64) -> f64 {
    let x = q * (v.len() - 1) as f64;
    let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
}

thread_local! {
    /// (p25, p75) of the rounds of the last `measure`.
    static SPREAD: std::cell::Cell<(f64, f64)> = const { std::cell::Cell::new((0.0, 0.0)) };
}

/// Median seconds per op over `rounds` rounds of `iters` calls of `f` (after one warm-up call).
fn measure(rounds: u32, iters: u32, mut f: impl FnMut()) -> f64 {
    f();
    let mut per_round: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() / f64::from(iters)
        })
        .collect();
    per_round.sort_by(|a, b| a.partial_cmp(b).unwrap());
    SPREAD.with(|s| s.set((quartile(&per_round, 0.25), quartile(&per_round, 0.75))));
    median(per_round)
}

/// What one call of a short operation does, built once (its setup outside the
/// closure): measured in rounds by `main`, or batch by batch in `--serve` mode.
/// None for the operations measured their own way (CRLs, parts).
pub(crate) fn short_op<'a>(name: &str, inp: &'a Inputs) -> Option<Box<dyn FnMut() + 'a>> {
    let (ca_key, tbs600, tbs250) = (&inp.ca_key, &inp.tbs600, &inp.tbs250);
    let f: Box<dyn FnMut() + 'a> = match name {
        "issue-ec-p256" => Box::new(|| {
            let k = ec_key(Nid::X9_62_PRIME256V1);
            black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
            black_box(k);
        }),
        // Not in the default set: keygen with its public key read out as bytes (the
        // point's affine conversion, which every use of a new EC key needs and
        // OpenSSL defers until asked), plus the signature.
        "issue-ec-p256-encoded" => {
            let mut ctx = openssl::bn::BigNumContext::new().unwrap();
            Box::new(move || {
                let k = ec_key(Nid::X9_62_PRIME256V1);
                let ec = k.ec_key().unwrap();
                let form = openssl::ec::PointConversionForm::UNCOMPRESSED;
                black_box(ec.public_key().to_bytes(group(Nid::X9_62_PRIME256V1), form, &mut ctx).unwrap());
                black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
                black_box(k);
            })
        }
        "issue-ec-p384" => Box::new(|| {
            let k = ec_key(Nid::SECP384R1);
            black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
            black_box(k);
        }),
        "issue-ec-p521" => Box::new(|| {
            let k = ec_key(Nid::SECP521R1);
            black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
            black_box(k);
        }),
        "issue-rsa-2048" | "issue-rsa-3072" => {
            let bits = if name == "issue-rsa-2048" { 2048 } else { 3072 };
            Box::new(move || {
                let k = PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap();
                black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
                black_box(k);
            })
        }
        // ML-DSA (issue 23): OpenSSL's EVP keygen of the leaf, then one pure
        // ML-DSA signature by a CA key of the same set over a TBS carrying the
        // new key (as the module's certificate does).
        "issue-ml-dsa-44" | "issue-ml-dsa-65" | "issue-ml-dsa-87" => {
            let set: &std::ffi::CStr = match name {
                "issue-ml-dsa-44" => c"ML-DSA-44",
                "issue-ml-dsa-65" => c"ML-DSA-65",
                _ => c"ML-DSA-87",
            };
            let ca = jsec_ca::core::ml_dsa::generate(set).unwrap();
            Box::new(move || {
                let k = jsec_ca::core::ml_dsa::generate(set).unwrap();
                let mut tbs = tbs600.clone();
                tbs.extend_from_slice(&k.public_key_to_der().unwrap());
                let mut s = Signer::new_without_digest(&ca).unwrap();
                black_box(s.sign_oneshot_to_vec(&tbs).unwrap());
                black_box(k);
            })
        }
        "issue-ed25519" => Box::new(|| {
            let k = PKey::generate_ed25519().unwrap();
            black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
            black_box(k);
        }),
        "issue-ec-p384-ca384" => {
            let ca384 = ec_key(Nid::SECP384R1);
            Box::new(move || {
                let k = ec_key(Nid::SECP384R1);
                black_box(sign(&ca384, MessageDigest::sha384(), tbs600));
                black_box(k);
            })
        }
        "issue-rsa-2048-carsa" => {
            let ca_rsa = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
            Box::new(move || {
                let k = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
                black_box(sign(&ca_rsa, MessageDigest::sha256(), tbs600));
                black_box(k);
            })
        }
        "sign-csr" => {
            let req = X509Req::from_pem(&inp.csr_pem).expect("a PEM CSR");
            let der = req.to_der().unwrap();
            let public: PKey<Public> = req.public_key().unwrap();
            let (tbs, sig) = split_signed(&der);
            let tbs = tbs.to_vec();
            // The cheapest raw verification: ECDSA directly on the key, decoded once.
            let ec = public.ec_key().ok();
            Box::new(move || {
                let ok = match &ec {
                    Some(ec) => {
                        let d = openssl::hash::hash(MessageDigest::sha256(), &tbs).unwrap();
                        openssl::ecdsa::EcdsaSig::from_der(&sig).unwrap().verify(&d, ec).unwrap()
                    }
                    None => Verifier::new(MessageDigest::sha256(), &public).unwrap().verify_oneshot(&sig, &tbs).unwrap(),
                };
                assert!(ok, "the CSR's signature must verify");
                black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
            })
        }
        "ocsp-sign" => Box::new(|| {
            black_box(sign(ca_key, MessageDigest::sha256(), tbs250));
        }),
        "ocsp-parse" | "ocsp-parse-160" => {
            let der = make_ocsp_request(name == "ocsp-parse-160");
            check_ocsp_fields(&ocsp_fields::read(&OcspRequest::from_der(&der).expect("the OCSP request parses")), name == "ocsp-parse-160");
            Box::new(move || {
                let req = OcspRequest::from_der(black_box(&der)).unwrap();
                black_box(ocsp_fields::read(&req));
            })
        }
        "ocsp-parse-d2i" | "ocsp-parse-160-d2i" => {
            let der = make_ocsp_request(name == "ocsp-parse-160-d2i");
            OcspRequest::from_der(&der).expect("the OCSP request parses");
            Box::new(move || {
                black_box(OcspRequest::from_der(black_box(&der)).unwrap());
            })
        }
        "part-keygen-p256" => Box::new(|| {
            black_box(ec_key(Nid::X9_62_PRIME256V1));
        }),
        "part-sign-evp" => Box::new(|| {
            black_box(sign(ca_key, MessageDigest::sha256(), tbs600));
        }),
        _ => return None,
    };
    Some(f)
}

/// The inputs every operation shares.
pub(crate) struct Inputs {
    ca_key: PKey<Private>,
    tbs600: Vec<u8>,
    tbs250: Vec<u8>,
    csr_pem: Vec<u8>,
}

impl Inputs {
    /// A new P-256 CA key, the messages signed, and the CSR (PEM; None: one made here).
    pub(crate) fn new(csr_pem: Option<Vec<u8>>) -> Inputs {
        Inputs {
            ca_key: ec_key(Nid::X9_62_PRIME256V1),
            tbs600: vec![0xa5u8; 600],
            tbs250: vec![0x5au8; 250],
            csr_pem: csr_pem.unwrap_or_else(make_csr),
        }
    }
}

/// `--serve`: reads lines `<operation> <calls>` on stdin, runs that many calls of
/// the operation and answers `<seconds>` on a line of its own, until stdin ends.
/// The benchmark alternates such batches with the module's own, a few
/// milliseconds each, so that both see the same machine: on a shared VM the
/// speed of the core moves by a third within seconds.
fn serve(inp: &Inputs) {
    use std::io::{BufRead, Write};
    let mut built: std::collections::HashMap<String, Box<dyn FnMut() + '_>> = std::collections::HashMap::new();
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("reading stdin");
        let Some((name, calls)) = line.trim().split_once(' ') else { continue };
        let calls: u32 = calls.parse().expect("calls must be a number");
        if !built.contains_key(name) {
            let mut f = short_op(name, inp)
                .or_else(|| crl_op(name, inp))
                .unwrap_or_else(|| panic!("--serve runs short operations and crl-N only, not {name}"));
            f(); // warm-up
            built.insert(name.to_string(), f);
        }
        let f = built.get_mut(name).expect("built above");
        let t = Instant::now();
        for _ in 0..calls {
            f();
        }
        let secs = t.elapsed().as_secs_f64();
        let mut out = stdout.lock();
        writeln!(out, "{secs:.9}").expect("writing stdout");
        out.flush().expect("writing stdout");
    }
}

fn main() {
    let mut rounds = 5u32;
    let mut csr_path: Option<String> = None;
    let mut dump: Option<String> = None;
    let mut serve_mode = false;
    let mut ops: Vec<(String, u32, Option<u32>)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|s| s.parse().ok()).expect("--rounds N"),
            "--csr" => csr_path = Some(args.next().expect("--csr PATH")),
            "--dump" => dump = Some(args.next().expect("--dump DIR")),
            "--serve" => serve_mode = true,
            "--list" => {
                for (n, i) in DEFAULT_OPS {
                    println!("{n} {i}");
                }
                return;
            }
            "-h" | "--help" => {
                eprintln!("usage: bench_floor [--rounds N] [--csr PATH] [--list] [op[=iters] ...]");
                return;
            }
            _ => {
                let (name, spec) = match a.split_once('=') {
                    Some((n, spec)) => (n.to_string(), Some(spec)),
                    None => (a.clone(), None),
                };
                let (iters, op_rounds) = match spec.map(|s| s.split_once('x').unwrap_or((s, ""))) {
                    Some((i, r)) => (
                        i.parse().expect("iterations must be a number"),
                        (!r.is_empty()).then(|| r.parse().expect("rounds must be a number")),
                    ),
                    None => (DEFAULT_OPS.iter().find(|(n, _)| *n == name).map(|(_, i)| *i).unwrap_or(1), None),
                };
                ops.push((name, iters, op_rounds));
            }
        }
    }
    if ops.is_empty() {
        ops = DEFAULT_OPS.iter().map(|(n, i)| (n.to_string(), *i, None)).collect();
    }

    println!("floor-openssl {}", openssl::version::version());
    let inp = Inputs::new(csr_path.map(|p| std::fs::read(p).expect("reading --csr")));
    if serve_mode {
        serve(&inp);
        return;
    }
    let ca_key = &inp.ca_key;
    let issuer = CRL_ISSUER;
    if let Some(dir) = &dump {
        std::fs::write(format!("{dir}/ca.der"), ca_key.public_key_to_der().unwrap()).unwrap();
        std::fs::write(format!("{dir}/ocsp-request.der"), make_ocsp_request(false)).unwrap();
        std::fs::write(format!("{dir}/ocsp-request-160.der"), make_ocsp_request(true)).unwrap();
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;

    for (name, iters, op_rounds) in &ops {
        let iters = (*iters).max(1);
        let rounds = op_rounds.unwrap_or(rounds).max(1);
        let short = short_op(name, &inp);
        let secs = match name.as_str() {
            _ if short.is_some() => measure(rounds, iters, short.unwrap()),
            n if n.starts_with("crl-") => {
                let der_only = n.starts_with("crl-der-");
                let count: u64 = n.trim_start_matches("crl-der-").trim_start_matches("crl-").parse().expect("crl-N: N must be a number");
                let (bytes, crl) = crl_floor(count, ca_key, issuer, now);
                if let Some(dir) = &dump {
                    let start = crl.iter().position(|b| *b == 0x30).unwrap();
                    std::fs::write(format!("{dir}/{n}.der"), &crl[start..]).unwrap();
                }
                let s = if der_only {
                    measure(rounds, iters, || {
                        black_box(crl_floor(count, ca_key, issuer, now));
                    })
                } else {
                    println!("floor-pem-bytes {n} {}", crl_pem_floor(count, ca_key, issuer, now).len());
                    measure(rounds, iters, || {
                        black_box(crl_pem_floor(count, ca_key, issuer, now));
                    })
                };
                println!("floor-bytes {n} {bytes}");
                s
            }
            // ---- parts (not in the default set): what pieces of the module's work cost
            "part-spki-der" => {
                // i2d_PUBKEY of a freshly generated key (affine conversion included)
                let keys: Vec<_> = (0..iters + 1).map(|_| ec_key(Nid::X9_62_PRIME256V1)).collect();
                let mut i = 0;
                measure(1, iters, || {
                    black_box(keys[i % keys.len()].public_key_to_der().unwrap());
                    i += 1;
                })
            }
            "part-pkcs8-pem" => {
                let keys: Vec<_> = (0..iters + 1).map(|_| ec_key(Nid::X9_62_PRIME256V1)).collect();
                let mut i = 0;
                measure(1, iters, || {
                    black_box(keys[i % keys.len()].private_key_to_pem_pkcs8().unwrap());
                    i += 1;
                })
            }
            "part-point-bytes" => {
                // the uncompressed public point and the private scalar, once: enough to
                // hand-encode both the SPKI and the PKCS#8 (one affine conversion)
                let keys: Vec<_> = (0..iters + 1).map(|_| ec_key(Nid::X9_62_PRIME256V1)).collect();
                let group = group(Nid::X9_62_PRIME256V1);
                let mut ctx = openssl::bn::BigNumContext::new().unwrap();
                let mut i = 0;
                measure(1, iters, || {
                    let ec = keys[i % keys.len()].ec_key().unwrap();
                    let pt = ec
                        .public_key()
                        .to_bytes(group, openssl::ec::PointConversionForm::UNCOMPRESSED, &mut ctx)
                        .unwrap();
                    black_box((pt, ec.private_key().to_vec_padded(32).unwrap()));
                    i += 1;
                })
            }
            "part-sign-ecdsa-do" => {
                let ec = ca_key.ec_key().unwrap();
                measure(rounds, iters, || {
                    let d = openssl::hash::hash(MessageDigest::sha256(), &inp.tbs600).unwrap();
                    black_box(openssl::ecdsa::EcdsaSig::sign(&d, &ec).unwrap().to_der().unwrap());
                })
            }
            "part-verify-evp-fresh" | "part-verify-ecdsa-do-fresh" => {
                // the CSR's key rebuilt from its point every call (as the module does), then
                // verified through EVP (export to the provider each time) or ECDSA_do_verify
                let req = X509Req::from_pem(&inp.csr_pem).unwrap();
                let der = req.to_der().unwrap();
                let (tbs, sig) = split_signed(&der);
                let (tbs, sig) = (tbs.to_vec(), sig);
                let group = group(Nid::X9_62_PRIME256V1);
                let mut ctx = openssl::bn::BigNumContext::new().unwrap();
                let point = req
                    .public_key()
                    .unwrap()
                    .ec_key()
                    .unwrap()
                    .public_key()
                    .to_bytes(group, openssl::ec::PointConversionForm::UNCOMPRESSED, &mut ctx)
                    .unwrap();
                let evp = name == "part-verify-evp-fresh";
                measure(rounds, iters, || {
                    let p = openssl::ec::EcPoint::from_bytes(group, &point, &mut ctx).unwrap();
                    let ec = EcKey::from_public_key(group, &p).unwrap();
                    let ok = if evp {
                        let k = PKey::from_ec_key(ec).unwrap();
                        let mut v = Verifier::new(MessageDigest::sha256(), &k).unwrap();
                        v.verify_oneshot(&sig, &tbs).unwrap()
                    } else {
                        let d = openssl::hash::hash(MessageDigest::sha256(), &tbs).unwrap();
                        let s = openssl::ecdsa::EcdsaSig::from_der(&sig).unwrap();
                        // DER must be canonical, as EVP's verify requires
                        s.to_der().unwrap() == sig && s.verify(&d, &ec).unwrap()
                    };
                    assert!(ok);
                })
            }
            other => {
                eprintln!("bench_floor: unknown operation {other:?}; --list shows them");
                std::process::exit(2);
            }
        };
        println!("floor {name} {secs:.9}");
        let (p25, p75) = SPREAD.with(|s| s.get());
        println!("floor-p25 {name} {p25:.9}");
        println!("floor-p75 {name} {p75:.9}");
    }
}

// ------------------------------------------------------------------ OCSP request fields

#[path = "ocsp_fields.rs"]
pub mod ocsp_fields;

/// Asserts that `f` holds what `make_ocsp_request(wide)` put in.
fn check_ocsp_fields(f: &ocsp_fields::Fields, wide: bool) {
    assert_eq!(f.requests.len(), 1, "one request");
    let r = &f.requests[0];
    assert!(r.hash == "sha1" && r.issuer_name_hash == [0x11; 20] && r.issuer_key_hash == [0x22; 20], "the CertID reads back");
    match &r.serial {
        ocsp_fields::Serial::Small(n) => assert!(!wide && *n == 4242, "the serial reads back"),
        ocsp_fields::Serial::Hex(h) => {
            let expected: String = SERIAL_160.iter().map(|b| format!("{b:02x}")).collect();
            assert!(wide && *h == format!("0x{expected}"), "the 160-bit serial reads back as hex");
        }
    }
    assert_eq!(f.nonce.as_deref(), Some(&[0x5a; 16][..]), "the nonce reads back");
}

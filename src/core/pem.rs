//! PEM armour: encoding by hand (64-column base64), decoding the first block
//! with the expected label, or accepting raw DER.

use openssl::base64;

use super::error::{CaError, CaResult};
use super::secret::Secret;

/// PEM of public DER (certificates, CRLs), written by [`armour_public`].
pub fn encode(label: &str, der: &[u8]) -> String {
    let len = armoured_len(label, der.len());
    let mut out = Vec::with_capacity(len);
    if armour_public(&mut out.spare_capacity_mut()[..len], label, der) {
        // SAFETY: armour_public returned true: it wrote every one of the first
        // `len` bytes of the spare capacity (at least `len`, reserved above).
        unsafe { out.set_len(len) };
    }
    // Only ASCII was written: the labels are ours, the rest is base64.
    String::from_utf8(out).unwrap_or_default()
}

/// PEM of secret DER (a private key), written straight into its one buffer,
/// sized up front so no reallocation leaves a copy behind.
pub fn encode_secret(label: &str, der: &Secret) -> Secret {
    let mut out = Vec::with_capacity(armoured_len(label, der.as_bytes().len()));
    armour(&mut out, label, der.as_bytes());
    Secret::new(out)
}

/// The standard base64 alphabet, on one 64-byte cache line: which character a
/// secret byte becomes does not show in which line is read.
#[repr(align(64))]
struct Alphabet([u8; 64]);
static ALPHABET: Alphabet = Alphabet(*b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

/// Bytes of the PEM block of `n` DER bytes: header, 64-column lines, footer.
pub fn armoured_len(label: &str, n: usize) -> usize {
    let chars = n.div_ceil(3) * 4;
    2 * label.len() + 11 + 6 + 9 + 6 + chars + chars.div_ceil(64)
}

/// Appends `-----BEGIN label-----`, the base64 of `der` in lines of 64
/// characters (48 bytes), and `-----END label-----`, each line ending in "\n".
fn armour(out: &mut Vec<u8>, label: &str, der: &[u8]) {
    let a = &ALPHABET.0;
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    let sextet = |v: u32, shift: u32| a[(v >> shift) as usize & 63];
    let mut lines = der.chunks_exact(48);
    for line in &mut lines {
        let mut text = [b'\n'; 65];
        for (g, d) in line.chunks_exact(3).zip(text.chunks_exact_mut(4)) {
            let v = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
            d.copy_from_slice(&[sextet(v, 18), sextet(v, 12), sextet(v, 6), sextet(v, 0)]);
        }
        out.extend_from_slice(&text);
    }
    let last = lines.remainder();
    if !last.is_empty() {
        let mut groups = last.chunks_exact(3);
        for g in &mut groups {
            let v = u32::from(g[0]) << 16 | u32::from(g[1]) << 8 | u32::from(g[2]);
            out.extend_from_slice(&[sextet(v, 18), sextet(v, 12), sextet(v, 6), sextet(v, 0)]);
        }
        match *groups.remainder() {
            [x] => out.extend_from_slice(&[sextet(u32::from(x) << 16, 18), sextet(u32::from(x) << 16, 12), b'=', b'=']),
            [x, y] => {
                let v = u32::from(x) << 16 | u32::from(y) << 8;
                out.extend_from_slice(&[sextet(v, 18), sextet(v, 12), sextet(v, 6), b'=']);
            }
            _ => {}
        }
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
}

/// Two base64 characters for every 12-bit value (the first in the low byte):
/// three DER bytes become four characters with two lookups. An 8 KiB table,
/// so which entry is read depends on the data: for public DER only (secrets
/// go through [`armour`], whose alphabet is one cache line).
static PAIRS: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = ALPHABET.0[i >> 6] as u16 | (ALPHABET.0[i & 63] as u16) << 8;
        i += 1;
    }
    t
};

/// The four characters of three bytes, in memory order.
#[inline(always)]
fn quad(b0: u8, b1: u8, b2: u8) -> [u8; 4] {
    let v = usize::from(b0) << 16 | usize::from(b1) << 8 | usize::from(b2);
    (u32::from(PAIRS[v >> 12]) | u32::from(PAIRS[v & 0xfff]) << 16).to_le_bytes()
}

/// Copies `src` into `dst`, which has its length.
#[inline(always)]
fn put(dst: &mut [std::mem::MaybeUninit<u8>], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
    }
}

/// The PEM block of public `der` (exactly what [`armour`] appends) into `out`,
/// which must be [`armoured_len`] bytes long: returns true when it was and
/// every byte of `out` is written, false (nothing written) otherwise.
pub fn armour_public(out: &mut [std::mem::MaybeUninit<u8>], label: &str, der: &[u8]) -> bool {
    if out.len() != armoured_len(label, der.len()) {
        return false;
    }
    let (begin, rest) = out.split_at_mut(11 + label.len() + 6);
    put(&mut begin[..11], b"-----BEGIN ");
    put(&mut begin[11..11 + label.len()], label.as_bytes());
    put(&mut begin[11 + label.len()..], b"-----\n");
    let full = der.len() / 48;
    let (body, rest) = rest.split_at_mut(full * 65);
    for (line, text) in der.chunks_exact(48).zip(body.chunks_exact_mut(65)) {
        for (g, d) in line.chunks_exact(3).zip(text.chunks_exact_mut(4)) {
            put(d, &quad(g[0], g[1], g[2]));
        }
        text[64].write(b'\n');
    }
    let last = &der[full * 48..];
    let tail_len = if last.is_empty() { 0 } else { last.len().div_ceil(3) * 4 + 1 };
    let (tail, end) = rest.split_at_mut(tail_len);
    if !last.is_empty() {
        let mut groups = last.chunks_exact(3);
        let mut at = 0;
        for g in &mut groups {
            put(&mut tail[at..at + 4], &quad(g[0], g[1], g[2]));
            at += 4;
        }
        match *groups.remainder() {
            [x] => {
                let q = quad(x, 0, 0);
                put(&mut tail[at..at + 4], &[q[0], q[1], b'=', b'=']);
                at += 4;
            }
            [x, y] => {
                let q = quad(x, y, 0);
                put(&mut tail[at..at + 4], &[q[0], q[1], q[2], b'=']);
                at += 4;
            }
            _ => {}
        }
        tail[at].write(b'\n');
    }
    // What is left is the footer, exactly (the length was checked above).
    put(&mut end[..9], b"-----END ");
    put(&mut end[9..9 + label.len()], label.as_bytes());
    put(&mut end[9 + label.len()..], b"-----\n");
    true
}

/// The DER inside the first PEM block labelled one of `labels`; or `data`
/// itself when it is not PEM (DER input).
fn decode<'a>(data: &'a [u8], labels: &[&str], what: &str) -> CaResult<std::borrow::Cow<'a, [u8]>> {
    let text = match std::str::from_utf8(data) {
        Ok(t) if t.contains("-----BEGIN") => t,
        _ if data.first() == Some(&0x30) => return Ok(std::borrow::Cow::Borrowed(data)),
        _ => return Err(CaError::parse(format!("{what} is neither PEM nor DER"))),
    };
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let Some(start) = text.find(&begin) else { continue };
        let body_start = start + begin.len();
        let Some(stop) = text[body_start..].find(&end) else {
            return Err(CaError::parse(format!("{what}: PEM block has no END line")));
        };
        let body: String = text[body_start..body_start + stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::decode_block(&body).map_err(|_| CaError::parse(format!("{what}: PEM body is not valid base64")))?;
        return Ok(std::borrow::Cow::Owned(der));
    }
    Err(CaError::parse(format!("{what}: no PEM block labelled {}", labels.join(" or "))))
}

pub fn certificate_der(data: &[u8]) -> CaResult<Vec<u8>> {
    decode(data, &["CERTIFICATE"], "certificate").map(|c| c.into_owned())
}

pub fn csr_der(data: &[u8]) -> CaResult<Vec<u8>> {
    decode(data, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "CSR").map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let der: Vec<u8> = (0..200u8).collect();
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let mut v = vec![0x30];
        v.extend(&der);
        assert_eq!(certificate_der(pem.as_bytes()).unwrap(), der);
        assert!(certificate_der(b"garbage").is_err());
        assert!(certificate_der(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err());
        assert!(csr_der(pem.as_bytes()).is_err());
    }

    /// The public encoder writes exactly the bytes of the one-cache-line
    /// encoder (the previous `encode`), at every length around the line and
    /// group boundaries and for random data up to a few lines, and longer.
    #[test]
    fn public_armour_equals_the_previous_encoder() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        let mut lengths: Vec<usize> = (0..700).collect();
        lengths.extend([4095, 4096, 4097, 48 * 1000, 48 * 1000 + 1, 48 * 1000 + 2, 100_003]);
        for label in ["X509 CRL", "CERTIFICATE", ""] {
            for &n in &lengths {
                let der: Vec<u8> = (0..n).map(|_| next()).collect();
                let mut old = Vec::new();
                armour(&mut old, label, &der);
                assert_eq!(encode(label, &der).as_bytes(), &old[..], "label {label:?} length {n}");
            }
        }
        // every byte value in every position of a group
        let der: Vec<u8> = (0..=255u8).flat_map(|b| [b, b.wrapping_mul(7), 255 - b]).collect();
        let mut old = Vec::new();
        armour(&mut old, "X", &der);
        assert_eq!(encode("X", &der).as_bytes(), &old[..]);
        // a buffer of the wrong length is refused and left alone
        let mut short = vec![std::mem::MaybeUninit::new(0u8); armoured_len("X", 10) - 1];
        assert!(!armour_public(&mut short, "X", &[0; 10]));
    }

    #[test]
    fn armour_matches_openssl_base64_at_every_length() {
        for n in 0..200usize {
            let der: Vec<u8> = (0..n).map(|i| (i * 37 + n) as u8).collect();
            let pem = encode("CERTIFICATE", &der);
            assert_eq!(pem.len(), armoured_len("CERTIFICATE", n), "length {n}");
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            assert_eq!(body, base64::encode_block(&der), "length {n}");
            assert!(pem.lines().all(|l| l.len() <= 64));
            assert_eq!(encode_secret("PRIVATE KEY", &Secret::new(der.clone())).as_bytes().len(), armoured_len("PRIVATE KEY", n));
            if n > 0 {
                assert_eq!(certificate_der(pem.as_bytes()).unwrap(), der);
            }
        }
    }
}

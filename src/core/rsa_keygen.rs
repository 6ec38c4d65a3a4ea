//! RSA key generation with the two primes searched for at once, on two
//! threads, and the key built from its components.
//!
//! The primes are random probable primes as FIPS 186-5 appendix A.1.3 asks
//! (the method OpenSSL's `BN_generate_prime_ex` implements), with its checks:
//! - p and q have nlen/2 bits with the top two set, so p, q > √2 · 2^(nlen/2 − 1)
//!   and n = pq has exactly nlen bits;
//! - e = 65537, gcd(e, p − 1) = gcd(e, q − 1) = 1;
//! - |p − q| > 2^(nlen/2 − 100);
//! - d = e⁻¹ mod lcm(p − 1, q − 1), with 2^(nlen/2) < d (d < lcm by construction).
//!
//! Each prime costs a search plus OpenSSL's Miller-Rabin rounds (64 for these
//! sizes), so one prime per thread about halves the time of a key. The worker
//! thread runs OpenSSL only: no Janet value crosses to it. Secret numbers live
//! in OpenSSL's secure heap when it has one, are cleared when freed, and are
//! marked for OpenSSL's constant-time code paths.

use std::thread;

use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::error::ErrorStack;
use openssl::pkey::Private;
use openssl::rsa::Rsa;

use super::error::{CaError, CaResult, SslContext};

/// The public exponent: F4.
const E: u32 = 65537;

/// A new RSA key of `bits` bits (2048, 3072 or 4096: even, at least 1024).
pub fn generate(bits: u32) -> CaResult<Rsa<Private>> {
    let half = i32::try_from(bits / 2).map_err(|_| CaError::param("RSA key size out of range"))?;
    if bits % 2 != 0 || half < 512 {
        return Err(CaError::param("RSA key size must be even and at least 1024 bits"));
    }
    loop {
        let (p, q) = two_primes(half)?;
        if let Some(key) = from_primes(p, q, half).ssl("building the RSA key")? {
            return Ok(key);
        }
        // |p - q| or d too small: chance about 2^-100 each; draw both again.
    }
}

/// Two primes of `bits` bits with gcd(e, x - 1) = 1, one found on a worker
/// thread while this thread finds the other. Without a thread (the system
/// refuses one), both here.
fn two_primes(bits: i32) -> CaResult<(BigNum, BigNum)> {
    thread::scope(|scope| {
        let worker = thread::Builder::new()
            .name("jsec-ca rsa prime".into())
            .spawn_scoped(scope, || prime(bits));
        let mine = prime(bits).ssl("generating an RSA prime")?;
        let other = match worker {
            Ok(handle) => match handle.join() {
                Ok(Ok(p)) => p,
                Ok(Err(errors)) => return Err(CaError::ssl("generating an RSA prime", errors)),
                Err(_) => return Err(CaError::resource("the RSA prime search thread failed")),
            },
            Err(_) => prime(bits).ssl("generating an RSA prime")?,
        };
        Ok((mine, other))
    })
}

/// A random probable prime of `bits` bits (top two bits set) with
/// gcd(e, p - 1) = 1.
fn prime(bits: i32) -> Result<BigNum, ErrorStack> {
    let mut ctx = BigNumContext::new_secure()?;
    let e = BigNum::from_u32(E)?;
    let one = BigNum::from_u32(1)?;
    let mut p_minus_1 = BigNum::new_secure()?;
    let mut g = BigNum::new_secure()?;
    loop {
        let mut p = BigNum::new_secure()?;
        p.set_const_time();
        p.generate_prime(bits, false, None, None)?;
        p_minus_1.checked_sub(&p, &one)?;
        p_minus_1.set_const_time();
        g.gcd(&p_minus_1, &e, &mut ctx)?;
        if is_one(&g) {
            return Ok(p);
        }
    }
}

/// The key of primes p and q (`half` bits each), or None when the pair fails
/// the |p - q| or the size-of-d check.
fn from_primes(p: BigNum, q: BigNum, half: i32) -> Result<Option<Rsa<Private>>, ErrorStack> {
    let mut ctx = BigNumContext::new_secure()?;
    let one = BigNum::from_u32(1)?;
    // p > q, as OpenSSL orders them (the CRT coefficient is q^-1 mod p).
    let (mut p, mut q) = if p.ucmp(&q).is_lt() { (q, p) } else { (p, q) };
    p.set_const_time();
    q.set_const_time();

    let mut diff = BigNum::new_secure()?;
    diff.checked_sub(&p, &q)?;
    if diff.num_bits() <= half - 100 {
        return Ok(None); // |p - q| <= 2^(half - 100)
    }

    let mut p1 = BigNum::new_secure()?;
    p1.checked_sub(&p, &one)?;
    p1.set_const_time();
    let mut q1 = BigNum::new_secure()?;
    q1.checked_sub(&q, &one)?;
    q1.set_const_time();

    // lcm(p - 1, q - 1) = (p - 1)(q - 1) / gcd(p - 1, q - 1)
    let mut g = BigNum::new_secure()?;
    g.gcd(&p1, &q1, &mut ctx)?;
    let mut phi = BigNum::new_secure()?;
    phi.checked_mul(&p1, &q1, &mut ctx)?;
    let mut lcm = BigNum::new_secure()?;
    lcm.checked_div(&phi, &g, &mut ctx)?;
    lcm.set_const_time();

    let e = BigNum::from_u32(E)?;
    let mut d = BigNum::new_secure()?;
    d.set_const_time();
    d.mod_inverse(&e, &lcm, &mut ctx)?;
    if d.num_bits() <= half {
        return Ok(None); // d <= 2^(nlen/2)
    }

    let mut dmp1 = BigNum::new_secure()?;
    dmp1.nnmod(&d, &p1, &mut ctx)?;
    let mut dmq1 = BigNum::new_secure()?;
    dmq1.nnmod(&d, &q1, &mut ctx)?;
    let mut iqmp = BigNum::new_secure()?;
    iqmp.mod_inverse(&q, &p, &mut ctx)?;

    let mut n = BigNum::new()?;
    n.checked_mul(&p, &q, &mut ctx)?;
    Rsa::from_private_components(n, e, d, p, q, dmp1, dmq1, iqmp).map(Some)
}

/// Whether a non-negative number is 1 (the only one with exactly one bit).
fn is_one(x: &BigNumRef) -> bool {
    x.num_bits() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn equals(a: &BigNumRef, b: &BigNumRef) -> bool {
        a.ucmp(b).is_eq() && a.is_negative() == b.is_negative()
    }

    /// Every FIPS 186-5 A.1.3 condition, on the key's own components.
    fn check_fips(key: &Rsa<Private>, bits: i32) {
        let mut ctx = BigNumContext::new().unwrap();
        let one = BigNum::from_u32(1).unwrap();
        let (p, q, n, e, d) = (key.p().unwrap(), key.q().unwrap(), key.n(), key.e(), key.d());
        assert_eq!(n.num_bits(), bits);
        assert!(equals(e, &BigNum::from_u32(E).unwrap()));
        let half = bits / 2;
        // p, q >= sqrt(2) * 2^(half - 1): the top two bits set
        for x in [p, q] {
            assert_eq!(x.num_bits(), half);
            assert!(x.is_bit_set(half - 2));
            assert!(x.is_prime(64, &mut ctx).unwrap());
        }
        let mut n2 = BigNum::new().unwrap();
        n2.checked_mul(p, q, &mut ctx).unwrap();
        assert!(equals(&n2, n));
        let mut diff = BigNum::new().unwrap();
        diff.checked_sub(p, q).unwrap();
        assert!(diff.num_bits() > half - 100);
        let mut p1 = BigNum::new().unwrap();
        p1.checked_sub(p, &one).unwrap();
        let mut q1 = BigNum::new().unwrap();
        q1.checked_sub(q, &one).unwrap();
        let mut g = BigNum::new().unwrap();
        g.gcd(e, &p1, &mut ctx).unwrap();
        assert!(equals(&g, &one));
        g.gcd(e, &q1, &mut ctx).unwrap();
        assert!(equals(&g, &one));
        // e * d = 1 mod lcm(p - 1, q - 1), and 2^half < d < lcm
        let mut gpq = BigNum::new().unwrap();
        gpq.gcd(&p1, &q1, &mut ctx).unwrap();
        let mut phi = BigNum::new().unwrap();
        phi.checked_mul(&p1, &q1, &mut ctx).unwrap();
        let mut lcm = BigNum::new().unwrap();
        lcm.checked_div(&phi, &gpq, &mut ctx).unwrap();
        let mut ed = BigNum::new().unwrap();
        ed.mod_mul(e, d, &lcm, &mut ctx).unwrap();
        assert!(equals(&ed, &one));
        assert!(d.num_bits() > half);
        assert!(d.ucmp(&lcm).is_lt());
        // OpenSSL's own consistency check (primality of p and q, n = pq, d, CRT values)
        assert!(key.check_key().unwrap());
    }

    #[test]
    fn keys_meet_fips_186_5() {
        for bits in [2048, 2048, 3072] {
            let key = generate(bits as u32).unwrap();
            check_fips(&key, bits);
        }
    }

    #[test]
    fn keys_sign_and_verify() {
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::sign::{Signer, Verifier};
        let key = PKey::from_rsa(generate(2048).unwrap()).unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
        let sig = s.sign_oneshot_to_vec(b"jsec-ca").unwrap();
        let mut v = Verifier::new(MessageDigest::sha256(), &key).unwrap();
        assert!(v.verify_oneshot(&sig, b"jsec-ca").unwrap());
    }

    #[test]
    fn odd_or_small_sizes_are_refused() {
        assert!(generate(2047).is_err());
        assert!(generate(512).is_err());
    }
}

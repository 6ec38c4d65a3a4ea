//! RSA key generation with the two primes searched for at once, on two
//! threads, and the key built from its components.
//!
//! The primes are random probable primes (FIPS 186-5 A.1.3), found by an
//! incremental sieved search from a random start, as OpenSSL's
//! `BN_generate_prime_ex` finds them, and tested with the Miller-Rabin rounds
//! of FIPS 186-5 Table B.1, as OpenSSL's own RSA key generation tests them.
//! (OpenSSL's public prime functions run at least 64 rounds on every prime,
//! which made a key cost 1.5x the CPU time of `RSA_generate_key_ex`; with
//! these rounds and a wider sieve a key costs about 0.55x.) The checks
//! FIPS 186-5 A.1.3 asks of p, q and d:
//! - p and q have nlen/2 bits with the top two set, so p, q > √2 · 2^(nlen/2 − 1)
//!   and n = pq has exactly nlen bits;
//! - e = 65537, gcd(e, p − 1) = gcd(e, q − 1) = 1;
//! - |p − q| > 2^(nlen/2 − 100);
//! - d = e⁻¹ mod lcm(p − 1, q − 1), with 2^(nlen/2) < d (d < lcm by construction).
//!
//! One prime per thread about halves the time of a key again when a second
//! core is free. The worker thread runs OpenSSL only: no Janet value crosses
//! to it. Secret numbers live in OpenSSL's secure heap when it has one, are
//! cleared when freed, and are marked for OpenSSL's constant-time code paths.

use std::thread;

use once_cell::sync::Lazy;
use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::error::ErrorStack;
use openssl::pkey::Private;
use openssl::rsa::Rsa;

use super::error::{CaError, CaResult, SslContext};
use super::secret::Secret;

/// The public exponent: F4.
const E: u32 = 65537;

/// Where the two primes of a key are searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimeSearch {
    /// One on a second thread while the calling thread finds the other: a
    /// key in about half the time when a core is free, for a caller that
    /// waits for it (`ca/issue`).
    TwoThreads,
    /// Both on the calling thread: the key takes one core and leaves the
    /// others to the rest of the process, for a key made beside a running
    /// event loop (`ca/issue-async`, whose concurrent calls use more cores).
    OneThread,
}

/// A new RSA key of `bits` bits (2048, 3072 or 4096: a multiple of 16, at
/// least 1024), its primes searched for on two threads.
pub fn generate(bits: u32) -> CaResult<Rsa<Private>> {
    generate_with(bits, PrimeSearch::TwoThreads)
}

/// As [`generate`], the primes searched for as `search` says.
pub fn generate_with(bits: u32, search: PrimeSearch) -> CaResult<Rsa<Private>> {
    let half = i32::try_from(bits / 2).map_err(|_| CaError::param("RSA key size out of range"))?;
    if bits % 16 != 0 || half < 512 {
        return Err(CaError::param("RSA key size must be a multiple of 16 and at least 1024 bits"));
    }
    loop {
        let (p, q) = match search {
            PrimeSearch::TwoThreads => two_primes(half)?,
            PrimeSearch::OneThread => {
                (prime(half).ssl("generating an RSA prime")?, prime(half).ssl("generating an RSA prime")?)
            }
        };
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

/// Odd primes for the sieve: the first 2048 (3 to 17,881). A 1024-bit
/// candidate that none of them divides is prime about one time in 8, against
/// one in 6 after the 128 that OpenSSL tries for that size: fewer
/// Miller-Rabin tests of composites, the bulk of the search.
const SIEVE_PRIMES: usize = 2048;

/// Odd candidates per sieve window: start, start + 2, ..., start + 2(SPAN - 1).
/// A window of 1024-bit numbers holds about 11 primes.
const SPAN: usize = 4096;

static SMALL_PRIMES: Lazy<Vec<u32>> = Lazy::new(|| {
    let limit = 18_000usize;
    let mut composite = vec![false; limit + 1];
    let mut primes = Vec::with_capacity(SIEVE_PRIMES);
    for i in 3..=limit {
        if composite[i] {
            continue;
        }
        if i % 2 == 1 {
            primes.push(i as u32);
            if primes.len() == SIEVE_PRIMES {
                break;
            }
        }
        let mut j = i * i;
        while j <= limit {
            composite[j] = true;
            j += i;
        }
    }
    primes
});

/// Miller-Rabin rounds for p and q, from FIPS 186-5 Table B.1 (error at most
/// 2^-100 for random candidates), as OpenSSL's own RSA key generation uses
/// them: 5 for a 2048-bit modulus, 4 from 3072 bits.
fn rounds(bits: i32) -> u32 {
    if bits * 2 >= 3072 {
        4
    } else {
        5
    }
}

/// A random probable prime of `bits` bits (a multiple of 8) with the top two
/// bits set and gcd(e, p - 1) = 1.
///
/// The search is incremental from a random odd start, as OpenSSL's
/// BN_generate_prime_ex does: a sieve window marks the candidates a small
/// prime divides and those with p = 1 mod e (e is prime, so these are the
/// ones with gcd(e, p - 1) > 1); the rest go to Miller-Rabin, `rounds(bits)`
/// rounds with random bases. The start comes from OpenSSL's private DRBG.
fn prime(bits: i32) -> Result<BigNum, ErrorStack> {
    let mut ctx = BigNumContext::new_secure()?;
    let e = BigNum::from_u32(E)?;
    let one = BigNum::from_u32(1)?;
    let mut bytes = Secret::new(vec![0u8; bits as usize / 8]);
    let mut start = BigNum::new_secure()?;
    let mut candidate = BigNum::new_secure()?;
    let mut p_minus_1 = BigNum::new_secure()?;
    let mut g = BigNum::new_secure()?;
    let mut composite = vec![false; SPAN];
    loop {
        openssl::rand::rand_priv_bytes(bytes.as_mut_bytes())?;
        start.copy_from_slice(bytes.as_bytes())?;
        start.set_bit(bits - 1)?;
        start.set_bit(bits - 2)?;
        start.set_bit(0)?;

        composite.fill(false);
        for &p in SMALL_PRIMES.iter() {
            // start + 2j = 0 (mod p)  <=>  j = -start / 2 (mod p); 1/2 = (p + 1) / 2
            let r = start.mod_word(p)?;
            let first = (u64::from(p) - r) % u64::from(p) * u64::from(p.div_ceil(2)) % u64::from(p);
            strike(&mut composite, first as usize, p as usize);
        }
        // start + 2j = 1 (mod e): p - 1 would be a multiple of e
        let r = start.mod_word(E)?;
        let first = (u64::from(E) + 1 - r) % u64::from(E) * u64::from(E.div_ceil(2)) % u64::from(E);
        strike(&mut composite, first as usize, E as usize);

        for (j, _) in composite.iter().enumerate().filter(|(_, c)| !**c) {
            let offset = BigNum::from_u32(2 * j as u32)?;
            candidate.checked_add(&start, &offset)?;
            if candidate.num_bits() != bits {
                break; // past 2^bits: draw a new start
            }
            if !miller_rabin(&candidate, rounds(bits), &mut ctx)? {
                continue;
            }
            p_minus_1.checked_sub(&candidate, &one)?;
            g.gcd(&p_minus_1, &e, &mut ctx)?;
            if is_one(&g) {
                return candidate.to_owned(); // BN_dup: in the secure heap too
            }
        }
    }
}

/// Marks first, first + step, ... in the sieve window.
fn strike(composite: &mut [bool], first: usize, step: usize) {
    let mut j = first;
    while j < composite.len() {
        composite[j] = true;
        j += step;
    }
}

/// Whether the odd w > 3 passes `rounds` rounds of Miller-Rabin with random
/// bases in [2, w - 2] (FIPS 186-5 B.3.1).
fn miller_rabin(w: &BigNumRef, rounds: u32, ctx: &mut BigNumContext) -> Result<bool, ErrorStack> {
    let one = BigNum::from_u32(1)?;
    let mut w1 = BigNum::new_secure()?;
    w1.checked_sub(w, &one)?;
    // w - 1 = 2^a * m, m odd
    let mut a = 0;
    while !w1.is_bit_set(a) {
        a += 1;
    }
    let mut m = BigNum::new_secure()?;
    m.rshift(&w1, a)?;
    m.set_const_time();
    let three = BigNum::from_u32(3)?;
    let mut w3 = BigNum::new()?;
    w3.checked_sub(w, &three)?;
    let mut b = BigNum::new_secure()?;
    let mut z = BigNum::new_secure()?;
    let mut t = BigNum::new_secure()?;
    'rounds: for _ in 0..rounds {
        w3.rand_range(&mut b)?;
        b.add_word(2)?;
        z.mod_exp(&b, &m, w, ctx)?;
        if is_one(&z) || z.ucmp(&w1).is_eq() {
            continue;
        }
        for _ in 1..a {
            t.mod_sqr(&z, w, ctx)?;
            std::mem::swap(&mut z, &mut t);
            if z.ucmp(&w1).is_eq() {
                continue 'rounds;
            }
            if is_one(&z) {
                return Ok(false);
            }
        }
        return Ok(false);
    }
    Ok(true)
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
    fn keys_of_one_thread_meet_fips_186_5() {
        for bits in [2048, 3072] {
            let key = generate_with(bits as u32, PrimeSearch::OneThread).unwrap();
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
    fn sieve_primes() {
        assert_eq!(SMALL_PRIMES.len(), SIEVE_PRIMES);
        assert_eq!(&SMALL_PRIMES[..6], &[3, 5, 7, 11, 13, 17]);
        assert_eq!(SMALL_PRIMES.last(), Some(&17881));
    }

    #[test]
    fn miller_rabin_tells_primes_from_composites() {
        let mut ctx = BigNumContext::new().unwrap();
        let n = |s: &str| BigNum::from_dec_str(s).unwrap();
        // 2^127 - 1, 2^521 - 1 and 2^607 - 1 are prime
        let m127 = n("170141183460469231731687303715884105727");
        let mut m521 = BigNum::new().unwrap();
        m521.lshift(&BigNum::from_u32(1).unwrap(), 521).unwrap();
        m521.sub_word(1).unwrap();
        for p in [&m127, &m521, &n("65537"), &n("17881")] {
            assert!(miller_rabin(p, 40, &mut ctx).unwrap());
        }
        // Carmichael numbers, a strong pseudoprime to bases 2, 3, 5, 7, and a semiprime
        let mut semi = BigNum::new().unwrap();
        semi.checked_mul(&m127, &n("2305843009213693951"), &mut ctx).unwrap();
        for c in ["561", "41041", "825265", "321197185", "3215031751"] {
            assert!(!miller_rabin(&n(c), 40, &mut ctx).unwrap(), "{c}");
        }
        assert!(!miller_rabin(&semi, 40, &mut ctx).unwrap());
    }

    #[test]
    fn odd_or_small_sizes_are_refused() {
        assert!(generate(2047).is_err());
        assert!(generate(512).is_err());
        assert!(generate_with(2047, PrimeSearch::OneThread).is_err());
    }
}

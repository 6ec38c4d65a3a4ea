//! Janet's string hash (not cryptography: a hash-table key), computed in
//! lanes: the identical value `janet_string_calchash` gives, for the binding
//! to set on strings of megabytes it writes in place (a CRL's PEM: hashing it
//! a byte at a time was a fifth of `:generate-crl`'s instructions).
//!
//! Without `JANET_PRF` the hash is djb2 (`h = h * 33 + byte` from 5381);
//! Janet 1.36 returns it as is, Janet 1.41 mixes the length in afterwards
//! (`janet_hash_mix(h, len)`, except for the empty string). Both are
//! polynomials in 33 mod 2^32, so the same value can be computed in
//! independent lanes (each stepping by 33^LANES) combined at the end with
//! powers of 33: several times fewer instructions and no chain of dependent
//! multiplies. Which model the running Janet uses is the binding's question
//! (`binding::string_hash` asks it once, with [`probes`]).

/// How the running Janet hashes strings.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Model {
    /// djb2 (Janet 1.36 ... without JANET_PRF).
    Djb2,
    /// djb2, then `janet_hash_mix(h, len)` for non-empty strings (Janet 1.41).
    Djb2Mixed,
}

/// `janet_hash_mix` (Janet's src/core/util.c).
pub fn hash_mix(input: u32, more: u32) -> u32 {
    let mix1 = more.wrapping_add(0x9e37_79b9).wrapping_add(input << 6).wrapping_add(input >> 2);
    input ^ 0x9e37_79b9u32.wrapping_add(mix1 << 6).wrapping_add(mix1 >> 2)
}

/// 33^n mod 2^32.
fn pow33(mut n: u64) -> u32 {
    let (mut base, mut acc) = (33u32, 1u32);
    while n > 0 {
        if n & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        n >>= 1;
    }
    acc
}

const LANES: usize = 32;

/// 33^(LANES - 1 - j) for lane j: a lane's weight within a chunk.
const WEIGHTS: [u32; LANES] = {
    let mut w = [0u32; LANES];
    let mut p = 1u32;
    let mut j = LANES;
    while j > 0 {
        j -= 1;
        w[j] = p;
        p = p.wrapping_mul(33);
    }
    w
};

/// 33^LANES: one chunk's step.
const STEP: u32 = {
    let mut p = 1u32;
    let mut i = 0;
    while i < LANES {
        p = p.wrapping_mul(33);
        i += 1;
    }
    p
};

/// djb2 of `bytes` continued from `h` over whole chunks of LANES bytes:
/// lane j holds the polynomial of every chunk's byte j (Horner, step 33^LANES).
#[inline(always)]
fn chunks(h: u32, bytes: &[u8]) -> u32 {
    let mut acc = [0u32; LANES];
    let mut n = 0u64;
    for c in bytes.chunks_exact(LANES) {
        for (a, b) in acc.iter_mut().zip(c) {
            *a = a.wrapping_mul(STEP).wrapping_add(u32::from(*b));
        }
        n += 1;
    }
    let mut sum = h.wrapping_mul(pow33(n * LANES as u64));
    for (a, w) in acc.iter().zip(WEIGHTS) {
        sum = sum.wrapping_add(a.wrapping_mul(w));
    }
    sum
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
/// [`chunks`] compiled for AVX2 (eight lanes a multiply).
unsafe fn chunks_avx2(h: u32, bytes: &[u8]) -> u32 {
    chunks(h, bytes)
}

/// djb2 of `bytes` (`h = h * 33 + b` from 5381, mod 2^32): the value of
/// Janet 1.36's `janet_string_calchash`.
pub fn djb2(bytes: &[u8]) -> u32 {
    let head = bytes.len() % LANES;
    let mut h = 5381u32;
    for b in &bytes[..head] {
        h = h.wrapping_mul(33).wrapping_add(u32::from(*b));
    }
    let rest = &bytes[head..];
    if rest.is_empty() {
        return h;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { chunks_avx2(h, rest) };
    }
    chunks(h, rest)
}

/// The hash `model` gives `bytes`.
pub fn hash(model: Model, bytes: &[u8]) -> i32 {
    let h = djb2(bytes);
    (match model {
        Model::Djb2 => h,
        Model::Djb2Mixed if bytes.is_empty() => h,
        Model::Djb2Mixed => hash_mix(h, bytes.len() as u32),
    }) as i32
}

/// Probe strings: lengths around the lane width and beyond, varied bytes.
pub fn probes() -> Vec<Vec<u8>> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    [1usize, 2, 31, 32, 33, 64, 100, 257, 1000]
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Janet 1.36's janet_string_calchash, transcribed byte for byte.
    fn calchash_1_36(s: &[u8]) -> i32 {
        let mut hash = 5381u32;
        for b in s {
            hash = (hash << 5).wrapping_add(hash).wrapping_add(u32::from(*b));
        }
        hash as i32
    }

    /// Janet 1.41.2's janet_string_calchash, transcribed.
    fn calchash_1_41(s: &[u8]) -> i32 {
        if s.is_empty() {
            return 5381;
        }
        let mut hash = 5381u32;
        for b in s {
            hash = (hash << 5).wrapping_add(hash).wrapping_add(u32::from(*b));
        }
        hash_mix(hash, s.len() as u32) as i32
    }

    #[test]
    fn lanes_give_janets_values_at_every_length() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut lengths: Vec<usize> = (0..600).collect();
        lengths.extend([4095, 4096, 4097, 65 * 1000 + 7, 1 << 20, (1 << 20) + 31, 3_000_001]);
        for _ in 0..50 {
            lengths.push((next() % 200_000) as usize);
        }
        for &n in &lengths {
            let s: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            assert_eq!(hash(Model::Djb2, &s), calchash_1_36(&s), "1.36, length {n}");
            assert_eq!(hash(Model::Djb2Mixed, &s), calchash_1_41(&s), "1.41, length {n}");
            assert_eq!(chunks(5381, &s[..n - n % LANES]), djb2(&s[..n - n % LANES]), "portable lanes, length {n}");
        }
        for b in [0u8, 0x7f, 0x80, 0xff] {
            let s = vec![b; 100_000];
            assert_eq!(hash(Model::Djb2, &s), calchash_1_36(&s));
            assert_eq!(hash(Model::Djb2Mixed, &s), calchash_1_41(&s));
        }
    }

    #[test]
    fn probes_tell_the_models_apart() {
        // a Janet whose hash is one model never matches the other on the probes
        let p = probes();
        assert!(p.iter().any(|s| hash(Model::Djb2, s) != hash(Model::Djb2Mixed, s)));
        assert_eq!(pow33(0), 1);
        assert_eq!(pow33(LANES as u64), STEP);
    }
}

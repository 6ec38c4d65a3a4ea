//! EC key pairs as bytes, made from OpenSSL's primitives without an EC_KEY.
//!
//! The private scalar d is drawn from OpenSSL's private DRBG by rejection:
//! as many random bits as the group order n has, drawn again while d ≥ n or
//! d = 0, so d is uniform in [1, n − 1], as OpenSSL's EC_KEY_generate_key
//! draws it (BN_priv_rand_range in a loop while zero: `ec_generate_key` in
//! OpenSSL's crypto/ec/ec_key.c). The public point is Q = dG by EC_POINT_mul
//! on the curve's group, as there too; the PKCS#8 and SPKI encodings built
//! from them in keys.rs are byte for byte OpenSSL's (unit-tested). An EC_KEY
//! would copy the whole group for every key (EC_GROUP_dup, then its free:
//! 2.5% of a P-256 issuance) only for a leaf's key to be read back out as
//! bytes, which is all a leaf's key is ever needed as.
//!
//! The scalar lives in a [`Secret`] (zeroed when dropped) and in a BIGNUM
//! from OpenSSL's secure heap (cleared when freed).

use once_cell::sync::Lazy;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcPoint, PointConversionForm};
use openssl::nid::Nid;

use super::error::{CaError, CaResult, Category, SslContext};
use super::secret::Secret;

/// A named curve's group with what key generation needs of it, built once.
pub struct Curve {
    pub group: EcGroup,
    /// The group order n, big-endian, `field_len` bytes.
    order: Vec<u8>,
    /// The bits of the order's top byte that a scalar may have set.
    top_mask: u8,
}

impl Curve {
    fn new(nid: Nid) -> Option<Curve> {
        let group = EcGroup::from_curve_name(nid).ok()?;
        let mut ctx = BigNumContext::new().ok()?;
        let mut n = BigNum::new().ok()?;
        group.order(&mut n, &mut ctx).ok()?;
        let len = usize::try_from(n.num_bits()).ok()?.div_ceil(8);
        let order = n.to_vec_padded(i32::try_from(len).ok()?).ok()?;
        let top_bits = n.num_bits() as u32 - 8 * (len as u32 - 1);
        let top_mask = u8::try_from((1u32 << top_bits) - 1).ok()?;
        Some(Curve { group, order, top_mask })
    }

    /// Bytes of a scalar (and of each coordinate of a point): the order's length,
    /// which for P-256, P-384 and P-521 is the field's.
    pub fn scalar_len(&self) -> usize {
        self.order.len()
    }
}

struct Curves {
    p256: Option<Curve>,
    p384: Option<Curve>,
    p521: Option<Curve>,
}

static CURVES: Lazy<Curves> = Lazy::new(|| Curves {
    p256: Curve::new(Nid::X9_62_PRIME256V1),
    p384: Curve::new(Nid::SECP384R1),
    p521: Curve::new(Nid::SECP521R1),
});

/// The curve named `nid` (P-256, P-384 or P-521), built once per process
/// (creating a group costs a fifth of a P-256 key generation).
pub fn curve(nid: Nid) -> CaResult<&'static Curve> {
    let curve = match nid {
        Nid::X9_62_PRIME256V1 => CURVES.p256.as_ref(),
        Nid::SECP384R1 => CURVES.p384.as_ref(),
        Nid::SECP521R1 => CURVES.p521.as_ref(),
        _ => None,
    };
    curve.ok_or_else(|| CaError::new(Category::Ssl, "creating the EC group failed"))
}

/// A new key pair: the scalar d (big-endian, [`Curve::scalar_len`] bytes) and
/// the uncompressed point Q = dG (0x04 ‖ x ‖ y, SEC 1 §2.3.3).
pub struct KeyPair {
    pub scalar: Secret,
    pub point: Vec<u8>,
}

pub fn generate(curve: &Curve) -> CaResult<KeyPair> {
    let mut scalar = Secret::new(vec![0u8; curve.scalar_len()]);
    loop {
        openssl::rand::rand_priv_bytes(scalar.as_mut_bytes()).ssl("drawing the private key")?;
        let d = scalar.as_mut_bytes();
        d[0] &= curve.top_mask;
        // Lexicographic order of equal-length big-endian bytes is numeric order.
        if *d < *curve.order && d.iter().any(|b| *b != 0) {
            break;
        }
    }
    let mut d = BigNum::new_secure().ssl("allocating the private key")?;
    d.copy_from_slice(scalar.as_bytes()).ssl("reading the private key")?;
    let mut ctx = BigNumContext::new_secure().ssl("allocating a BN context")?;
    let mut q = EcPoint::new(&curve.group).ssl("allocating the public key")?;
    q.mul_generator2(&curve.group, &d, &mut ctx).ssl("computing the public key")?;
    let point = q.to_bytes(&curve.group, PointConversionForm::UNCOMPRESSED, &mut ctx).ssl("encoding the public key")?;
    Ok(KeyPair { scalar, point })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::EcKey;

    #[test]
    fn orders_and_masks_are_the_curves() {
        let p256 = curve(Nid::X9_62_PRIME256V1).unwrap();
        assert_eq!((p256.scalar_len(), p256.top_mask, p256.order[0]), (32, 0xff, 0xff));
        let p384 = curve(Nid::SECP384R1).unwrap();
        assert_eq!((p384.scalar_len(), p384.top_mask), (48, 0xff));
        let p521 = curve(Nid::SECP521R1).unwrap();
        assert_eq!((p521.scalar_len(), p521.top_mask, p521.order[0]), (66, 0x01, 0x01));
        assert!(curve(Nid::SECP224R1).is_err());
    }

    /// Every pair is a valid key: d in [1, n-1] and Q = dG, as OpenSSL's own
    /// EC_KEY_check_key sees it.
    #[test]
    fn pairs_are_valid_keys() {
        for nid in [Nid::X9_62_PRIME256V1, Nid::SECP384R1, Nid::SECP521R1] {
            let c = curve(nid).unwrap();
            let mut seen = std::collections::HashSet::new();
            for _ in 0..50 {
                let pair = generate(c).unwrap();
                assert_eq!(pair.scalar.as_bytes().len(), c.scalar_len());
                assert_eq!(pair.point.len(), 1 + 2 * c.scalar_len());
                let d = BigNum::from_slice(pair.scalar.as_bytes()).unwrap();
                let mut ctx = BigNumContext::new().unwrap();
                let q = EcPoint::from_bytes(&c.group, &pair.point, &mut ctx).unwrap();
                let key = EcKey::from_private_components(&c.group, &d, &q).unwrap();
                key.check_key().unwrap();
                assert!(seen.insert(pair.scalar.as_bytes().to_vec()));
            }
        }
    }
}

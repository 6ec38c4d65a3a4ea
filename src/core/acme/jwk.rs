//! JSON Web Keys (RFC 7517/7518/8037) as account keys: parsed strictly into an
//! OpenSSL public key, with RFC 7638 thumbprints. EC P-256 and P-384 (on the
//! curve, checked by OpenSSL), RSA of 2048 to 8192 bits, Ed25519. A JWK that
//! carries private members is refused: a client that sends its private key
//! has leaked it.
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Public};
use openssl::rsa::Rsa;
use serde_json::{Map, Value};

use super::b64;
use super::problem::Problem;
use crate::core::digest;

/// Which signature algorithm a key makes (RFC 7518 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    P256,
    P384,
    Rsa,
    Ed25519,
}

impl KeyKind {
    /// The JWS `alg` values this key may sign with.
    pub fn allows(self, alg: &str) -> bool {
        matches!(
            (self, alg),
            (KeyKind::P256, "ES256") | (KeyKind::P384, "ES384") | (KeyKind::Rsa, "RS256") | (KeyKind::Ed25519, "EdDSA")
        )
    }
}

pub const ALGORITHMS: [&str; 4] = ["ES256", "ES384", "RS256", "EdDSA"];

#[derive(Clone)]
pub struct Jwk {
    pub kind: KeyKind,
    pub key: PKey<Public>,
    /// RFC 7638 canonical JSON (required members, lexicographic, no spaces).
    pub canonical: String,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jwk({})", self.canonical)
    }
}

fn member<'a>(o: &'a Map<String, Value>, name: &str) -> Result<&'a str, Problem> {
    o.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::bad_public_key(format!("the JWK has no string member {name:?}")))
}

fn bytes(o: &Map<String, Value>, name: &str) -> Result<Vec<u8>, Problem> {
    let s = member(o, name)?;
    b64::decode(s, &format!("the JWK's {name:?}")).map_err(|p| Problem::bad_public_key(p.detail))
}

impl Jwk {
    pub fn parse(v: &Value) -> Result<Jwk, Problem> {
        let o = v.as_object().ok_or_else(|| Problem::malformed("jwk must be a JSON object"))?;
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            if o.contains_key(private) {
                return Err(Problem::bad_public_key(format!(
                    "the JWK carries the private member {private:?}: send the public key only"
                )));
            }
        }
        let kty = member(o, "kty")?;
        match kty {
            "EC" => {
                let crv = member(o, "crv")?;
                let (kind, nid, len) = match crv {
                    "P-256" => (KeyKind::P256, Nid::X9_62_PRIME256V1, 32),
                    "P-384" => (KeyKind::P384, Nid::SECP384R1, 48),
                    other => {
                        return Err(Problem::bad_public_key(format!(
                            "EC curve {other:?} is not accepted (P-256, P-384)"
                        )))
                    }
                };
                let x = bytes(o, "x")?;
                let y = bytes(o, "y")?;
                if x.len() != len || y.len() != len {
                    return Err(Problem::bad_public_key(format!("{crv} coordinates must be {len} octets each")));
                }
                let bad = |_| Problem::bad_public_key(format!("the {crv} point is not on the curve"));
                let group = EcGroup::from_curve_name(nid).map_err(|_| Problem::server_internal("EC group"))?;
                let xb = BigNum::from_slice(&x).map_err(bad)?;
                let yb = BigNum::from_slice(&y).map_err(bad)?;
                let ec = EcKey::from_public_key_affine_coordinates(&group, &xb, &yb).map_err(bad)?;
                ec.check_key().map_err(bad)?;
                let key = PKey::from_ec_key(ec).map_err(bad)?;
                let canonical = format!(
                    r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                    b64::encode(&x),
                    b64::encode(&y)
                );
                Ok(Jwk { kind, key, canonical })
            }
            "RSA" => {
                let n = bytes(o, "n")?;
                let e = bytes(o, "e")?;
                if n.first() == Some(&0) || e.first() == Some(&0) || e.is_empty() {
                    return Err(Problem::bad_public_key("RSA n and e must be minimal big-endian integers"));
                }
                let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
                if !(2048..=8192).contains(&bits) {
                    return Err(Problem::bad_public_key(format!("RSA keys of 2048 to 8192 bits are accepted, got {bits}")));
                }
                if e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
                    return Err(Problem::bad_public_key("the RSA exponent must be odd, greater than 1 and at most 32 bits"));
                }
                let bad = |_| Problem::bad_public_key("not a usable RSA public key");
                let rsa = Rsa::from_public_components(BigNum::from_slice(&n).map_err(bad)?, BigNum::from_slice(&e).map_err(bad)?)
                    .map_err(bad)?;
                let key = PKey::from_rsa(rsa).map_err(bad)?;
                let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64::encode(&e), b64::encode(&n));
                Ok(Jwk { kind: KeyKind::Rsa, key, canonical })
            }
            "OKP" => {
                let crv = member(o, "crv")?;
                if crv != "Ed25519" {
                    return Err(Problem::bad_public_key(format!("OKP curve {crv:?} is not accepted (Ed25519)")));
                }
                let x = bytes(o, "x")?;
                if x.len() != 32 {
                    return Err(Problem::bad_public_key("an Ed25519 key is 32 octets"));
                }
                let key = PKey::public_key_from_raw_bytes(&x, Id::ED25519)
                    .map_err(|_| Problem::bad_public_key("not a usable Ed25519 key"))?;
                let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64::encode(&x));
                Ok(Jwk { kind: KeyKind::Ed25519, key, canonical })
            }
            other => Err(Problem::bad_public_key(format!("key type {other:?} is not accepted (EC, RSA, OKP)"))),
        }
    }

    /// The RFC 7638 thumbprint (SHA-256), base64url.
    pub fn thumbprint(&self) -> String {
        b64::encode(&digest::sha256(self.canonical.as_bytes()))
    }

    /// DER SubjectPublicKeyInfo, to compare with a CSR's or certificate's key.
    pub fn spki_der(&self) -> Result<Vec<u8>, Problem> {
        self.key.public_key_to_der().map_err(|_| Problem::server_internal("encoding the account key"))
    }

    /// The JWK as JSON (its canonical members).
    pub fn to_json(&self) -> Value {
        serde_json::from_str(&self.canonical).unwrap_or(Value::Null)
    }
}

/// The key authorization of a challenge token (RFC 8555 §8.1).
pub fn key_authorization(token: &str, thumbprint: &str) -> String {
    format!("{token}.{thumbprint}")
}

/// What a dns-01 TXT record must hold: base64url(SHA-256(key authorization)).
pub fn dns01_digest(key_authorization: &str) -> String {
    b64::encode(&digest::sha256(key_authorization.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn rfc7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = Jwk::parse(&json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"})).unwrap();
        assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(jwk.kind, KeyKind::Rsa);
    }

    /// RFC 8037 Appendix A.3: the Ed25519 example's thumbprint.
    #[test]
    fn rfc8037_ed25519() {
        let jwk = Jwk::parse(&json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})).unwrap();
        assert_eq!(jwk.thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    fn ec_jwk(nid: Nid, len: usize) -> Value {
        let group = EcGroup::from_curve_name(nid).unwrap();
        let key = EcKey::generate(&group).unwrap();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        key.public_key().affine_coordinates(&group, &mut x, &mut y, &mut ctx).unwrap();
        let crv = if len == 32 { "P-256" } else { "P-384" };
        json!({"kty": "EC", "crv": crv,
               "x": b64::encode(&x.to_vec_padded(len as i32).unwrap()),
               "y": b64::encode(&y.to_vec_padded(len as i32).unwrap())})
    }

    #[test]
    fn ec_keys() {
        let j = ec_jwk(Nid::X9_62_PRIME256V1, 32);
        assert_eq!(Jwk::parse(&j).unwrap().kind, KeyKind::P256);
        assert_eq!(Jwk::parse(&ec_jwk(Nid::SECP384R1, 48)).unwrap().kind, KeyKind::P384);
        // A point off the curve.
        let mut off = j.clone();
        let mut y = b64::decode(j["y"].as_str().unwrap(), "y").unwrap();
        y[31] ^= 1;
        off["y"] = json!(b64::encode(&y));
        assert_eq!(Jwk::parse(&off).unwrap_err().kind, super::super::problem::Kind::BadPublicKey);
        // Wrong coordinate length, unknown curve, private member.
        let mut short = j.clone();
        short["x"] = json!("AQAB");
        assert!(Jwk::parse(&short).is_err());
        let mut k1 = j.clone();
        k1["crv"] = json!("secp256k1");
        assert!(Jwk::parse(&k1).is_err());
        let mut private = j.clone();
        private["d"] = json!("AQAB");
        assert!(Jwk::parse(&private).unwrap_err().detail.contains("private"));
    }

    #[test]
    fn hostile_keys() {
        for v in [
            json!(null),
            json!("RSA"),
            json!({}),
            json!({"kty": "oct", "k": "AQAB"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "n": 5, "e": "AQAB"}),
            json!({"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AQAB"}),
            json!({"kty": "EC", "crv": "P-256", "x": "", "y": ""}),
        ] {
            assert!(Jwk::parse(&v).is_err(), "{v}");
        }
        // RSA 1024 refused, even exponent refused.
        let small = Rsa::generate(1024).unwrap();
        let j = json!({"kty": "RSA", "n": b64::encode(&small.n().to_vec()), "e": "AQAB"});
        assert!(Jwk::parse(&j).unwrap_err().detail.contains("2048"));
        let big = Rsa::generate(2048).unwrap();
        let j = json!({"kty": "RSA", "n": b64::encode(&big.n().to_vec()), "e": "AQAA"});
        assert!(Jwk::parse(&j).is_err());
    }

    #[test]
    fn key_authorizations() {
        let ka = key_authorization("tok", "thumb");
        assert_eq!(ka, "tok.thumb");
        assert_eq!(dns01_digest(&ka).len(), 43);
    }
}

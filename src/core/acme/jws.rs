//! JWS in flattened JSON serialization (RFC 7515 §7.2.2) as ACME uses it
//! (RFC 8555 §6.2): one signature, a protected header only, `alg` from an
//! allow-list (ES256, ES384, RS256, EdDSA; `none`, MACs and everything else
//! refused with badSignatureAlgorithm), exactly one of `jwk` and `kid`, a
//! `url`, and a `nonce` (checked against the store by the caller). Signature
//! verification is OpenSSL's.
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::{Signer, Verifier};
use serde_json::{Map, Value};

use super::b64;
use super::jwk::{Jwk, KeyKind, ALGORITHMS};
use super::problem::{Kind, Problem};

/// The largest request body accepted (a CSR of an RSA-8192 key with many
/// names fits with room to spare).
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub enum KeyRef {
    Jwk(Jwk),
    Kid(String),
}

#[derive(Debug, Clone)]
pub struct Jws {
    pub alg: String,
    pub nonce: Option<String>,
    pub url: String,
    pub key: KeyRef,
    /// The whole protected header (EAB and key-change read more of it).
    pub header: Map<String, Value>,
    protected_b64: String,
    payload_b64: String,
    signature: Vec<u8>,
    /// Decoded payload; empty for POST-as-GET.
    pub payload: Vec<u8>,
}

/// Parses a JSON value as a flattened JWS; `mac_ok` admits HS256 (only the
/// external account binding's inner JWS is a MAC).
pub fn from_value(v: &Value, mac_ok: bool) -> Result<Jws, Problem> {
    let o = v.as_object().ok_or_else(|| Problem::malformed("the JWS must be a JSON object (flattened serialization)"))?;
    for k in o.keys() {
        match k.as_str() {
            "protected" | "payload" | "signature" => {}
            "header" => return Err(Problem::malformed("the JWS must not have an unprotected header (RFC 8555 §6.2)")),
            "signatures" => return Err(Problem::malformed("one signature in flattened JSON serialization, not general")),
            other => return Err(Problem::malformed(format!("unknown JWS member {other:?}"))),
        }
    }
    let field = |name: &str| {
        o.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Problem::malformed(format!("the JWS has no string {name:?}")))
    };
    let protected_b64 = field("protected")?;
    let payload_b64 = field("payload")?;
    let signature = b64::decode(&field("signature")?, "the JWS signature")?;
    let header_bytes = b64::decode(&protected_b64, "the JWS protected header")?;
    let header: Value =
        serde_json::from_slice(&header_bytes).map_err(|_| Problem::malformed("the JWS protected header is not JSON"))?;
    let Value::Object(header) = header else {
        return Err(Problem::malformed("the JWS protected header must be a JSON object"));
    };
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::malformed("the protected header has no \"alg\""))?
        .to_string();
    if !(ALGORITHMS.contains(&alg.as_str()) || (mac_ok && alg == "HS256")) {
        let mut p = Problem::new(
            Kind::BadSignatureAlgorithm,
            format!("JWS algorithm {alg:?} is not accepted (ES256, ES384, RS256, EdDSA)"),
        );
        p.algorithms = Some(ALGORITHMS.to_vec());
        return Err(p);
    }
    if header.contains_key("crit") {
        return Err(Problem::malformed("no critical JWS header parameters are understood"));
    }
    if header.contains_key("b64") {
        return Err(Problem::malformed("the b64 header parameter is not accepted"));
    }
    let key = match (header.get("jwk"), header.get("kid")) {
        (Some(_), Some(_)) => return Err(Problem::malformed("the protected header has both \"jwk\" and \"kid\"; exactly one is allowed")),
        (Some(j), None) => KeyRef::Jwk(Jwk::parse(j)?),
        (None, Some(k)) => KeyRef::Kid(
            k.as_str().ok_or_else(|| Problem::malformed("\"kid\" must be a string"))?.to_string(),
        ),
        (None, None) if mac_ok => KeyRef::Kid(String::new()),
        (None, None) => return Err(Problem::malformed("the protected header needs \"jwk\" or \"kid\"")),
    };
    let nonce = match header.get("nonce") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(Problem::bad_nonce("\"nonce\" must be a string")),
    };
    let url = header
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| Problem::unauthorized("the protected header has no string \"url\""))?
        .to_string();
    let payload = b64::decode(&payload_b64, "the JWS payload")?;
    Ok(Jws { alg, nonce, url, key, header, protected_b64, payload_b64, signature, payload })
}

/// Parses a request body (bounded in size) as a flattened JWS.
pub fn parse(body: &[u8]) -> Result<Jws, Problem> {
    if body.len() > MAX_BODY {
        return Err(Problem::malformed(format!("the request body is larger than {MAX_BODY} bytes")));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| Problem::malformed("the request body is not JSON"))?;
    from_value(&v, false)
}

impl Jws {
    fn signing_input(&self) -> Vec<u8> {
        let mut s = Vec::with_capacity(self.protected_b64.len() + 1 + self.payload_b64.len());
        s.extend_from_slice(self.protected_b64.as_bytes());
        s.push(b'.');
        s.extend_from_slice(self.payload_b64.as_bytes());
        s
    }

    /// Checks the signature with `key`, whose kind must match `alg`.
    pub fn verify(&self, key: &Jwk) -> Result<(), Problem> {
        if !key.kind.allows(&self.alg) {
            let mut p = Problem::new(
                Kind::BadSignatureAlgorithm,
                format!("JWS algorithm {} does not match the key ({:?})", self.alg, key.kind),
            );
            p.algorithms = Some(ALGORITHMS.to_vec());
            return Err(p);
        }
        let bad = || Problem::malformed("the JWS signature does not verify");
        let input = self.signing_input();
        let ok = match key.kind {
            KeyKind::P256 | KeyKind::P384 => {
                let (len, md) = if key.kind == KeyKind::P256 { (32, MessageDigest::sha256()) } else { (48, MessageDigest::sha384()) };
                if self.signature.len() != 2 * len {
                    return Err(bad());
                }
                let r = BigNum::from_slice(&self.signature[..len]).map_err(|_| bad())?;
                let s = BigNum::from_slice(&self.signature[len..]).map_err(|_| bad())?;
                let der = EcdsaSig::from_private_components(r, s).and_then(|sig| sig.to_der()).map_err(|_| bad())?;
                let mut v = Verifier::new(md, &key.key).map_err(|_| bad())?;
                v.update(&input).map_err(|_| bad())?;
                v.verify(&der).unwrap_or(false)
            }
            KeyKind::Rsa => {
                let mut v = Verifier::new(MessageDigest::sha256(), &key.key).map_err(|_| bad())?;
                v.update(&input).map_err(|_| bad())?;
                v.verify(&self.signature).unwrap_or(false)
            }
            KeyKind::Ed25519 => {
                let mut v = Verifier::new_without_digest(&key.key).map_err(|_| bad())?;
                v.verify_oneshot(&self.signature, &input).unwrap_or(false)
            }
        };
        if ok {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// Checks an HS256 MAC with `secret` (external account binding).
    pub fn verify_hmac(&self, secret: &[u8]) -> Result<(), Problem> {
        let bad = || Problem::unauthorized("the external account binding's MAC does not verify");
        if self.alg != "HS256" || secret.is_empty() {
            return Err(Problem::malformed("the external account binding must be HS256"));
        }
        let key = PKey::hmac(secret).map_err(|_| bad())?;
        let mut s = Signer::new(MessageDigest::sha256(), &key).map_err(|_| bad())?;
        s.update(&self.signing_input()).map_err(|_| bad())?;
        let mac = s.sign_to_vec().map_err(|_| bad())?;
        if mac.len() == self.signature.len() && openssl::memcmp::eq(&mac, &self.signature) {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// The payload as JSON; None for POST-as-GET (empty payload).
    pub fn payload_json(&self) -> Result<Option<Value>, Problem> {
        if self.payload.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&self.payload).map(Some).map_err(|_| Problem::malformed("the JWS payload is not JSON"))
    }

    /// The payload as a JSON object (an empty object `{}` is one).
    pub fn payload_object(&self) -> Result<Map<String, Value>, Problem> {
        match self.payload_json()? {
            Some(Value::Object(o)) => Ok(o),
            Some(_) => Err(Problem::malformed("the JWS payload must be a JSON object")),
            None => Err(Problem::malformed("this request needs a payload (it is not a POST-as-GET)")),
        }
    }

    /// The protected header's `jwk` as sent (for the EAB payload check).
    pub fn payload_b64(&self) -> &str {
        &self.payload_b64
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::Private;
    use openssl::rsa::Rsa;
    use serde_json::json;

    /// A test client key: signs JWS the way ACME clients do.
    pub struct TestKey {
        pub key: PKey<Private>,
        pub alg: &'static str,
        pub jwk: Value,
    }

    impl TestKey {
        pub fn p256() -> TestKey {
            Self::ec(Nid::X9_62_PRIME256V1, 32, "ES256", "P-256")
        }
        pub fn p384() -> TestKey {
            Self::ec(Nid::SECP384R1, 48, "ES384", "P-384")
        }
        fn ec(nid: Nid, len: i32, alg: &'static str, crv: &str) -> TestKey {
            let group = EcGroup::from_curve_name(nid).unwrap();
            let ec = EcKey::generate(&group).unwrap();
            let mut ctx = openssl::bn::BigNumContext::new().unwrap();
            let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
            ec.public_key().affine_coordinates(&group, &mut x, &mut y, &mut ctx).unwrap();
            let jwk = json!({"kty": "EC", "crv": crv, "x": b64::encode(&x.to_vec_padded(len).unwrap()),
                             "y": b64::encode(&y.to_vec_padded(len).unwrap())});
            TestKey { key: PKey::from_ec_key(ec).unwrap(), alg, jwk }
        }
        pub fn rsa() -> TestKey {
            let rsa = Rsa::generate(2048).unwrap();
            let jwk = json!({"kty": "RSA", "n": b64::encode(&rsa.n().to_vec()), "e": b64::encode(&rsa.e().to_vec())});
            TestKey { key: PKey::from_rsa(rsa).unwrap(), alg: "RS256", jwk }
        }
        pub fn ed25519() -> TestKey {
            let key = PKey::generate_ed25519().unwrap();
            let x = key.raw_public_key().unwrap();
            TestKey { key, alg: "EdDSA", jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": b64::encode(&x)}) }
        }

        pub fn sign_raw(&self, input: &[u8]) -> Vec<u8> {
            match self.alg {
                "ES256" | "ES384" => {
                    let (md, len) = if self.alg == "ES256" { (MessageDigest::sha256(), 32) } else { (MessageDigest::sha384(), 48) };
                    let mut s = Signer::new(md, &self.key).unwrap();
                    s.update(input).unwrap();
                    let sig = EcdsaSig::from_der(&s.sign_to_vec().unwrap()).unwrap();
                    let mut out = sig.r().to_vec_padded(len).unwrap();
                    out.extend(sig.s().to_vec_padded(len).unwrap());
                    out
                }
                "RS256" => {
                    let mut s = Signer::new(MessageDigest::sha256(), &self.key).unwrap();
                    s.update(input).unwrap();
                    s.sign_to_vec().unwrap()
                }
                _ => Signer::new_without_digest(&self.key).unwrap().sign_oneshot_to_vec(input).unwrap(),
            }
        }

        /// A flattened JWS over `payload` with this protected header.
        pub fn sign_with_header(&self, header: &Value, payload: &[u8]) -> Value {
            let p = b64::encode(header.to_string().as_bytes());
            let pl = b64::encode(payload);
            let sig = self.sign_raw(format!("{p}.{pl}").as_bytes());
            json!({"protected": p, "payload": pl, "signature": b64::encode(&sig)})
        }

        pub fn sign(&self, url: &str, nonce: &str, kid: Option<&str>, payload: &[u8]) -> Value {
            let header = match kid {
                Some(k) => json!({"alg": self.alg, "nonce": nonce, "url": url, "kid": k}),
                None => json!({"alg": self.alg, "nonce": nonce, "url": url, "jwk": self.jwk}),
            };
            self.sign_with_header(&header, payload)
        }
    }

    fn body(v: &Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    #[test]
    fn every_algorithm_verifies() {
        for k in [TestKey::p256(), TestKey::p384(), TestKey::rsa(), TestKey::ed25519()] {
            let jws = parse(&body(&k.sign("https://x/acme/new-account", "n1", None, b"{}"))).unwrap();
            let KeyRef::Jwk(jwk) = &jws.key else { panic!("jwk") };
            jws.verify(jwk).unwrap();
            assert_eq!(jws.url, "https://x/acme/new-account");
            assert_eq!(jws.nonce.as_deref(), Some("n1"));
            // One flipped bit in the payload and it no longer verifies.
            let mut v = k.sign("https://x/acme/new-account", "n1", None, b"{}");
            v["payload"] = json!(b64::encode(b"{ }"));
            let jws = parse(&body(&v)).unwrap();
            let KeyRef::Jwk(jwk) = &jws.key else { panic!("jwk") };
            assert_eq!(jws.verify(jwk).unwrap_err().kind, Kind::Malformed, "{}", k.alg);
        }
    }

    #[test]
    fn wrong_key_or_alg() {
        let a = TestKey::p256();
        let b = TestKey::p256();
        let jws = parse(&body(&a.sign("u", "n", Some("acct"), b""))).unwrap();
        let bk = Jwk::parse(&b.jwk).unwrap();
        assert!(jws.verify(&bk).is_err(), "another key's signature");
        // alg claims ES384 over a P-256 key.
        let header = json!({"alg": "ES384", "nonce": "n", "url": "u", "jwk": a.jwk});
        let jws = parse(&body(&a.sign_with_header(&header, b"{}"))).unwrap();
        let ak = Jwk::parse(&a.jwk).unwrap();
        assert_eq!(jws.verify(&ak).unwrap_err().kind, Kind::BadSignatureAlgorithm);
    }

    #[test]
    fn refused_algorithms() {
        let a = TestKey::p256();
        for alg in ["none", "HS256", "HS512", "RS384", "PS256", "ES512", "", "es256"] {
            let header = json!({"alg": alg, "nonce": "n", "url": "u", "jwk": a.jwk});
            let p = b64::encode(header.to_string().as_bytes());
            let v = json!({"protected": p, "payload": b64::encode(b"{}"), "signature": ""});
            let e = parse(&body(&v)).unwrap_err();
            assert_eq!(e.kind, Kind::BadSignatureAlgorithm, "{alg}");
            assert!(e.to_json()["algorithms"].is_array());
        }
    }

    #[test]
    fn hostile_structure() {
        let a = TestKey::p256();
        let good = a.sign("u", "n", None, b"{}");
        // jwk and kid together.
        let header = json!({"alg": "ES256", "nonce": "n", "url": "u", "jwk": a.jwk, "kid": "k"});
        assert!(parse(&body(&a.sign_with_header(&header, b"{}"))).unwrap_err().detail.contains("both"));
        // neither
        let header = json!({"alg": "ES256", "nonce": "n", "url": "u"});
        assert!(parse(&body(&a.sign_with_header(&header, b"{}"))).is_err());
        // no url
        let header = json!({"alg": "ES256", "nonce": "n", "jwk": a.jwk});
        assert_eq!(parse(&body(&a.sign_with_header(&header, b"{}"))).unwrap_err().kind, Kind::Unauthorized);
        // crit
        let header = json!({"alg": "ES256", "nonce": "n", "url": "u", "jwk": a.jwk, "crit": ["exp"]});
        assert!(parse(&body(&a.sign_with_header(&header, b"{}"))).is_err());
        // unprotected header, general serialization, extra members
        for extra in ["header", "signatures", "foo"] {
            let mut v = good.clone();
            v[extra] = json!({});
            assert!(parse(&body(&v)).is_err(), "{extra}");
        }
        // missing members, wrong types, not JSON, arrays, oversized, deep nesting
        for bad in [
            json!({"protected": good["protected"], "payload": good["payload"]}),
            json!({"protected": 1, "payload": "", "signature": ""}),
            json!([1, 2]),
            json!({"protected": "!!", "payload": "", "signature": ""}),
            json!({"protected": b64::encode(b"[1]"), "payload": "", "signature": ""}),
            json!({"protected": b64::encode(b"not json"), "payload": "", "signature": ""}),
        ] {
            assert!(parse(&body(&bad)).is_err(), "{bad}");
        }
        assert!(parse(b"\xff\xfe").is_err());
        assert!(parse(b"").is_err());
        let big = vec![b' '; MAX_BODY + 1];
        assert!(parse(&big).unwrap_err().detail.contains("larger"));
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(deep.as_bytes()).is_err());
        // A nonce that is not a string.
        let header = json!({"alg": "ES256", "nonce": 5, "url": "u", "jwk": a.jwk});
        assert_eq!(parse(&body(&a.sign_with_header(&header, b"{}"))).unwrap_err().kind, Kind::BadNonce);
        // ECDSA signature of the wrong length.
        let mut v = good.clone();
        v["signature"] = json!(b64::encode(&[1u8; 63]));
        let jws = parse(&body(&v)).unwrap();
        assert!(jws.verify(&Jwk::parse(&a.jwk).unwrap()).is_err());
        // Zero r and s.
        v["signature"] = json!(b64::encode(&[0u8; 64]));
        let jws = parse(&body(&v)).unwrap();
        assert!(jws.verify(&Jwk::parse(&a.jwk).unwrap()).is_err());
    }

    #[test]
    fn hmac_for_eab() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let header = json!({"alg": "HS256", "kid": "eab-1", "url": "u"});
        let p = b64::encode(header.to_string().as_bytes());
        let pl = b64::encode(b"{}");
        let key = PKey::hmac(secret).unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &key).unwrap();
        s.update(format!("{p}.{pl}").as_bytes()).unwrap();
        let sig = s.sign_to_vec().unwrap();
        let v = json!({"protected": p, "payload": pl, "signature": b64::encode(&sig)});
        assert!(parse(&body(&v)).is_err(), "HS256 is refused outside EAB");
        let jws = from_value(&v, true).unwrap();
        jws.verify_hmac(secret).unwrap();
        assert!(jws.verify_hmac(b"another secret of enough length").is_err());
    }
}

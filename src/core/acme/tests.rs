//! The ACME server driven end to end in memory: a client that follows RFC
//! 8555, and hostile ones. Each hostile case checks the problem type, that
//! nothing was issued, and that the server still serves. Test code only
//! (declared `#[cfg(test)] mod tests;` in acme/mod.rs): its unwraps never run
//! in the module.
#![cfg(test)]

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509NameBuilder, X509ReqBuilder};
use serde_json::{json, Value};

use super::b64;
use super::jws::tests::TestKey;
use super::policy::{Policy, Subnet};
use super::server::{Acme, Request, Response, Seen};
use super::store::MemoryAcme;
use crate::core::authority::Authority;
use crate::core::names::{Attr, Subject};
use crate::core::options::CaOptions;

const BASE: &str = "https://acme.test";

fn ca() -> Authority {
    Authority::generate_root(CaOptions {
        subject: Subject { attrs: vec![(Attr::CommonName, "ACME Test Root".into())] },
        track_issued: true,
        ..CaOptions::root()
    })
    .unwrap()
}

fn policy() -> Policy {
    Policy {
        allowed_domains: vec!["example.com".into()],
        allowed_ips: vec![Subnet::parse("127.0.0.0/8").unwrap()],
        ..Policy::default()
    }
}

struct World {
    acme: Acme,
    ca: Authority,
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn body(r: &Response) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

fn ptype(r: &Response) -> String {
    body(r)["type"].as_str().unwrap_or("").trim_start_matches("urn:ietf:params:acme:error:").to_string()
}

impl World {
    fn new() -> World {
        World { acme: Acme::new(BASE, policy(), Box::new(MemoryAcme::default())), ca: ca() }
    }
    fn raw(&mut self, method: &str, path: &str, body: Vec<u8>) -> Response {
        let req = Request { method: method.into(), path: path.into(), content_type: Some("application/jose+json".into()), body };
        self.acme.handle(&mut self.ca, &req)
    }
    fn nonce(&mut self) -> String {
        let r = self.raw("HEAD", "/acme/new-nonce", vec![]);
        header(&r, "Replay-Nonce").unwrap().to_string()
    }
    fn post(&mut self, key: &TestKey, kid: Option<&str>, path: &str, payload: &[u8]) -> Response {
        let n = self.nonce();
        let jws = key.sign(&format!("{BASE}{path}"), &n, kid, payload);
        self.raw("POST", path, jws.to_string().into_bytes())
    }
    fn issued_count(&mut self) -> usize {
        self.ca.issued().unwrap().map_or(0, |v| v.len())
    }
    fn account(&mut self, key: &TestKey) -> String {
        let r = self.post(key, None, "/acme/new-account", br#"{"termsOfServiceAgreed":true,"contact":["mailto:a@example.com"]}"#);
        assert!(r.status == 201 || r.status == 200, "{}", String::from_utf8_lossy(&r.body));
        header(&r, "Location").unwrap().to_string()
    }
}

fn path_of(url: &str) -> String {
    url.strip_prefix(BASE).unwrap().to_string()
}

fn ec_key() -> PKey<Private> {
    let g = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    PKey::from_ec_key(openssl::ec::EcKey::generate(&g).unwrap()).unwrap()
}

fn csr(key: &PKey<Private>, names: &[&str], cn: Option<&str>) -> Vec<u8> {
    let mut b = X509ReqBuilder::new().unwrap();
    b.set_pubkey(key).unwrap();
    let mut nb = X509NameBuilder::new().unwrap();
    if let Some(cn) = cn {
        nb.append_entry_by_text("CN", cn).unwrap();
    }
    b.set_subject_name(&nb.build()).unwrap();
    let mut san = SubjectAlternativeName::new();
    for n in names {
        if n.parse::<std::net::IpAddr>().is_ok() {
            san.ip(n);
        } else {
            san.dns(n);
        }
    }
    let mut exts = Stack::new().unwrap();
    exts.push(san.build(&b.x509v3_context(None)).unwrap()).unwrap();
    b.add_extensions(&exts).unwrap();
    b.sign(key, MessageDigest::sha256()).unwrap();
    b.build().to_der().unwrap()
}

/// Creates an order for `names`, answers every authorization with the
/// first challenge of `kind`, validated from what a correct client serves.
fn ready_order(w: &mut World, key: &TestKey, kid: &str, names: &[&str], kind: &str) -> Value {
    let ids: Vec<Value> = names
        .iter()
        .map(|n| if n.parse::<std::net::IpAddr>().is_ok() { json!({"type": "ip", "value": n}) } else { json!({"type": "dns", "value": n}) })
        .collect();
    let r = w.post(key, Some(kid), "/acme/new-order", json!({"identifiers": ids}).to_string().as_bytes());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let order_url = header(&r, "Location").unwrap().to_string();
    let order = body(&r);
    let thumb = super::jwk::Jwk::parse(&key.jwk).unwrap().thumbprint();
    for a in order["authorizations"].as_array().unwrap() {
        let r = w.post(key, Some(kid), &path_of(a.as_str().unwrap()), b"");
        let authz = body(&r);
        let c = authz["challenges"].as_array().unwrap().iter().find(|c| c["type"] == kind).unwrap().clone();
        let r = w.post(key, Some(kid), &path_of(c["url"].as_str().unwrap()), b"{}");
        assert_eq!(r.status, 200);
        assert_eq!(r.validations.len(), 1);
        let v = &r.validations[0];
        let ka = format!("{}.{}", c["token"].as_str().unwrap(), thumb);
        let seen = if kind == "http-01" {
            assert_eq!(v.target, format!("/.well-known/acme-challenge/{}", c["token"].as_str().unwrap()));
            Seen::Http { status: 200, location: None, body: format!("{ka}\n").into_bytes() }
        } else {
            assert!(v.target.starts_with("_acme-challenge."));
            Seen::Txt(vec!["other".into(), super::jwk::dns01_digest(&ka)])
        };
        assert_eq!(w.acme.validation_result(&v.challenge, &seen).unwrap(), "valid");
    }
    let r = w.post(key, Some(kid), &path_of(&order_url), b"");
    let mut o = body(&r);
    assert_eq!(o["status"], "ready");
    o["url"] = json!(order_url);
    o
}

#[test]
fn directory_and_nonces() {
    let mut w = World::new();
    let r = w.raw("GET", "/directory", vec![]);
    assert_eq!(r.status, 200);
    let d = body(&r);
    for k in ["newNonce", "newAccount", "newOrder", "revokeCert", "keyChange", "renewalInfo"] {
        assert!(d[k].as_str().unwrap().starts_with(BASE), "{k}");
    }
    let a = w.nonce();
    let b = w.nonce();
    assert_ne!(a, b);
    assert_eq!(w.raw("GET", "/acme/new-nonce", vec![]).status, 204);
}

#[test]
fn full_flow_every_key_type() {
    for (key, names, kind) in [
        (TestKey::p256(), vec!["www.example.com", "example.com"], "http-01"),
        (TestKey::p384(), vec!["*.example.com"], "dns-01"),
        (TestKey::rsa(), vec!["127.0.0.1"], "http-01"),
        (TestKey::ed25519(), vec!["a.example.com"], "dns-01"),
    ] {
        let mut w = World::new();
        let kid = w.account(&key);
        // The same key again: the same account, 200.
        let r = w.post(&key, None, "/acme/new-account", b"{\"onlyReturnExisting\":true}");
        assert_eq!((r.status, header(&r, "Location").unwrap()), (200, kid.as_str()));
        let order = ready_order(&mut w, &key, &kid, &names, kind);
        let cert_key = PKey::from_ec_key(openssl::ec::EcKey::generate(&openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap();
        let csr = csr(&cert_key, &names, None);
        let fin = path_of(order["finalize"].as_str().unwrap());
        let r = w.post(&key, Some(&kid), &fin, json!({"csr": b64::encode(&csr)}).to_string().as_bytes());
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let o = body(&r);
        assert_eq!(o["status"], "valid");
        // A second finalize never issues a second certificate.
        let r = w.post(&key, Some(&kid), &fin, json!({"csr": b64::encode(&csr)}).to_string().as_bytes());
        assert_eq!(body(&r)["certificate"], o["certificate"]);
        assert_eq!(w.issued_count(), 1);
        let r = w.post(&key, Some(&kid), &path_of(o["certificate"].as_str().unwrap()), b"");
        assert_eq!(header(&r, "Content-Type"), Some("application/pem-certificate-chain"));
        let chain = openssl::x509::X509::stack_from_pem(&r.body).unwrap();
        assert_eq!(chain.len(), 2);
        let ca_cert = openssl::x509::X509::from_der(w.ca.cert_der()).unwrap();
        assert!(chain[0].verify(&ca_cert.public_key().unwrap()).unwrap());
        let sans: Vec<String> = chain[0].subject_alt_names().unwrap().iter()
            .map(|g| g.dnsname().map(String::from).unwrap_or_else(|| format!("{:?}", g.ipaddress().unwrap()))).collect();
        assert_eq!(sans.len(), names.len());
        // ARI: a window in the future; after revocation, one ending now.
        let serial = chain[0].serial_number().to_bn().unwrap().to_vec();
        let cert_id = format!("{}.{}", b64::encode(w.ca.key_id()), b64::encode(&serial));
        let r = w.raw("GET", &format!("/acme/renewal-info/{cert_id}"), vec![]);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let start = crate::core::time::parse_iso(body(&r)["suggestedWindow"]["start"].as_str().unwrap(), "s").unwrap();
        assert!(start > crate::core::time::now() + 86400);
        let r = w.post(&key, Some(&kid), "/acme/revoke-cert", json!({"certificate": b64::encode(&chain[0].to_der().unwrap()), "reason": 4}).to_string().as_bytes());
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let r = w.raw("GET", &format!("/acme/renewal-info/{cert_id}"), vec![]);
        let end = crate::core::time::parse_iso(body(&r)["suggestedWindow"]["end"].as_str().unwrap(), "e").unwrap();
        assert!(end <= crate::core::time::now());
        let r = w.post(&key, Some(&kid), "/acme/revoke-cert", json!({"certificate": b64::encode(&chain[0].to_der().unwrap())}).to_string().as_bytes());
        assert_eq!(ptype(&r), "alreadyRevoked");
    }
}

#[test]
fn hostile_requests() {
    let mut w = World::new();
    let key = TestKey::p256();
    let kid = w.account(&key);
    let url = |p: &str| format!("{BASE}{p}");
    // Replayed nonce.
    let n = w.nonce();
    let jws = key.sign(&url("/acme/new-order"), &n, Some(&kid), br#"{"identifiers":[{"type":"dns","value":"x.example.com"}]}"#);
    assert_eq!(w.raw("POST", "/acme/new-order", jws.to_string().into_bytes()).status, 201);
    let r = w.raw("POST", "/acme/new-order", jws.to_string().into_bytes());
    assert_eq!(ptype(&r), "badNonce");
    assert!(header(&r, "Replay-Nonce").is_some(), "a badNonce answer carries a fresh nonce");
    // A nonce never issued.
    let jws = key.sign(&url("/acme/new-order"), "bm90LWlzc3VlZA", Some(&kid), b"{}");
    assert_eq!(ptype(&w.raw("POST", "/acme/new-order", jws.to_string().into_bytes())), "badNonce");
    // JWS signed for another URL.
    let n = w.nonce();
    let jws = key.sign(&url("/acme/new-account"), &n, Some(&kid), b"{}");
    assert_eq!(ptype(&w.raw("POST", "/acme/new-order", jws.to_string().into_bytes())), "unauthorized");
    // alg none and HS256.
    for alg in ["none", "HS256"] {
        let n = w.nonce();
        let h = json!({"alg": alg, "nonce": n, "url": url("/acme/new-order"), "kid": kid});
        let v = json!({"protected": b64::encode(h.to_string().as_bytes()), "payload": b64::encode(b"{}"), "signature": ""});
        assert_eq!(ptype(&w.raw("POST", "/acme/new-order", v.to_string().into_bytes())), "badSignatureAlgorithm");
    }
    // jwk and kid together.
    let n = w.nonce();
    let h = json!({"alg": "ES256", "nonce": n, "url": url("/acme/new-order"), "kid": kid, "jwk": key.jwk});
    assert_eq!(ptype(&w.raw("POST", "/acme/new-order", key.sign_with_header(&h, b"{}").to_string().into_bytes())), "malformed");
    // Unknown account.
    let r = w.post(&key, Some(&format!("{BASE}/acme/acct/AAAAAAAAAAAAAAAAAAAAAA")), "/acme/new-order", b"{}");
    assert_eq!(ptype(&r), "accountDoesNotExist");
    let stranger = TestKey::p256();
    let r = w.post(&stranger, None, "/acme/new-account", br#"{"onlyReturnExisting":true}"#);
    assert_eq!(ptype(&r), "accountDoesNotExist");
    // A kid request signed by another key.
    let r = w.post(&stranger, Some(&kid), "/acme/new-order", b"{}");
    assert_eq!(ptype(&r), "malformed");
    // Oversized body.
    let r = w.raw("POST", "/acme/new-order", vec![b'{'; 70_000]);
    assert_eq!(ptype(&r), "malformed");
    // Wrong content type.
    let req = Request { method: "POST".into(), path: "/acme/new-order".into(), content_type: Some("application/json".into()), body: b"{}".to_vec() };
    assert_eq!(ptype(&w.acme.handle(&mut w.ca, &req)), "malformed");
    // Orders outside policy.
    for ident in [json!({"type": "dns", "value": "evil.org"}), json!({"type": "ip", "value": "10.1.2.3"}), json!({"type": "dns", "value": "a.*.example.com"})] {
        let r = w.post(&key, Some(&kid), "/acme/new-order", json!({"identifiers": [ident]}).to_string().as_bytes());
        assert_eq!(ptype(&r), "rejectedIdentifier", "{ident}");
    }
    let r = w.post(&key, Some(&kid), "/acme/new-order", json!({"identifiers": [{"type": "email", "value": "a@example.com"}]}).to_string().as_bytes());
    assert_eq!(ptype(&r), "unsupportedIdentifier");
    // Wildcards get dns-01 only.
    let r = w.post(&key, Some(&kid), "/acme/new-order", json!({"identifiers": [{"type": "dns", "value": "*.example.com"}]}).to_string().as_bytes());
    let a = body(&r)["authorizations"][0].as_str().unwrap().to_string();
    let authz = body(&w.post(&key, Some(&kid), &path_of(&a), b""));
    assert_eq!(authz["challenges"].as_array().unwrap().len(), 1);
    assert_eq!(authz["challenges"][0]["type"], "dns-01");
    assert_eq!(authz["wildcard"], true);
    // Finalize before the order is ready.
    let fin = path_of(body(&r)["finalize"].as_str().unwrap());
    let ck = ec_key();
    let r = w.post(&key, Some(&kid), &fin, json!({"csr": b64::encode(&csr(&ck, &["*.example.com"], None))}).to_string().as_bytes());
    assert_eq!(ptype(&r), "orderNotReady");
    // CSRs with other names, or the account's own key.
    let order = ready_order(&mut w, &key, &kid, &["b.example.com"], "http-01");
    let fin = path_of(order["finalize"].as_str().unwrap());
    for bad in [
        csr(&ck, &["b.example.com", "c.example.com"], None),
        csr(&ck, &["c.example.com"], None),
        csr(&ck, &["b.example.com"], Some("c.example.com")),
        csr(&key.key, &["b.example.com"], None),
        b"not a csr".to_vec(),
    ] {
        let r = w.post(&key, Some(&kid), &fin, json!({"csr": b64::encode(&bad)}).to_string().as_bytes());
        assert_eq!(ptype(&r), "badCSR", "{}", String::from_utf8_lossy(&r.body));
    }
    assert_eq!(w.issued_count(), 0);
    // The order is still ready and completes with a good CSR.
    let r = w.post(&key, Some(&kid), &fin, json!({"csr": b64::encode(&csr(&ck, &["b.example.com"], Some("b.example.com")))}).to_string().as_bytes());
    assert_eq!(body(&r)["status"], "valid", "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(w.issued_count(), 1);
    // Another account cannot read it or revoke it.
    let other = TestKey::p256();
    let okid = w.account(&other);
    let r = w.post(&other, Some(&okid), &path_of(order["url"].as_str().unwrap()), b"");
    assert_eq!(ptype(&r), "unauthorized");
    // Unknown resources are 404.
    assert_eq!(w.post(&key, Some(&kid), "/acme/order/nope", b"").status, 404);
    assert_eq!(w.raw("GET", "/nothing", vec![]).status, 404);
}

#[test]
fn wrong_validations() {
    let mut w = World::new();
    let key = TestKey::p256();
    let kid = w.account(&key);
    for (seen, kind, want) in [
        (Seen::Http { status: 200, location: None, body: b"wrong.key-authorization".to_vec() }, "http-01", "incorrectResponse"),
        (Seen::Http { status: 302, location: Some("http://elsewhere/".into()), body: vec![] }, "http-01", "connection"),
        (Seen::Http { status: 404, location: None, body: vec![] }, "http-01", "unauthorized"),
        (Seen::Failed { kind: "connection".into(), detail: "timed out after 10 s".into() }, "http-01", "connection"),
        (Seen::Txt(vec!["nope".into()]), "dns-01", "incorrectResponse"),
        (Seen::Failed { kind: "dns".into(), detail: "NXDOMAIN".into() }, "dns-01", "dns"),
    ] {
        let r = w.post(&key, Some(&kid), "/acme/new-order", br#"{"identifiers":[{"type":"dns","value":"v.example.com"}]}"#);
        let order_url = path_of(header(&r, "Location").unwrap());
        let a = path_of(body(&r)["authorizations"][0].as_str().unwrap());
        let authz = body(&w.post(&key, Some(&kid), &a, b""));
        let c = authz["challenges"].as_array().unwrap().iter().find(|c| c["type"] == kind).unwrap().clone();
        let r = w.post(&key, Some(&kid), &path_of(c["url"].as_str().unwrap()), b"{}");
        assert_eq!(w.acme.validation_result(&r.validations[0].challenge, &seen).unwrap(), "invalid");
        let o = body(&w.post(&key, Some(&kid), &order_url, b""));
        assert_eq!(o["status"], "invalid");
        assert_eq!(o["error"]["type"], format!("urn:ietf:params:acme:error:{want}"), "{seen:?}");
        // Answering again starts nothing.
        let r = w.post(&key, Some(&kid), &path_of(c["url"].as_str().unwrap()), b"{}");
        assert!(r.validations.is_empty());
    }
    assert_eq!(w.issued_count(), 0);
}

#[test]
fn key_change_and_deactivation() {
    let mut w = World::new();
    let old = TestKey::p256();
    let new = TestKey::ed25519();
    let kid = w.account(&old);
    let inner = new.sign_with_header(&json!({"alg": new.alg, "jwk": new.jwk, "url": format!("{BASE}/acme/key-change")}),
        json!({"account": kid, "oldKey": old.jwk}).to_string().as_bytes());
    let r = w.post(&old, Some(&kid), "/acme/key-change", inner.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The old key is no account's any more; the new one is this account's.
    assert_eq!(ptype(&w.post(&old, Some(&kid), "/acme/new-order", b"{}")), "badSignatureAlgorithm");
    let r = w.post(&old, None, "/acme/new-account", br#"{"onlyReturnExisting":true}"#);
    assert_eq!(ptype(&r), "accountDoesNotExist");
    let r = w.post(&new, None, "/acme/new-account", br#"{"onlyReturnExisting":true}"#);
    assert_eq!(header(&r, "Location"), Some(kid.as_str()));
    // Deactivate: then every request of the account is refused.
    let r = w.post(&new, Some(&kid), &path_of(&kid), br#"{"status":"deactivated"}"#);
    assert_eq!(body(&r)["status"], "deactivated");
    let r = w.post(&new, Some(&kid), "/acme/new-order", br#"{"identifiers":[{"type":"dns","value":"x.example.com"}]}"#);
    assert_eq!(ptype(&r), "unauthorized");
}

#[test]
fn external_account_binding() {
    let mut w = World::new();
    w.acme.policy.eab_required = true;
    w.acme.policy.eab_keys = vec![("kid-1".into(), b"0123456789abcdef0123456789abcdef".to_vec())];
    let key = TestKey::p256();
    let r = w.post(&key, None, "/acme/new-account", b"{}");
    assert_eq!(ptype(&r), "externalAccountRequired");
    let eab = |secret: &[u8], jwk: &Value| {
        let h = json!({"alg": "HS256", "kid": "kid-1", "url": format!("{BASE}/acme/new-account")});
        let p = b64::encode(h.to_string().as_bytes());
        let pl = b64::encode(jwk.to_string().as_bytes());
        let k = PKey::hmac(secret).unwrap();
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &k).unwrap();
        s.update(format!("{p}.{pl}").as_bytes()).unwrap();
        json!({"protected": p, "payload": pl, "signature": b64::encode(&s.sign_to_vec().unwrap())})
    };
    let bad = eab(b"another secret, not the right one", &key.jwk);
    let r = w.post(&key, None, "/acme/new-account", json!({"externalAccountBinding": bad}).to_string().as_bytes());
    assert_eq!(ptype(&r), "unauthorized");
    let other = TestKey::p256();
    let wrong_key = eab(b"0123456789abcdef0123456789abcdef", &other.jwk);
    let r = w.post(&key, None, "/acme/new-account", json!({"externalAccountBinding": wrong_key}).to_string().as_bytes());
    assert_eq!(ptype(&r), "unauthorized");
    let good = eab(b"0123456789abcdef0123456789abcdef", &key.jwk);
    let r = w.post(&key, None, "/acme/new-account", json!({"externalAccountBinding": good}).to_string().as_bytes());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // The binding key is used up.
    let good2 = eab(b"0123456789abcdef0123456789abcdef", &other.jwk);
    let r = w.post(&other, None, "/acme/new-account", json!({"externalAccountBinding": good2}).to_string().as_bytes());
    assert_eq!(ptype(&r), "unauthorized");
}

#[test]
fn rate_limit() {
    let mut w = World::new();
    w.acme.policy.orders_per_hour = 2;
    let key = TestKey::p256();
    let kid = w.account(&key);
    for _ in 0..2 {
        let r = w.post(&key, Some(&kid), "/acme/new-order", br#"{"identifiers":[{"type":"dns","value":"x.example.com"}]}"#);
        assert_eq!(r.status, 201);
    }
    let r = w.post(&key, Some(&kid), "/acme/new-order", br#"{"identifiers":[{"type":"dns","value":"x.example.com"}]}"#);
    assert_eq!(ptype(&r), "rateLimited");
    assert!(header(&r, "Retry-After").is_some());
}

#[test]
fn finalize_taken_over_after_a_crash() {
    let mut w = World::new();
    w.acme.policy.finalize_lease = 0;
    let key = TestKey::p256();
    let kid = w.account(&key);
    let order = ready_order(&mut w, &key, &kid, &["k.example.com"], "http-01");
    let id = order["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    // Simulate a process killed after moving the order to processing (its
    // serial reserved, maybe signed and recorded by the CA, never attached).
    let ck = ec_key();
    let c = csr(&ck, &["k.example.com"], None);
    for signed_before_crash in [false, true] {
        let mut w2 = World::new();
        w2.acme.policy.finalize_lease = 0;
        let kid2 = w2.account(&key);
        let o2 = ready_order(&mut w2, &key, &kid2, &["k.example.com"], "http-01");
        let id2 = o2["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        let store = &mut w2.acme.store;
        let obj = store.get("order", &id2).unwrap().unwrap();
        let serial = crate::core::serial::Serial::random().unwrap();
        let mut data = obj.data.clone();
        data["status"] = json!("processing");
        data["csr"] = json!(b64::encode(&c));
        data["serial"] = json!(serial.to_hex());
        data["since"] = json!(0);
        assert!(store.apply(&[super::store::Op::Update { kind: "order", id: id2.clone(), version: obj.version, data }], 0).unwrap());
        if signed_before_crash {
            w2.ca.sign_csr(&c, crate::core::options::SignOptions { serial: Some(serial), san: Some(vec![crate::core::general_names::GeneralName::Dns("k.example.com".into())]), ..Default::default() }).unwrap();
        }
        let r = w2.post(&key, Some(&kid2), &format!("/acme/order/{id2}"), b"");
        let o = body(&r);
        assert_eq!(o["status"], "valid", "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(w2.issued_count(), 1, "signed before the crash: {signed_before_crash}");
        if signed_before_crash {
            assert_eq!(o["certificate"].as_str().unwrap().rsplit('/').next().unwrap(), serial.to_hex());
        }
    }
    let _ = (id, w.issued_count());
}

/// A first process alive but slow past the lease: it marked the order
/// processing under serial S and had not recorded anything when a second
/// took over. The taker revokes S (superseded) before signing under a fresh
/// serial; when the slow one then signs and records S, that certificate is
/// revoked from birth, and its attaching write fails: the order ends with one
/// good certificate, the taker's.
#[test]
fn finalize_takeover_beside_a_slow_first_process() {
    use crate::core::revocation::Reason;
    use crate::core::state::SerialStatus;
    let mut w = World::new();
    w.acme.policy.finalize_lease = 0;
    let key = TestKey::p256();
    let kid = w.account(&key);
    let o = ready_order(&mut w, &key, &kid, &["slow.example.com"], "http-01");
    let id = o["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let c = csr(&ec_key(), &["slow.example.com"], None);
    // the slow process's claim
    let obj = w.acme.store.get("order", &id).unwrap().unwrap();
    let slow = crate::core::serial::Serial::random().unwrap();
    let mut data = obj.data.clone();
    data["status"] = json!("processing");
    data["csr"] = json!(b64::encode(&c));
    data["serial"] = json!(slow.to_hex());
    data["since"] = json!(0);
    let claimed = obj.version + 1;
    assert!(w.acme.store.apply(&[super::store::Op::Update { kind: "order", id: id.clone(), version: obj.version, data: data.clone() }], 0).unwrap());
    // the takeover, through another request
    let r = w.post(&key, Some(&kid), &format!("/acme/order/{id}"), b"");
    let o = body(&r);
    assert_eq!(o["status"], "valid", "{}", String::from_utf8_lossy(&r.body));
    let taken = o["certificate"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_ne!(taken, slow.to_hex());
    assert!(matches!(w.ca.status(&slow).unwrap(), SerialStatus::Revoked(r) if r.reason == Reason::Superseded));
    // the slow process wakes up: signs and records under S, then fails to attach
    let san = vec![crate::core::general_names::GeneralName::Dns("slow.example.com".into())];
    w.ca.sign_csr(&c, crate::core::options::SignOptions { serial: Some(slow), san: Some(san), ..Default::default() }).unwrap();
    let mut done = data.clone();
    done["status"] = json!("valid");
    done["certificate"] = json!(slow.to_hex());
    let attach = [
        super::store::Op::Insert { kind: "cert", id: slow.to_hex(), account: obj.account.clone(), data: json!({}) },
        super::store::Op::Update { kind: "order", id: id.clone(), version: claimed, data: done },
    ];
    assert!(!w.acme.store.apply(&attach, 0).unwrap(), "the slow process's attach loses");
    assert_eq!(w.issued_count(), 2);
    assert!(matches!(w.ca.status(&slow).unwrap(), SerialStatus::Revoked(_)), "its certificate is revoked from birth");
    let r = w.post(&key, Some(&kid), &format!("/acme/order/{id}"), b"");
    assert_eq!(body(&r)["certificate"].as_str().unwrap().rsplit('/').next().unwrap(), taken);
}

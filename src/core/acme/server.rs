//! The ACME server without the network: requests in, responses out.
//!
//! [`Acme::handle`] takes one HTTP request (method, path, content type,
//! body) and returns the response, plus the validations to perform (http-01
//! fetches, dns-01 look-ups) when a challenge was answered. The caller does
//! the networking and hands what it saw to [`Acme::validation_result`], which
//! judges it. State lives in an [`AcmeStore`]; certificates are signed by the
//! CA's own [`Authority::sign_csr`], so every rule of `:sign-csr` applies.
use serde_json::{json, Map, Value};

use super::b64;
use super::jwk::{self, Jwk};
use super::jws::{self, Jws, KeyRef};
use super::policy::{Identifier, Policy};
use super::problem::{Kind, Problem};
use super::store::{AcmeStore, Object, Op};
use super::tls_alpn;
use crate::core::authority::Authority;
use crate::core::cert_info::{CertInfo, CsrInfo};
use crate::core::error::{CaError, CaResult};
use crate::core::general_names::{self, GeneralName};
use crate::core::name_forms::ip;
use crate::core::oid;
use crate::core::options::SignOptions;
use crate::core::pem;
use crate::core::revocation::{Reason, Revocation, REASON_NAMES};
use crate::core::serial::Serial;
use crate::core::state::SerialStatus;
use crate::core::time;
use crate::core::usage;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. "/acme/new-order".
    pub path: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Default for Request {
    /// A GET of no path, no body: what a request that says nothing else is.
    fn default() -> Self {
        Request { method: "GET".into(), path: String::new(), content_type: None, body: Vec::new() }
    }
}

/// A validation the caller must perform (one network look-up).
#[derive(Debug, Clone)]
pub struct Validation {
    /// The challenge, as [`Acme::validation_result`] wants it back.
    pub challenge: String,
    /// "http-01", "dns-01" or "tls-alpn-01".
    pub kind: String,
    /// The identifier's value (host for http-01 and tls-alpn-01, domain for dns-01).
    pub identifier: String,
    pub token: String,
    /// http-01: the path to fetch; dns-01: the name to look up; tls-alpn-01:
    /// the server name to send (the identifier).
    pub target: String,
}

/// What the caller saw while validating.
#[derive(Debug, Clone)]
pub enum Seen {
    /// An HTTP response (http-01): status, Location header, body (bounded by the caller).
    Http { status: u16, location: Option<String>, body: Vec<u8> },
    /// The TXT records found (dns-01).
    Txt(Vec<String>),
    /// What a TLS handshake offering `acme-tls/1` met (tls-alpn-01): the
    /// protocol the server chose and its certificate (DER).
    TlsAlpn { alpn: Option<String>, certificate: Vec<u8> },
    /// No answer: the connection or look-up failed; `kind` is "connection", "dns" or "tls".
    Failed { kind: String, detail: String },
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub validations: Vec<Validation>,
}

impl Response {
    fn json(status: u16, v: &Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: v.to_string().into_bytes(),
            validations: Vec::new(),
        }
    }
    fn problem(p: &Problem) -> Response {
        let mut r = Response::json(p.status(), &p.to_json());
        r.headers[0].1 = "application/problem+json".into();
        if let Some(s) = p.retry_after {
            r.headers.push(("Retry-After".into(), s.to_string()));
        }
        r
    }
    fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An ACME server for one CA.
pub struct Acme {
    /// Scheme, host and port clients reach the server at ("https://ca.example:14000").
    pub base: String,
    pub policy: Policy,
    pub store: Box<dyn AcmeStore>,
}

type Res<T> = Result<T, Problem>;

fn internal(e: CaError) -> Problem {
    Problem::server_internal(e.to_string())
}

fn random_id() -> Res<String> {
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b).map_err(|_| Problem::server_internal("the random generator failed"))?;
    Ok(b64::encode(&b))
}

fn rfc3339(t: i64) -> String {
    time::to_iso(t)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Ids in URLs are our own base64url strings; anything else is not found.
fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The authenticated sender of a POST.
struct Sender {
    jws: Jws,
    /// The account (kid requests), or None (jwk requests).
    account: Option<Object>,
    jwk: Jwk,
}

impl Acme {
    pub fn new(base: &str, policy: Policy, store: Box<dyn AcmeStore>) -> Acme {
        Acme { base: base.trim_end_matches('/').to_string(), policy, store }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn directory_url(&self) -> String {
        self.url("/directory")
    }

    fn new_nonce(&mut self) -> Res<String> {
        let n = random_id()?;
        self.store.nonce_put(&n, time::now()).map_err(internal)?;
        Ok(n)
    }

    /// Answers one request. Never fails: problems become problem documents.
    pub fn handle(&mut self, ca: &mut Authority, req: &Request) -> Response {
        let path = req.path.split('?').next().unwrap_or("").to_string();
        let mut resp = match self.route(ca, req, &path) {
            Ok(r) => r,
            Err(p) => Response::problem(&p),
        };
        // Every response but the directory's carries a fresh nonce (RFC 8555 §6.5).
        if path != "/directory" {
            if let Ok(n) = self.new_nonce() {
                resp.headers.push(("Replay-Nonce".into(), n));
            }
        }
        resp.headers.push(("Link".into(), format!("<{}>;rel=\"index\"", self.directory_url())));
        resp.headers.push(("Cache-Control".into(), "no-store".into()));
        resp
    }

    fn route(&mut self, ca: &mut Authority, req: &Request, path: &str) -> Res<Response> {
        let method = req.method.as_str();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            ("GET" | "HEAD", ["directory"]) => Ok(self.directory()),
            ("GET" | "HEAD", ["acme", "new-nonce"]) => Ok(Response::json(if method == "HEAD" { 200 } else { 204 }, &Value::Null)
                .with_empty_body()),
            ("GET", ["acme", "renewal-info", cert_id]) => self.renewal_info(ca, cert_id),
            ("POST", _) => {
                if !req.content_type.as_deref().is_some_and(|c| c.split(';').next().map(str::trim) == Some("application/jose+json")) {
                    return Err(Problem::malformed("the Content-Type of a POST must be application/jose+json"));
                }
                let jws = jws::parse(&req.body)?;
                match parts.as_slice() {
                    ["acme", "new-account"] => self.new_account(jws, path),
                    ["acme", "new-order"] => self.new_order(jws, path),
                    ["acme", "revoke-cert"] => self.revoke_cert(ca, jws, path),
                    ["acme", "key-change"] => self.key_change(jws, path),
                    ["acme", "acct", id] => self.account(jws, path, id),
                    ["acme", "acct", id, "orders"] => self.account_orders(jws, path, id),
                    ["acme", "order", id] => self.get_order(ca, jws, path, id),
                    ["acme", "finalize", id] => self.finalize(ca, jws, path, id),
                    ["acme", "authz", id] => self.get_authz(jws, path, id),
                    ["acme", "chall", id, n] => self.challenge(jws, path, id, n),
                    ["acme", "cert", id] => self.certificate(ca, jws, path, id),
                    _ => Err(Problem::malformed(format!("no ACME resource at {path}")).with_status_404()),
                }
            }
            (_, ["directory"] | ["acme", "new-nonce"]) => Err(Problem::malformed("method not allowed")),
            _ => Err(Problem::malformed(format!("no ACME resource at {path}")).with_status_404()),
        }
    }

    fn directory(&self) -> Response {
        let mut meta = Map::new();
        if let Some(t) = &self.policy.terms_of_service {
            meta.insert("termsOfService".into(), json!(t));
        }
        meta.insert("externalAccountRequired".into(), json!(self.policy.eab_required));
        Response::json(
            200,
            &json!({
                "newNonce": self.url("/acme/new-nonce"),
                "newAccount": self.url("/acme/new-account"),
                "newOrder": self.url("/acme/new-order"),
                "revokeCert": self.url("/acme/revoke-cert"),
                "keyChange": self.url("/acme/key-change"),
                "renewalInfo": self.url("/acme/renewal-info"),
                "meta": meta,
            }),
        )
    }

    /// The checks every POST passes (RFC 8555 §6.2-6.5): URL, nonce, key, signature.
    fn authenticate(&mut self, jws: Jws, path: &str, want_jwk: bool) -> Res<Sender> {
        if jws.url != self.url(path) {
            return Err(Problem::unauthorized(format!(
                "the JWS \"url\" {:?} is not this request's URL {:?}",
                jws.url,
                self.url(path)
            )));
        }
        let Some(nonce) = jws.nonce.clone() else {
            return Err(Problem::bad_nonce("the protected header has no \"nonce\""));
        };
        let fresh_after = time::now() - self.policy.nonce_lifetime;
        if !id_ok(&nonce) || !self.store.nonce_take(&nonce, fresh_after).map_err(internal)? {
            return Err(Problem::bad_nonce("the nonce was not issued by this server, was used already, or expired"));
        }
        match (&jws.key, want_jwk) {
            (KeyRef::Jwk(jwk), true) => {
                let jwk = jwk.clone();
                jws.verify(&jwk)?;
                Ok(Sender { jws, account: None, jwk })
            }
            (KeyRef::Kid(kid), false) => {
                let prefix = self.url("/acme/acct/");
                let id = kid.strip_prefix(&prefix).filter(|id| id_ok(id)).ok_or_else(|| {
                    Problem::account_does_not_exist(format!("\"kid\" {kid:?} is not an account URL of this server"))
                })?;
                let acct = self
                    .store
                    .get("account", id)
                    .map_err(internal)?
                    .ok_or_else(|| Problem::account_does_not_exist(format!("no account {kid:?}")))?;
                let jwk = Jwk::parse(&serde_json::from_str::<Value>(s(&acct.data, "key")).unwrap_or(Value::Null))?;
                jws.verify(&jwk)?;
                if s(&acct.data, "status") != "valid" {
                    return Err(Problem::unauthorized(format!("the account is {}", s(&acct.data, "status"))));
                }
                Ok(Sender { jws, account: Some(acct), jwk })
            }
            (KeyRef::Jwk(_), false) => Err(Problem::malformed("this request must be signed with \"kid\", the account URL")),
            (KeyRef::Kid(_), true) => Err(Problem::malformed("this request must carry the account key as \"jwk\"")),
        }
    }

    fn account_url(&self, id: &str) -> String {
        self.url(&format!("/acme/acct/{id}"))
    }

    fn account_json(&self, acct: &Object) -> Value {
        json!({
            "status": s(&acct.data, "status"),
            "contact": acct.data.get("contact").cloned().unwrap_or(json!([])),
            "orders": self.url(&format!("/acme/acct/{}/orders", acct.id)),
            "key": serde_json::from_str::<Value>(s(&acct.data, "key")).unwrap_or(Value::Null),
            "createdAt": rfc3339(acct.created),
        })
    }

    fn contacts(v: Option<&Value>) -> Res<Value> {
        let Some(v) = v else { return Ok(json!([])) };
        let list = v.as_array().ok_or_else(|| Problem::malformed("\"contact\" must be an array of URLs"))?;
        if list.len() > 10 {
            return Err(Problem::new(Kind::InvalidContact, "at most 10 contacts"));
        }
        for c in list {
            let c = c.as_str().ok_or_else(|| Problem::malformed("a contact must be a string"))?;
            let Some(addr) = c.strip_prefix("mailto:") else {
                return Err(Problem::new(Kind::UnsupportedContact, format!("contact {c:?}: only mailto: URLs")));
            };
            if addr.len() > 254 || addr.contains(',') || crate::core::name_forms::email::parse(addr).is_err() {
                return Err(Problem::new(Kind::InvalidContact, format!("contact {c:?} is not one email address")));
            }
        }
        Ok(v.clone())
    }

    fn new_account(&mut self, jws: Jws, path: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, true)?;
        let payload = sender.jws.payload_object()?;
        let thumb = sender.jwk.thumbprint();
        if let Some(link) = self.store.get("acctkey", &thumb).map_err(internal)? {
            let id = s(&link.data, "account").to_string();
            let acct = self.store.get("account", &id).map_err(internal)?.ok_or_else(|| Problem::server_internal("account index"))?;
            return Ok(Response::json(200, &self.account_json(&acct)).header("Location", self.account_url(&id)));
        }
        if payload.get("onlyReturnExisting").and_then(Value::as_bool) == Some(true) {
            return Err(Problem::account_does_not_exist("no account has this key"));
        }
        if self.policy.terms_of_service.is_some() && payload.get("termsOfServiceAgreed").and_then(Value::as_bool) != Some(true) {
            return Err(Problem::new(Kind::UserActionRequired, "agree to the terms of service (termsOfServiceAgreed)"));
        }
        let contact = Self::contacts(payload.get("contact"))?;
        let eab_kid = match payload.get("externalAccountBinding") {
            Some(eab) => Some(self.check_eab(eab, &sender, path)?),
            None if self.policy.eab_required => {
                return Err(Problem::new(Kind::ExternalAccountRequired, "this server requires an external account binding"))
            }
            None => None,
        };
        if self.policy.accounts_per_hour > 0
            && self.store.count_since("account", "", time::now() - 3600).map_err(internal)? >= u64::from(self.policy.accounts_per_hour)
        {
            let mut p = Problem::new(Kind::RateLimited, "too many new accounts in the last hour");
            p.retry_after = Some(3600);
            return Err(p);
        }
        let id = random_id()?;
        let data = json!({"status": "valid", "key": sender.jwk.canonical, "thumbprint": thumb, "contact": contact, "eab": eab_kid});
        let ops = [
            Op::Insert { kind: "acctkey", id: thumb.clone(), account: id.clone(), data: json!({"account": id}) },
            Op::Insert { kind: "account", id: id.clone(), account: id.clone(), data },
        ];
        if !self.store.apply(&ops, time::now()).map_err(internal)? {
            return Err(Problem::malformed("an account with this key was created at the same time; retry"));
        }
        let acct = self.store.get("account", &id).map_err(internal)?.ok_or_else(|| Problem::server_internal("account"))?;
        Ok(Response::json(201, &self.account_json(&acct)).header("Location", self.account_url(&id)))
    }

    /// RFC 8555 §7.3.4: an HS256 JWS over the account key, by a key id the CA gave out.
    fn check_eab(&mut self, eab: &Value, sender: &Sender, path: &str) -> Res<String> {
        let inner = jws::from_value(eab, true)?;
        if inner.alg != "HS256" {
            return Err(Problem::malformed("the external account binding must be signed with HS256"));
        }
        if inner.nonce.is_some() {
            return Err(Problem::malformed("the external account binding must not have a nonce"));
        }
        if inner.url != self.url(path) {
            return Err(Problem::unauthorized("the external account binding's url is not newAccount's"));
        }
        let KeyRef::Kid(kid) = &inner.key else {
            return Err(Problem::malformed("the external account binding needs a \"kid\""));
        };
        let secret = self
            .policy
            .eab_keys
            .iter()
            .find(|(k, _)| k == kid)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| Problem::unauthorized(format!("unknown external account key id {kid:?}")))?;
        inner.verify_hmac(&secret)?;
        let bound = Jwk::parse(&inner.payload_json()?.unwrap_or(Value::Null))?;
        if bound.thumbprint() != sender.jwk.thumbprint() {
            return Err(Problem::unauthorized("the external account binding is for another key"));
        }
        // One external account key binds one account.
        let ops = [Op::Insert { kind: "eab", id: kid.clone(), account: String::new(), data: json!({"thumbprint": bound.thumbprint()}) }];
        if !self.store.apply(&ops, time::now()).map_err(internal)? {
            return Err(Problem::unauthorized(format!("external account key {kid:?} is already bound to an account")));
        }
        Ok(kid.clone())
    }

    fn account(&mut self, jws: Jws, path: &str, id: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let acct = sender.account.clone().ok_or_else(|| Problem::server_internal("account"))?;
        if acct.id != id {
            return Err(Problem::unauthorized("the request is signed by another account"));
        }
        let mut data = acct.data.clone();
        if let Some(payload) = sender.jws.payload_json()? {
            let p = payload.as_object().ok_or_else(|| Problem::malformed("the payload must be an object"))?;
            if let Some(c) = p.get("contact") {
                data["contact"] = Self::contacts(Some(c))?;
            }
            match p.get("status").and_then(Value::as_str) {
                None => {}
                Some("deactivated") => data["status"] = json!("deactivated"),
                Some(other) => return Err(Problem::malformed(format!("an account's status can only become deactivated, not {other:?}"))),
            }
            if data != acct.data
                && !self
                    .store
                    .apply(&[Op::Update { kind: "account", id: acct.id.clone(), version: acct.version, data: data.clone() }], time::now())
                    .map_err(internal)?
            {
                return Err(Problem::malformed("the account changed meanwhile; retry"));
            }
        }
        let updated = Object { data, ..acct };
        Ok(Response::json(200, &self.account_json(&updated)).header("Location", self.account_url(id)))
    }

    fn account_orders(&mut self, jws: Jws, path: &str, id: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        if sender.account.as_ref().map(|a| a.id.as_str()) != Some(id) {
            return Err(Problem::unauthorized("the request is signed by another account"));
        }
        let orders = self.store.list("order", id, 1000).map_err(internal)?;
        let urls: Vec<String> = orders
            .iter()
            .filter(|o| matches!(s(&o.data, "status"), "pending" | "ready" | "processing" | "valid"))
            .map(|o| self.url(&format!("/acme/order/{}", o.id)))
            .collect();
        Ok(Response::json(200, &json!({"orders": urls})))
    }

    /// RFC 8555 §7.3.5.
    fn key_change(&mut self, jws: Jws, path: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let acct = sender.account.clone().ok_or_else(|| Problem::server_internal("account"))?;
        let outer = sender.jws.payload_json()?.ok_or_else(|| Problem::malformed("keyChange needs a payload"))?;
        let inner = jws::from_value(&outer, false)?;
        let KeyRef::Jwk(new_key) = &inner.key else {
            return Err(Problem::malformed("the inner JWS must carry the new key as \"jwk\""));
        };
        inner.verify(new_key)?;
        if inner.url != sender.jws.url {
            return Err(Problem::malformed("the inner JWS's url differs from the outer's"));
        }
        let p = inner.payload_object()?;
        if p.get("account").and_then(Value::as_str) != Some(self.account_url(&acct.id).as_str()) {
            return Err(Problem::malformed("the inner payload's account is not the signer's"));
        }
        let old = Jwk::parse(p.get("oldKey").unwrap_or(&Value::Null))?;
        if old.thumbprint() != sender.jwk.thumbprint() {
            return Err(Problem::malformed("oldKey is not the account's current key"));
        }
        let new_thumb = new_key.thumbprint();
        if let Some(link) = self.store.get("acctkey", &new_thumb).map_err(internal)? {
            let url = self.account_url(s(&link.data, "account"));
            let p = Problem::malformed("the new key is already the key of an account");
            return Ok(Response::problem(&p).status_409().header("Location", url));
        }
        let mut data = acct.data.clone();
        data["key"] = json!(new_key.canonical);
        data["thumbprint"] = json!(new_thumb);
        let ops = [
            Op::Delete { kind: "acctkey", id: sender.jwk.thumbprint() },
            Op::Insert { kind: "acctkey", id: new_thumb, account: acct.id.clone(), data: json!({"account": acct.id}) },
            Op::Update { kind: "account", id: acct.id.clone(), version: acct.version, data: data.clone() },
        ];
        if !self.store.apply(&ops, time::now()).map_err(internal)? {
            return Err(Problem::malformed("the account or key changed meanwhile; retry"));
        }
        let updated = Object { data, ..acct };
        Ok(Response::json(200, &self.account_json(&updated)))
    }

    fn new_order(&mut self, jws: Jws, path: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let acct = sender.account.clone().ok_or_else(|| Problem::server_internal("account"))?;
        let p = sender.jws.payload_object()?;
        if p.contains_key("notBefore") || p.contains_key("notAfter") {
            return Err(Problem::malformed("notBefore and notAfter are not supported: the lifetime is the server's policy"));
        }
        let list = p.get("identifiers").and_then(Value::as_array).ok_or_else(|| Problem::malformed("\"identifiers\" must be an array"))?;
        if list.is_empty() || list.len() > self.policy.max_identifiers {
            return Err(Problem::rejected_identifier(format!("an order has 1 to {} identifiers", self.policy.max_identifiers)));
        }
        let mut idents: Vec<Identifier> = Vec::new();
        for i in list {
            let kind = i.get("type").and_then(Value::as_str).ok_or_else(|| Problem::malformed("an identifier needs a \"type\""))?;
            let value = i.get("value").and_then(Value::as_str).ok_or_else(|| Problem::malformed("an identifier needs a \"value\""))?;
            idents.push(self.policy.identifier(kind, value)?);
        }
        idents.sort();
        idents.dedup();
        let replaces = match p.get("replaces") {
            None => None,
            Some(Value::String(r)) => Some(self.check_replaces(r, &acct)?),
            Some(_) => return Err(Problem::malformed("\"replaces\" must be a string")),
        };
        let now = time::now();
        if self.policy.orders_per_hour > 0
            && self.store.count_since("order", &acct.id, now - 3600).map_err(internal)? >= u64::from(self.policy.orders_per_hour)
        {
            let mut p = Problem::new(Kind::RateLimited, format!("more than {} new orders in the last hour", self.policy.orders_per_hour));
            p.retry_after = Some(600);
            return Err(p);
        }
        let expires = now + self.policy.order_lifetime;
        let order_id = random_id()?;
        let mut ops = Vec::new();
        let mut authz_ids = Vec::new();
        for ident in &idents {
            let authz_id = random_id()?;
            let types: &[&str] = if ident.is_wildcard() {
                &["dns-01"]
            } else if ident.kind == "ip" {
                &["http-01"]
            } else {
                &["http-01", "dns-01", "tls-alpn-01"]
            };
            let mut challenges = Vec::new();
            for t in types {
                challenges.push(json!({"type": t, "token": random_id()?, "status": "pending"}));
            }
            ops.push(Op::Insert {
                kind: "authz",
                id: authz_id.clone(),
                account: acct.id.clone(),
                data: json!({
                    "status": "pending", "order": order_id, "expires": expires,
                    "identifier": {"type": ident.kind, "value": ident.authz_value()},
                    "wildcard": ident.is_wildcard(), "challenges": challenges,
                }),
            });
            authz_ids.push(authz_id);
        }
        let data = json!({
            "status": "pending", "expires": expires,
            "identifiers": idents.iter().map(|i| json!({"type": i.kind, "value": i.value})).collect::<Vec<_>>(),
            "authorizations": authz_ids, "replaces": replaces,
        });
        ops.push(Op::Insert { kind: "order", id: order_id.clone(), account: acct.id.clone(), data });
        if !self.store.apply(&ops, now).map_err(internal)? {
            return Err(Problem::server_internal("an id collided; retry"));
        }
        let order = self.store.get("order", &order_id).map_err(internal)?.ok_or_else(|| Problem::server_internal("order"))?;
        Ok(Response::json(201, &self.order_json(&order)).header("Location", self.url(&format!("/acme/order/{order_id}"))))
    }

    /// ARI's `replaces` (RFC 9773 §5): a certificate of this account's, not replaced yet.
    fn check_replaces(&mut self, cert_id: &str, acct: &Object) -> Res<String> {
        let serial = self.parse_cert_id(cert_id, None)?;
        let cert = self
            .store
            .get("cert", &serial.to_hex())
            .map_err(internal)?
            .ok_or_else(|| Problem::malformed(format!("\"replaces\": no certificate {cert_id:?} was issued through ACME")))?;
        if cert.account != acct.id {
            return Err(Problem::unauthorized("\"replaces\" names a certificate of another account"));
        }
        Ok(cert_id.to_string())
    }

    fn order_json(&self, order: &Object) -> Value {
        let d = &order.data;
        let mut v = json!({
            "status": s(d, "status"),
            "expires": rfc3339(d.get("expires").and_then(Value::as_i64).unwrap_or(0)),
            "identifiers": d.get("identifiers").cloned().unwrap_or(json!([])),
            "authorizations": d.get("authorizations").and_then(Value::as_array).map(|a| a.iter()
                .map(|id| self.url(&format!("/acme/authz/{}", id.as_str().unwrap_or("")))).collect::<Vec<_>>()).unwrap_or_default(),
            "finalize": self.url(&format!("/acme/finalize/{}", order.id)),
        });
        if let Some(c) = d.get("certificate").and_then(Value::as_str) {
            v["certificate"] = json!(self.url(&format!("/acme/cert/{c}")));
        }
        if let Some(e) = d.get("error").filter(|e| !e.is_null()) {
            v["error"] = e.clone();
        }
        if let Some(r) = d.get("replaces").and_then(Value::as_str) {
            v["replaces"] = json!(r);
        }
        v
    }

    fn owned(&mut self, kind: &str, id: &str, sender: &Sender) -> Res<Object> {
        let not_found = || Problem::malformed(format!("no {kind} {id:?}")).with_status_404();
        if !id_ok(id) {
            return Err(not_found());
        }
        let o = self.store.get(kind, id).map_err(internal)?.ok_or_else(not_found)?;
        if Some(&o.account) != sender.account.as_ref().map(|a| &a.id) {
            return Err(Problem::unauthorized(format!("this {kind} belongs to another account")));
        }
        Ok(o)
    }

    /// An authorization's current status, moving it to expired when its time is up.
    fn authz_status(&mut self, authz: &mut Object) -> Res<String> {
        let st = s(&authz.data, "status").to_string();
        let expires = authz.data.get("expires").and_then(Value::as_i64).unwrap_or(0);
        if (st == "pending" || st == "valid") && expires <= time::now() {
            let mut data = authz.data.clone();
            data["status"] = json!("expired");
            if self.store.apply(&[Op::Update { kind: "authz", id: authz.id.clone(), version: authz.version, data: data.clone() }], time::now()).map_err(internal)? {
                authz.version += 1;
                authz.data = data;
            }
            return Ok("expired".into());
        }
        Ok(st)
    }

    /// Brings a pending order up to date with its authorizations
    /// (pending -> ready | invalid) and takes over an abandoned finalize.
    fn refresh_order(&mut self, ca: &mut Authority, mut order: Object) -> Res<Object> {
        loop {
            let st = s(&order.data, "status").to_string();
            let now = time::now();
            let mut data = order.data.clone();
            if st == "pending" {
                let ids: Vec<String> = order.data["authorizations"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default();
                let mut all_valid = true;
                let mut failed = None;
                for id in ids {
                    let Some(mut a) = self.store.get("authz", &id).map_err(internal)? else { continue };
                    match self.authz_status(&mut a)?.as_str() {
                        "valid" => {}
                        "pending" => all_valid = false,
                        other => {
                            failed = Some(match a.data["challenges"].as_array().and_then(|c| c.iter().find_map(|c| c.get("error").filter(|e| !e.is_null()).cloned())) {
                                Some(e) => e,
                                None => Problem::unauthorized(format!("an authorization is {other}")).to_json(),
                            });
                            break;
                        }
                    }
                }
                if let Some(e) = failed {
                    data["status"] = json!("invalid");
                    data["error"] = e;
                } else if data.get("expires").and_then(Value::as_i64).unwrap_or(0) <= now {
                    data["status"] = json!("invalid");
                    data["error"] = Problem::unauthorized("the order expired").to_json();
                } else if all_valid {
                    data["status"] = json!("ready");
                } else {
                    return Ok(order);
                }
            } else if st == "processing" && data.get("since").and_then(Value::as_i64).unwrap_or(0) + self.policy.finalize_lease <= now {
                // The process finalizing it went away: finish its work.
                return self.sign_order(ca, order, true);
            } else {
                return Ok(order);
            }
            if self.store.apply(&[Op::Update { kind: "order", id: order.id.clone(), version: order.version, data: data.clone() }], now).map_err(internal)? {
                order.version += 1;
                order.data = data;
                return Ok(order);
            }
            order = self.store.get("order", &order.id).map_err(internal)?.ok_or_else(|| Problem::server_internal("order vanished"))?;
        }
    }

    fn get_order(&mut self, ca: &mut Authority, jws: Jws, path: &str, id: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let order = self.owned("order", id, &sender)?;
        let order = self.refresh_order(ca, order)?;
        let mut r = Response::json(200, &self.order_json(&order));
        if s(&order.data, "status") == "processing" {
            r = r.header("Retry-After", "1");
        }
        Ok(r)
    }

    fn authz_json(&self, a: &Object) -> Value {
        let d = &a.data;
        let challenges: Vec<Value> = d["challenges"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .enumerate()
                    .map(|(i, c)| self.challenge_json(&a.id, i, c))
                    .collect()
            })
            .unwrap_or_default();
        let mut v = json!({
            "status": s(d, "status"),
            "expires": rfc3339(d.get("expires").and_then(Value::as_i64).unwrap_or(0)),
            "identifier": d["identifier"],
            "challenges": challenges,
        });
        if d.get("wildcard").and_then(Value::as_bool) == Some(true) {
            v["wildcard"] = json!(true);
        }
        v
    }

    fn challenge_json(&self, authz: &str, i: usize, c: &Value) -> Value {
        let mut v = json!({
            "type": s(c, "type"),
            "url": self.url(&format!("/acme/chall/{authz}/{i}")),
            "token": s(c, "token"),
            "status": s(c, "status"),
        });
        if let Some(t) = c.get("validated").and_then(Value::as_i64) {
            v["validated"] = json!(rfc3339(t));
        }
        if let Some(e) = c.get("error").filter(|e| !e.is_null()) {
            v["error"] = e.clone();
        }
        v
    }

    fn get_authz(&mut self, jws: Jws, path: &str, id: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let mut authz = self.owned("authz", id, &sender)?;
        if let Some(p) = sender.jws.payload_json()? {
            // Deactivation (RFC 8555 §7.5.2).
            if p.get("status").and_then(Value::as_str) == Some("deactivated") {
                if !matches!(s(&authz.data, "status"), "pending" | "valid") {
                    return Err(Problem::malformed("only a pending or valid authorization can be deactivated"));
                }
                let mut data = authz.data.clone();
                data["status"] = json!("deactivated");
                if !self.store.apply(&[Op::Update { kind: "authz", id: authz.id.clone(), version: authz.version, data: data.clone() }], time::now()).map_err(internal)? {
                    return Err(Problem::malformed("the authorization changed meanwhile; retry"));
                }
                authz.data = data;
            } else if !p.as_object().is_some_and(|o| o.is_empty()) {
                return Err(Problem::malformed("an authorization accepts only {\"status\": \"deactivated\"}"));
            }
        }
        self.authz_status(&mut authz)?;
        Ok(Response::json(200, &self.authz_json(&authz)))
    }

    fn challenge(&mut self, jws: Jws, path: &str, authz_id: &str, n: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let mut authz = self.owned("authz", authz_id, &sender)?;
        let i: usize = n.parse().map_err(|_| Problem::malformed("no such challenge").with_status_404())?;
        let c = authz.data["challenges"].get(i).cloned().ok_or_else(|| Problem::malformed("no such challenge").with_status_404())?;
        let authz_url = self.url(&format!("/acme/authz/{authz_id}"));
        let up = ("Link".to_string(), format!("<{authz_url}>;rel=\"up\""));
        let post_as_get = sender.jws.payload.is_empty();
        let status = self.authz_status(&mut authz)?;
        let cst = s(&c, "status").to_string();
        let now = time::now();
        let stale = cst == "processing" && c.get("since").and_then(Value::as_i64).unwrap_or(0) + 30 <= now;
        if post_as_get || !(status == "pending" && (cst == "pending" || stale)) {
            // A POST-as-GET, or a response to a challenge already answered:
            // the challenge as it is (RFC 8555 §7.5.1 lets clients retry).
            let mut r = Response::json(200, &self.challenge_json(authz_id, i, &c));
            r.headers.push(up);
            if cst == "processing" {
                r.headers.push(("Retry-After".into(), "1".into()));
            }
            return Ok(r);
        }
        // The client says it is ready: start the validation.
        let mut data = authz.data.clone();
        data["challenges"][i]["status"] = json!("processing");
        data["challenges"][i]["since"] = json!(now);
        if !self.store.apply(&[Op::Update { kind: "authz", id: authz.id.clone(), version: authz.version, data: data.clone() }], now).map_err(internal)? {
            return Err(Problem::malformed("the authorization changed meanwhile; retry"));
        }
        let ident = s(&authz.data["identifier"], "value").to_string();
        let kind = s(&c, "type").to_string();
        let token = s(&c, "token").to_string();
        let target = match kind.as_str() {
            "dns-01" => format!("_acme-challenge.{ident}"),
            "tls-alpn-01" => ident.clone(),
            _ => format!("/.well-known/acme-challenge/{token}"),
        };
        let mut r = Response::json(200, &self.challenge_json(authz_id, i, &data["challenges"][i]));
        r.headers.push(up);
        r.headers.push(("Retry-After".into(), "1".into()));
        r.validations.push(Validation { challenge: format!("{authz_id}/{i}"), kind, identifier: ident, token, target });
        Ok(r)
    }

    /// Judges what the caller saw for a validation and records the outcome.
    /// Returns the challenge's new status ("valid" or "invalid").
    pub fn validation_result(&mut self, challenge: &str, seen: &Seen) -> CaResult<String> {
        let (authz_id, i) = challenge
            .split_once('/')
            .and_then(|(a, i)| Some((a, i.parse::<usize>().ok()?)))
            .ok_or_else(|| CaError::param(format!("challenge {challenge:?} is not \"AUTHZ/N\"")))?;
        for _ in 0..5 {
            let authz = self
                .store
                .get("authz", authz_id)
                .and_then(|a| a.ok_or_else(|| CaError::param(format!("no authorization {authz_id:?}"))))?;
            let c = authz.data["challenges"].get(i).cloned().ok_or_else(|| CaError::param("no such challenge"))?;
            if s(&c, "status") != "processing" {
                return Ok(s(&c, "status").to_string());
            }
            let acct = self.store.get("account", &authz.account)?.ok_or_else(|| CaError::param("no account"))?;
            let ka = jwk::key_authorization(s(&c, "token"), s(&acct.data, "thumbprint"));
            // Test-only (benchmarks): every validation passes, whatever was seen.
            let identifier = s(&authz.data["identifier"], "value");
            let verdict = if self.policy.validation_always_valid { Ok(()) } else { judge(s(&c, "type"), identifier, &ka, seen) };
            let mut data = authz.data.clone();
            let now = time::now();
            match &verdict {
                Ok(()) => {
                    data["challenges"][i]["status"] = json!("valid");
                    data["challenges"][i]["validated"] = json!(now);
                    data["status"] = json!("valid");
                }
                Err(p) => {
                    data["challenges"][i]["status"] = json!("invalid");
                    data["challenges"][i]["error"] = p.to_json();
                    data["status"] = json!("invalid");
                }
            }
            if self.store.apply(&[Op::Update { kind: "authz", id: authz.id.clone(), version: authz.version, data }], now)? {
                return Ok(if verdict.is_ok() { "valid" } else { "invalid" }.into());
            }
        }
        Err(CaError::resource("the authorization kept changing while recording a validation"))
    }

    /// The names a CSR asks for, canonical: (kind, value) like identifiers.
    fn csr_names(csr: &CsrInfo) -> Res<Vec<Identifier>> {
        let mut names = Vec::new();
        for e in &csr.requested {
            if e.oid == oid::SAN {
                for g in general_names::parse_requested(&e.value).map_err(|e| Problem::bad_csr(e.message))? {
                    names.push(match g {
                        GeneralName::Dns(d) => Identifier { kind: "dns".into(), value: d.to_ascii_lowercase() },
                        GeneralName::Ip(o) => Identifier { kind: "ip".into(), value: ip::display(&o) },
                        other => return Err(Problem::bad_csr(format!("the CSR asks for {}, which is not an identifier of the order", other.describe()))),
                    });
                }
            }
        }
        if let Some(cn) = csr.subject.common_name() {
            let cn_l = cn.to_ascii_lowercase();
            let as_ip = ip::parse(&cn_l).ok().map(|o| ip::display(&o));
            if !names.iter().any(|n| n.value == cn_l || Some(&n.value) == as_ip.as_ref()) {
                return Err(Problem::bad_csr(format!("the CSR's common name {cn:?} is not among its subjectAltNames")));
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn finalize(&mut self, ca: &mut Authority, jws: Jws, path: &str, id: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let order = self.owned("order", id, &sender)?;
        let order = self.refresh_order(ca, order)?;
        let order_url = self.url(&format!("/acme/order/{id}"));
        match s(&order.data, "status") {
            "ready" => {}
            "processing" | "valid" => {
                // A retried finalize: the order as it stands (never a second certificate).
                return Ok(Response::json(200, &self.order_json(&order)).header("Location", order_url).header("Retry-After", "1"));
            }
            other => return Err(Problem::order_not_ready(format!("the order is {other}, not ready"))),
        }
        let p = sender.jws.payload_object()?;
        let csr_b64 = p.get("csr").and_then(Value::as_str).ok_or_else(|| Problem::malformed("finalize needs \"csr\""))?;
        let csr_der = b64::decode(csr_b64, "csr").map_err(|e| Problem::bad_csr(e.detail))?;
        let csr = CsrInfo::parse(&csr_der).map_err(|e| Problem::bad_csr(e.to_string()))?;
        let account_spki = sender.jwk.spki_der()?;
        if csr.spki_der == account_spki {
            return Err(Problem::bad_csr("the CSR's key is the account key; use another key for the certificate"));
        }
        let wanted: Vec<Identifier> = serde_json::from_value::<Vec<Value>>(order.data["identifiers"].clone())
            .unwrap_or_default()
            .iter()
            .map(|i| Identifier { kind: s(i, "type").into(), value: s(i, "value").into() })
            .collect();
        let got = Self::csr_names(&csr)?;
        if got != wanted {
            return Err(Problem::bad_csr(format!(
                "the CSR asks for {:?}, the order is for {:?}",
                got.iter().map(|i| &i.value).collect::<Vec<_>>(),
                wanted.iter().map(|i| &i.value).collect::<Vec<_>>()
            )));
        }
        let serial = Serial::random().map_err(internal)?;
        let mut data = order.data.clone();
        data["status"] = json!("processing");
        data["csr"] = json!(csr_b64);
        data["serial"] = json!(serial.to_hex());
        data["since"] = json!(time::now());
        let now = time::now();
        if !self.store.apply(&[Op::Update { kind: "order", id: order.id.clone(), version: order.version, data: data.clone() }], now).map_err(internal)? {
            // Another request finalized it first.
            let order = self.store.get("order", id).map_err(internal)?.ok_or_else(|| Problem::server_internal("order"))?;
            return Ok(Response::json(200, &self.order_json(&order)).header("Location", order_url));
        }
        let order = Object { version: order.version + 1, data, ..order };
        let order = self.sign_order(ca, order, false)?;
        let mut r = Response::json(200, &self.order_json(&order)).header("Location", order_url);
        if s(&order.data, "status") == "processing" {
            r = r.header("Retry-After", "1");
        }
        Ok(r)
    }

    /// Signs a processing order's CSR with its recorded serial and records the
    /// certificate with the order, in one transaction. `takeover`: the process
    /// that started it is past its lease (killed, or alive but slow); if it
    /// got as far as the CA's index, attach that certificate, else claim the
    /// order under a fresh serial (a compare-and-swap: the first process's
    /// attaching write can no longer succeed) and revoke the old serial as
    /// superseded before signing anything. So one order never has two good
    /// certificates: if the first process still signs and records its
    /// certificate, it is revoked from birth and never handed out.
    fn sign_order(&mut self, ca: &mut Authority, order: Object, takeover: bool) -> Res<Object> {
        let mut order = order;
        let serial = Serial::from_hex(s(&order.data, "serial"), "serial").map_err(internal)?;
        let mut found = None;
        if takeover {
            // an earlier takeover may have died between its claim and its revocations
            self.revoke_abandoned(ca, &order)?;
            if let SerialStatus::Good | SerialStatus::Revoked(_) = ca.status(&serial).map_err(internal)? {
                found = ca
                    .issued()
                    .map_err(internal)?
                    .and_then(|all| all.iter().find(|d| CertInfo::parse(d).is_ok_and(|i| i.serial == serial)).cloned());
            }
            if found.is_none() {
                let fresh = Serial::random().map_err(internal)?;
                let mut data = order.data.clone();
                data["serial"] = json!(fresh.to_hex());
                data["since"] = json!(time::now());
                let mut abandoned = data.get("abandoned").and_then(Value::as_array).cloned().unwrap_or_default();
                abandoned.push(json!(serial.to_hex()));
                data["abandoned"] = json!(abandoned);
                if !self.store.apply(&[Op::Update { kind: "order", id: order.id.clone(), version: order.version, data: data.clone() }], time::now()).map_err(internal)? {
                    return self.store.get("order", &order.id).map_err(internal)?.ok_or_else(|| Problem::server_internal("order"));
                }
                order.version += 1;
                order.data = data;
                self.revoke_abandoned(ca, &order)?;
                return self.sign_order(ca, order, false);
            }
        }
        let der = match found {
            Some(d) => d,
            None => {
                let csr = b64::decode(s(&order.data, "csr"), "csr")?;
                let san: Vec<GeneralName> = order.data["identifiers"]
                    .as_array()
                    .map(|a| a.iter().map(|i| {
                        let id = Identifier { kind: s(i, "type").into(), value: s(i, "value").into() };
                        GeneralName::parse(&id.san(), "order identifier")
                    }).collect::<CaResult<Vec<_>>>())
                    .transpose()
                    .map_err(internal)?
                    .unwrap_or_default();
                let opts = SignOptions {
                    days_valid: self.policy.days_valid,
                    serial: Some(serial),
                    san: Some(san),
                    ext_key_usage: if self.policy.ext_key_usage.is_empty() { None } else { Some(usage::parse_ext_key_usage(&self.policy.ext_key_usage).map_err(internal)?) },
                    key_usage: if self.policy.key_usage.is_empty() { None } else { Some(usage::parse_key_usage(&self.policy.key_usage).map_err(internal)?) },
                    ..SignOptions::default()
                };
                match ca.sign_csr(&csr, opts) {
                    Ok(pem_text) => pem::certificate_der(pem_text.as_bytes()).map_err(internal)?,
                    Err(e) => {
                        // The CA refused (its name constraints, the key): the order fails.
                        let p = Problem::from(e);
                        let mut data = order.data.clone();
                        data["status"] = json!("invalid");
                        data["error"] = p.to_json();
                        if !self.store.apply(&[Op::Update { kind: "order", id: order.id.clone(), version: order.version, data }], time::now()).map_err(internal)? {
                            // another process took the order over meanwhile: its outcome stands
                            return self.store.get("order", &order.id).map_err(internal)?.ok_or_else(|| Problem::server_internal("order"));
                        }
                        return Err(p);
                    }
                }
            }
        };
        let info = CertInfo::parse(&der).map_err(internal)?;
        let hex = info.serial.to_hex();
        let mut data = order.data.clone();
        data["status"] = json!("valid");
        data["certificate"] = json!(hex);
        let ops = [
            Op::Insert { kind: "cert", id: hex.clone(), account: order.account.clone(), data: json!({"order": order.id, "der": b64::encode(&der), "replaces": order.data.get("replaces")}) },
            Op::Update { kind: "order", id: order.id.clone(), version: order.version, data: data.clone() },
        ];
        if !self.store.apply(&ops, time::now()).map_err(internal)? {
            // Another process attached this certificate, or took the order
            // over (past the lease) and gave this serial up: then this
            // certificate is never handed out, and is revoked here too in
            // case the taker died before revoking it.
            let now = self.store.get("order", &order.id).map_err(internal)?.ok_or_else(|| Problem::server_internal("order"))?;
            self.revoke_abandoned(ca, &now)?;
            return Ok(now);
        }
        Ok(Object { version: order.version + 1, data, ..order })
    }

    /// Revokes (superseded) the serials a takeover gave up on for `order`,
    /// those not revoked yet: whatever the process that reserved them still
    /// signs under them is never handed out.
    fn revoke_abandoned(&mut self, ca: &mut Authority, order: &Object) -> Res<()> {
        let Some(list) = order.data.get("abandoned").and_then(Value::as_array) else { return Ok(()) };
        for hex in list.iter().filter_map(Value::as_str) {
            let serial = Serial::from_hex(hex, "abandoned serial").map_err(internal)?;
            if let SerialStatus::Revoked(_) = ca.status(&serial).map_err(internal)? {
                continue;
            }
            ca.revoke(Revocation { serial, reason: Reason::Superseded, date: time::now() }).map_err(internal)?;
        }
        Ok(())
    }

    fn certificate(&mut self, ca: &mut Authority, jws: Jws, path: &str, id: &str) -> Res<Response> {
        let sender = self.authenticate(jws, path, false)?;
        let cert = self.owned("cert", id, &sender)?;
        let der = b64::decode(s(&cert.data, "der"), "certificate").map_err(|_| Problem::server_internal("stored certificate"))?;
        let mut chain = pem::encode("CERTIFICATE", &der);
        chain.push_str(&ca.cert_pem());
        let mut r = Response::json(200, &Value::Null);
        r.headers[0].1 = "application/pem-certificate-chain".into();
        r.body = chain.into_bytes();
        Ok(r)
    }

    /// RFC 8555 §7.6: by the account that ordered it, or signed by the certificate's key.
    fn revoke_cert(&mut self, ca: &mut Authority, jws: Jws, path: &str) -> Res<Response> {
        let by_key = matches!(jws.key, KeyRef::Jwk(_));
        let sender = self.authenticate(jws, path, by_key)?;
        let p = sender.jws.payload_object()?;
        let der = b64::decode(p.get("certificate").and_then(Value::as_str).ok_or_else(|| Problem::malformed("revokeCert needs \"certificate\""))?, "certificate")?;
        let info = CertInfo::parse(&der).map_err(|e| Problem::malformed(e.to_string()))?;
        let hex = info.serial.to_hex();
        let known = self.store.get("cert", &hex).map_err(internal)?;
        let stored = known.as_ref().and_then(|c| b64::decode(s(&c.data, "der"), "der").ok());
        if stored.as_deref() != Some(der.as_slice()) {
            return Err(Problem::malformed("this certificate was not issued by this ACME server"));
        }
        let known = known.ok_or_else(|| Problem::server_internal("cert"))?;
        if by_key {
            if sender.jwk.spki_der()? != info.spki_der {
                return Err(Problem::unauthorized("the request is signed neither by the certificate's key nor by its account"));
            }
        } else if sender.account.as_ref().map(|a| &a.id) != Some(&known.account) {
            return Err(Problem::unauthorized("the certificate was ordered by another account"));
        }
        let code = match p.get("reason") {
            None => 0,
            Some(v) => v.as_u64().ok_or_else(|| Problem::new(Kind::BadRevocationReason, "reason must be a number"))?,
        };
        let reason = REASON_NAMES
            .iter()
            .map(|(_, r)| *r)
            .find(|r| u64::from(r.code()) == code && !matches!(r, Reason::RemoveFromCrl | Reason::CertificateHold))
            .ok_or_else(|| Problem::new(Kind::BadRevocationReason, format!("revocation reason {code} is not allowed")))?;
        if let SerialStatus::Revoked(_) = ca.status(&info.serial).map_err(internal)? {
            return Err(Problem::new(Kind::AlreadyRevoked, "the certificate is already revoked"));
        }
        ca.revoke(Revocation { serial: info.serial, reason, date: time::now() }).map_err(internal)?;
        Ok(Response::json(200, &Value::Null).with_empty_body())
    }

    /// RFC 9773 §4.1: certID is base64url(AKI keyIdentifier) "." base64url(serial).
    fn parse_cert_id(&self, cert_id: &str, ca: Option<&Authority>) -> Res<Serial> {
        let (aki, serial) = cert_id.split_once('.').ok_or_else(|| Problem::malformed("a certID is AKI.SERIAL"))?;
        let aki = b64::decode(aki, "the certID's key identifier")?;
        if let Some(ca) = ca {
            if aki != ca.key_id() {
                return Err(Problem::malformed("the certID's key identifier is not this CA's").with_status_404());
            }
        }
        let serial = b64::decode(serial, "the certID's serial")?;
        Serial::from_be_bytes(&serial).map_err(|e| Problem::malformed(e.message))
    }

    fn renewal_info(&mut self, ca: &mut Authority, cert_id: &str) -> Res<Response> {
        let serial = self.parse_cert_id(cert_id, Some(ca))?;
        let cert = self
            .store
            .get("cert", &serial.to_hex())
            .map_err(internal)?
            .ok_or_else(|| Problem::malformed("no certificate with this certID was issued through ACME").with_status_404())?;
        let der = b64::decode(s(&cert.data, "der"), "der").map_err(|_| Problem::server_internal("stored certificate"))?;
        let info = CertInfo::parse(&der).map_err(internal)?;
        let (start, end) = match ca.status(&serial).map_err(internal)? {
            SerialStatus::Revoked(r) => {
                // Revoked: renew now (RFC 9773 §4.2 lets the window be in the past).
                let now = time::now();
                (r.date.min(now - 1), now)
            }
            _ => {
                let life = info.not_after - info.not_before;
                (info.not_before + life * 2 / 3, info.not_before + life * 5 / 6)
            }
        };
        Ok(Response::json(200, &json!({"suggestedWindow": {"start": rfc3339(start), "end": rfc3339(end)}}))
            .header("Retry-After", "21600"))
    }
}

/// The verdict on what a validation saw (RFC 8555 §8.3, §8.4; RFC 8737 §3).
fn judge(kind: &str, identifier: &str, key_authorization: &str, seen: &Seen) -> Result<(), Problem> {
    match (kind, seen) {
        (_, Seen::Failed { kind, detail }) => Err(Problem::new(Kind::from_name(kind).unwrap_or(Kind::Connection), detail.clone())),
        ("http-01", Seen::Http { status, location, body }) => {
            if (300..400).contains(status) {
                return Err(Problem::connection(format!(
                    "the validation target answered {status}, a redirect to {:?}; redirects are not followed",
                    location.as_deref().unwrap_or("")
                )));
            }
            if *status != 200 {
                return Err(Problem::unauthorized(format!("the validation target answered HTTP {status}, not 200")));
            }
            let text = String::from_utf8_lossy(body);
            if text.trim() == key_authorization {
                Ok(())
            } else {
                Err(Problem::new(Kind::IncorrectResponse, format!(
                    "the key authorization served is {:?}, not the expected one",
                    text.chars().take(100).collect::<String>()
                )))
            }
        }
        ("dns-01", Seen::Txt(records)) => {
            let want = jwk::dns01_digest(key_authorization);
            if records.iter().any(|r| r == &want) {
                Ok(())
            } else {
                Err(Problem::new(Kind::IncorrectResponse, format!("no TXT record holds the expected digest ({} records found)", records.len())))
            }
        }
        ("tls-alpn-01", Seen::TlsAlpn { alpn, certificate }) => {
            tls_alpn::judge(identifier, key_authorization, alpn.as_deref(), certificate)
        }
        _ => Err(Problem::server_internal("the validation result does not match the challenge type")),
    }
}

impl Problem {
    /// A missing resource: 404 with a malformed problem (as Boulder does).
    fn with_status_404(mut self) -> Problem {
        self.http_status = Some(404);
        self
    }
}

impl Response {
    fn with_empty_body(mut self) -> Response {
        self.body.clear();
        self.headers.retain(|(k, _)| k != "Content-Type");
        self
    }
    fn status_409(mut self) -> Response {
        self.status = 409;
        self
    }
}

//! Problem documents (RFC 7807) with ACME's error types (RFC 8555 §6.7).
use serde_json::{json, Value};

/// ACME error types, `urn:ietf:params:acme:error:<name>`, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AccountDoesNotExist,
    AlreadyRevoked,
    BadCsr,
    BadNonce,
    BadPublicKey,
    BadRevocationReason,
    BadSignatureAlgorithm,
    Caa,
    Connection,
    Dns,
    ExternalAccountRequired,
    IncorrectResponse,
    InvalidContact,
    Malformed,
    OrderNotReady,
    RateLimited,
    RejectedIdentifier,
    ServerInternal,
    Tls,
    Unauthorized,
    UnsupportedContact,
    UnsupportedIdentifier,
    UserActionRequired,
}

impl Kind {
    pub fn name(self) -> &'static str {
        use Kind::*;
        match self {
            AccountDoesNotExist => "accountDoesNotExist",
            AlreadyRevoked => "alreadyRevoked",
            BadCsr => "badCSR",
            BadNonce => "badNonce",
            BadPublicKey => "badPublicKey",
            BadRevocationReason => "badRevocationReason",
            BadSignatureAlgorithm => "badSignatureAlgorithm",
            Caa => "caa",
            Connection => "connection",
            Dns => "dns",
            ExternalAccountRequired => "externalAccountRequired",
            IncorrectResponse => "incorrectResponse",
            InvalidContact => "invalidContact",
            Malformed => "malformed",
            OrderNotReady => "orderNotReady",
            RateLimited => "rateLimited",
            RejectedIdentifier => "rejectedIdentifier",
            ServerInternal => "serverInternal",
            Tls => "tls",
            Unauthorized => "unauthorized",
            UnsupportedContact => "unsupportedContact",
            UnsupportedIdentifier => "unsupportedIdentifier",
            UserActionRequired => "userActionRequired",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        use Kind::*;
        [
            AccountDoesNotExist, AlreadyRevoked, BadCsr, BadNonce, BadPublicKey, BadRevocationReason,
            BadSignatureAlgorithm, Caa, Connection, Dns, ExternalAccountRequired, IncorrectResponse,
            InvalidContact, Malformed, OrderNotReady, RateLimited, RejectedIdentifier, ServerInternal, Tls,
            Unauthorized, UnsupportedContact, UnsupportedIdentifier, UserActionRequired,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }

    pub fn status(self) -> u16 {
        use Kind::*;
        match self {
            Unauthorized | OrderNotReady | UserActionRequired | IncorrectResponse => 403,
            AccountDoesNotExist => 400,
            RateLimited => 429,
            ServerInternal => 500,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    pub detail: String,
    /// Extra members (badSignatureAlgorithm's `algorithms`).
    pub algorithms: Option<Vec<&'static str>>,
    /// Seconds for a Retry-After header (rateLimited).
    pub retry_after: Option<u64>,
    /// An HTTP status other than the type's (404 for a missing resource).
    pub http_status: Option<u16>,
}

macro_rules! ctor {
    ($($f:ident => $k:ident),* $(,)?) => {
        $(pub fn $f(detail: impl Into<String>) -> Problem { Problem::new(Kind::$k, detail) })*
    };
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        Problem { kind, detail: detail.into(), algorithms: None, retry_after: None, http_status: None }
    }
    ctor! {
        malformed => Malformed, unauthorized => Unauthorized, bad_nonce => BadNonce,
        bad_public_key => BadPublicKey, bad_csr => BadCsr, server_internal => ServerInternal,
        rejected_identifier => RejectedIdentifier, account_does_not_exist => AccountDoesNotExist,
        order_not_ready => OrderNotReady, unsupported_identifier => UnsupportedIdentifier,
        incorrect_response => IncorrectResponse, connection => Connection,
    }

    pub fn type_urn(&self) -> String {
        format!("urn:ietf:params:acme:error:{}", self.kind.name())
    }

    pub fn status(&self) -> u16 {
        self.http_status.unwrap_or(self.kind.status())
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({"type": self.type_urn(), "detail": self.detail, "status": self.status()});
        if let (Some(algs), Some(obj)) = (&self.algorithms, v.as_object_mut()) {
            obj.insert("algorithms".into(), json!(algs));
        }
        v
    }
}

impl From<crate::core::error::CaError> for Problem {
    /// A CA error while serving: the CA's own words, as serverInternal
    /// unless it is about the request (the CSR's signature, its key, its names).
    fn from(e: crate::core::error::CaError) -> Problem {
        use crate::core::error::Category;
        match e.category {
            Category::Param | Category::Parse | Category::Verify => Problem::bad_csr(e.to_string()),
            _ => Problem::server_internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents() {
        let p = Problem::bad_nonce("stale");
        let j = p.to_json();
        assert_eq!(j["type"], "urn:ietf:params:acme:error:badNonce");
        assert_eq!(j["status"], 400);
        assert_eq!(Problem::unauthorized("x").status(), 403);
        assert_eq!(Kind::from_name("badCSR"), Some(Kind::BadCsr));
        assert_eq!(Kind::from_name("nope"), None);
    }
}

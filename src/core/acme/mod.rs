//! ACME (RFC 8555, with ARI, RFC 9773): the protocol, without the network.
//!
//! As with OCSP, the module verifies and decides and the caller moves bytes:
//! Janet's `jsec/acme-server` reads HTTP requests, hands each to
//! [`server::Acme::handle`], writes back the response, and performs the
//! validation connections the response asks for (http-01 fetches, dns-01 TXT
//! look-ups, tls-alpn-01 handshakes run by [`tls_alpn`] over Janet's socket), whose results come back through [`server::Acme::validation_result`].
//!
//! Layers (Boulder's picture): [`jws`] + [`jwk`] are the WFE's request
//! checks, [`server`] routes and holds the state machine (the RA's
//! decisions), the CA's own `sign_csr` signs, [`store`] keeps the state (the SA).
pub mod b64;
pub mod dns;
pub mod jwk;
pub mod jws;
pub mod policy;
pub mod problem;
pub mod server;
pub mod store;
pub mod tls_alpn;
#[cfg(test)]
mod tests;

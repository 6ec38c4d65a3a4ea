//! CA keys in a PKCS#11 token (an HSM, a smart card, SoftHSM): generated
//! inside it, never readable, signing through it. Through the `cryptoki`
//! binding; named by RFC 7512 URIs ([`KeyUri`]).

mod module;
mod token_key;
mod uri;

pub use token_key::TokenSigner;
pub use uri::KeyUri;

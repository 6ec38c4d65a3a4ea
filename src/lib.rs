//! jsec-ca: a Certificate Authority for Janet.
//!
//! Two layers, one direction of dependency:
//! - [`core`]: the authority itself, pure Rust over OpenSSL. No Janet types.
//! - [`binding`]: the thin Janet native module (`jsec/ca`) that reads Janet
//!   arguments into core option structs and converts results back.
pub mod core;
// Not in unit tests: the binding needs the host interpreter's janet_* symbols.
#[cfg(all(feature = "module", not(test)))]
pub mod binding;
#[cfg(test)]
mod layers;

//! The authority core: pure Rust over OpenSSL, no Janet types. Plain option
//! structs in, `CaResult` out; unit-tested with `cargo test`.
pub mod authority;
pub mod cert_info;
pub mod constraints;
pub mod crl;
pub mod der;
pub mod ec_keygen;
pub mod error;
pub mod extensions;
pub mod general_names;
pub mod keys;
pub mod name_forms;
pub mod names;
pub mod ocsp;
pub mod oid;
pub mod options;
pub mod pem;
pub mod pkcs12;
pub mod revocation;
pub mod rsa_keygen;
pub mod secret;
pub mod serial;
pub mod state;
pub mod store;
pub mod strings;
pub mod time;
pub mod usage;

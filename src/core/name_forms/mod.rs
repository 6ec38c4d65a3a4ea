//! The forms a name takes in a certificate (RFC 5280 §4.2.1.6): DNS names,
//! IP addresses, email addresses and URIs. Each is put in one canonical,
//! validated form here, and both the SAN validator (`general_names`) and the
//! name-constraint checker (`constraints`) use that form: what one accepts
//! the other compares, with no second reading of the same string.
pub mod dns;
pub mod email;
pub mod ip;
pub mod uri;

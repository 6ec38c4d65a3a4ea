//! GeneralNames: subject alternative names ("DNS:x", "IP:1.2.3.4", "email:a@b",
//! "URI:https://x"). One entry is one name whatever characters it holds: we
//! encode each entry ourselves, so a comma can never split it. The prefixes
//! are OpenSSL's, case and all: "dns:" is another prefix, and an error.

use super::der::{self, tag};
use super::error::{CaError, CaResult};
use super::error::shown;
use super::name_forms::{dns, email, ip, uri};

/// GeneralName CHOICE tags (RFC 5280 §4.2.1.6), all IMPLICIT primitives.
pub mod gn_tag {
    use super::tag;
    pub const RFC822_NAME: u8 = tag::implicit(1);
    pub const DNS_NAME: u8 = tag::implicit(2);
    pub const URI: u8 = tag::implicit(6);
    pub const IP_ADDRESS: u8 = tag::implicit(7);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneralName {
    Dns(String),
    /// 4 or 16 octets.
    Ip(Vec<u8>),
    Email(String),
    Uri(String),
}

impl GeneralName {
    /// Parses one `:san` entry; `what` names the option in errors.
    pub fn parse(entry: &str, what: &str) -> CaResult<GeneralName> {
        let Some((prefix, value)) = entry.split_once(':') else {
            return Err(CaError::param(format!(
                "{what} entry {} needs a prefix: DNS:, IP:, email: or URI:",
                shown(entry)
            )));
        };
        if value.is_empty() {
            return Err(CaError::param(format!("{what} entry {} has an empty value", shown(entry))));
        }
        if value.chars().any(|c| c.is_control() || c == ' ') {
            return Err(CaError::param(format!(
                "{what} entry {} contains spaces or control characters",
                shown(entry)
            )));
        }
        let bad = |m: String| CaError::param(format!("{what} entry {}: {m}", shown(entry)));
        match prefix {
            "DNS" => {
                dns::check(value, dns::Use::San).map_err(bad)?;
                Ok(GeneralName::Dns(value.to_string()))
            }
            "IP" => ip::parse(value)
                .map(GeneralName::Ip)
                .map_err(|m| CaError::param(format!("{what} entry {} {m}", shown(entry)))),
            "email" => {
                email::parse(value).map_err(bad)?;
                Ok(GeneralName::Email(value.to_string()))
            }
            "URI" => {
                uri::parse(value).map_err(bad)?;
                Ok(GeneralName::Uri(value.to_string()))
            }
            _ => Err(CaError::param(format!(
                "{what} entry {} has an unknown prefix {}; use DNS:, IP:, email: or URI:",
                shown(entry),
                shown(prefix)
            ))),
        }
    }

    /// Decodes one GeneralName a requester (or a certificate) sent. Text forms
    /// are IA5String content: checked as ASCII, then as a `:san` entry.
    pub fn decode(t: der::Tlv<'_>, what: &str) -> CaResult<GeneralName> {
        let text = |prefix: &str| match std::str::from_utf8(t.content) {
            Ok(s) if s.is_ascii() => GeneralName::parse(&format!("{prefix}:{s}"), what),
            _ => Err(CaError::param(format!("{what}: a {prefix} name is not ASCII (IA5String)"))),
        };
        match t.tag {
            gn_tag::RFC822_NAME => text("email"),
            gn_tag::DNS_NAME => text("DNS"),
            gn_tag::URI => text("URI"),
            gn_tag::IP_ADDRESS => ip::octets_checked(t.content.to_vec())
                .map(GeneralName::Ip)
                .map_err(|m| CaError::param(format!("{what}: {m}"))),
            other => Err(CaError::param(format!(
                "{what}: a name of a kind this CA does not certify (GeneralName tag 0x{other:02x}); \
                 pass :san to choose the names"
            ))),
        }
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            GeneralName::Email(s) => der::tlv(out, gn_tag::RFC822_NAME, s.as_bytes()),
            GeneralName::Dns(s) => der::tlv(out, gn_tag::DNS_NAME, s.as_bytes()),
            GeneralName::Uri(s) => der::tlv(out, gn_tag::URI, s.as_bytes()),
            GeneralName::Ip(b) => der::tlv(out, gn_tag::IP_ADDRESS, b),
        }
    }

    /// "DNS:x", "IP:10.0.0.1": the `:san` spelling, for messages.
    pub fn describe(&self) -> String {
        match self {
            GeneralName::Dns(s) => format!("DNS:{s}"),
            GeneralName::Email(s) => format!("email:{s}"),
            GeneralName::Uri(s) => format!("URI:{s}"),
            GeneralName::Ip(b) => format!("IP:{}", ip::display(b)),
        }
    }
}

/// Decodes `GeneralNames` (a subjectAltName value) strictly: a non-empty
/// SEQUENCE of names of the kinds we certify, each checked as a `:san` entry.
pub fn decode_all(value: &[u8], what: &str) -> CaResult<Vec<GeneralName>> {
    let seq = der::parse_one(value, what)?.tagged(tag::SEQUENCE, what)?;
    let mut r = seq.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(GeneralName::decode(r.read(what)?, what)?);
    }
    if out.is_empty() {
        return Err(CaError::parse(format!("{what} holds no names")));
    }
    Ok(out)
}

/// Reads the `GeneralNames` a requester asked for (a CSR's subjectAltName).
pub fn parse_requested(value: &[u8]) -> CaResult<Vec<GeneralName>> {
    decode_all(value, "the CSR's subjectAltName")
}

/// DER `GeneralNames` (a SEQUENCE of the names).
pub fn general_names_der(names: &[GeneralName]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + names.len() * 24);
    der::sequence(&mut out, |o| names.iter().for_each(|n| n.write(o)));
    out
}

/// A URL the CA stamps into certificates (CRL, OCSP, CA issuers): whether it
/// has a host, or why it is no URI.
pub fn url_has_host(value: &str) -> Result<bool, String> {
    Ok(uri::parse(value)?.host.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!(GeneralName::parse("DNS:example.com", ":san").unwrap(), GeneralName::Dns("example.com".into()));
        assert_eq!(GeneralName::parse("IP:10.0.0.1", ":san").unwrap(), GeneralName::Ip(vec![10, 0, 0, 1]));
        assert_eq!(GeneralName::parse("IP:::1", ":san").unwrap(), GeneralName::Ip({
            let mut v = vec![0; 16];
            v[15] = 1;
            v
        }));
        assert!(GeneralName::parse("email:a@example.com", ":san").is_ok());
        assert!(GeneralName::parse("URI:https://example.com/x", ":san").is_ok());
        assert!(GeneralName::parse("DNS:*.example.com", ":san").is_ok());
        // one entry, one name: a comma is no separator, and no DNS character either
        assert!(GeneralName::parse("DNS:a.com,DNS:b.com", ":san").is_err());
    }

    #[test]
    fn rejects_bad_entries() {
        for bad in ["example.com", "DNS:", "FOO:bar", "IP:300.1.1.1", "IP:1.2.3", "DNS:a b",
            "DNS:a\nb", "email:nobody", "URI:example", "dns:a.com", "Email:a@b.com", "DNS:grüße.de",
            "DNS:*", "DNS:x.com.", "IP:::ffff:10.66.1.1", "DNS:a.example.com,IP:1.2.3.4"] {
            assert!(GeneralName::parse(bad, ":san").is_err(), "{bad}");
        }
    }
}

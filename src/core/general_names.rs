//! GeneralNames: subject alternative names ("DNS:x", "IP:1.2.3.4", "email:a@b",
//! "URI:https://x"). One entry is one name whatever characters it holds: we
//! encode each entry ourselves, so a comma can never split it. The prefixes
//! are OpenSSL's, case and all: "dns:" is another prefix, and an error.

use std::net::IpAddr;

use super::der::{self, tag};
use super::error::{CaError, CaResult};
use super::keys::shown;

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
        match prefix {
            // A dNSName is an IA5String: any printable ASCII is kept as one name
            // (a comma included); host syntax is the requester's business.
            "DNS" if value.is_ascii() => Ok(GeneralName::Dns(value.to_string())),
            "DNS" => Err(CaError::param(format!(
                "{what} entry {}: DNS names must be ASCII; write internationalised names as xn-- A-labels",
                shown(entry)
            ))),
            "IP" => {
                let ip: IpAddr = value.parse().map_err(|_| {
                    CaError::param(format!("{what} entry {} is not a valid IPv4 or IPv6 address", shown(entry)))
                })?;
                Ok(GeneralName::Ip(match ip {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                }))
            }
            "email" => {
                check_email(value)
                    .map_err(|m| CaError::param(format!("{what} entry {}: {m}", shown(entry))))?;
                Ok(GeneralName::Email(value.to_string()))
            }
            "URI" => {
                check_uri(value).map_err(|m| CaError::param(format!("{what} entry {}: {m}", shown(entry))))?;
                Ok(GeneralName::Uri(value.to_string()))
            }
            _ => Err(CaError::param(format!(
                "{what} entry {} has an unknown prefix {}; use DNS:, IP:, email: or URI:",
                shown(entry),
                shown(prefix)
            ))),
        }
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            GeneralName::Email(s) => der::tlv(out, tag::implicit(1), s.as_bytes()),
            GeneralName::Dns(s) => der::tlv(out, tag::implicit(2), s.as_bytes()),
            GeneralName::Uri(s) => der::tlv(out, tag::implicit(6), s.as_bytes()),
            GeneralName::Ip(b) => der::tlv(out, tag::implicit(7), b),
        }
    }
}

/// Reads `GeneralNames` a requester asked for (a CSR's subjectAltName) with
/// the same rules as `:san` entries; other kinds of names are refused.
pub fn parse_requested(value: &[u8]) -> CaResult<Vec<GeneralName>> {
    let seq = der::parse_one(value, "requested subjectAltName")?.tagged(tag::SEQUENCE, "requested subjectAltName")?;
    let mut r = seq.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        let t = r.read("requested subjectAltName")?;
        let entry = match (t.tag, std::str::from_utf8(t.content)) {
            (0x81, Ok(s)) => format!("email:{s}"),
            (0x82, Ok(s)) => format!("DNS:{s}"),
            (0x86, Ok(s)) => format!("URI:{s}"),
            (0x87, _) => match t.content.len() {
                4 | 16 => {
                    out.push(GeneralName::Ip(t.content.to_vec()));
                    continue;
                }
                _ => return Err(CaError::param("the CSR requests an IP address that is neither 4 nor 16 octets")),
            },
            _ => {
                return Err(CaError::param(format!(
                    "the CSR requests a subject alternative name of a kind this CA does not certify (tag 0x{:02x}); \
                     pass :san to choose the names",
                    t.tag
                )))
            }
        };
        out.push(GeneralName::parse(&entry, "the CSR's subjectAltName")?);
    }
    Ok(out)
}

/// DER `GeneralNames` (a SEQUENCE of the names).
pub fn general_names_der(names: &[GeneralName]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + names.len() * 24);
    der::sequence(&mut out, |o| names.iter().for_each(|n| n.write(o)));
    out
}

/// Host names: ASCII LDH labels (A-labels for IDNs), optional leading "*." wildcard.
/// `constraint` allows a leading "." (name-constraint form).
pub fn check_dns(value: &str, constraint: bool) -> Result<(), String> {
    if !value.is_ascii() {
        return Err("DNS names must be ASCII; write internationalised names as xn-- A-labels".into());
    }
    if value.len() > 253 {
        return Err("DNS name is longer than 253 characters".into());
    }
    let mut body = value;
    if constraint {
        body = body.strip_prefix('.').unwrap_or(body);
    } else if let Some(rest) = body.strip_prefix("*.") {
        body = rest;
    }
    if body.is_empty() {
        return Err("DNS name has no labels".into());
    }
    for label in body.split('.') {
        let ok_chars = label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if label.is_empty() || label.len() > 63 || !ok_chars || label.starts_with('-') || label.ends_with('-') {
            return Err(format!("{} is not a valid DNS label", shown(label)));
        }
    }
    Ok(())
}

pub fn check_email(value: &str) -> Result<(), String> {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return Err("an email address needs an @".into());
    };
    if !value.is_ascii() {
        return Err("email addresses must be ASCII".into());
    }
    if local.is_empty() || local.contains('@') {
        return Err("email address has an empty or malformed local part".into());
    }
    check_dns(domain, false).map_err(|m| format!("email domain: {m}"))
}

pub fn check_uri(value: &str) -> Result<(), String> {
    if !value.is_ascii() {
        return Err("URIs must be ASCII (percent-encode other characters)".into());
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return Err("URI must be absolute, with a scheme such as https:".into());
    };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() {
        return Err("URI must be absolute, with a scheme such as https:".into());
    }
    if value.chars().any(|c| c == '"' || c == '<' || c == '>' || c == '\\') {
        return Err("URI contains characters that must be percent-encoded".into());
    }
    Ok(())
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
        // one entry, one name, whatever it holds
        assert_eq!(GeneralName::parse("DNS:a.com,DNS:b.com", ":san").unwrap(), GeneralName::Dns("a.com,DNS:b.com".into()));
    }

    #[test]
    fn rejects_bad_entries() {
        for bad in ["example.com", "DNS:", "FOO:bar", "IP:300.1.1.1", "IP:1.2.3", "DNS:a b",
            "DNS:a\nb", "email:nobody", "URI:example", "dns:a.com", "Email:a@b.com", "DNS:grüße.de"] {
            assert!(GeneralName::parse(bad, ":san").is_err(), "{bad}");
        }
    }
}

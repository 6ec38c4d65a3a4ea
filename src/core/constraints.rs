//! Name constraints (RFC 5280 §4.2.1.10): encoding them into CA certificates,
//! reading them back from loaded CA certificates, and refusing to issue names
//! outside them. Matching follows OpenSSL's rules, so what we refuse is what
//! `openssl verify` would reject.

use std::net::IpAddr;

use super::authority::NameConstraints;
use super::cert_info::{self as ci, CertInfo};
use super::der::{self, tag};
use super::error::{CaError, CaResult};
use super::general_names::{check_dns, check_email};
use super::keys::shown;
use super::names;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subtree {
    /// "example.com" (itself and below) or ".example.com" (below only).
    Dns(String),
    /// Address and mask octets, both 4 or both 16 long.
    Ip(Vec<u8>, Vec<u8>),
    /// "user@host", "host" or ".domain".
    Email(String),
    /// Host part constraint: "host" or ".domain".
    Uri(String),
}

impl Subtree {
    /// Parses "DNS:.example.com", "IP:10.0.0.0/8", "email:@example.com", "URI:.example.com".
    pub fn parse(entry: &str, what: &str) -> CaResult<Subtree> {
        let bad = |m: &str| CaError::param(format!("{what} entry {}: {m}", shown(entry)));
        let (prefix, value) = entry
            .split_once(':')
            .ok_or_else(|| bad("needs a prefix: DNS:, IP:, email: or URI:"))?;
        if value.is_empty() {
            return Err(bad("empty value"));
        }
        match prefix {
            "DNS" => {
                check_dns(value, true).map_err(|m| bad(&m))?;
                Ok(Subtree::Dns(value.to_string()))
            }
            "IP" => {
                let (addr, bits) = value.split_once('/').ok_or_else(|| bad("IP constraints need a CIDR prefix length, like 10.0.0.0/8"))?;
                let ip: IpAddr = addr.parse().map_err(|_| bad("not a valid IP address"))?;
                let octets = match ip {
                    IpAddr::V4(a) => a.octets().to_vec(),
                    IpAddr::V6(a) => a.octets().to_vec(),
                };
                let max = octets.len() * 8;
                let bits: usize = bits
                    .parse()
                    .ok()
                    .filter(|b| *b <= max && !bits.starts_with('+'))
                    .ok_or_else(|| bad(&format!("prefix length must be 0..{max}")))?;
                let mut mask = vec![0u8; octets.len()];
                for i in 0..bits {
                    mask[i / 8] |= 0x80 >> (i % 8);
                }
                if octets.iter().zip(&mask).any(|(a, m)| a & !m != 0) {
                    return Err(bad("address has bits set outside the prefix"));
                }
                Ok(Subtree::Ip(octets, mask))
            }
            "email" => {
                let v = value.strip_prefix('@').unwrap_or(value);
                if v.contains('@') {
                    check_email(v).map_err(|m| bad(&m))?;
                } else {
                    check_dns(v, true).map_err(|m| bad(&m))?;
                }
                Ok(Subtree::Email(v.to_string()))
            }
            "URI" => {
                check_dns(value, true).map_err(|m| bad(&m))?;
                Ok(Subtree::Uri(value.to_string()))
            }
            _ => Err(bad("unknown prefix; use DNS:, IP:, email: or URI:")),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        der::sequence(out, |o| match self {
            Subtree::Dns(s) => der::tlv(o, tag::implicit(2), s.as_bytes()),
            Subtree::Email(s) => der::tlv(o, tag::implicit(1), s.as_bytes()),
            Subtree::Uri(s) => der::tlv(o, tag::implicit(6), s.as_bytes()),
            Subtree::Ip(a, m) => {
                let mut v = a.clone();
                v.extend_from_slice(m);
                der::tlv(o, tag::implicit(7), &v)
            }
        })
    }

    fn from_general_name(t: der::Tlv<'_>) -> Option<Subtree> {
        let text = || String::from_utf8(t.content.to_vec()).ok();
        match t.tag {
            0x81 => text().map(Subtree::Email),
            0x82 => text().map(Subtree::Dns),
            0x86 => text().map(Subtree::Uri),
            0x87 if t.content.len() == 8 || t.content.len() == 32 => {
                let (a, m) = t.content.split_at(t.content.len() / 2);
                Some(Subtree::Ip(a.to_vec(), m.to_vec()))
            }
            _ => None,
        }
    }
}

pub fn encode(nc: &NameConstraints) -> Vec<u8> {
    let mut out = Vec::new();
    der::sequence(&mut out, |o| {
        for (n, list) in [(0, &nc.permitted), (1, &nc.excluded)] {
            if !list.is_empty() {
                der::nested(o, tag::explicit(n), |o| list.iter().for_each(|s| s.write(o)));
            }
        }
    });
    out
}

/// Reads the name constraints of a CA certificate, if it has any.
pub fn from_certificate(info: &CertInfo) -> CaResult<Option<NameConstraints>> {
    let Some(e) = info.extension(ci::OID_NAME_CONSTRAINTS) else { return Ok(None) };
    let seq = der::parse_one(&e.value, "nameConstraints")?.tagged(tag::SEQUENCE, "nameConstraints")?;
    let mut nc = NameConstraints::default();
    let mut r = seq.reader();
    while !r.is_empty() {
        let part = r.read("nameConstraints")?;
        let list = match part.tag {
            0xa0 => &mut nc.permitted,
            0xa1 => &mut nc.excluded,
            _ => return Err(CaError::parse("nameConstraints has an unknown part")),
        };
        let mut subtrees = part.reader();
        while !subtrees.is_empty() {
            let mut st = subtrees.read_tag(tag::SEQUENCE, "GeneralSubtree")?.reader();
            let base = st.read("GeneralSubtree base")?;
            // Forms we cannot evaluate (directoryName, ...) are kept by the certificate
            // itself; validators enforce them. We check the ones we understand.
            if let Some(s) = Subtree::from_general_name(base) {
                list.push(s);
            }
        }
    }
    Ok(Some(nc))
}

/// OpenSSL's nc_dns: `base` matches itself and any name below it; a base with
/// a leading "." matches only names below it. Compared as bytes, ASCII case-folded.
fn dns_matches(name: &str, base: &str) -> bool {
    let (name, base) = (name.as_bytes(), base.as_bytes());
    if base.is_empty() {
        return true;
    }
    if name.len() < base.len() {
        return false;
    }
    let split = name.len() - base.len();
    if split > 0 && base[0] != b'.' && name[split - 1] != b'.' {
        return false;
    }
    name[split..].eq_ignore_ascii_case(base)
}

/// OpenSSL's nc_email: "local@host" matches that mailbox (local part
/// case-sensitive), "@host" or "host" any mailbox at host, ".domain" any
/// mailbox below domain.
fn email_matches(addr: &str, base: &str) -> bool {
    let Some((local, host)) = addr.rsplit_once('@') else { return false };
    match base.rsplit_once('@') {
        Some(("", base_host)) => host.as_bytes().eq_ignore_ascii_case(base_host.as_bytes()),
        Some((base_local, base_host)) => local == base_local && host.as_bytes().eq_ignore_ascii_case(base_host.as_bytes()),
        None if base.starts_with('.') => dns_matches(host, base),
        None => host.as_bytes().eq_ignore_ascii_case(base.as_bytes()),
    }
}

/// The host of a URI as OpenSSL's nc_uri reads it: after "://", up to ':' or '/'.
fn uri_host(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    rest.split([':', '/']).next()
}

enum Name {
    Dns(String),
    Email(String),
    Uri(String),
    Ip(Vec<u8>),
}

fn matches(name: &Name, st: &Subtree) -> Option<bool> {
    match (name, st) {
        (Name::Dns(n), Subtree::Dns(b)) => Some(dns_matches(n, b)),
        (Name::Email(n), Subtree::Email(b)) => Some(email_matches(n, b)),
        (Name::Uri(n), Subtree::Uri(b)) => Some(uri_host(n).is_some_and(|h| {
            if b.starts_with('.') {
                dns_matches(h, b)
            } else {
                h.eq_ignore_ascii_case(b)
            }
        })),
        (Name::Ip(n), Subtree::Ip(a, m)) if n.len() == a.len() => {
            Some(n.iter().zip(a).zip(m).all(|((x, a), m)| x & m == a & m))
        }
        (Name::Ip(_), Subtree::Ip(..)) => Some(false),
        _ => None,
    }
}

fn describe(n: &Name) -> String {
    match n {
        Name::Dns(s) => format!("DNS:{s}"),
        Name::Email(s) => format!("email:{s}"),
        Name::Uri(s) => format!("URI:{s}"),
        Name::Ip(b) => match b.len() {
            4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                format!("IP:{}", std::net::Ipv6Addr::from(a))
            }
            _ => "IP:?".into(),
        },
    }
}

/// Refuses a subject / SAN that falls outside `nc`, naming the offending name.
pub fn check_names(nc: &NameConstraints, subject_der: &[u8], san_der: Option<&[u8]>) -> CaResult<()> {
    let mut list = Vec::new();
    if let Some(san) = san_der {
        let seq = der::parse_one(san, "subjectAltName")?;
        let mut r = seq.reader();
        while !r.is_empty() {
            let t = r.read("GeneralName")?;
            let text = || String::from_utf8_lossy(t.content).into_owned();
            match t.tag {
                0x81 => list.push(Name::Email(text())),
                0x82 => list.push(Name::Dns(text())),
                0x86 => list.push(Name::Uri(text())),
                0x87 => list.push(Name::Ip(t.content.to_vec())),
                _ => {}
            }
        }
    }
    for cn in names::common_names(subject_der) {
        if cn.contains('.') && check_dns(&cn, false).is_ok() {
            list.push(Name::Dns(cn));
        }
    }
    // Validators check emailAddress attributes of the subject against email constraints too.
    for email in names::values_of(subject_der, names::Attr::Email) {
        list.push(Name::Email(email));
    }
    for name in &list {
        if nc.excluded.iter().any(|st| matches(name, st) == Some(true)) {
            return Err(CaError::param(format!(
                "{} is excluded by this CA's name constraints",
                describe(name)
            )));
        }
        let same_kind: Vec<bool> = nc.permitted.iter().filter_map(|st| matches(name, st)).collect();
        if !same_kind.is_empty() && !same_kind.iter().any(|m| *m) {
            return Err(CaError::param(format!(
                "{} is outside the names this CA's name constraints permit",
                describe(name)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_rules_match_openssl() {
        assert!(dns_matches("example.com", "example.com"));
        assert!(dns_matches("a.example.com", "example.com"));
        assert!(!dns_matches("badexample.com", "example.com"));
        assert!(dns_matches("a.example.com", ".example.com"));
        assert!(!dns_matches("example.com", ".example.com"));
        assert!(!dns_matches("éxample.com", "xample.com"), "non-ASCII never panics and never matches wrongly");
        assert!(email_matches("a@example.com", "@example.com"));
        assert!(email_matches("a@example.com", "example.com"));
        assert!(!email_matches("A@example.com", "a@example.com"));
        assert!(email_matches("a@x.example.com", ".example.com"));
        assert_eq!(uri_host("https://user@host.example:8443/p"), Some("user@host.example"));
    }

    #[test]
    fn parse_and_check() {
        let nc = NameConstraints {
            permitted: vec![Subtree::parse("DNS:example.com", "nc").unwrap(), Subtree::parse("IP:10.0.0.0/8", "nc").unwrap()],
            excluded: vec![Subtree::parse("DNS:bad.example.com", "nc").unwrap()],
        };
        let san = |names: &[super::super::general_names::GeneralName]| super::super::general_names::general_names_der(names);
        use super::super::general_names::GeneralName as G;
        let empty = names::Subject::default().to_der();
        assert!(check_names(&nc, &empty, Some(&san(&[G::Dns("www.example.com".into()), G::Ip(vec![10, 1, 2, 3])]))).is_ok());
        assert!(check_names(&nc, &empty, Some(&san(&[G::Dns("www.other.com".into())]))).is_err());
        assert!(check_names(&nc, &empty, Some(&san(&[G::Dns("x.bad.example.com".into())]))).is_err());
        assert!(check_names(&nc, &empty, Some(&san(&[G::Ip(vec![11, 0, 0, 1])]))).is_err());
        assert!(Subtree::parse("IP:10.0.0.1/8", "nc").is_err());
        assert!(Subtree::parse("IP:10.0.0.0/33", "nc").is_err());
        assert!(Subtree::parse("FOO:x", "nc").is_err());
    }
}

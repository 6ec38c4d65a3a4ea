//! Name constraints (RFC 5280 §4.2.1.10): encoding them into CA certificates,
//! reading them back from loaded CA certificates, and refusing to issue names
//! outside them. Matching follows OpenSSL's rules, so what we refuse is what
//! `openssl verify` would reject.

use super::oid;
use super::cert_info::CertInfo;
use super::der::{self, tag};
use super::error::{CaError, CaResult};
use super::general_names::{gn_tag, GeneralName};
use super::error::shown;
use super::name_forms::{dns, email, ip, uri};
use super::names::{Attr, Subject};

/// Name constraints of a CA certificate (entries in "DNS:example.com" form, parsed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameConstraints {
    pub permitted: Vec<Subtree>,
    pub excluded: Vec<Subtree>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subtree {
    /// A domain: itself and every name below it. A leading "." can only come
    /// from a CA certificate made elsewhere (OpenSSL's "below only" reading).
    Dns(String),
    /// Address and mask octets, both 4 or both 16 long.
    Ip(Vec<u8>, Vec<u8>),
    /// "user@host" (that mailbox), "host" (any mailbox there) or ".domain" (any host below).
    Email(String),
    /// Host constraint on URIs: "host" or ".domain".
    Uri(String),
}

impl Subtree {
    /// Parses "DNS:example.com", "IP:10.0.0.0/8", "email:@example.com", "URI:.example.com".
    pub fn parse(entry: &str, what: &str) -> CaResult<Subtree> {
        let bad = |m: &str| CaError::param(format!("{what} entry {}: {m}", shown(entry)));
        let (prefix, value) = entry
            .split_once(':')
            .ok_or_else(|| bad("needs a prefix: DNS:, IP:, email: or URI:"))?;
        if value.is_empty() {
            return Err(bad("empty value"));
        }
        let domain_or_below = |v: &str| dns::check(v.strip_prefix('.').unwrap_or(v), dns::Use::Host);
        match prefix {
            "DNS" => {
                dns::check(value, dns::Use::Constraint).map_err(|m| bad(&m))?;
                Ok(Subtree::Dns(value.to_string()))
            }
            "IP" => {
                let (addr, bits) = value.split_once('/').ok_or_else(|| bad("IP constraints need a CIDR prefix length, like 10.0.0.0/8"))?;
                let octets = ip::parse(addr).map_err(|m| bad(&m))?;
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
                    email::parse(v).map_err(|m| bad(&m))?;
                } else {
                    domain_or_below(v).map_err(|m| bad(&m))?;
                }
                Ok(Subtree::Email(v.to_string()))
            }
            "URI" => {
                domain_or_below(value).map_err(|m| bad(&m))?;
                Ok(Subtree::Uri(value.to_string()))
            }
            _ => Err(bad("unknown prefix; use DNS:, IP:, email: or URI:")),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        der::sequence(out, |o| match self {
            Subtree::Dns(s) => der::tlv(o, gn_tag::DNS_NAME, s.as_bytes()),
            Subtree::Email(s) => der::tlv(o, gn_tag::RFC822_NAME, s.as_bytes()),
            Subtree::Uri(s) => der::tlv(o, gn_tag::URI, s.as_bytes()),
            Subtree::Ip(a, m) => {
                let mut v = a.clone();
                v.extend_from_slice(m);
                der::tlv(o, gn_tag::IP_ADDRESS, &v)
            }
        })
    }

    /// A subtree base read from a CA certificate (which we did not make).
    fn from_general_name(t: der::Tlv<'_>) -> Option<Subtree> {
        let text = || std::str::from_utf8(t.content).ok().filter(|s| s.is_ascii()).map(str::to_string);
        match t.tag {
            gn_tag::RFC822_NAME => text().map(Subtree::Email),
            gn_tag::DNS_NAME => text().map(Subtree::Dns),
            gn_tag::URI => text().map(Subtree::Uri),
            gn_tag::IP_ADDRESS if t.content.len() == 8 || t.content.len() == 32 => {
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
    let Some(e) = info.extension(oid::NAME_CONSTRAINTS) else { return Ok(None) };
    let seq = der::parse_one(&e.value, "nameConstraints")?.tagged(tag::SEQUENCE, "nameConstraints")?;
    let mut nc = NameConstraints::default();
    let mut r = seq.reader();
    while !r.is_empty() {
        let part = r.read("nameConstraints")?;
        let list = match part.tag {
            t if t == tag::explicit(0) => &mut nc.permitted,
            t if t == tag::explicit(1) => &mut nc.excluded,
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

/// Whether a permitted (`broad` false) or excluded (`broad` true) subtree
/// matches. Where readings differ, the excluded reading is the broader one and
/// the permitted reading the narrower one, so no validator's reading can let
/// through a name we were meant to refuse.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    Permitted,
    Excluded,
}

/// A domain base (`example.com`, or `.example.com` meaning below only).
fn domain_matches(host: &str, base: &str, reading: Reading) -> bool {
    match base.strip_prefix('.') {
        Some(b) if reading == Reading::Excluded => dns::within(host, b),
        Some(b) => dns::within(host, b) && host.len() > b.len(),
        None => dns::within(host, base),
    }
}

/// Why a name cannot be held to a constraint at all (and so is refused).
type Unmatchable = String;

fn matches(name: &GeneralName, st: &Subtree, reading: Reading) -> Result<Option<bool>, Unmatchable> {
    Ok(match (name, st) {
        (GeneralName::Dns(n), Subtree::Dns(b)) => Some(match (n.starts_with("*."), reading) {
            (true, Reading::Excluded) => dns::wildcard_meets(n, b.strip_prefix('.').unwrap_or(b)),
            _ => domain_matches(n, b, reading),
        }),
        (GeneralName::Email(n), Subtree::Email(b)) => {
            let m = email::parse(n).map_err(|e| format!("email:{n}: {e}"))?;
            Some(match b.rsplit_once('@') {
                Some((local, host)) => m.local == local && m.domain.eq_ignore_ascii_case(host),
                None if b.starts_with('.') => domain_matches(m.domain, b, Reading::Permitted),
                None => m.domain.eq_ignore_ascii_case(b),
            })
        }
        (GeneralName::Uri(n), Subtree::Uri(b)) => match uri::parse_for_constraints(n).map_err(|e| format!("URI:{n}: {e}"))?.host {
            Some(uri::Host::Dns(h)) if b.starts_with('.') => Some(domain_matches(&h, b, Reading::Permitted)),
            Some(uri::Host::Dns(h)) => Some(h.eq_ignore_ascii_case(b)),
            Some(uri::Host::Ip(_)) => return Err(format!("URI:{n} has an IP address for a host, which URI name constraints cannot judge")),
            None => return Err(format!("URI:{n} has no host, which URI name constraints need")),
        },
        (GeneralName::Ip(n), Subtree::Ip(a, m)) => Some(ip::within(n, a, m)),
        _ => None,
    })
}

/// The names a certificate would carry that constraints apply to: its SANs,
/// subject CNs a validator could take for a host name or an address, and
/// subject email addresses.
fn constrained_names(subject: &Subject, san: &[GeneralName]) -> Vec<GeneralName> {
    let mut list = san.to_vec();
    for (attr, value) in &subject.attrs {
        match attr {
            Attr::CommonName => {
                // OpenSSL reads a CN of digits and dots as a DNS name, others as an address: both.
                if let Ok(octets) = ip::parse(value) {
                    list.push(GeneralName::Ip(octets));
                }
                if let Some(host) = dns::host_like(value) {
                    list.push(GeneralName::Dns(host));
                }
            }
            Attr::Email => list.push(GeneralName::Email(value.clone())),
            _ => {}
        }
    }
    list
}

/// Refuses a subject / SAN that falls outside `nc`, naming the offending name.
pub fn check_names(nc: &NameConstraints, subject: &Subject, san: &[GeneralName]) -> CaResult<()> {
    let refuse = |m: String| CaError::param(format!("{m}: refused under this CA's name constraints"));
    for name in &constrained_names(subject, san) {
        for st in &nc.excluded {
            if matches(name, st, Reading::Excluded).map_err(refuse)? == Some(true) {
                return Err(CaError::param(format!("{} is excluded by this CA's name constraints", name.describe())));
            }
        }
        let mut same_kind = false;
        let mut permitted = false;
        for st in &nc.permitted {
            if let Some(m) = matches(name, st, Reading::Permitted).map_err(refuse)? {
                same_kind = true;
                permitted |= m;
            }
        }
        if same_kind && !permitted {
            return Err(CaError::param(format!(
                "{} is outside the names this CA's name constraints permit",
                name.describe()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nc(permitted: &[&str], excluded: &[&str]) -> NameConstraints {
        NameConstraints {
            permitted: permitted.iter().map(|e| Subtree::parse(e, "nc").unwrap()).collect(),
            excluded: excluded.iter().map(|e| Subtree::parse(e, "nc").unwrap()).collect(),
        }
    }

    fn san(entries: &[&str]) -> Vec<GeneralName> {
        entries.iter().map(|e| GeneralName::parse(e, ":san").unwrap()).collect()
    }

    fn cn(v: &str) -> Subject {
        Subject { attrs: vec![(Attr::CommonName, v.to_string())] }
    }

    #[test]
    fn parse_and_check() {
        let c = nc(&["DNS:example.com", "IP:10.0.0.0/8"], &["DNS:bad.example.com"]);
        let empty = Subject::default();
        assert!(check_names(&c, &empty, &san(&["DNS:www.example.com", "IP:10.1.2.3"])).is_ok());
        assert!(check_names(&c, &empty, &san(&["DNS:www.other.com"])).is_err());
        assert!(check_names(&c, &empty, &san(&["DNS:x.bad.example.com"])).is_err());
        assert!(check_names(&c, &empty, &san(&["IP:11.0.0.1"])).is_err());
        assert!(Subtree::parse("IP:10.0.0.1/8", "nc").is_err());
        assert!(Subtree::parse("IP:10.0.0.0/33", "nc").is_err());
        assert!(Subtree::parse("FOO:x", "nc").is_err());
        assert!(Subtree::parse("DNS:.example.com", "nc").is_err());
        assert!(Subtree::parse("URI:.example.com", "nc").is_ok());
        assert!(Subtree::parse("email:.example.com", "nc").is_ok());
    }

    #[test]
    fn excluded_names_do_not_escape() {
        let c = nc(&[], &["DNS:evil.com", "URI:evil.com", "IP:10.66.0.0/16"]);
        assert!(check_names(&c, &cn("www.evil.com."), &[]).is_err());
        assert!(check_names(&c, &cn("WWW.EVIL.COM"), &[]).is_err());
        assert!(check_names(&c, &Subject::default(), &san(&["DNS:*.evil.com"])).is_err());
        assert!(check_names(&c, &Subject::default(), &san(&["URI:https://u@evil.com/"])).is_err());
        assert!(check_names(&c, &Subject::default(), &san(&["URI:https://evil.com?x"])).is_err());
        assert!(check_names(&c, &Subject::default(), &san(&["URI:urn:x:y"])).is_err());
        assert!(check_names(&c, &cn("10.66.1.1"), &[]).is_err());
        let w = nc(&[], &["DNS:admin.example.com"]);
        assert!(check_names(&w, &Subject::default(), &san(&["DNS:*.example.com"])).is_err(), "the wildcard covers the excluded host");
        assert!(check_names(&w, &Subject::default(), &san(&["DNS:*.other.example.com"])).is_ok());
    }

    #[test]
    fn permitted_uris_by_host() {
        let c = nc(&["URI:.example.com"], &[]);
        assert!(check_names(&c, &Subject::default(), &san(&["URI:https://a.example.com/x"])).is_ok());
        assert!(check_names(&c, &Subject::default(), &san(&["URI:https://evil.com?.example.com"])).is_err());
        assert!(check_names(&c, &Subject::default(), &san(&["URI:https://example.com/"])).is_err());
    }

    #[test]
    fn emails() {
        let c = nc(&["email:example.com"], &["email:boss@example.com"]);
        assert!(check_names(&c, &Subject::default(), &san(&["email:a@EXAMPLE.com"])).is_ok());
        assert!(check_names(&c, &Subject::default(), &san(&["email:boss@example.com"])).is_err());
        assert!(check_names(&c, &Subject::default(), &san(&["email:a@sub.example.com"])).is_err());
    }
}

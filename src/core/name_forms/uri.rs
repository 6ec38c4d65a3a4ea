//! URIs per RFC 3986 §3, read as far as a CA needs: the scheme, and the host
//! of the authority, which is what URI name constraints apply to (RFC 5280
//! §4.2.1.10). Userinfo, port, path, query and fragment are validated but
//! never taken for the host.

use super::{dns, ip};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Dns(String),
    Ip(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// None for URIs without an authority (`urn:...`, `mailto:...`) or with an empty one.
    pub host: Option<Host>,
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

fn sub_delim(b: u8) -> bool {
    b"!$&'()*+,;=".contains(&b)
}

/// Every byte is unreserved, a sub-delimiter, one of `extra`, or a valid %XX escape.
fn check_chars(part: &str, extra: &[u8], what: &str) -> Result<(), String> {
    let b = part.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() {
                return Err(format!("the URI's {what} has a truncated %-escape"));
            }
            if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return Err(format!("the URI's {what} has an invalid %-escape"));
            }
            i += 3;
            continue;
        }
        if !(unreserved(b[i]) || sub_delim(b[i]) || extra.contains(&b[i])) {
            return Err(format!("the URI's {what} contains {:?}, which must be percent-encoded", b[i] as char));
        }
        i += 1;
    }
    Ok(())
}

pub fn parse(value: &str) -> Result<Uri, String> {
    if !value.is_ascii() {
        return Err("URIs must be ASCII (percent-encode other characters)".into());
    }
    let no_scheme = || "URI must be absolute, with a scheme such as https:".to_string();
    let (scheme, rest) = value.split_once(':').ok_or_else(no_scheme)?;
    let scheme_ok = scheme.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c));
    if !scheme_ok || rest.is_empty() {
        return Err(no_scheme());
    }
    let (host, tail) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            (authority_host(&after[..end])?, &after[end..])
        }
        None => (None, rest),
    };
    let (before_fragment, fragment) = match tail.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (tail, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (before_fragment, None),
    };
    check_chars(path, b":@/", "path")?;
    if let Some(q) = query {
        check_chars(q, b":@/?", "query")?;
    }
    if let Some(f) = fragment {
        check_chars(f, b":@/?", "fragment")?;
    }
    Ok(Uri { host })
}

/// authority = [ userinfo "@" ] host [ ":" port ]
fn authority_host(authority: &str) -> Result<Option<Host>, String> {
    let hostport = match authority.rsplit_once('@') {
        Some((userinfo, hp)) => {
            check_chars(userinfo, b":", "userinfo")?;
            hp
        }
        None => authority,
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (inside, after) = v6.split_once(']').ok_or("the URI's IPv6 host has no closing ]")?;
        let addr: std::net::Ipv6Addr = inside.parse().map_err(|_| "the URI's [host] is not an IPv6 address")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("the URI has characters after its [host]")?),
        };
        (Some(Host::Ip(addr.octets().to_vec())), port)
    } else {
        let (h, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        let host = if h.is_empty() {
            None
        } else if let Ok(v4) = h.parse::<std::net::Ipv4Addr>() {
            Some(Host::Ip(v4.octets().to_vec()))
        } else {
            dns::check(h, dns::Use::Host).map_err(|m| format!("the URI's host: {m}"))?;
            Some(Host::Dns(h.to_string()))
        };
        (host, port)
    };
    if let Some(p) = port {
        if !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5 {
            return Err("the URI's port must be a number".into());
        }
    }
    if let Some(Host::Ip(o)) = &host {
        ip::octets_checked(o.clone()).map_err(|m| format!("the URI's host: {m}"))?;
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(u: &str) -> Option<Host> {
        parse(u).unwrap().host
    }

    #[test]
    fn hosts() {
        assert_eq!(host("https://u@evil.com/"), Some(Host::Dns("evil.com".into())));
        assert_eq!(host("https://evil.com?.example.com"), Some(Host::Dns("evil.com".into())));
        assert_eq!(host("https://evil.com#x.example.com"), Some(Host::Dns("evil.com".into())));
        assert_eq!(host("https://a.example.com:8443/p?q#f"), Some(Host::Dns("a.example.com".into())));
        assert_eq!(host("http://10.0.0.1/"), Some(Host::Ip(vec![10, 0, 0, 1])));
        assert!(matches!(host("http://[::1]:80/"), Some(Host::Ip(_))));
        assert_eq!(host("urn:uuid:1234"), None);
        assert_eq!(host("spiffe://trust.example/workload"), Some(Host::Dns("trust.example".into())));
    }

    #[test]
    fn refuses() {
        for bad in ["example", "http://a b/", "http://x.com/<", "http://x.com/%zz", "http://x.com/%4", "http://[::1/",
            "http://x.com:port/", "http://bad_host.com/", "http://x.com./", "1http://x", "http://[::ffff:1.2.3.4]/"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

//! What an ACME server of this CA will issue, on top of the CA's own rules
//! (name constraints, key checks: every order is finalized through
//! `Authority::sign_csr`). Plain data with its defaults in one place.
use super::problem::{Kind, Problem};
use crate::core::name_forms::{dns, ip};

#[derive(Debug, Clone)]
pub struct Subnet {
    pub net: Vec<u8>,
    pub mask: Vec<u8>,
}

impl Subnet {
    /// "10.0.0.0/8", "2001:db8::/32", or one address.
    pub fn parse(s: &str) -> Result<Subnet, String> {
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u32>().map_err(|_| format!("{s:?}: bad prefix length"))?)),
            None => (s, None),
        };
        let net = ip::parse(addr).map_err(|e| format!("{s:?} {e}"))?;
        let total = (net.len() * 8) as u32;
        let bits = bits.unwrap_or(total);
        if bits > total {
            return Err(format!("{s:?}: prefix longer than the address"));
        }
        let mask = (0..net.len())
            .map(|i| {
                let have = bits.saturating_sub(i as u32 * 8).min(8);
                if have == 0 { 0 } else { 0xffu8 << (8 - have) }
            })
            .collect();
        Ok(Subnet { net, mask })
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// DNS names the server issues for: each entry and the names below it.
    /// Empty: no DNS names.
    pub allowed_domains: Vec<String>,
    /// IP addresses the server issues for. Empty: none.
    pub allowed_ips: Vec<Subnet>,
    /// Lifetime of issued certificates.
    pub days_valid: u32,
    /// Extended key usages (OpenSSL names) and key usages of issued certificates;
    /// empty key usage: the CA's default for the key type.
    pub ext_key_usage: Vec<String>,
    pub key_usage: Vec<String>,
    /// New orders per account per hour (0: unlimited).
    pub orders_per_hour: u32,
    /// New accounts per hour, server-wide (0: unlimited).
    pub accounts_per_hour: u32,
    /// Identifiers per order.
    pub max_identifiers: usize,
    /// External account binding: required, and the MAC keys by key id.
    pub eab_required: bool,
    pub eab_keys: Vec<(String, Vec<u8>)>,
    /// How long a finalize may be in flight before another process takes the
    /// order over (a process killed mid-finalize), seconds.
    pub finalize_lease: i64,
    /// Lifetimes of nonces, orders and authorizations, seconds.
    pub nonce_lifetime: i64,
    pub order_lifetime: i64,
    /// Terms of service URL in the directory (meta), if any.
    pub terms_of_service: Option<String>,
    /// Test-only, for benchmarks: every validation passes whatever it saw.
    /// Never set it on a CA anyone trusts.
    pub validation_always_valid: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_domains: Vec::new(),
            allowed_ips: Vec::new(),
            days_valid: 90,
            ext_key_usage: vec!["serverAuth".into()],
            key_usage: Vec::new(),
            orders_per_hour: 300,
            accounts_per_hour: 0,
            max_identifiers: 100,
            eab_required: false,
            eab_keys: Vec::new(),
            finalize_lease: 60,
            nonce_lifetime: 3600,
            order_lifetime: 7 * 86400,
            terms_of_service: None,
            validation_always_valid: false,
        }
    }
}

/// An order's identifier, checked and in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier {
    /// "dns" or "ip".
    pub kind: String,
    /// Lower-case DNS name (maybe "*.example.com") or the address's canonical text.
    pub value: String,
}

impl Identifier {
    pub fn is_wildcard(&self) -> bool {
        self.kind == "dns" && self.value.starts_with("*.")
    }
    /// The name an authorization is for (the wildcard's base domain).
    pub fn authz_value(&self) -> &str {
        self.value.strip_prefix("*.").unwrap_or(&self.value)
    }
    /// The SAN entry the certificate carries, in `:san` syntax.
    pub fn san(&self) -> String {
        if self.kind == "dns" {
            format!("DNS:{}", self.value)
        } else {
            format!("IP:{}", self.value)
        }
    }
}

impl Policy {
    /// Checks one identifier of a new order against the policy; returns its
    /// canonical form.
    pub fn identifier(&self, kind: &str, value: &str) -> Result<Identifier, Problem> {
        match kind {
            "dns" => {
                let lower = value.to_ascii_lowercase();
                dns::check(&lower, dns::Use::San)
                    .map_err(|e| Problem::rejected_identifier(format!("{value:?}: {e}")))?;
                let base = lower.strip_prefix("*.").unwrap_or(&lower);
                if base.contains('*') {
                    return Err(Problem::rejected_identifier(format!("{value:?}: a wildcard is only the whole leftmost label")));
                }
                if !self.allowed_domains.iter().any(|d| dns::within(base, d)) {
                    return Err(Problem::rejected_identifier(format!("{value:?} is outside the domains this server issues for")));
                }
                Ok(Identifier { kind: "dns".into(), value: lower })
            }
            "ip" => {
                let octets = ip::parse(value).map_err(|e| Problem::rejected_identifier(format!("{value:?} {e}")))?;
                if !self.allowed_ips.iter().any(|s| ip::within(&octets, &s.net, &s.mask)) {
                    return Err(Problem::rejected_identifier(format!("{value:?} is outside the addresses this server issues for")));
                }
                Ok(Identifier { kind: "ip".into(), value: ip::display(&octets) })
            }
            other => Err(Problem::new(Kind::UnsupportedIdentifier, format!("identifier type {other:?} is not supported (dns, ip)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            allowed_domains: vec!["example.com".into()],
            allowed_ips: vec![Subnet::parse("127.0.0.0/8").unwrap(), Subnet::parse("::1").unwrap()],
            ..Policy::default()
        }
    }

    #[test]
    fn identifiers() {
        let p = policy();
        assert_eq!(p.identifier("dns", "WWW.Example.com").unwrap().value, "www.example.com");
        assert!(p.identifier("dns", "*.example.com").unwrap().is_wildcard());
        assert_eq!(p.identifier("dns", "*.example.com").unwrap().authz_value(), "example.com");
        assert_eq!(p.identifier("dns", "example.org").unwrap_err().kind, Kind::RejectedIdentifier);
        assert_eq!(p.identifier("dns", "badexample.com").unwrap_err().kind, Kind::RejectedIdentifier);
        assert!(p.identifier("dns", "a.*.example.com").is_err());
        assert!(p.identifier("dns", "a..example.com").is_err());
        assert!(p.identifier("dns", "x.example.com.").is_err());
        assert_eq!(p.identifier("ip", "127.0.0.1").unwrap().value, "127.0.0.1");
        assert_eq!(p.identifier("ip", "0:0::1").unwrap().value, "::1");
        assert!(p.identifier("ip", "10.0.0.1").is_err());
        assert!(p.identifier("ip", "::ffff:127.0.0.1").is_err());
        assert_eq!(p.identifier("email", "a@b").unwrap_err().kind, Kind::UnsupportedIdentifier);
        assert!(Subnet::parse("10.0.0.0/33").is_err());
        assert_eq!(Subnet::parse("10.0.0.0/12").unwrap().mask, vec![255, 240, 0, 0]);
    }
}

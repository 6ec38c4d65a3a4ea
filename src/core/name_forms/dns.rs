//! DNS names in preferred name syntax (RFC 1034 §3.5, RFC 5280 §4.2.1.6,
//! RFC 5890 for A-labels), compared case-insensitively.
//!
//! Refused rather than repaired: empty labels (`a..b`), a trailing dot, labels
//! that start or end with a hyphen, characters outside letters, digits and
//! hyphen, an all-numeric last label (`1.2.3.4` is an address, not a host),
//! `xn--` labels that are not valid A-labels, other labels with `--` in
//! positions 3-4 (reserved by RFC 5890), and wildcards anywhere but as the
//! whole leftmost label of a name with at least two more labels.

use super::super::error::shown;

const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// Where a DNS name stands: it decides whether a wildcard may appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A host name (email domains, URI hosts, CRL/OCSP URLs).
    Host,
    /// A dNSName in a subjectAltName: a leftmost `*` label is allowed.
    San,
    /// The base of a dNSName name constraint.
    Constraint,
}

/// Checks `value` for `use_`; the error says what is wrong with it.
pub fn check(value: &str, use_: Use) -> Result<(), String> {
    if value.is_empty() {
        return Err("DNS name is empty".into());
    }
    if !value.is_ascii() {
        return Err("DNS names must be ASCII; write internationalised names as xn-- A-labels".into());
    }
    if value.len() > MAX_NAME {
        return Err(format!("DNS name is longer than {MAX_NAME} characters"));
    }
    if value.ends_with('.') {
        return Err("DNS name ends with a dot; write it without the trailing dot".into());
    }
    if use_ == Use::Constraint && value.starts_with('.') {
        return Err(format!(
            "a DNS name constraint is a domain name without a leading dot (RFC 5280 §4.2.1.10): write {} \
             (it covers the domain and every name below it)",
            shown(&format!("DNS:{}", &value[1..]))
        ));
    }
    let labels: Vec<&str> = value.split('.').collect();
    let mut rest = &labels[..];
    if labels[0] == "*" {
        if use_ != Use::San {
            return Err("a wildcard is allowed only in a subjectAltName dNSName".into());
        }
        if labels.len() < 3 {
            return Err("a wildcard must be followed by at least two labels (*.example.com)".into());
        }
        rest = &labels[1..];
    }
    for label in rest {
        check_label(label)?;
    }
    if let Some(last) = labels.last() {
        if last.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the last label of a DNS name is all digits; IP addresses go in IP: entries".into());
        }
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("DNS name has an empty label (two dots in a row or a leading dot)".into());
    }
    if label.contains('*') {
        return Err(format!("{}: a wildcard must be the whole leftmost label", shown(label)));
    }
    if label.len() > MAX_LABEL {
        return Err(format!("{} is longer than {MAX_LABEL} characters", shown(label)));
    }
    if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!("{} is not a valid DNS label (letters, digits and hyphens only)", shown(label)));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!("{} starts or ends with a hyphen", shown(label)));
    }
    if label.len() >= 4 && &label[2..4] == "--" {
        if !label[..2].eq_ignore_ascii_case("xn") {
            return Err(format!("{} has hyphens in positions 3 and 4, which are reserved for A-labels (RFC 5890)", shown(label)));
        }
        check_a_label(label)?;
    }
    Ok(())
}

/// An `xn--` label must decode (Punycode) to a U-label that IDNA maps back to
/// exactly this label: anything else is a fake A-label.
fn check_a_label(label: &str) -> Result<(), String> {
    let bad = || format!("{} is not a valid IDNA A-label", shown(label));
    let decoded = idna::punycode::decode_to_string(&label[4..]).ok_or_else(bad)?;
    if decoded.is_ascii() {
        return Err(bad());
    }
    let back = idna::domain_to_ascii_strict(&decoded).map_err(|_| bad())?;
    if !back.eq_ignore_ascii_case(label) {
        return Err(bad());
    }
    Ok(())
}

/// RFC 5280 §4.2.1.10: `base` matches itself and every name below it, label
/// by label, ASCII case-insensitively. Both are checked names.
pub fn within(name: &str, base: &str) -> bool {
    if name.len() < base.len() {
        return false;
    }
    let split = name.len() - base.len();
    if !name.is_char_boundary(split) || !name[split..].eq_ignore_ascii_case(base) {
        return false;
    }
    split == 0 || name.as_bytes()[split - 1] == b'.'
}

/// Whether some name a wildcard SAN `*.D` stands for lies within `base`:
/// `base` covers D's subdomains (D or above), or is itself one label below D.
pub fn wildcard_meets(wildcard: &str, base: &str) -> bool {
    let Some(domain) = wildcard.strip_prefix("*.") else { return within(wildcard, base) };
    if within(wildcard, base) {
        return true;
    }
    match base.split_once('.') {
        Some((first, parent)) => !first.is_empty() && parent.eq_ignore_ascii_case(domain),
        None => false,
    }
}

/// A subject CN that a validator could take for a host name: ASCII letters,
/// digits, hyphens, underscores, wildcards and dots, with at least one dot
/// (a single trailing dot ignored, as resolvers do). Used to hold such CNs to
/// the DNS name constraints, whatever string type they came in.
pub fn host_like(cn: &str) -> Option<String> {
    let body = cn.strip_suffix('.').unwrap_or(cn);
    let ok = body.contains('.')
        && body.split('.').all(|l| !l.is_empty())
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_*.".contains(&b));
    ok.then(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_preferred_syntax() {
        for ok in ["example.com", "WWW.Example.COM", "a-b.example", "localhost", "xn--bcher-kva.example", "x1.com"] {
            assert!(check(ok, Use::Host).is_ok(), "{ok}");
        }
        assert!(check("*.example.com", Use::San).is_ok());
    }

    #[test]
    fn refuses_what_validators_refuse() {
        for bad in ["*", "*.*.x.com", "a..b", "-x-.com", "x.com.", "a.example.com/path", "1.2.3.4",
            "a.example.com,IP:1.2.3.4", "a_b.example.com", "*.com", "a*.x.com", "ab--cd.com", "xn--abc-.com",
            "xn--a.com", ".example.com", "", "grüße.de", "x.123"] {
            assert!(check(bad, Use::San).is_err(), "{bad}");
        }
        assert!(check(".example.com", Use::Constraint).unwrap_err().contains("\"DNS:example.com\""));
        assert!(check("*.example.com", Use::Constraint).is_err());
        assert!(check("*.example.com", Use::Host).is_err());
    }

    #[test]
    fn matching() {
        assert!(within("example.com", "example.com"));
        assert!(within("a.EXAMPLE.com", "example.com"));
        assert!(!within("badexample.com", "example.com"));
        assert!(!within("éxample.com", "xample.com"));
        assert!(wildcard_meets("*.example.com", "evil.example.com"));
        assert!(wildcard_meets("*.example.com", "example.com"));
        assert!(!wildcard_meets("*.example.com", "a.b.example.com"));
        assert!(!wildcard_meets("*.example.com", "other.com"));
        assert_eq!(host_like("www.evil.com."), Some("www.evil.com".into()));
        assert_eq!(host_like("Root CA"), None);
        assert_eq!(host_like("localhost"), None);
    }
}

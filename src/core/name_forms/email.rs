//! Email addresses (rfc822Name, RFC 5280 §4.2.1.6): a dot-atom local part
//! (RFC 5322 §3.2.3) and a host domain; quoted local parts and address
//! literals are refused. The local part is compared exactly, the domain
//! case-insensitively.

use super::dns;

pub struct Mailbox<'a> {
    pub local: &'a str,
    pub domain: &'a str,
}

const MAX_LOCAL: usize = 64;

pub fn parse(value: &str) -> Result<Mailbox<'_>, String> {
    if !value.is_ascii() {
        return Err("email addresses must be ASCII".into());
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return Err("an email address needs an @".into());
    };
    check_local(local)?;
    dns::check(domain, dns::Use::Host).map_err(|m| format!("email domain: {m}"))?;
    Ok(Mailbox { local, domain })
}

fn check_local(local: &str) -> Result<(), String> {
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    if local.is_empty() || local.len() > MAX_LOCAL {
        return Err(format!("the local part of an email address must be 1 to {MAX_LOCAL} characters"));
    }
    if local.split('.').any(|atom| atom.is_empty() || !atom.bytes().all(atext)) {
        return Err("the local part of an email address must be a dot-atom (RFC 5322: no @, spaces, quotes or empty dot-separated parts)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes() {
        let m = parse("a.b+c@Example.com").unwrap();
        assert_eq!((m.local, m.domain), ("a.b+c", "Example.com"));
        for bad in ["nobody", "@example.com", "a@", "a..b@x.com", "\"a b\"@x.com", "a@b@x.com", "a@[1.2.3.4]", "a@x.com."] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

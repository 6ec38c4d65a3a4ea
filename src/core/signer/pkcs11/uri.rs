//! RFC 7512 PKCS#11 URIs naming a CA's key in a token:
//! `pkcs11:token=ca;object=issuing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin`.
//!
//! Parsed strictly: every attribute known (vendor `x-` attributes aside),
//! none twice, percent-encoding valid. The PIN (from `pin-value`, the file
//! `pin-source` names, or the caller) lives in a [`Secret`]; the URI's
//! printable form ([`KeyUri::display`]) never holds it, and neither does any
//! message.

use std::fmt;

use crate::core::error::{CaError, CaResult};
use crate::core::error::shown;
use crate::core::secret::Secret;

const SCHEME: &str = "pkcs11:";
/// Far above any real URI; a PIN file is read up to this many bytes too.
const MAX_URI_BYTES: usize = 4096;

/// Which token: every attribute given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenMatch {
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub slot_id: Option<u64>,
}

pub struct KeyUri {
    pub token: TokenMatch,
    /// CKA_LABEL of the key objects.
    pub object: Option<String>,
    /// CKA_ID of the key objects.
    pub id: Option<Vec<u8>>,
    /// The PKCS#11 library to load.
    pub module_path: String,
    pin_source: Option<String>,
    pin: Option<Secret>,
    display: String,
}

impl fmt::Debug for KeyUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyUri({})", self.display)
    }
}

impl Clone for KeyUri {
    fn clone(&self) -> KeyUri {
        KeyUri {
            token: self.token.clone(),
            object: self.object.clone(),
            id: self.id.clone(),
            module_path: self.module_path.clone(),
            pin_source: self.pin_source.clone(),
            pin: self.pin.as_ref().map(|p| Secret::new(p.as_bytes().to_vec())),
            display: self.display.clone(),
        }
    }
}

fn bad(uri_start: &str, why: impl fmt::Display) -> CaError {
    CaError::param(format!("PKCS#11 URI {}: {why}", shown(uri_start)))
}

/// Percent-decoding (RFC 3986 §2.1); a `%` not followed by two hex digits is an error.
fn decode(value: &str, attr: &str, uri: &str) -> CaResult<Vec<u8>> {
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = byte else {
                return Err(bad(uri, format_args!("{attr}: malformed percent-encoding")));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text(value: Vec<u8>, attr: &str, uri: &str) -> CaResult<String> {
    String::from_utf8(value).map_err(|_| bad(uri, format_args!("{attr} is not UTF-8")))
}

/// Percent-encodes all but RFC 3986's unreserved characters and `/` `:`.
fn encode(out: &mut String, value: &[u8]) {
    for &c in value {
        if c.is_ascii_alphanumeric() || b"-._~/:".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
}

/// Reads a PIN file (`file:` URI or path): its first line.
fn read_pin_source(source: &str, uri: &str) -> CaResult<Secret> {
    let path = source.strip_prefix("file://").or_else(|| source.strip_prefix("file:")).unwrap_or(source);
    if !path.starts_with('/') {
        return Err(bad(uri, "pin-source must be an absolute file path (file:/path)"));
    }
    let data = std::fs::read(path)
        .map_err(|e| CaError::config(format!("cannot read the PIN file (pin-source) {}: {}", shown(path), e.kind())))?;
    let data = Secret::new(data);
    let bytes = data.as_bytes();
    if bytes.len() > MAX_URI_BYTES {
        return Err(CaError::config(format!("the PIN file (pin-source) {} is too large", shown(path))));
    }
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Ok(Secret::new(line.to_vec()))
}

impl KeyUri {
    /// The URI text when `data` is one (starts with `pkcs11:`), else None.
    pub fn recognize(data: &[u8]) -> Option<&str> {
        let s = std::str::from_utf8(data).ok()?.trim();
        s.get(..SCHEME.len()).filter(|p| p.eq_ignore_ascii_case(SCHEME)).map(|_| s)
    }

    /// Parses `uri`. `pin`, when given, is the PIN (it wins over the URI's
    /// own `pin-value` or `pin-source`).
    pub fn parse(uri: &str, pin: Option<&Secret>) -> CaResult<KeyUri> {
        let uri = uri.trim();
        // A cut-down rendering for errors: never the query, which may hold a PIN.
        let start = uri.split('?').next().unwrap_or("");
        if uri.len() > MAX_URI_BYTES {
            return Err(bad(start, format_args!("longer than {MAX_URI_BYTES} bytes")));
        }
        if !uri.get(..SCHEME.len()).is_some_and(|p| p.eq_ignore_ascii_case(SCHEME)) {
            return Err(bad(start, "must start with pkcs11:"));
        }
        let rest = &uri[SCHEME.len()..];
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut key = KeyUri {
            token: TokenMatch::default(),
            object: None,
            id: None,
            module_path: String::new(),
            pin_source: None,
            pin: None,
            display: String::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        let mut pin_value: Option<Secret> = None;
        let mut module_path = None;
        let mut type_attr = None;
        for (part, sep) in [(path, ';'), (query.unwrap_or(""), '&')] {
            for attr in part.split(sep).filter(|a| !a.is_empty()) {
                let Some((name, value)) = attr.split_once('=') else {
                    return Err(bad(start, format_args!("attribute {} has no value", shown(attr.split('=').next().unwrap_or("")))));
                };
                let name = name.to_ascii_lowercase();
                if seen.contains(&name) {
                    return Err(bad(start, format_args!("attribute {name} is given twice")));
                }
                seen.push(name.clone());
                let in_path = sep == ';';
                let raw = decode(value, &name, start)?;
                match (name.as_str(), in_path) {
                    ("token", true) => key.token.token = Some(text(raw, &name, start)?),
                    ("manufacturer", true) => key.token.manufacturer = Some(text(raw, &name, start)?),
                    ("model", true) => key.token.model = Some(text(raw, &name, start)?),
                    ("serial", true) => key.token.serial = Some(text(raw, &name, start)?),
                    ("slot-id", true) => {
                        let t = text(raw, &name, start)?;
                        let n = t.parse::<u64>().ok().filter(|_| t.bytes().all(|b| b.is_ascii_digit()));
                        key.token.slot_id = Some(n.ok_or_else(|| bad(start, "slot-id must be a decimal number"))?);
                    }
                    ("object", true) => key.object = Some(text(raw, &name, start)?),
                    ("id", true) => key.id = Some(raw),
                    ("type", true) => type_attr = Some(text(raw, &name, start)?),
                    ("module-path", false) => module_path = Some(text(raw, &name, start)?),
                    ("pin-source", false) => key.pin_source = Some(text(raw, &name, start)?),
                    ("pin-value", false) => pin_value = Some(Secret::new(raw)),
                    (n, _) if n.starts_with("x-") => {}
                    (n, true) => {
                        return Err(bad(start, format_args!(
                            "path attribute {} is not one this CA uses (token, manufacturer, model, serial, \
                             slot-id, object, id, type)",
                            shown(n)
                        )))
                    }
                    (n, false) => {
                        return Err(bad(start, format_args!(
                            "query attribute {} is not one this CA uses (module-path, pin-source, pin-value)",
                            shown(n)
                        )))
                    }
                }
            }
        }
        if let Some(t) = type_attr {
            if !["private", "public"].contains(&t.as_str()) {
                return Err(bad(start, format_args!("type={} does not name a key (private or public)", shown(&t))));
            }
        }
        if key.object.is_none() && key.id.is_none() {
            return Err(bad(start, "name the key with object= (its label) or id="));
        }
        let Some(module_path) = module_path else {
            return Err(bad(start, "module-path= (the token's PKCS#11 library) is required"));
        };
        if !module_path.starts_with('/') {
            return Err(bad(start, "module-path must be an absolute path"));
        }
        key.module_path = module_path;
        if pin_value.is_some() && key.pin_source.is_some() {
            return Err(bad(start, "give pin-value or pin-source, not both"));
        }
        key.pin = match (pin, pin_value, &key.pin_source) {
            (Some(p), _, _) => Some(Secret::new(p.as_bytes().to_vec())),
            (None, Some(v), _) => Some(v),
            (None, None, Some(source)) => Some(read_pin_source(source, start)?),
            (None, None, None) => None,
        };
        key.display = key.render();
        Ok(key)
    }

    /// The canonical URI without any PIN value (a `pin-source` path stays).
    fn render(&self) -> String {
        let mut out = String::from(SCHEME);
        let mut path: Vec<(&str, Vec<u8>)> = Vec::new();
        let t = &self.token;
        for (name, v) in [("token", &t.token), ("manufacturer", &t.manufacturer), ("model", &t.model), ("serial", &t.serial)] {
            if let Some(v) = v {
                path.push((name, v.as_bytes().to_vec()));
            }
        }
        if let Some(n) = t.slot_id {
            path.push(("slot-id", n.to_string().into_bytes()));
        }
        if let Some(o) = &self.object {
            path.push(("object", o.as_bytes().to_vec()));
        }
        if let Some(id) = &self.id {
            path.push(("id", id.clone()));
        }
        for (i, (name, v)) in path.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(name);
            out.push('=');
            if *name == "id" {
                v.iter().for_each(|b| out.push_str(&format!("%{b:02X}")));
            } else {
                encode(&mut out, v);
            }
        }
        out.push_str("?module-path=");
        encode(&mut out, self.module_path.as_bytes());
        if let Some(s) = &self.pin_source {
            out.push_str("&pin-source=");
            encode(&mut out, s.as_bytes());
        }
        out
    }

    /// The URI fit to print and to store: no PIN in it.
    pub fn display(&self) -> &str {
        &self.display
    }

    pub fn pin(&self) -> Option<&Secret> {
        self.pin.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hides_the_pin() {
        let u = KeyUri::parse(
            "pkcs11:token=my%20ca;object=issuing;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634",
            None,
        )
        .unwrap();
        assert_eq!(u.token.token.as_deref(), Some("my ca"));
        assert_eq!(u.object.as_deref(), Some("issuing"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(u.pin().unwrap().as_bytes(), b"12&34");
        assert_eq!(u.display(), "pkcs11:token=my%20ca;object=issuing;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so");
        assert!(!format!("{u:?}").contains("12&34"));
        // The display form parses back to itself.
        assert_eq!(KeyUri::parse(u.display(), None).unwrap().display(), u.display());
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        for bad in [
            "pkcs11:object=a",                                                  // no module
            "pkcs11:token=a?module-path=/x.so",                                 // no key named
            "pkcs11:object=a;object=b?module-path=/x.so",                       // twice
            "pkcs11:object=a;colour=red?module-path=/x.so",                     // unknown
            "pkcs11:object=a%2?module-path=/x.so",                              // bad %
            "pkcs11:object=a?module-path=x.so",                                 // relative
            "pkcs11:object=a;type=secret-key?module-path=/x.so",                // not a key pair
            "pkcs11:object=a?module-path=/x.so&pin-value=1&pin-source=/p",      // both
            "pkcs11:object=a;slot-id=-1?module-path=/x.so",                     // slot
            "pkcs11:object?module-path=/x.so",                                  // no value
            "pkcs12:object=a?module-path=/x.so",
        ] {
            let e = KeyUri::parse(bad, None).unwrap_err();
            assert_eq!(e.category, crate::core::error::Category::Param, "{bad}: {}", e.message);
        }
        let e = KeyUri::parse("pkcs11:object=a?module-path=/x.so&pin-value=SECRETPIN&colour=1", None).unwrap_err();
        assert!(!e.message.contains("SECRETPIN"), "{}", e.message);
        assert!(KeyUri::parse("pkcs11:object=a;x-vendor=1?module-path=/x.so", None).is_ok());
    }
}

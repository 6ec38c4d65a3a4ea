//! Option readers shared by several functions: subject names, key types,
//! usages, revocation pointers, name constraints, policies, restore state.
//! Each option keyword is read in exactly one place.

use janetrs::{Janet, TaggedJanet};

use crate::core::constraints::{NameConstraints, Subtree};
use crate::core::options::{PointerOverrides, Pointers, RestoreState};
use crate::core::der;
use crate::core::error::{CaError, CaResult};
use crate::core::general_names::{url_has_host, GeneralName};
use crate::core::algorithm::KeyType;
use crate::core::names::{check_value, Attr, Subject};
use crate::core::revocation::{Reason, Revocation};
use crate::core::signer::pkcs11::KeyUri;
use crate::core::time;
use crate::core::usage::{parse_ext_key_usage, parse_key_usage, ExtKeyUsage, KeyUsage};

use super::values::{self as v, Opts, Tagged};

/// `:subject` (ordered `[attr value]` pairs) or the single-attribute options
/// (`Attr::ALL`'s keys); `default_cn` fills in the CN when neither names one.
pub fn subject(o: &Opts, default_cn: Option<&str>) -> CaResult<Subject> {
    let mut attrs = Vec::new();
    let list = o.opt("subject");
    // Both forms are asked for on every call: a single attribute beside :subject is refused.
    let singles = Attr::ALL.map(|(attr, key)| (attr, o.opt(key)));
    if let Some(list) = list.value() {
        if let Some((_, single)) = singles.iter().find(|(_, x)| x.is_set()) {
            return Err(CaError::param(format!(
                ":subject cannot be combined with :{}; put every attribute in :subject",
                single.key()
            )));
        }
        for (i, pair) in v::list(list, ":subject")?.iter().enumerate() {
            let what = format!(":subject item {}", i + 1);
            let items = v::list(pair, &what)?;
            if items.len() != 2 {
                return Err(CaError::param(format!("{what} must be a pair [attribute value], got {} elements", items.len())));
            }
            let attr = Attr::from_short(&v::name(&items[0], &what)?)?;
            let value = v::text(&items[1], &what)?;
            check_value(attr, &value, &format!(":subject {}", attr.short()))?;
            attrs.push((attr, value));
        }
        if attrs.is_empty() {
            return Err(CaError::param(":subject must hold at least one attribute"));
        }
    } else {
        for (attr, single) in singles {
            // `read` names the option ":key" in its reader's errors.
            let checked = |x: &Janet, what: &str| v::text(x, what).and_then(|t| check_value(attr, &t, what).map(|()| t));
            if let Some(value) = single.read(checked)? {
                attrs.push((attr, value));
            } else if attr == Attr::CommonName {
                if let Some(cn) = default_cn {
                    attrs.push((attr, cn.to_string()));
                }
            }
        }
    }
    Ok(Subject { attrs })
}

pub fn key_type(o: &Opts, default: KeyType) -> CaResult<KeyType> {
    match o.with("key-type", v::name)? {
        Some(name) => KeyType::from_name(&name),
        None => Ok(default),
    }
}

/// `:key "pkcs11:..."`: a CA key in a token.
pub fn token_key(value: &Janet, what: &str) -> CaResult<KeyUri> {
    let text = v::text(value, what)?;
    KeyUri::parse(&text, None).map_err(v::within(what))
}

pub fn key_usage(o: &Opts) -> CaResult<Option<KeyUsage>> {
    o.with("key-usage", v::usage_list)?.map(|items| parse_key_usage(&items)).transpose()
}

pub fn ext_key_usage(o: &Opts) -> CaResult<Option<ExtKeyUsage>> {
    o.with("extended-key-usage", v::usage_list)?.map(|items| parse_ext_key_usage(&items)).transpose()
}

pub fn san(o: &Opts) -> CaResult<Option<Vec<GeneralName>>> {
    let Some(entries) = o.with("san", v::string_list)? else { return Ok(None) };
    entries.iter().map(|e| GeneralName::parse(e, ":san")).collect::<CaResult<Vec<_>>>().map(Some)
}

fn urls(value: &Janet, what: &str) -> CaResult<Vec<String>> {
    let list = v::string_list(value, what)?;
    for url in &list {
        let has_host =
            url_has_host(url).map_err(|m| CaError::param(format!("{what} {}: {m}", crate::core::error::shown(url))))?;
        if !url.contains("://") || !has_host {
            return Err(CaError::param(format!("{what} must be an absolute URL such as http://ca.example/crl, got {url:?}")));
        }
    }
    Ok(list)
}

/// `:crl-url`, `:ocsp-url`, `:ca-issuers-url` as given on this call.
pub fn pointer_overrides(o: &Opts) -> CaResult<PointerOverrides> {
    Ok(PointerOverrides {
        crl_urls: o.with("crl-url", urls)?,
        ocsp_urls: o.with("ocsp-url", urls)?,
        ca_issuers_urls: o.with("ca-issuers-url", urls)?,
    })
}

/// The same options, as set once on a CA.
pub fn pointers(o: &Opts) -> CaResult<Pointers> {
    let p = pointer_overrides(o)?;
    Ok(Pointers {
        crl_urls: p.crl_urls.unwrap_or_default(),
        ocsp_urls: p.ocsp_urls.unwrap_or_default(),
        ca_issuers_urls: p.ca_issuers_urls.unwrap_or_default(),
    })
}

pub fn name_constraints(o: &Opts) -> CaResult<Option<NameConstraints>> {
    let Some(value) = o.get("name-constraints") else { return Ok(None) };
    let nc = Opts::parse(Some(value), ":name-constraints", |inner| {
        let read = |key: &'static str| -> CaResult<Vec<Subtree>> {
            match inner.get(key) {
                Some(list) => {
                    let what = format!(":name-constraints :{key}");
                    v::string_list(list, &what)?.iter().map(|e| Subtree::parse(e, &what)).collect()
                }
                None => Ok(Vec::new()),
            }
        };
        Ok(NameConstraints { permitted: read("permitted")?, excluded: read("excluded")? })
    })?;
    if nc.permitted.is_empty() && nc.excluded.is_empty() {
        return Err(CaError::param(":name-constraints needs :permitted or :excluded entries"));
    }
    Ok(Some(nc))
}

pub fn policies(o: &Opts) -> CaResult<Vec<Vec<u8>>> {
    let Some(list) = o.with("certificate-policies", v::string_list)? else { return Ok(Vec::new()) };
    let mut out: Vec<Vec<u8>> = Vec::new();
    for oid in list {
        let enc = der::encode_oid(&oid).map_err(|e| CaError::param(format!(":certificate-policies {}", e.message)))?;
        if !out.contains(&enc) {
            out.push(enc);
        }
    }
    Ok(out)
}

/// A revocation reason keyword (`:key-compromise`).
pub fn reason(value: &Janet, what: &str) -> CaResult<Reason> {
    Reason::from_name(&v::name(value, what)?, what)
}

/// One `{:serial n :reason kw :date t}` entry (`:revoked` lists); without
/// :reason, [`Revocation::DEFAULT_REASON`]; without :date, `default_date`.
pub fn revocation_entry(value: &Janet, what: &str, default_date: i64) -> CaResult<Revocation> {
    if !matches!(value.tagged(), TaggedJanet::Table(_) | TaggedJanet::Struct(_)) {
        return Err(CaError::param(format!("{what} must be a table or struct {{:serial n :reason kw}}, got {}", v::type_name(value))));
    }
    let (serial, reason, date) = Opts::parse(Some(value), what, |e| {
        let serial = e.with("serial", v::serial).map_err(v::within(what))?;
        let reason = e.with("reason", reason).map_err(v::within(what))?.unwrap_or(Revocation::DEFAULT_REASON);
        if reason == Reason::RemoveFromCrl {
            return Err(CaError::param(format!("{what} :reason :remove-from-crl is not a revocation")));
        }
        let date = e.with("date", v::time).map_err(v::within(what))?.unwrap_or(default_date);
        Ok((serial, reason, date))
    })?;
    let serial = serial.ok_or_else(|| CaError::param(format!("{what} needs :serial")))?;
    Ok(Revocation { serial, reason, date })
}

pub fn revocation_list(value: &Janet, what: &str) -> CaResult<Vec<Revocation>> {
    let now = time::now();
    v::list(value, what)?
        .iter()
        .enumerate()
        .map(|(i, e)| revocation_entry(e, &format!("{what} item {}", i + 1), now))
        .collect()
}

/// `:revoked` and `:crl-number` on constructors: state restored after a restart.
pub fn restore(o: &Opts) -> CaResult<RestoreState> {
    Ok(RestoreState {
        revoked: o.with("revoked", revocation_list)?.unwrap_or_default(),
        crl_number: o
            .with("crl-number", |x, w| v::int_in(x, w, 1, i64::MAX as i128))?
            .map(|n| n as u64),
        issued: Vec::new(),
    })
}

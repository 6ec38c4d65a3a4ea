//! Revocation, CRLs and the CRL number.

use janetrs::Janet;

use crate::core::{crl, pem};
use crate::core::options::CrlOptions;
use crate::core::error::CaResult;
use crate::core::revocation::Revocation;
use crate::core::time;

use super::ca_type;
use super::string_hash;
use super::edge::{arity, registry};
use super::options as opt;
use super::values::{self as v, Opts};

registry! {
    "ca/revoke" => revoke, REVOKE_DOC, ca ["revoke"];
    "ca/get-revoked" => get_revoked, GET_REVOKED_DOC, ca ["get-revoked"];
    "ca/crl" => crl, CRL_DOC, ca ["generate-crl" "crl"];
    "ca/get-crl-number" => get_crl_number, GET_CRL_NUMBER_DOC, ca ["get-crl-number"];
}

pub const REVOKE_DOC: &str = "(ca/revoke ca serial &opt reason)\n\n\
Records the revocation of `serial` (integer, int/s64, int/u64, or hex string \"0x...\" for serials wider than\n\
64 bits) at the current time. Returns nil.\n\n\
Reasons: :unspecified (default), :key-compromise, :ca-compromise, :affiliation-changed, :superseded,\n\
:cessation-of-operation, :certificate-hold, :remove-from-crl, :privilege-withdrawn, :aa-compromise.\n\
Revoking a serial again updates its entry. :remove-from-crl releases a :certificate-hold (the entry leaves\n\
later CRLs); on a serial that is not on hold it is an error. A failed call changes nothing.\n\
Method form: (:revoke ca serial &opt reason).";

pub fn revoke(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 3, "ca/revoke")?;
    let ca = ca_type::authority(&args[0], "ca/revoke ca")?;
    let serial = v::serial(&args[1], "ca/revoke serial")?;
    let reason = match args.get(2) {
        Some(r) if !r.is_nil() => opt::reason(r, "ca/revoke reason")?,
        _ => Revocation::DEFAULT_REASON,
    };
    ca.revoke(Revocation { serial, reason, date: time::now() })?;
    Ok(Janet::nil())
}

pub const GET_REVOKED_DOC: &str = "(ca/get-revoked ca)\n\n\
Returns an array of tables @{:serial <int/s64, or hex string when wider than 63 bits> :reason <keyword>\n\
:date <Unix seconds>} in revocation order. Pass it back as :revoked to ca/create to restore a CA.\n\
Method form: (:get-revoked ca).";

pub fn get_revoked(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/get-revoked")?;
    let ca = ca_type::authority(&args[0], "ca/get-revoked ca")?;
    Ok(v::array(ca.revocations()?.entries().iter().map(|r| {
        v::table(&[
            ("serial", v::jserial(&r.serial)),
            ("reason", v::jkeyword(r.reason.name())),
            ("date", Janet::number(r.date as f64)),
        ])
    })))
}

pub const CRL_DOC: &str = "(ca/crl ca &opt opts)\n\n\
Returns a signed v2 CRL as PEM listing every revocation recorded on the CA plus the extras. It carries the\n\
authority key identifier and the CRL number, which advances with each CRL (see ca/get-crl-number).\n\n\
Options:\n\
* :days-valid - next update this many days after this update (default 30)\n\
* :next-update - explicit next update (Unix seconds or ISO 8601 UTC), instead of :days-valid\n\
* :revoked - extra entries, a list of {:serial n :reason kw :date t} (:reason default :unspecified,\n  \
:date default now)\n\
Method form: (:generate-crl ca &opt opts).";

pub fn crl(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 2, "ca/crl")?;
    let ca = ca_type::authority(&args[0], "ca/crl ca")?;
    let opts = Opts::parse(args.get(1), "ca/crl", |o| {
        Ok(CrlOptions {
            days_valid: o.with("days-valid", v::days)?,
            next_update: o.with("next-update", v::time)?,
            extra: o.with("revoked", opt::revocation_list)?.unwrap_or_default(),
        })
    })?;
    // The PEM is written straight into the Janet string (no Rust copy of it).
    let built = crl::generate_built(ca, &opts)?;
    const LABEL: &str = "X509 CRL";
    let der = built.der();
    string_hash::jstring_filled(pem::armoured_len(LABEL, der.len()), |out| pem::armour_public(out, LABEL, der))
}

pub const GET_CRL_NUMBER_DOC: &str = "(ca/get-crl-number ca)\n\n\
Returns the CRL number the next CRL will carry, as an int/s64 (starts at 1). Save it with the CA and\n\
restore with (ca/create cert key {:crl-number n}). Method form: (:get-crl-number ca).";

pub fn get_crl_number(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/get-crl-number")?;
    let ca = ca_type::authority(&args[0], "ca/get-crl-number ca")?;
    Ok(v::js64(ca.crl_number()? as i64))
}

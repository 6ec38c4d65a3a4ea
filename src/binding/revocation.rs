//! Revocation, CRLs and the CRL number.

use janetrs::Janet;

use crate::core::error::{CaError, CaResult};

pub const REVOKE_DOC: &str = "(ca/revoke ca serial &opt reason)\n\nTODO";
pub const GET_REVOKED_DOC: &str = "(ca/get-revoked ca)\n\nTODO";
pub const CRL_DOC: &str = "(ca/crl ca &opt opts)\n\nTODO";
pub const GET_CRL_NUMBER_DOC: &str = "(ca/get-crl-number ca)\n\nTODO";

pub fn revoke(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}
pub fn get_revoked(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}
pub fn crl(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}
pub fn get_crl_number(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}

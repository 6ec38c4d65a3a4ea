//! OCSP: parsing requests, building signed responses.

use janetrs::Janet;

use crate::core::error::{CaError, CaResult};

pub const PARSE_OCSP_REQUEST_DOC: &str = "(ca/parse-ocsp-request der)\n\nTODO";
pub const CREATE_OCSP_RESPONSE_DOC: &str = "(ca/create-ocsp-response ca request-info status &opt opts)\n\nTODO";
pub const GET_STATUS_DOC: &str = "(ca/get-status ca serial)\n\nTODO";
pub const OCSP_ERROR_RESPONSE_DOC: &str = "(ca/ocsp-error-response kind)\n\nTODO";

pub fn parse_ocsp_request(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}
pub fn create_ocsp_response(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}
pub fn get_status(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}
pub fn ocsp_error_response(_args: &[Janet]) -> CaResult<Janet> {
    Err(CaError::config("not implemented"))
}

//! PEM armour: encoding by hand (64-column base64), decoding the first block
//! with the expected label, or accepting raw DER.

use openssl::base64;

use super::error::{CaError, CaResult};
use super::secret::Secret;

pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::encode_block(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    let mut rest = b64.as_str();
    // base64 text is ASCII, so every 64-byte split falls on a character boundary
    while rest.len() > 64 {
        let (line, tail) = rest.split_at(64);
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    if !rest.is_empty() {
        out.push_str(rest);
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// PEM of secret DER (a private key): every intermediate copy is zeroed.
pub fn encode_secret(label: &str, der: &Secret) -> Secret {
    let b64 = Secret::new(base64::encode_block(der.as_bytes()).into_bytes());
    let body = b64.as_bytes();
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    for line in body.chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    Secret::new(out)
}

/// The DER inside the first PEM block labelled one of `labels`; or `data`
/// itself when it is not PEM (DER input).
fn decode<'a>(data: &'a [u8], labels: &[&str], what: &str) -> CaResult<std::borrow::Cow<'a, [u8]>> {
    let text = match std::str::from_utf8(data) {
        Ok(t) if t.contains("-----BEGIN") => t,
        _ if data.first() == Some(&0x30) => return Ok(std::borrow::Cow::Borrowed(data)),
        _ => return Err(CaError::parse(format!("{what} is neither PEM nor DER"))),
    };
    for label in labels {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let Some(start) = text.find(&begin) else { continue };
        let body_start = start + begin.len();
        let Some(stop) = text[body_start..].find(&end) else {
            return Err(CaError::parse(format!("{what}: PEM block has no END line")));
        };
        let body: String = text[body_start..body_start + stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::decode_block(&body).map_err(|_| CaError::parse(format!("{what}: PEM body is not valid base64")))?;
        return Ok(std::borrow::Cow::Owned(der));
    }
    Err(CaError::parse(format!("{what}: no PEM block labelled {}", labels.join(" or "))))
}

pub fn certificate_der(data: &[u8]) -> CaResult<Vec<u8>> {
    decode(data, &["CERTIFICATE"], "certificate").map(|c| c.into_owned())
}

pub fn csr_der(data: &[u8]) -> CaResult<Vec<u8>> {
    decode(data, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], "CSR").map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let der: Vec<u8> = (0..200u8).collect();
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let mut v = vec![0x30];
        v.extend(&der);
        assert_eq!(certificate_der(pem.as_bytes()).unwrap(), der);
        assert!(certificate_der(b"garbage").is_err());
        assert!(certificate_der(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err());
        assert!(csr_der(pem.as_bytes()).is_err());
    }
}

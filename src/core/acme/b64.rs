//! base64url without padding (RFC 7515 §2), decoded strictly: padding,
//! characters of the other alphabet and non-canonical trailing bits are refused,
//! so one value has one encoding (what RFC 7638 thumbprints rely on).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::problem::Problem;

pub fn encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes `s`; `what` names the field in the problem document.
pub fn decode(s: &str, what: &str) -> Result<Vec<u8>, Problem> {
    URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .map_err(|_| Problem::malformed(format!("{what} is not base64url without padding")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(decode("AQAB", "e").unwrap(), vec![1, 0, 1]);
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert!(decode("AQAB=", "e").is_err(), "padding");
        assert!(decode("+/8", "e").is_err(), "standard alphabet");
        assert!(decode("-_9", "e").is_err(), "non-canonical trailing bits");
        assert!(decode("A", "e").is_err(), "impossible length");
        assert!(decode("AQ AB", "e").is_err(), "whitespace");
    }
}

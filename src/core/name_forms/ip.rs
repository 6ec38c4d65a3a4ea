//! IP addresses as the octets a certificate carries (4 or 16).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses a textual address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are
/// refused: they name an IPv4 host, and an iPAddress of 16 octets would escape
/// the IPv4 name constraints that cover it.
pub fn parse(value: &str) -> Result<Vec<u8>, String> {
    let ip: IpAddr = value.parse().map_err(|_| "is not a valid IPv4 or IPv6 address".to_string())?;
    octets_checked(match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    })
}

/// Checks address octets a requester sent.
pub fn octets_checked(octets: Vec<u8>) -> Result<Vec<u8>, String> {
    match octets.len() {
        4 => Ok(octets),
        16 if octets[..10].iter().all(|b| *b == 0) && octets[10..12] == [0xff, 0xff] => {
            Err(format!("is an IPv4-mapped IPv6 address ({}); write it as the IPv4 address", display(&octets)))
        }
        16 => Ok(octets),
        _ => Err("an IP address is 4 or 16 octets".into()),
    }
}

/// Whether `addr` lies in the subnet `net`/`mask` (same length).
pub fn within(addr: &[u8], net: &[u8], mask: &[u8]) -> bool {
    addr.len() == net.len() && net.len() == mask.len() && addr.iter().zip(net).zip(mask).all(|((a, n), m)| a & m == n & m)
}

pub fn display(octets: &[u8]) -> String {
    match octets.len() {
        4 => Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(octets);
            Ipv6Addr::from(a).to_string()
        }
        _ => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_mapped() {
        assert_eq!(parse("10.0.0.1").unwrap(), vec![10, 0, 0, 1]);
        assert_eq!(parse("::1").unwrap().len(), 16);
        assert!(parse("::ffff:10.66.1.1").is_err());
        assert!(parse("1.2.3").is_err());
        assert!(within(&[10, 66, 1, 1], &[10, 66, 0, 0], &[255, 255, 0, 0]));
        assert!(!within(&[10, 67, 1, 1], &[10, 66, 0, 0], &[255, 255, 0, 0]));
    }
}

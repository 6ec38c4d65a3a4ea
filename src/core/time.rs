//! Times: Unix seconds in, RFC 5280 UTCTime / GeneralizedTime out, ISO 8601
//! UTC strings parsed without any locale or libc involvement.

use super::der;
use super::error::{CaError, CaResult};

/// 1950-01-01T00:00:00Z: the earliest time a certificate can carry (UTCTime).
pub const MIN_TIME: i64 = -631_152_000;
/// 9999-12-31T23:59:59Z: the latest GeneralizedTime with a four-digit year.
pub const MAX_TIME: i64 = 253_402_300_799;
/// 2050-01-01T00:00:00Z: from here on RFC 5280 wants GeneralizedTime.
const UTC_TIME_END: i64 = 2_524_608_000;

pub const DAY: i64 = 86_400;

/// Microseconds since the epoch (0 before it), for numbers that must grow across restarts.
pub fn now_micros() -> u64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as u64,
        Err(_) => 0,
    }
}

pub fn now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(_) => 0,
    }
}

/// Checks a time is representable in a certificate, naming the option at fault.
pub fn check_range(t: i64, what: &str) -> CaResult<i64> {
    if (MIN_TIME..=MAX_TIME).contains(&t) {
        Ok(t)
    } else {
        Err(CaError::param(format!(
            "{what} must be between 1950-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got {t}"
        )))
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day, hour, minute, second)
pub fn split(t: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, (secs / 3600) as u32, (secs % 3600 / 60) as u32, (secs % 60) as u32)
}

fn push2(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10 % 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// Appends the DER of `t` as GeneralizedTime (OCSP always uses this form).
pub fn generalized_time(out: &mut Vec<u8>, t: i64) {
    let (y, mo, d, h, mi, s) = split(t);
    out.extend_from_slice(&[der::tag::GENERALIZED_TIME, 15]);
    push2(out, (y / 100) as u32);
    push2(out, (y % 100) as u32);
    for v in [mo, d, h, mi, s] {
        push2(out, v);
    }
    out.push(b'Z');
}

/// Appends the DER of `t` as RFC 5280 `Time`: UTCTime before 2050, else GeneralizedTime.
pub fn x509_time(out: &mut Vec<u8>, t: i64) {
    if t >= UTC_TIME_END || t < MIN_TIME {
        return generalized_time(out, t);
    }
    let (y, mo, d, h, mi, s) = split(t);
    out.extend_from_slice(&[der::tag::UTC_TIME, 13]);
    push2(out, (y % 100) as u32);
    for v in [mo, d, h, mi, s] {
        push2(out, v);
    }
    out.push(b'Z');
}

/// ISO 8601 text of `t`, e.g. "2030-01-15T10:30:00Z".
pub fn to_iso(t: i64) -> String {
    let (y, mo, d, h, mi, s) = split(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Parses an ISO 8601 UTC time: "YYYY-MM-DDTHH:MM:SS" followed by "Z" or
/// "+00:00", optional fractional seconds (dropped), or a bare date "YYYY-MM-DD"
/// (midnight UTC). `what` names the option in errors.
pub fn parse_iso(s: &str, what: &str) -> CaResult<i64> {
    let bad = || {
        let shown: String = s.chars().take(64).collect();
        CaError::parse(format!(
            "{what} must be Unix seconds or an ISO 8601 UTC time such as \"2030-01-15T10:30:00Z\", got {shown:?}"
        ))
    };
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.iter().all(|c| c.is_ascii_digit()) {
            Some(part.iter().fold(0u32, |a, c| a * 10 + (c - b'0') as u32))
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let y = num(0..4).ok_or_else(bad)? as i64;
    let mo = num(5..7).ok_or_else(bad)?;
    let d = num(8..10).ok_or_else(bad)?;
    let (h, mi, sec) = if b.len() == 10 {
        (0, 0, 0)
    } else {
        if b.len() < 20 || !(b[10] == b'T' || b[10] == b't') || b[13] != b':' || b[16] != b':' {
            return Err(bad());
        }
        let h = num(11..13).ok_or_else(bad)?;
        let mi = num(14..16).ok_or_else(bad)?;
        let sec = num(17..19).ok_or_else(bad)?;
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(bad());
            }
            rest = &rest[1 + digits..];
        }
        if !(rest == b"Z" || rest == b"z" || rest == b"+00:00") {
            return Err(bad());
        }
        (h, mi, sec)
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mdays = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d == 0 || d > mdays[(mo - 1) as usize] || h > 23 || mi > 59 || sec > 59 {
        return Err(bad());
    }
    let t = days_from_civil(y, mo, d) * DAY + (h * 3600 + mi * 60 + sec) as i64;
    check_range(t, what)
}

/// Parses DER UTCTime / GeneralizedTime content (as found in certificates).
pub fn parse_der_time(tlv: der::Tlv<'_>) -> CaResult<i64> {
    // Digits then 'Z' only: checked before any slicing, so no input can split a character.
    let c = tlv.content;
    if c.len() < 2 || !c[..c.len() - 1].iter().all(u8::is_ascii_digit) || c[c.len() - 1] != b'Z' {
        return Err(CaError::parse("certificate time must be digits ending in Z"));
    }
    let s = std::str::from_utf8(c).map_err(|_| CaError::parse("time is not ASCII"))?;
    let full = match tlv.tag {
        der::tag::UTC_TIME if s.len() == 13 => {
            let yy: i64 = s[..2].parse().map_err(|_| CaError::parse("bad UTCTime"))?;
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{}", s)
        }
        der::tag::GENERALIZED_TIME if s.len() == 15 => s.to_string(),
        _ => return Err(CaError::parse("unsupported time encoding")),
    };
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[0..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    );
    if !full.ends_with('Z') {
        return Err(CaError::parse("time is not UTC"));
    }
    parse_iso(&iso, "certificate time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip() {
        let t = parse_iso("2030-01-15T10:30:00Z", "t").unwrap();
        assert_eq!(t, 1_894_703_400);
        assert_eq!(to_iso(t), "2030-01-15T10:30:00Z");
        assert_eq!(parse_iso("1970-01-01", "t").unwrap(), 0);
        assert_eq!(parse_iso("2024-02-29T00:00:00.123+00:00", "t").unwrap(), 1_709_164_800);
        for bad in ["", "2023-02-29T00:00:00Z", "2030-01-15 10:30:00Z", "2030-01-15T10:30:00", "2030-13-01T00:00:00Z",
            "2030-01-15T24:00:00Z", "2030-01-15T10:30:00+01:00", "1900-01-01T00:00:00Z", "２０３０-01-01"] {
            assert!(parse_iso(bad, "t").is_err(), "{bad}");
        }
    }

    #[test]
    fn der_times() {
        let mut out = Vec::new();
        x509_time(&mut out, 1_894_703_400);
        assert_eq!(&out[2..], b"300115103000Z");
        out.clear();
        x509_time(&mut out, UTC_TIME_END);
        assert_eq!(&out[2..], b"20500101000000Z");
        let t = der::parse_one(&out, "t").unwrap();
        assert_eq!(parse_der_time(t).unwrap(), UTC_TIME_END);
        // non-ASCII content is an error, never a panic on a split character
        let odd = [&[der::tag::UTC_TIME, 13][..], "1é0101000000Z".as_bytes()].concat();
        let odd = [&[der::tag::UTC_TIME, (odd.len() - 2) as u8][..], &odd[2..]].concat();
        assert!(parse_der_time(der::parse_one(&odd, "t").unwrap()).is_err());
    }
}

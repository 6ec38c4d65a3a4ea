//! libpq's other way to name a database, a key=value connection string
//! (`host=db1 port=5432 dbname=ca user=ca sslmode=verify-full`), read as
//! libpq reads it and turned into the `postgresql://` URL the rest of the
//! engine takes, so that both forms mean the same thing and show the same
//! way in messages.

use super::super::super::error::{CaError, CaResult};

/// The keywords libpq knows that this engine honours; a location whose
/// first word is one of them followed by `=` is a connection string.
const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "application_name",
    "options",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "tcp_user_timeout",
    "target_session_attrs",
    "channel_binding",
];

fn keyword_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// Whether `location` is a libpq connection string.
pub fn is_conninfo(location: &str) -> bool {
    let s = location.trim_start();
    let key = keyword_at(s);
    KEYWORDS.contains(&key) && s[key.len()..].trim_start().starts_with('=')
}

/// The pairs of a connection string: `key = value`, values bare or in
/// single quotes with `\'` and `\\` escaped (libpq's grammar).
fn pairs(s: &str) -> CaResult<Vec<(String, String)>> {
    let bad = |why: &str| CaError::param(format!("store location: not a usable connection string: {why}"));
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let key = keyword_at(rest);
        if key.is_empty() {
            return Err(bad("a keyword was expected (key=value pairs)"));
        }
        if !KEYWORDS.contains(&key) {
            return Err(bad(&format!("unknown keyword {key:?}")));
        }
        rest = rest[key.len()..].trim_start();
        rest = rest.strip_prefix('=').ok_or_else(|| bad(&format!("{key} has no '='")))?.trim_start();
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix('\'') {
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, e)) => value.push(e),
                        None => break,
                    },
                    '\'' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.ok_or_else(|| bad(&format!("the value of {key} has no closing quote")))?;
            rest = &quoted[end..];
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let mut chars = rest[..end].chars();
            while let Some(c) = chars.next() {
                value.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
            }
            rest = &rest[end..];
        }
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            return Err(bad(&format!("the value of {key} runs into what follows")));
        }
        out.push((key.to_string(), value));
        rest = rest.trim_start();
    }
    Ok(out)
}

/// `s` percent-encoded but for the characters RFC 3986 leaves unreserved.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `postgresql://` URL that means what connection string `s` means.
pub fn to_url(s: &str) -> CaResult<String> {
    let mut user = None;
    let mut password = None;
    let mut host = None;
    let mut port = None;
    let mut dbname = None;
    let mut query = Vec::new();
    for (key, value) in pairs(s)? {
        match key.as_str() {
            "user" => user = Some(value),
            "password" => password = Some(value),
            "host" => host = Some(value),
            "port" => port = Some(value),
            "dbname" => dbname = Some(value),
            _ => query.push(format!("{key}={}", encode(&value))),
        }
    }
    let mut url = String::from("postgresql://");
    if let Some(u) = &user {
        url.push_str(&encode(u));
        if let Some(p) = &password {
            url.push(':');
            url.push_str(&encode(p));
        }
        url.push('@');
    } else if let Some(p) = &password {
        query.push(format!("password={}", encode(p)));
    }
    // A plain host name or address goes where a URL has it; a socket
    // directory or a list of hosts, as parameters.
    match host.as_deref() {
        Some(h) if !h.is_empty() && !h.contains(['/', ',']) => {
            url.push_str(&if h.contains(':') { format!("[{h}]") } else { encode(h) });
            if let Some(p) = port.as_deref().filter(|p| !p.contains(',')) {
                url.push(':');
                url.push_str(&encode(p));
            } else if let Some(p) = &port {
                query.push(format!("port={}", encode(p)));
            }
        }
        other => {
            if let Some(h) = other {
                query.push(format!("host={}", encode(h)));
            }
            if let Some(p) = &port {
                query.push(format!("port={}", encode(p)));
            }
        }
    }
    url.push('/');
    if let Some(d) = &dbname {
        url.push_str(&encode(d));
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_connection_strings_from_paths() {
        assert!(is_conninfo("host=db1 dbname=ca"));
        assert!(is_conninfo("  dbname = ca"));
        assert!(!is_conninfo("ca.db"));
        assert!(!is_conninfo("/var/lib/ca/host=1.db"));
        assert!(!is_conninfo("colour=blue"));
    }

    #[test]
    fn reads_libpq_quoting() {
        let url = to_url(r"host=db1 port=5433 dbname='my ca' user=ca password='it\'s \\ secret' sslmode=verify-full")
            .unwrap();
        assert_eq!(url, "postgresql://ca:it%27s%20%5C%20secret@db1:5433/my%20ca?sslmode=verify-full");
        assert_eq!(to_url("host=/run/postgresql dbname=ca").unwrap(), "postgresql:///ca?host=%2Frun%2Fpostgresql");
        assert_eq!(to_url("host=::1 port=5432 dbname=ca").unwrap(), "postgresql://[::1]:5432/ca");
    }

    #[test]
    fn never_panics_on_odd_input() {
        // a fixed pseudo-random walk over the characters the grammar cares about
        let alphabet: Vec<char> = "host= dbname'\\\t\né@x:/,".chars().collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            let mut s = String::from("host=");
            for _ in 0..(state % 24) {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                s.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            let _ = is_conninfo(&s);
            let _ = to_url(&s);
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(to_url("host=db1 colour=blue").is_err());
        assert!(to_url("host='db1").is_err());
        assert!(to_url("host").is_err());
        assert!(to_url("host='a'b").is_err());
    }
}

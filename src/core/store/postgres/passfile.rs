//! The password file libpq reads when a connection names no password
//! (`~/.pgpass`, or the file in PGPASSFILE or the `passfile` parameter):
//! lines `host:port:database:user:password`, `*` matching anything, `\`
//! escaping `:` and `\`, `#` starting a comment. As libpq does, a file that
//! its group or others may read is not used.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The file to read: `explicit` (the `passfile` parameter), else
/// PGPASSFILE, else ~/.pgpass.
pub fn location(explicit: Option<&str>) -> Option<PathBuf> {
    if let Some(f) = explicit {
        return Some(PathBuf::from(f));
    }
    if let Some(f) = std::env::var_os("PGPASSFILE") {
        return Some(PathBuf::from(f));
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass"))
}

/// The fields of one line, unescaped.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(e), Some(f)) = (chars.next(), out.last_mut()) {
                    f.push(e);
                }
            }
            ':' => out.push(String::new()),
            c => {
                if let Some(f) = out.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    out
}

/// Whether a field of the file matches `value` (a `*` field matches all).
fn matches(field: &str, value: &str) -> bool {
    field == "*" || field == value
}

/// The password the file at `file` gives for the connection, if any. A
/// missing, unreadable or too-open file gives none, as with libpq.
pub fn lookup(file: &Path, host: &str, port: u16, database: &str, user: &str) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let port = port.to_string();
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).find_map(|line| {
        let f = fields(line);
        if f.len() < 5 {
            return None;
        }
        let wanted = [host, port.as_str(), database, user];
        let all = f.iter().zip(wanted).all(|(field, value)| matches(field, value));
        // a password containing ':' was escaped; anything past the fifth field is part of it
        all.then(|| f[4..].join(":"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str, mode: u32) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jsec-pgpass-{}-{mode:o}-{}", std::process::id(), content.len()));
        std::fs::write(&dir, content).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        dir
    }

    #[test]
    fn finds_the_first_matching_line() {
        let f = file("# comment\nother:5432:ca:ca:no\n127.0.0.1:*:ca:ca:s\\:e\\\\cret\n*:*:*:*:fallback\n", 0o600);
        assert_eq!(lookup(&f, "127.0.0.1", 5433, "ca", "ca").as_deref(), Some("s:e\\cret"));
        assert_eq!(lookup(&f, "db2", 5432, "x", "y").as_deref(), Some("fallback"));
        std::fs::remove_file(f).unwrap();
    }

    #[test]
    fn ignores_a_file_others_may_read() {
        let f = file("*:*:*:*:secret\n", 0o644);
        assert_eq!(lookup(&f, "h", 5432, "d", "u"), None);
        std::fs::remove_file(f).unwrap();
    }
}

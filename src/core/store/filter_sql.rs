//! The SQL that a [`Filter`] means, shared by the engines: the conditions on
//! the issued index (joined as `i`) and its revocations (`r`), the order and
//! the page, each value left as a `?` for the engine to number and bind in
//! its own way.

use super::super::serial::Serial;
use super::{Filter, StatusFilter};

/// A value the SQL binds, in the order of its `?`s.
pub enum Bound<'a> {
    Serial(&'a Serial),
    /// A LIKE pattern matching the text anywhere, `\` its escape character.
    Pattern(String),
    Int(i64),
}

/// How an engine writes what the SQL dialects spell differently.
pub struct Dialect {
    /// A serial compared with `i.serial`, e.g. "?" or "?::text::numeric".
    pub serial: &'static str,
    /// A case-insensitive substring match of a pattern, e.g. "ILIKE ?".
    pub contains: &'static str,
}

/// `%s%` with `\`, `%` and `_` escaped.
fn pattern(s: &str) -> String {
    format!("%{}%", s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// The conditions (each starting " AND "), ORDER BY and LIMIT/OFFSET of `f`.
pub fn clauses<'a>(f: &'a Filter, d: &Dialect) -> (String, Vec<Bound<'a>>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    let mut add = |sql: &mut String, clause: String, v: Bound<'a>| {
        sql.push_str(&clause);
        values.push(v);
    };
    if let Some(s) = &f.serial {
        add(&mut sql, format!(" AND i.serial = {}", d.serial), Bound::Serial(s));
    }
    if let Some(s) = &f.after {
        add(&mut sql, format!(" AND i.serial > {}", d.serial), Bound::Serial(s));
    }
    if let Some(s) = &f.subject {
        add(&mut sql, format!(" AND i.subject {}", d.contains), Bound::Pattern(pattern(s)));
    }
    if let Some(s) = &f.san {
        add(&mut sql, format!(" AND i.sans {}", d.contains), Bound::Pattern(pattern(s)));
    }
    if let Some(t) = f.expires_before {
        add(&mut sql, " AND i.not_after < ?".into(), Bound::Int(t));
    }
    if let Some(t) = f.expires_after {
        add(&mut sql, " AND i.not_after >= ?".into(), Bound::Int(t));
    }
    match f.status {
        Some(StatusFilter::Good) => sql.push_str(" AND r.reason IS NULL"),
        Some(StatusFilter::Revoked) => sql.push_str(" AND r.reason IS NOT NULL"),
        None => {}
    }
    sql.push_str(" ORDER BY i.serial");
    add(&mut sql, " LIMIT ?".into(), Bound::Int(i64::from(f.limit)));
    add(&mut sql, " OFFSET ?".into(), Bound::Int(f.offset.min(i64::MAX as u64) as i64));
    (sql, values)
}

/// `sql` with its `?`s numbered from `first` as `marker` writes them
/// (`?2`, `$2`, ...). The clauses hold no `?` inside a string literal.
pub fn numbered(sql: &str, marker: char, first: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = first;
    for c in sql.chars() {
        if c == '?' {
            out.push(marker);
            out.push_str(&n.to_string());
            n += 1;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_the_values_in_order() {
        let f = Filter { subject: Some("a_b%".into()), expires_before: Some(5), limit: 10, ..Filter::default() };
        let d = Dialect { serial: "?", contains: "LIKE ? ESCAPE '\\'" };
        let (sql, values) = clauses(&f, &d);
        assert_eq!(
            numbered(&sql, '?', 2),
            " AND i.subject LIKE ?2 ESCAPE '\\' AND i.not_after < ?3 ORDER BY i.serial LIMIT ?4 OFFSET ?5"
        );
        assert_eq!(values.len(), 4);
        assert!(matches!(&values[0], Bound::Pattern(p) if p == "%a\\_b\\%%"));
    }
}

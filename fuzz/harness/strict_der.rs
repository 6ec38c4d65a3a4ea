//! An independent, strict DER checker (X.690 §10-11 and the RFC 5280 string
//! and time profiles), written for the oracle without the crate's reader, so
//! that a laxness in `jsec_ca::core::der` is not shared by its judge.

/// One TLV: its tag byte, the whole encoding and the content.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    pub tag: u8,
    pub raw: &'a [u8],
    pub content: &'a [u8],
}

/// Reads the TLV at the start of `data` (definite lengths only); the length
/// must be minimal when `strict`.
fn read(data: &[u8], strict: bool) -> Result<Node<'_>, String> {
    let tag = *data.first().ok_or("missing tag")?;
    let mut i = 1;
    if tag & 0x1f == 0x1f {
        // High tag number form: base-128 digits, minimal, for numbers >= 31.
        let first = *data.get(i).ok_or("truncated tag")?;
        if strict && (first == 0x80 || first < 0x1f) {
            return Err(format!("tag {tag:#04x}: non-minimal high tag number"));
        }
        while *data.get(i).ok_or("truncated tag")? & 0x80 != 0 {
            i += 1;
        }
        i += 1;
    }
    let l = *data.get(i).ok_or("missing length")? as usize;
    i += 1;
    let len = if l < 0x80 {
        l
    } else if l == 0x80 {
        return Err(format!("tag {tag:#04x}: indefinite length"));
    } else {
        let n = l & 0x7f;
        let bytes = data.get(i..i + n).ok_or("truncated length")?;
        if n > 4 {
            return Err(format!("tag {tag:#04x}: {n}-byte length"));
        }
        if strict && (bytes[0] == 0 || (n == 1 && bytes[0] < 0x80)) {
            return Err(format!("tag {tag:#04x}: non-minimal length"));
        }
        i += n;
        bytes.iter().fold(0usize, |a, b| a << 8 | *b as usize)
    };
    let end = i.checked_add(len).filter(|e| *e <= data.len()).ok_or_else(|| format!("tag {tag:#04x}: length past the end"))?;
    Ok(Node { tag, raw: &data[..end], content: &data[i..end] })
}

/// Splits `data` into its TLVs (lenient about minimal lengths: for reading
/// inputs the fuzzer builds, not for judging).
pub fn children(data: &[u8]) -> Option<Vec<Node<'_>>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = read(rest, false).ok()?;
        rest = &rest[n.raw.len()..];
        out.push(n);
    }
    Some(out)
}

/// The single TLV `data` consists of.
pub fn one(data: &[u8]) -> Option<Node<'_>> {
    match children(data)?.as_slice() {
        [n] => Some(*n),
        _ => None,
    }
}

/// Checks that `data` is exactly one strictly DER-encoded value. In
/// certificates every BOOLEAN is a DEFAULT FALSE field (an extension's
/// critical, basicConstraints' cA), so an encoded FALSE is refused too.
pub fn check(data: &[u8]) -> Result<(), String> {
    let n = read(data, true)?;
    if n.raw.len() != data.len() {
        return Err("bytes after the value".into());
    }
    node(n, 0)
}

fn node(n: Node<'_>, depth: usize) -> Result<(), String> {
    if depth > 64 {
        return Err("nesting deeper than 64".into());
    }
    let c = n.content;
    let constructed = n.tag & 0x20 != 0;
    let universal = n.tag & 0xc0 == 0;
    let number = n.tag & 0x1f;
    if universal && constructed != matches!(number, 16 | 17) {
        return Err(format!("tag {:#04x}: universal type in the wrong (primitive/constructed) form", n.tag));
    }
    if constructed {
        let mut kids = Vec::new();
        let mut rest = c;
        while !rest.is_empty() {
            let k = read(rest, true)?;
            rest = &rest[k.raw.len()..];
            node(k, depth + 1)?;
            kids.push(k.raw);
        }
        if n.tag == 0x31 && kids.windows(2).any(|w| set_order(w[0], w[1]) == std::cmp::Ordering::Greater) {
            return Err("SET OF elements not in ascending order (X.690 11.6)".into());
        }
        return Ok(());
    }
    if !universal {
        return Ok(());
    }
    let ok = match number {
        1 => match c {
            [0xff] => true,
            [0x00] => return Err("BOOLEAN FALSE encoded for a DEFAULT FALSE field".into()),
            _ => false,
        },
        2 | 10 => !c.is_empty() && !(c.len() > 1 && ((c[0] == 0 && c[1] < 0x80) || (c[0] == 0xff && c[1] >= 0x80))),
        3 => match c.split_first() {
            Some((&unused, bits)) => unused <= 7 && (!bits.is_empty() || unused == 0) && bits.last().is_none_or(|b| b & ((1u8 << unused) - 1) == 0),
            None => false,
        },
        5 => c.is_empty(),
        6 => oid_ok(c),
        12 => std::str::from_utf8(c).is_ok(),
        19 => c.iter().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(b)),
        22 => c.is_ascii(),
        30 => c.len().is_multiple_of(2),
        28 => c.len().is_multiple_of(4),
        23 => c.len() == 13 && c[..12].iter().all(u8::is_ascii_digit) && c[12] == b'Z',
        24 => c.len() == 15 && c[..14].iter().all(u8::is_ascii_digit) && c[14] == b'Z',
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("tag {:#04x}: content {} is not valid DER for its type", n.tag, crate::hex(c)))
    }
}

/// Minimal base-128 subidentifiers, the last one complete.
pub fn oid_ok(c: &[u8]) -> bool {
    !c.is_empty()
        && c.last().is_some_and(|b| b & 0x80 == 0)
        && c.iter().enumerate().all(|(i, b)| *b != 0x80 || (i > 0 && c[i - 1] & 0x80 != 0))
}

/// X.690 11.6: encodings compared as octet strings, the shorter padded with zeros.
fn set_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    (0..a.len().max(b.len()))
        .map(|i| a.get(i).copied().unwrap_or(0).cmp(&b.get(i).copied().unwrap_or(0)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

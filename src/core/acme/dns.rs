//! dns-01's look-up, without the network: a TXT query to send over UDP and
//! the TXT strings read back from the answer. The caller (Janet) moves the
//! datagrams. Parsing is bounded: every read is checked against the message.
use super::problem::Problem;

/// A DNS query (RFC 1035 §4.1) for the TXT records of `name`, with `id`.
pub fn txt_query(name: &str, id: u16) -> Result<Vec<u8>, Problem> {
    let mut q = Vec::with_capacity(name.len() + 18);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Problem::malformed(format!("{name:?} is not a DNS name")));
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    if q.len() > 12 + 255 + 4 {
        return Err(Problem::malformed(format!("{name:?} is too long for DNS")));
    }
    q.extend_from_slice(&[0, 16, 0, 1]); // TXT, IN
    Ok(q)
}

struct Reader<'a> {
    m: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.m.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    /// Skips a (possibly compressed) name.
    fn skip_name(&mut self) -> Option<()> {
        for _ in 0..128 {
            let len = *self.m.get(self.at)?;
            if len & 0xc0 == 0xc0 {
                self.at += 2;
                return Some(());
            }
            self.at += 1;
            if len == 0 {
                return Some(());
            }
            self.take(len as usize)?;
        }
        None
    }
}

/// The TXT strings in the answer to query `id` (each record's strings
/// concatenated, RFC 8555 §8.4 compares whole records). An error names the DNS
/// failure (NXDOMAIN, SERVFAIL, a malformed answer).
pub fn txt_answer(msg: &[u8], id: u16) -> Result<Vec<String>, Problem> {
    let bad = || Problem::new(super::problem::Kind::Dns, "the DNS answer is malformed");
    let mut r = Reader { m: msg, at: 0 };
    if r.u16().ok_or_else(bad)? != id {
        return Err(Problem::new(super::problem::Kind::Dns, "the DNS answer is for another query"));
    }
    let flags = r.u16().ok_or_else(bad)?;
    if flags & 0x8000 == 0 {
        return Err(bad());
    }
    match flags & 0x000f {
        0 => {}
        3 => return Err(Problem::new(super::problem::Kind::Dns, "NXDOMAIN looking up TXT records")),
        rc => return Err(Problem::new(super::problem::Kind::Dns, format!("DNS error (rcode {rc}) looking up TXT records"))),
    }
    let qd = r.u16().ok_or_else(bad)?;
    let an = r.u16().ok_or_else(bad)?;
    r.take(4).ok_or_else(bad)?;
    for _ in 0..qd {
        r.skip_name().ok_or_else(bad)?;
        r.take(4).ok_or_else(bad)?;
    }
    let mut out = Vec::new();
    for _ in 0..an.min(64) {
        r.skip_name().ok_or_else(bad)?;
        let ty = r.u16().ok_or_else(bad)?;
        r.take(6).ok_or_else(bad)?; // class, ttl
        let len = r.u16().ok_or_else(bad)? as usize;
        let rdata = r.take(len).ok_or_else(bad)?;
        if ty != 16 {
            continue;
        }
        let mut text = Vec::new();
        let mut d = Reader { m: rdata, at: 0 };
        while d.at < rdata.len() {
            let n = d.take(1).ok_or_else(bad)?[0] as usize;
            text.extend_from_slice(d.take(n).ok_or_else(bad)?);
        }
        out.push(String::from_utf8_lossy(&text).into_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: u16, rcode: u8, txts: &[&str]) -> Vec<u8> {
        let q = txt_query("_acme-challenge.example.com", id).unwrap();
        let mut m = q.clone();
        m[2] = 0x81;
        m[3] = 0x80 | rcode;
        m[7] = txts.len() as u8;
        for t in txts {
            m.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60]);
            m.extend_from_slice(&((t.len() + 1) as u16).to_be_bytes());
            m.push(t.len() as u8);
            m.extend_from_slice(t.as_bytes());
        }
        m
    }

    #[test]
    fn round_trip() {
        assert_eq!(txt_answer(&answer(7, 0, &["abc", "def"]), 7).unwrap(), vec!["abc", "def"]);
        assert!(txt_answer(&answer(7, 3, &[]), 7).unwrap_err().detail.contains("NXDOMAIN"));
        assert!(txt_answer(&answer(7, 0, &["a"]), 8).is_err());
    }

    #[test]
    fn hostile_answers() {
        let good = answer(1, 0, &["hello"]);
        for cut in 0..good.len() {
            let _ = txt_answer(&good[..cut], 1); // never panics
        }
        let mut lying = good.clone();
        let n = lying.len();
        lying[n - 7] = 0xff; // rdlength past the end
        assert!(txt_answer(&lying, 1).is_err());
        assert!(txt_query("a..b", 1).is_err());
        assert!(txt_query(&"a".repeat(64), 1).is_err());
    }
}

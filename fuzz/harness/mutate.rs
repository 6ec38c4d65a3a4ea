//! Mutations: byte-level and DER-aware (tags, lengths, nodes duplicated,
//! dropped or spliced between seeds).

use jsec_ca::core::der;

/// xorshift64*: deterministic for a given seed, good enough to pick mutations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Offsets and header sizes of every TLV node reachable in `data`.
pub fn der_nodes(data: &[u8]) -> Vec<(usize, usize, usize)> {
    fn walk(data: &[u8], base: usize, out: &mut Vec<(usize, usize, usize)>, depth: usize) {
        let mut r = der::Reader::new(data);
        let mut pos = 0;
        while let Ok(t) = r.read("node") {
            let header = t.raw.len() - t.content.len();
            out.push((base + pos, header, t.raw.len()));
            if t.tag & 0x20 != 0 && depth < 12 {
                walk(t.content, base + pos + header, out, depth + 1);
            }
            pos += t.raw.len();
        }
    }
    let mut out = Vec::new();
    walk(data, 0, &mut out, 0);
    out
}

const INTERESTING: &[u8] = &[0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x30, 0x31, 0x02, 0x04, 0x05, 0x06, 0xa0, 0xa1, 0x1f];

pub fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let nodes = der_nodes(&v);
        match rng.below(11) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = 1 + rng.below(8.min(v.len() - i));
                v.drain(i..i + n);
            }
            4 => v.truncate(rng.below(v.len() + 1)),
            // DER-aware: rewrite a node's tag
            5 if !nodes.is_empty() => {
                let (off, _, _) = nodes[rng.below(nodes.len())];
                v[off] = INTERESTING[rng.below(INTERESTING.len())];
            }
            // DER-aware: corrupt a node's length byte(s)
            6 if !nodes.is_empty() => {
                let (off, hdr, _) = nodes[rng.below(nodes.len())];
                let i = off + 1 + rng.below(hdr - 1);
                v[i] = match rng.below(4) {
                    0 => 0x80,
                    1 => 0xff,
                    2 => v[i].wrapping_add(1),
                    _ => v[i].wrapping_sub(1),
                };
            }
            // DER-aware: duplicate a node in place
            7 if !nodes.is_empty() => {
                let (off, _, len) = nodes[rng.below(nodes.len())];
                let copy = v[off..off + len].to_vec();
                v.splice(off..off, copy);
            }
            // DER-aware: drop a node
            8 if !nodes.is_empty() => {
                let (off, _, len) = nodes[rng.below(nodes.len())];
                v.drain(off..off + len);
            }
            // splice a node from another seed over one of ours
            9 if !nodes.is_empty() && !corpus.is_empty() => {
                let other = &corpus[rng.below(corpus.len())];
                let theirs = der_nodes(other);
                if !theirs.is_empty() {
                    let (off, _, len) = nodes[rng.below(nodes.len())];
                    let (o2, _, l2) = theirs[rng.below(theirs.len())];
                    v.splice(off..off + len, other[o2..o2 + l2].iter().copied());
                }
            }
            // grow: repeat a chunk (length overflows, deep nesting)
            _ if !v.is_empty() => {
                let i = rng.below(v.len());
                let n = 1 + rng.below(64.min(v.len() - i));
                let chunk = v[i..i + n].to_vec();
                for _ in 0..1 + rng.below(16) {
                    v.splice(i..i, chunk.iter().copied());
                }
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v.truncate(1 << 16);
    v
}

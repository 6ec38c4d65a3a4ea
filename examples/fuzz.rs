//! A stable-Rust fuzz harness for every parser that sees untrusted bytes.
//!
//! `cargo fuzz` needs a nightly toolchain, which this project cannot fetch, so
//! this is a small coverage-blind fuzzer: it starts from the committed seed
//! corpus in `fuzz/corpus/<target>/`, applies byte-level and DER-aware
//! mutations (rewriting tags, lengths and contents of real TLV nodes, splicing
//! nodes between seeds), and calls the parser. A panic anywhere is a failure;
//! errors are the expected outcome for most inputs.
//!
//!   cargo run --release --no-default-features --example fuzz -- [TARGET|all] [SECONDS] [SEED]
//!
//! Targets: ocsp-request, csr, cert-and-key, serial-hex, time, der.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use jsec_ca::core::authority::{Authority, CaOptions, LoadOptions, SignOptions};
use jsec_ca::core::der;
use jsec_ca::core::ocsp;
use jsec_ca::core::serial::Serial;
use jsec_ca::core::time;

/// xorshift64*: deterministic for a given seed, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Offsets and header sizes of every TLV node reachable in `data`.
fn der_nodes(data: &[u8]) -> Vec<(usize, usize, usize)> {
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

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
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

fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).filter_map(|e| std::fs::read(e.path()).ok()).collect())
        .unwrap_or_default();
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    seeds
}

struct Outcome {
    execs: u64,
    accepted: u64,
}

fn fuzz(target: &str, seconds: u64, seed: u64, mut call: impl FnMut(&[u8]) -> bool) -> Result<Outcome, String> {
    let corpus = load_corpus(target);
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut out = Outcome { execs: 0, accepted: 0 };
    // Every seed as is first, then mutants until the deadline.
    for s in &corpus {
        if catch_unwind(AssertUnwindSafe(|| call(s))).map_err(|_| format!("{target}: panic on a seed"))? {
            out.accepted += 1;
        }
        out.execs += 1;
    }
    while Instant::now() < deadline {
        for _ in 0..64 {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutate(&mut rng, base, &corpus);
            match catch_unwind(AssertUnwindSafe(|| call(&input))) {
                Ok(true) => out.accepted += 1,
                Ok(false) => {}
                Err(_) => {
                    let path = format!("/tmp/jsec-fuzz-crash-{target}-{}", out.execs);
                    let _ = std::fs::write(&path, &input);
                    return Err(format!("{target}: panic after {} execs; input saved to {path}", out.execs));
                }
            }
            out.execs += 1;
        }
    }
    Ok(out)
}

fn run_target(name: &str, seconds: u64, seed: u64) -> Result<Outcome, String> {
    match name {
        "ocsp-request" => {
            // The whole responder path: parse, then answer every request it holds.
            let ca = Authority::generate_root(CaOptions::root()).map_err(|e| e.to_string())?;
            fuzz(name, seconds, seed, move |b| {
                let Ok(req) = ocsp::parse_request(b) else { return false };
                let now = time::now();
                let answers: Vec<ocsp::SingleResponse> = req
                    .requests
                    .iter()
                    .map(|id| ocsp::SingleResponse {
                        cert_id: id.clone(),
                        status: ocsp::status_from_list(&ca, &id.serial),
                        this_update: now,
                        next_update: Some(now + 3600),
                    })
                    .collect();
                ocsp::build_response(&ca, &answers, req.nonce.as_ref(), None, now).is_ok()
            })
        }
        "csr" => {
            let mut ca = Authority::generate_root(CaOptions::root()).map_err(|e| e.to_string())?;
            fuzz(name, seconds, seed, move |b| ca.sign_csr(b, SignOptions::default()).is_ok())
        }
        "cert-and-key" => fuzz(name, seconds, seed, |b| {
            // The seed holds "cert PEM" + 0x00 + "key PEM"; split there (or in the middle).
            let cut = b.iter().position(|x| *x == 0).unwrap_or(b.len() / 2);
            let (cert, key) = (&b[..cut], &b[(cut + 1).min(b.len())..]);
            Authority::load(cert, key, LoadOptions::default()).is_ok()
        }),
        "serial-hex" => fuzz(name, seconds, seed, |b| {
            std::str::from_utf8(b).map(|s| Serial::from_hex(s, "serial").is_ok()).unwrap_or(false)
        }),
        "time" => fuzz(name, seconds, seed, |b| {
            std::str::from_utf8(b).map(|s| time::parse_iso(s, "time").is_ok()).unwrap_or(false)
        }),
        "der" => fuzz(name, seconds, seed, |b| !der_nodes(b).is_empty()),
        _ => Err(format!("unknown target {name}")),
    }
}

const TARGETS: &[&str] = &["ocsp-request", "csr", "cert-and-key", "serial-hex", "time", "der"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("all");
    let seconds = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    // Panics are caught and reported per target; keep their messages short.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let targets: Vec<&str> = if which == "all" { TARGETS.to_vec() } else { vec![which] };
    let mut failed = 0;
    for t in &targets {
        match run_target(t, seconds, seed) {
            Ok(o) => println!("fuzz {t}: {} execs in {seconds} s, {} accepted, no panic", o.execs, o.accepted),
            Err(e) => {
                println!("fuzz FAILED {e}");
                failed += 1;
            }
        }
    }
    println!("fuzz summary: {} of {} targets clean", targets.len() - failed, targets.len());
    std::process::exit(if failed == 0 { 0 } else { 1 });
}

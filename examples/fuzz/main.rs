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
use jsec_ca::core::ocsp;
use jsec_ca::core::serial::Serial;
use jsec_ca::core::time;

mod mutate;

use mutate::{der_nodes, mutate, Rng};

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

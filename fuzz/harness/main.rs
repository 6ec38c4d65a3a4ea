//! A stable-Rust fuzz harness for every parser that sees untrusted bytes,
//! with an oracle for every certificate the CA signs.
//!
//! `cargo fuzz` needs a nightly toolchain, which this project cannot fetch, so
//! this is a small coverage-blind fuzzer: it starts from the committed seed
//! corpus in `fuzz/corpus/<target>/`, applies byte-level and DER-aware
//! mutations (rewriting tags, lengths and contents of real TLV nodes, splicing
//! nodes between seeds), and calls the parser. Errors are the expected outcome
//! for most inputs. A run fails on a panic, on an input that runs over the
//! time limit (`watchdog`), and on any finding of the oracle (`oracle`) about
//! a certificate the CA signed; each is printed with its input in hex.
//!
//!   cargo run --release --no-default-features --features vendored-openssl --example fuzz -- [TARGET|all] [SECONDS] [SEED]
//!
//! Targets: oracle-selftest (the oracle shown known-bad certificates; runs
//! once), ocsp-request, csr, cert-and-key, serial-hex, time, der; and, not
//! in `all`, hang-selftest (an input that never returns: the run must end
//! with status 3 after about 2 s).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509Req, X509};

use jsec_ca::core::authority::Authority;
use jsec_ca::core::constraints::NameConstraints;
use jsec_ca::core::options::{CaOptions, IssueOptions, LoadOptions, SignOptions};
use jsec_ca::core::constraints::Subtree;
use jsec_ca::core::general_names::GeneralName;
use jsec_ca::core::names::{Attr, Subject};
use jsec_ca::core::secret::Secret;
use jsec_ca::core::serial::Serial;
use jsec_ca::core::{ocsp, pem, time};

mod mutate;
mod oracle;
mod requests;
mod selftest;
mod strict_der;
mod watchdog;

use mutate::{der_nodes, mutate, Rng};
use oracle::{Asked, Finding, Issuer};
use requests::{Keys, Plan};

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    let mut seeds: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    seeds
}

/// What one input came to.
enum Verdict {
    Refused,
    Accepted,
    /// Accepted, and the certificate the CA signed passed the oracle.
    Judged,
    Finding(Finding),
}

impl From<bool> for Verdict {
    fn from(ok: bool) -> Verdict {
        if ok { Verdict::Accepted } else { Verdict::Refused }
    }
}

#[derive(Default)]
struct Outcome {
    execs: u64,
    accepted: u64,
    judged: u64,
    findings: u64,
    /// Each kind of finding and how many times it was seen.
    kinds: Vec<(String, u64)>,
}

impl Outcome {
    fn judged_text(&self) -> String {
        if self.judged == 0 { String::new() } else { format!(", {} signed certificates passed the oracle", self.judged) }
    }

    fn record(&mut self, target: &str, input: &[u8], v: Verdict) {
        self.execs += 1;
        match v {
            Verdict::Refused => {}
            Verdict::Accepted => self.accepted += 1,
            Verdict::Judged => {
                self.accepted += 1;
                self.judged += 1;
            }
            Verdict::Finding(f) => {
                self.accepted += 1;
                self.findings += 1;
                // Each kind of defect is printed once, with the first input that showed it
                // (FUZZ_EXAMPLES=n: the first n).
                let i = match self.kinds.iter().position(|(k, _)| *k == f.kind) {
                    Some(i) => i,
                    None => {
                        self.kinds.push((f.kind.clone(), 0));
                        self.kinds.len() - 1
                    }
                };
                self.kinds[i].1 += 1;
                let examples = std::env::var("FUZZ_EXAMPLES").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
                if self.kinds[i].1 <= examples {
                    println!("fuzz FINDING {target}: {}\n  input (hex): {}\n  {}", f.kind, hex(input), f.detail);
                }
            }
        }
    }
}

static LAST_PANIC: Mutex<(String, String)> = Mutex::new((String::new(), String::new()));

/// (location, message) of the last panic, set by the panic hook.
fn last_panic() -> std::sync::MutexGuard<'static, (String, String)> {
    LAST_PANIC.lock().unwrap_or_else(|p| p.into_inner())
}

type Mutator<'a> = Box<dyn FnMut(&mut Rng, &[u8], &[Vec<u8>]) -> Vec<u8> + 'a>;

fn fuzz(
    target: &'static str,
    corpus: Vec<Vec<u8>>,
    (seconds, seed): (u64, u64),
    mut mutator: Mutator<'_>,
    mut call: impl FnMut(&[u8]) -> Verdict,
) -> Result<Outcome, String> {
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut out = Outcome::default();
    let mut run = |input: &[u8], out: &mut Outcome| {
        let v = match watchdog::timed(target, input, || catch_unwind(AssertUnwindSafe(|| call(input)))) {
            Ok(v) => v,
            // A caught panic is a finding like any other: reported, and the run goes on.
            Err(_) => {
                let (location, mut message) = std::mem::take(&mut *last_panic());
                message.truncate(message.char_indices().nth(300).map_or(message.len(), |(i, _)| i));
                let path = format!("/tmp/jsec-fuzz-crash-{target}-{}", out.execs);
                let _ = std::fs::write(&path, input);
                Verdict::Finding(Finding { kind: format!("panic at {location}"), detail: format!("{message}\n  input saved to {path}") })
            }
        };
        out.record(target, input, v);
    };
    // Every seed as is first, then mutants until the deadline.
    for s in &corpus {
        run(s, &mut out);
    }
    while Instant::now() < deadline {
        for _ in 0..16 {
            let base = &corpus[rng.below(corpus.len())];
            let input = mutator(&mut rng, base, &corpus);
            run(&input, &mut out);
        }
    }
    Ok(out)
}

fn plain() -> Mutator<'static> {
    Box::new(mutate)
}

fn cn(name: &str) -> Subject {
    Subject { attrs: vec![(Attr::CommonName, name.to_string())] }
}

const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

/// The name constraints of the csr target's intermediate (the explicit :san
/// and the seeds' names lie inside them).
fn constraints() -> Result<NameConstraints, String> {
    let parse = |v: &[&str], what| v.iter().map(|e| Subtree::parse(e, what).map_err(|e| e.to_string())).collect::<Result<Vec<_>, _>>();
    Ok(NameConstraints {
        permitted: parse(&["DNS:example.com", "IP:10.0.0.0/8", "IP:fd00::/8", "email:.example.com", "URI:.example.com"], ":permitted")?,
        excluded: parse(&["DNS:evil.example.com", "IP:10.66.0.0/16", "email:.evil.example.com", "URI:.evil.example.com"], ":excluded")?,
    })
}

/// A relying party's view of `cert`: trusting `root`, with `chain` between them.
fn verifier(cert_der: &[u8], root: &X509, chain: &[&X509]) -> Result<Issuer, String> {
    let e = |e: openssl::error::ErrorStack| e.to_string();
    let mut store = X509StoreBuilder::new().map_err(e)?;
    store.add_cert(root.clone()).map_err(e)?;
    // NO_CHECK_TIME: certificates start "now", and OpenSSL's time() is the coarse
    // clock, a few ms behind the one the CA reads, so at a second boundary a
    // fresh certificate would be "not yet valid". The oracle checks the
    // validity itself (inside the CA's, started by now).
    store.set_flags(X509VerifyFlags::X509_STRICT | X509VerifyFlags::NO_CHECK_TIME).map_err(e)?;
    let mut stack = Stack::new().map_err(e)?;
    for c in chain {
        stack.push((*c).clone()).map_err(e)?;
    }
    Issuer::new(cert_der, Some((store.build(), stack)))
}

fn csr_target(seconds_seed: (u64, u64)) -> Result<Outcome, String> {
    let s = |e: jsec_ca::core::error::CaError| e.to_string();
    let keys = Keys::generate()?;
    let mut root = Authority::generate_root(CaOptions { subject: cn("Fuzz Root CA"), ..CaOptions::root() }).map_err(s)?;
    let mut inter = root
        .generate_intermediate(CaOptions {
            subject: cn("Fuzz Constrained CA"),
            path_length: Some(1),
            name_constraints: Some(constraints()?),
            ..CaOptions::intermediate()
        })
        .map_err(s)?;
    let root_x = X509::from_der(root.cert_der()).map_err(|e| e.to_string())?;
    let inter_x = X509::from_der(inter.cert_der()).map_err(|e| e.to_string())?;
    let root_issuer = verifier(root.cert_der(), &root_x, &[])?;
    let inter_issuer = verifier(inter.cert_der(), &root_x, &[&inter_x])?;

    // Each seed as it is (raw), and its CRI with our key under several option sets.
    let mut corpus = Vec::new();
    for seed in load_corpus("csr") {
        corpus.push([&[0u8, 0][..], &seed].concat());
        let Some(cri) = pem::csr_der(&seed).ok().and_then(|der| keys.rekey(&der)) else { continue };
        for sel in [0x0001u16, 0x0009, 0x1009, 0x0359, 0x0c29, 0x10c9] {
            corpus.push([&sel.to_le_bytes()[..], &cri].concat());
        }
    }
    let bodies: Vec<Vec<u8>> = corpus.iter().map(|c| c[2..].to_vec()).collect();
    let mutator: Mutator<'_> = Box::new(move |rng, input, _| {
        let (mut sel, body) = split_selector(input);
        if sel & 7 != 0 && rng.below(3) == 0 {
            sel ^= 1 << (3 + rng.below(10));
        }
        let body = if rng.below(8) == 0 { body.to_vec() } else { mutate(rng, body, &bodies) };
        [&sel.to_le_bytes()[..], &body].concat()
    });
    fuzz("csr", corpus, seconds_seed, mutator, |input| {
        let (sel, body) = split_selector(input);
        let plan = match Plan::from_selector(sel) {
            Ok(p) => p,
            Err(m) => return Verdict::Finding(oracle_error("the harness cannot build the options", m)),
        };
        let csr = if plan.raw {
            body.to_vec()
        } else {
            match keys.sign(body) {
                Ok(c) => c,
                Err(m) => return Verdict::Finding(oracle_error("the harness cannot sign the request", m)),
            }
        };
        let (ca, issuer) = if plan.constrained { (&mut inter, &inter_issuer) } else { (&mut root, &root_issuer) };
        let Ok(cert_pem) = ca.sign_csr(&csr, plan.opts.clone()) else { return Verdict::Refused };
        let context = |f: Finding| {
            Verdict::Finding(Finding {
                detail: format!("{}\n  request (DER hex): {}\n  selector {sel:#06x}: {:?}", f.detail, hex(&pem::csr_der(&csr).unwrap_or_default()), plan),
                ..f
            })
        };
        match judge_csr(&csr, &cert_pem, issuer, &plan.opts) {
            Ok(()) => Verdict::Judged,
            Err(f) => context(f),
        }
    })
}

fn oracle_error(kind: &str, m: String) -> Finding {
    Finding { kind: kind.to_string(), detail: m }
}

fn split_selector(input: &[u8]) -> (u16, &[u8]) {
    match input {
        [a, b, body @ ..] => (u16::from_le_bytes([*a, *b]), body),
        _ => (0, input),
    }
}

/// The oracle for a certificate signed from `csr`.
fn judge_csr(csr: &[u8], cert_pem: &str, issuer: &Issuer, opts: &SignOptions) -> Result<(), Finding> {
    let der = pem::csr_der(csr).map_err(|e| oracle_error("the CA signed a request it cannot decode again", e.to_string()))?;
    let req = X509Req::from_der(&der).map_err(|e| oracle_error("the CA signed a request OpenSSL cannot parse", e.to_string()))?;
    let verified = req.public_key().and_then(|k| req.verify(&k)).unwrap_or(false);
    if !verified {
        return Err(oracle_error("the CA signed a request whose signature OpenSSL does not verify", String::new()));
    }
    let subject = oracle::request_subject(&der)
        .map_err(|m| oracle_error("the CA signed a request whose subject the oracle cannot decode", m))?;
    oracle::check(cert_pem, issuer, &Asked { request: Some(&der), subject, opts })
}

/// The cert-and-key seeds hold "cert" SEP "key" [SEP "password"].
const SEP: &[u8] = b"\0--8<--\0";

fn split_pair(b: &[u8]) -> (&[u8], &[u8], Option<&[u8]>) {
    let find = |from: usize| b[from..].windows(SEP.len()).position(|w| w == SEP).map(|i| from + i);
    let Some(i) = find(0) else {
        let (cert, key) = b.split_at(b.len() / 2);
        return (cert, key, None);
    };
    let rest = i + SEP.len();
    match find(rest) {
        Some(j) => (&b[..i], &b[rest..j], Some(&b[j + SEP.len()..])),
        None => (&b[..i], &b[rest..], None),
    }
}

fn cert_and_key_target(seconds_seed: (u64, u64)) -> Result<Outcome, String> {
    let leaf_san = vec![GeneralName::parse("DNS:leaf.example.com", ":san").map_err(|e| e.to_string())?];
    let asked_opts = SignOptions { san: Some(leaf_san.clone()), days_valid: 1, ..SignOptions::default() };
    fuzz("cert-and-key", load_corpus("cert-and-key"), seconds_seed, plain(), |b| {
        let (cert, key, password) = split_pair(b);
        let opts = LoadOptions { password: password.map(|p| Secret::new(p.to_vec())), ..LoadOptions::default() };
        let Ok(mut ca) = Authority::load(cert, key, opts) else { return Verdict::Refused };
        // A CA that loads must sign correct certificates.
        let issued = ca.issue(IssueOptions { subject: cn("fuzz leaf"), san: leaf_san.clone(), days_valid: 1, ..IssueOptions::default() });
        let Ok(issued) = issued else { return Verdict::Accepted };
        let issuer = match Issuer::new(ca.cert_der(), None) {
            Ok(i) => i,
            Err(m) => return Verdict::Finding(oracle_error("a CA certificate that loaded cannot be read again", m)),
        };
        let asked = Asked { request: None, subject: vec![(OID_CN.to_vec(), "fuzz leaf".to_string())], opts: &asked_opts };
        match oracle::check(&issued.cert_pem, &issuer, &asked) {
            Ok(()) => Verdict::Judged,
            Err(f) => Verdict::Finding(f),
        }
    })
}

fn run_target(name: &str, seconds_seed: (u64, u64)) -> Result<Outcome, String> {
    match name {
        "ocsp-request" => {
            // The whole responder path: parse, then answer every request it holds.
            let mut ca = Authority::generate_root(CaOptions::root()).map_err(|e| e.to_string())?;
            fuzz("ocsp-request", load_corpus(name), seconds_seed, plain(), move |b| {
                let Ok(req) = ocsp::parse_request(b) else { return Verdict::Refused };
                let now = time::now();
                let mut answers: Vec<ocsp::SingleResponse> = Vec::with_capacity(req.requests.len());
                for id in &req.requests {
                    let Ok(status) = ocsp::status_from_list(&mut ca, &id.serial) else { return Verdict::Refused };
                    answers.push(ocsp::SingleResponse {
                        cert_id: id.clone(),
                        status,
                        this_update: now,
                        next_update: Some(now + 3600),
                    });
                }
                let Ok(resp) = ocsp::build_response(&ca, &answers, req.nonce.as_ref(), None, now) else {
                    return Verdict::Refused;
                };
                // The response must be DER OpenSSL reads back to the same bytes.
                let reread = openssl::ocsp::OcspResponse::from_der(&resp).and_then(|r| r.to_der());
                if reread.ok().as_deref() != Some(resp.as_slice()) {
                    return Verdict::Finding(oracle_error("OpenSSL does not read the OCSP response back", hex(&resp)));
                }
                if let Err(m) = strict_der::check(&resp) {
                    return Verdict::Finding(oracle_error("the OCSP response is not strict DER", format!("{m}\n  response: {}", hex(&resp))));
                }
                Verdict::Accepted
            })
        }
        "csr" => csr_target(seconds_seed),
        "cert-and-key" => cert_and_key_target(seconds_seed),
        "serial-hex" => fuzz(name_of(name), load_corpus(name), seconds_seed, plain(), |b| {
            std::str::from_utf8(b).map(|s| Serial::from_hex(s, "serial").is_ok()).unwrap_or(false).into()
        }),
        "time" => fuzz(name_of(name), load_corpus(name), seconds_seed, plain(), |b| {
            std::str::from_utf8(b).map(|s| time::parse_iso(s, "time").is_ok()).unwrap_or(false).into()
        }),
        "oracle-selftest" => {
            let caught = selftest::oracle()?;
            Ok(Outcome { execs: caught as u64 + 1, accepted: 1, judged: caught as u64 + 1, ..Outcome::default() })
        }
        // Not in "all": shows the watchdog ending a run on an input that never returns.
        "hang-selftest" => fuzz("hang-selftest", vec![b"hang".to_vec()], seconds_seed, plain(), |_| loop {
            std::hint::black_box(0u8);
        }),
        "der" => fuzz(name_of(name), load_corpus(name), seconds_seed, plain(), |b| (!der_nodes(b).is_empty()).into()),
        _ => Err(format!("unknown target {name}")),
    }
}

const TARGETS: &[&str] = &["oracle-selftest", "ocsp-request", "csr", "cert-and-key", "serial-hex", "time", "der"];

fn name_of(name: &str) -> &'static str {
    TARGETS.iter().find(|t| **t == name).copied().unwrap_or("?")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("all");
    let seconds = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
    // Panics are caught and reported as findings, with where they happened.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info.payload().downcast_ref::<&str>().map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *last_panic() = (location, message);
    }));
    watchdog::start();
    let targets: Vec<&str> = if which == "all" { TARGETS.to_vec() } else { vec![which] };
    let mut failed = 0;
    for t in &targets {
        match run_target(t, (seconds, seed)) {
            Ok(o) if *t == "oracle-selftest" => {
                println!("fuzz oracle-selftest: the oracle passes a sound certificate and catches {} defective ones", o.execs - 1)
            }
            Ok(o) if o.findings == 0 => {
                println!("fuzz {t}: {} execs in {seconds} s, {} accepted{}, no panic, no finding", o.execs, o.accepted, o.judged_text())
            }
            Ok(o) => {
                println!(
                    "fuzz FAILED {t}: {} execs in {seconds} s, {} accepted{}; {} findings of {} kinds (above)",
                    o.execs,
                    o.accepted,
                    o.judged_text(),
                    o.findings,
                    o.kinds.len()
                );
                for (kind, n) in &o.kinds {
                    println!("  {n:>6} x {kind}");
                }
                failed += 1;
            }
            Err(e) => {
                println!("fuzz FAILED {e}");
                failed += 1;
            }
        }
    }
    println!("fuzz summary: {} of {} targets clean", targets.len() - failed, targets.len());
    std::process::exit(if failed == 0 { 0 } else { 1 });
}

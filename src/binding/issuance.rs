//! Constructors, issuing, CSR signing, the serial counter and tracking.

use janetrs::Janet;

use crate::core::authority::{Authority, Issued};
use crate::core::options::{BasicConstraints, CaOptions, IssueOptions, LoadOptions, SignOptions};
use crate::core::error::{named_on_error, CaError, CaResult};
use crate::core::secret::Secret;

use super::ca_type;
use super::edge::{arity, registry};
use super::event_loop::Deferred;
use super::options as opt;
use super::values::{self as v, Opts};

registry! {
    "ca/generate" => generate, GENERATE_DOC;
    "ca/generate-intermediate" => generate_intermediate, GENERATE_INTERMEDIATE_DOC, ca ["generate-intermediate"];
    "ca/create" => create, CREATE_DOC;
    "ca/issue" => issue, ISSUE_DOC, ca ["issue"];
    "ca/issue-async" => issue_async, ISSUE_ASYNC_DOC, ca ["issue-async"];
    "ca/sign" => sign, SIGN_DOC, ca ["sign-csr" "sign"];
    "ca/get-cert" => get_cert, GET_CERT_DOC, ca ["get-cert"];
    "ca/get-key" => get_key, GET_KEY_DOC, ca ["get-key"];
    "ca/get-serial" => get_serial, GET_SERIAL_DOC, ca ["get-serial"];
    "ca/set-serial" => set_serial, SET_SERIAL_DOC, ca ["set-serial"];
    "ca/is-tracking" => is_tracking, IS_TRACKING_DOC, ca ["is-tracking"];
    "ca/get-issued" => get_issued, GET_ISSUED_DOC, ca ["get-issued"];
}

/// Whether a validity that would outlive the issuer ends at its notAfter:
/// asked for with `:truncate-to-issuer true` (else `default`), and always
/// for the default validity (only a validity the caller chose is refused
/// when it outlives the issuer).
fn truncate_to_issuer(o: &Opts, chosen_validity: bool, default: bool) -> CaResult<bool> {
    let asked = o.with("truncate-to-issuer", v::boolean)?.unwrap_or(default);
    Ok(asked || !chosen_validity)
}

/// `base` (a root's or an intermediate's defaults) with the options given,
/// and whether :days-valid was given.
fn ca_options(o: &Opts, mut base: CaOptions) -> CaResult<(CaOptions, bool)> {
    base.subject = opt::subject(o, base.subject.common_name())?;
    let days = o.with("days-valid", v::days)?;
    if let Some(d) = days {
        base.days_valid = d;
    }
    base.key_type = opt::key_type(o, base.key_type)?;
    base.token = o.with("key", opt::token_key)?;
    if let Some(s) = o.with("serial", |x, w| v::int_in(x, w, 1, i64::MAX as i128 - 1))? {
        base.serial = s as u64;
    }
    if let Some(t) = o.with("track-issued", v::boolean)? {
        base.track_issued = t;
    }
    if let Some(p) = o.with("path-length", |x, w| v::int_in(x, w, 0, 255))? {
        base.path_length = Some(p as u32);
    }
    base.name_constraints = opt::name_constraints(o)?;
    base.pointers = opt::pointers(o)?;
    base.policies = opt::policies(o)?;
    base.restore = opt::restore(o)?;
    Ok((base, days.is_some()))
}

pub const GENERATE_DOC: &str = "(ca/generate &opt opts)\n\n\
Creates a new self-signed root CA and returns it as a ca/CA.\n\n\
Options (table or struct):\n\
* :common-name - subject CN (default \"Root CA\")\n\
* :organization, :country, :organizational-unit, :locality, :state, :email, :serial-number - the other subject\n  \
attributes (:country two letters)\n\
* :subject - the whole subject as pairs in exact DN order, [[\"C\" \"DE\"] [\"CN\" \"x\"]], instead of the single\n  \
attributes\n\
* :days-valid - validity in days (default 3650)\n\
* :key-type - :ec-p256 (default, also :ec), :ec-p384, :ec-p521, :rsa-2048 (also :rsa), :rsa-3072, :rsa-4096, :ed25519,\n  \
:ml-dsa-44, :ml-dsa-65, :ml-dsa-87 (FIPS 204, RFC 9881: pure ML-DSA; key usages digitalSignature,\n  \
nonRepudiation, keyCertSign and cRLSign only; a key PEM carries both the seed and the expanded key, and\n  \
ca/create reads any of seed, expanded key or both)\n\
* :key - a PKCS#11 URI (RFC 7512): generate the CA's key pair of :key-type inside that token instead of in\n  \
memory, e.g. \"pkcs11:token=ca;object=root?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin\"\n  \
(object= is the new key's label, which must be unused; pin-value= works too). The private key is sensitive\n  \
and never extractable; every certificate, CRL and OCSP response is signed in the token. The PIN never\n  \
appears in an error or a returned value\n\
* :serial - first serial the counter hands out (default 1); the root's own serial is random\n\
* :track-issued - keep every issued certificate for ca/get-issued (default false)\n\
* :path-length - pathlen of basicConstraints (default: none)\n\
* :name-constraints - {:permitted [...] :excluded [...]} entries like \"DNS:example.com\" (the domain and\n  \
every name below it; no leading dot), \"IP:10.0.0.0/8\", \"email:example.com\", \"URI:.example.com\"\n\
* :crl-url, :ocsp-url, :ca-issuers-url - URLs stamped into every certificate this CA issues\n\
* :certificate-policies - list of policy OID strings\n\
* :revoked, :crl-number - revocations and next CRL number, to restore a saved CA\n\n\
The certificate is v3 with critical basicConstraints CA:TRUE, critical keyUsage keyCertSign and cRLSign,\n\
subject and authority key identifiers.";

pub fn generate(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 0, 1, "ca/generate")?;
    let (opts, _) = Opts::parse(args.first(), "ca/generate", |o| ca_options(o, CaOptions::root()))?;
    Ok(ca_type::wrap(Authority::generate_root(opts)?))
}

pub const GENERATE_INTERMEDIATE_DOC: &str = "(ca/generate-intermediate parent &opt opts)\n\n\
Creates a new CA whose certificate `parent` signs, and returns it as a ca/CA. The certificate takes one\n\
serial from the parent's counter and is tracked by the parent when the parent tracks.\n\n\
Options: as ca/generate, with defaults :common-name \"Intermediate CA\", :days-valid 1825, :path-length 0, and\n\
* :truncate-to-issuer - a :days-valid that would end after the parent's notAfter is refused; true ends it there\n  \
instead (the default validity ends at the parent's notAfter when that comes sooner)\n\n\
The subject must differ from the parent's and every known ancestor's.\n\
The parent's revocation pointers (:crl-url, :ocsp-url, :ca-issuers-url) are stamped into the new certificate.\n\
Method form: (:generate-intermediate parent &opt opts).";

pub fn generate_intermediate(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 2, "ca/generate-intermediate")?;
    let parent = ca_type::authority(&args[0], "ca/generate-intermediate parent")?;
    let opts = Opts::parse(args.get(1), "ca/generate-intermediate", |o| {
        let (mut opts, chosen_days) = ca_options(o, CaOptions::intermediate())?;
        opts.truncate_to_issuer = truncate_to_issuer(o, chosen_days, opts.truncate_to_issuer)?;
        Ok(opts)
    })?;
    Ok(ca_type::wrap(parent.generate_intermediate(opts)?))
}

pub const CREATE_DOC: &str = "(ca/create cert-pem key-pem &opt opts)\n\n\
Creates a ca/CA from an existing CA certificate and its private key (PEM or DER, PKCS#8 or traditional),\n\
or the PKCS#11 URI of a key in a token (\"pkcs11:token=ca;object=issuing?module-path=...&pin-source=file:...\";\n\
:password is then the token's PIN when the URI gives none). Refuses a key that does not match the certificate, and a certificate that is not a CA.\n\n\
Options:\n\
* :serial - next serial of the counter (default 1); restore with (scan-number saved)\n\
* :track-issued - keep issued certificates (default false)\n\
* :password - password of an encrypted key; an encrypted key without it is an error, never a prompt\n\
* :crl-url, :ocsp-url, :ca-issuers-url - URLs stamped into issued certificates\n\
* :revoked - revocations to restore, in the shape ca/get-revoked returns\n\
* :issued - certificates this CA issued before (PEM list, each checked to be this CA's): their serials\n  \
count as used, ca/get-issued lists them when tracking, and ca/store-save indexes them\n\
* :crl-number - next CRL number to restore; without it CRL numbers are at least the current time in\n  \
microseconds, so a restarted CA never publishes a number it used before\n\
Name constraints in the loaded certificate are enforced on everything the CA issues.";

pub fn create(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 3, "ca/create")?;
    let cert = v::bytes(&args[0], "ca/create cert-pem")?;
    let key = v::bytes(&args[1], "ca/create key-pem")?;
    let opts = Opts::parse(args.get(2), "ca/create", |o| {
        let mut opts = LoadOptions::default();
        if let Some(s) = o.with("serial", |x, w| v::int_in(x, w, 1, i64::MAX as i128 - 1))? {
            opts.serial = s as u64;
        }
        if let Some(t) = o.with("track-issued", v::boolean)? {
            opts.track_issued = t;
        }
        opts.password = o.with("password", v::secret)?;
        opts.pointers = opt::pointers(o)?;
        opts.restore = opt::restore(o)?;
        if let Some(list) = o.with("issued", v::string_list)? {
            opts.restore.issued = list
                .iter()
                .enumerate()
                .map(|(i, pem)| {
                    crate::core::pem::certificate_der(pem.as_bytes()).map_err(v::within(&format!(":issued item {}", i + 1)))
                })
                .collect::<CaResult<Vec<_>>>()?;
        }
        Ok(opts)
    })?;
    let result = Authority::load(cert, key, opts);
    Ok(ca_type::wrap(result?))
}

pub const ISSUE_DOC: &str = "(ca/issue ca &opt opts)\n\n\
Generates a key pair and a certificate for it, signed by `ca`. Returns @{:cert <PEM> :key <PEM> :serial <n>};\n\
the key is unencrypted PKCS#8 (BEGIN PRIVATE KEY). The serial is the counter's value (an int/s64; a hex string\n\
for a serial beyond 63 bits); the counter then advances.\n\n\
Options:\n\
* :common-name - required (in :subject when that is given)\n\
* :organization, :country, :organizational-unit, :locality, :state, :email, :serial-number - the other subject\n  \
attributes\n\
* :subject - the whole subject as pairs in exact DN order (see ca/generate), instead of the single attributes\n\
* :san - list of \"DNS:name\", \"IP:addr\" (v4/v6), \"email:addr\", \"URI:uri\"; one entry is one name;\n  \
an :email in the subject is added as \"email:\" too (RFC 5280 4.1.2.6)\n\
* :days-valid - default 365\n\
* :key-type - default :ec-p256 (see ca/generate)\n\
* :key-usage - OpenSSL comma list (\"digitalSignature\"), keyword, or list; default digitalSignature for EC\n  \
and Ed25519 keys, digitalSignature,keyEncipherment for RSA\n\
* :extended-key-usage - e.g. \"serverAuth,clientAuth\", :server-auth, or [:server-auth :client-auth];\n  \
OCSPSigning also adds id-pkix-ocsp-nocheck, as RFC 6960 recommends for delegated responders\n\
* :crl-url, :ocsp-url, :ca-issuers-url - override the CA's pointers for this certificate\n\
* :ocsp-must-staple - true adds the TLS feature extension (status_request)\n\
* :certificate-policies - list of policy OID strings\n\
* :truncate-to-issuer - a :days-valid ending after the CA's notAfter is refused; true ends it there instead\n  \
(the default validity always ends at the CA's notAfter when that comes sooner)\n\
The certificate carries basicConstraints CA:FALSE, keyUsage, subject and authority key identifiers.\n\
Method form: (:issue ca &opt opts).";

/// The CA and options of an issue call named `name` (ca/issue, ca/issue-async).
fn issue_args<'a>(args: &[Janet], name: &str) -> CaResult<(&'a mut Authority, IssueOptions)> {
    arity(args, 1, 2, name)?;
    let ca = named_on_error(|w| ca_type::authority(&args[0], w), || format!("{name} ca"))?;
    let opts = Opts::parse(args.get(1), name, |o| {
        let d = IssueOptions::default();
        let subject = opt::subject(o, None)?;
        let san = opt::san(o)?;
        let days = o.with("days-valid", v::days)?;
        Ok(IssueOptions {
            subject,
            san: san.unwrap_or(d.san),
            days_valid: days.unwrap_or(d.days_valid),
            key_type: opt::key_type(o, d.key_type)?,
            key_usage: opt::key_usage(o)?,
            ext_key_usage: opt::ext_key_usage(o)?,
            pointers: opt::pointer_overrides(o)?,
            must_staple: o.with("ocsp-must-staple", v::boolean)?.unwrap_or(d.must_staple),
            policies: opt::policies(o)?,
            truncate_to_issuer: truncate_to_issuer(o, days.is_some(), d.truncate_to_issuer)?,
        })
    })?;
    // After the options are read: a misspelt :common-name is reported as the unknown option it is.
    if opts.subject.common_name().is_none() {
        return Err(CaError::param(format!("{name} needs :common-name")));
    }
    Ok((ca, opts))
}

fn issued_table(issued: &Issued) -> Janet {
    v::table(&[
        ("cert", v::jstring(&issued.cert_pem)),
        ("key", v::jsecret(&issued.key_pem)),
        ("serial", v::jserial(&issued.serial)),
    ])
}

pub fn issue(args: &[Janet]) -> CaResult<Janet> {
    let (ca, opts) = issue_args(args, "ca/issue")?;
    let issued = ca.issue(opts)?;
    Ok(issued_table(&issued))
}

pub const ISSUE_ASYNC_DOC: &str = "(ca/issue-async ca &opt opts)\n\n\
As ca/issue (same options, same result, same errors for bad options), but the key pair is generated on\n\
a thread of Janet's event loop: the calling fiber waits and every other fiber keeps running meanwhile\n\
(an RSA-4096 key takes seconds). The options are checked before any thread starts; the certificate is\n\
signed and takes its serial from the counter when the key is back, so concurrent calls on one CA get\n\
distinct serials, in the order their keys arrive. A key takes one thread, which leaves the other cores to the\n\
interpreter; concurrent calls use more. A fiber cancelled while it waits (ev/cancel) gets no\n\
certificate and uses no serial.\n\
Must be called from a fiber the event loop runs (a script's main fiber, ev/go, a net/server handler, and\n\
fibers they resume); [CA:CONFIG] where the wait could not reach the event loop: in a fiber that catches\n\
its await signal (fiber/new with :a, :u or :w), in Janet code called from C (an OCSP status function), or in\n\
a host that runs no event loop. Each call has a thread of its own; bound the number of concurrent calls\n\
yourself when they come from untrusted requests.\n\n\
Options: as ca/issue.\n\
Method form: (:issue-async ca &opt opts).";

pub fn issue_async(args: &[Janet]) -> CaResult<Deferred> {
    let (ca, opts) = issue_args(args, "ca/issue-async")?;
    let plan = ca.prepare_issue(opts)?;
    let key_type = plan.key_type();
    let ca_value = args[0];
    Deferred::new(
        "ca/issue-async",
        // One thread per key: the other cores stay with the interpreter.
        move || key_type.generate_encoded(),
        move |key| {
            let ca = ca_type::authority(&ca_value, "ca/issue-async ca")?;
            let issued = ca.finish_issue(plan, key?)?;
            Ok(issued_table(&issued))
        },
        &[&args[0]],
    )
}

/// ":basic-constraints" as OpenSSL writes it: "CA:FALSE", "critical,CA:TRUE,pathlen:0".
fn basic_constraints(value: &Janet, what: &str) -> CaResult<BasicConstraints> {
    let s = v::text(value, what)?;
    let mut bc = BasicConstraints::default();
    let mut saw_ca = false;
    for part in s.split(',').map(str::trim) {
        let lower = part.to_ascii_lowercase();
        match lower.as_str() {
            "critical" => {}
            "ca:true" => {
                bc.ca = true;
                saw_ca = true;
            }
            "ca:false" => saw_ca = true,
            _ if lower.starts_with("pathlen:") => {
                let n: u32 = lower[8..]
                    .parse()
                    .ok()
                    .filter(|n| *n <= 255)
                    .ok_or_else(|| CaError::param(format!("{what} pathlen must be 0..255, got {part:?}")))?;
                bc.path_len = Some(n);
            }
            _ => {
                return Err(CaError::param(format!(
                    "{what} must be \"CA:FALSE\" or \"CA:TRUE[,pathlen:N]\", got {}",
                    crate::core::error::shown(&s)
                )))
            }
        }
    }
    if !saw_ca {
        return Err(CaError::param(format!("{what} must say CA:TRUE or CA:FALSE, got {}", crate::core::error::shown(&s))));
    }
    if bc.path_len.is_some() && !bc.ca {
        return Err(CaError::param(format!("{what} pathlen needs CA:TRUE")));
    }
    Ok(bc)
}

pub const SIGN_DOC: &str = "(ca/sign ca csr-pem &opt opts)\n\n\
Signs a PKCS#10 request (PEM or DER, at most 64 KiB) and returns the certificate PEM. The request's\n\
signature is checked first; a bad one, a SHA-1 one, or one whose algorithm does not fit the key is refused.\n\
Subject and public key come from the request; the key must be EC P-256/384/521, RSA (at least 2048 bits),\n\
Ed25519 or Ed448.\n\n\
Options:\n\
* :days-valid - default 365\n\
* :not-before, :not-after - explicit validity (Unix seconds or \"2030-01-15T10:30:00Z\"); override :days-valid\n\
* :serial - use this serial (integer, int/s64 or \"0x..\" hex) instead of the counter; the counter is not advanced\n\
* :copy-extensions - copy the requested subjectAltName and extendedKeyUsage (default false); basic\n  \
constraints and key usage are never taken from the requester; explicit options win; requested names are\n  \
checked like :san entries (DNS, IP, email, URI only), and a requested OCSPSigning or anyExtendedKeyUsage\n  \
is refused unless :extended-key-usage replaces it\n\
* :key-usage, :extended-key-usage, :san - as ca/issue\n\
* :basic-constraints - default \"CA:FALSE\"; \"CA:TRUE,pathlen:0\" certifies a subordinate CA\n\
* :crl-url, :ocsp-url, :ca-issuers-url, :ocsp-must-staple, :certificate-policies, :truncate-to-issuer - as ca/issue\n\
Method form: (:sign-csr ca csr-pem &opt opts).";

pub fn sign(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 3, "ca/sign")?;
    let ca = ca_type::authority(&args[0], "ca/sign ca")?;
    let csr = v::bytes(&args[1], "ca/sign csr-pem")?;
    let opts = Opts::parse(args.get(2), "ca/sign", |o| {
        let d = SignOptions::default();
        let days = o.with("days-valid", v::days)?;
        let not_before = o.with("not-before", v::time)?;
        let not_after = o.with("not-after", v::time)?;
        Ok(SignOptions {
            days_valid: days.unwrap_or(d.days_valid),
            not_before,
            not_after,
            serial: o.with("serial", v::serial)?,
            copy_extensions: o.with("copy-extensions", v::boolean)?.unwrap_or(d.copy_extensions),
            key_usage: opt::key_usage(o)?,
            ext_key_usage: opt::ext_key_usage(o)?,
            san: opt::san(o)?,
            basic_constraints: o.with("basic-constraints", basic_constraints)?.unwrap_or(d.basic_constraints),
            pointers: opt::pointer_overrides(o)?,
            must_staple: o.with("ocsp-must-staple", v::boolean)?.unwrap_or(d.must_staple),
            policies: opt::policies(o)?,
            truncate_to_issuer: truncate_to_issuer(o, days.is_some() || not_after.is_some(), d.truncate_to_issuer)?,
        })
    })?;
    Ok(v::jstring(&ca.sign_csr(csr, opts)?))
}

pub const GET_CERT_DOC: &str = "(ca/get-cert ca)\n\nReturns the CA's own certificate as PEM. Method form: (:get-cert ca).";

pub fn get_cert(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/get-cert")?;
    let ca = ca_type::authority(&args[0], "ca/get-cert ca")?;
    Ok(v::jstring(&ca.cert_pem()))
}

pub const GET_KEY_DOC: &str = "(ca/get-key ca &opt opts)\n\n\
Returns the CA's private key as PKCS#8 PEM.\n\n\
Options:\n\
* :password - encrypt the key with this password (PBES2, AES-256-CBC)\n\
Method form: (:get-key ca &opt opts).";

pub fn get_key(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 2, "ca/get-key")?;
    let ca = ca_type::authority(&args[0], "ca/get-key ca")?;
    let password = Opts::parse(args.get(1), "ca/get-key", |o| o.with("password", v::secret))?;
    Ok(v::jsecret(&ca.key_pem(password.as_ref().map(Secret::as_bytes))?))
}

pub const GET_SERIAL_DOC: &str = "(ca/get-serial ca)\n\n\
Returns the next serial the counter will hand out, as an int/s64. Save it with (string (ca/get-serial ca))\n\
and restore with (ca/create cert key {:serial (scan-number saved)}). Method form: (:get-serial ca).";

pub fn get_serial(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/get-serial")?;
    let ca = ca_type::authority(&args[0], "ca/get-serial ca")?;
    Ok(v::js64(ca.next_serial()? as i64))
}

pub const SET_SERIAL_DOC: &str = "(ca/set-serial ca n)\n\n\
Sets the next serial of the counter (1 to 2^63-2; number or int/s64). Returns nil. Serials this CA has\n\
already used are skipped, never reissued. Method form: (:set-serial ca n).";

pub fn set_serial(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 2, 2, "ca/set-serial")?;
    let ca = ca_type::authority(&args[0], "ca/set-serial ca")?;
    let n = v::int_in(&args[1], "ca/set-serial n", 1, i64::MAX as i128 - 1)?;
    ca.set_serial(n as u64)?;
    Ok(Janet::nil())
}

pub const IS_TRACKING_DOC: &str = "(ca/is-tracking ca)\n\n\
Returns true when the CA keeps the certificates it issues (:track-issued). Method form: (:is-tracking ca).";

pub fn is_tracking(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/is-tracking")?;
    let ca = ca_type::authority(&args[0], "ca/is-tracking ca")?;
    Ok(Janet::boolean(ca.is_tracking()))
}

pub const GET_ISSUED_DOC: &str = "(ca/get-issued ca)\n\n\
Returns an array of the PEM certificates issued by this CA, oldest first, or nil when tracking is off.\n\
Method form: (:get-issued ca).";

pub fn get_issued(args: &[Janet]) -> CaResult<Janet> {
    arity(args, 1, 1, "ca/get-issued")?;
    let ca = ca_type::authority(&args[0], "ca/get-issued ca")?;
    Ok(match ca.issued()? {
        None => Janet::nil(),
        Some(list) => v::array(list.iter().map(|der| v::jstring(&crate::core::pem::encode("CERTIFICATE", der)))),
    })
}

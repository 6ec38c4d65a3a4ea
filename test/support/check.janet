# Shared helpers for the Janet test suites: assertions, temp dirs, and the
# independent judges (openssl, Python cryptography, pkilint).
# Helpers only define things: jpm runs every file under test/, this one too.

(import ./child)

(var- failures 0)
(var- passes 0)

(defn ok
  "Records a check: `pass` truthy or it fails with `what`."
  [pass what]
  (if pass
    (++ passes)
    (do (++ failures) (eprint "FAIL: " what)))
  pass)

(defn same
  "Checks that `got` equals `want` (deep=)."
  [got want what]
  (ok (deep= got want) (string/format "%s: wanted %q, got %q" what want got)))

(def caught-panic
  "What the message of a Rust panic caught at the module's edge holds
  ([CA:RESOURCE] internal error in jsec/ca ...): a bug, never a refusal."
  "internal error in jsec/ca")

(defn refusal?
  "Whether the error message `msg` is a refusal by the module: a [CA:...]
  error (of `category`, e.g. \"[CA:RESOURCE]\", when given) that is not a
  caught panic."
  [msg &opt category]
  (def msg (string msg))
  (and (string/has-prefix? (or category "[CA:") msg)
       (not (string/find caught-panic msg))))

(defn raises
  "Checks that (f) raises an error containing every string in `needles`, and
  not a caught panic (whose [CA:RESOURCE] message would match \"[CA:\"); returns
  the message."
  [f what & needles]
  (def [caught msg] (try [false (f)] ([e] [true (string e)])))
  (cond
    (not caught) (ok false (string what ": expected an error, got " (describe msg)))
    (string/find caught-panic msg) (ok false (string/format "%s: a caught panic is not a refusal: %q" what msg))
    (ok (all |(string/find $ msg) needles)
        (string/format "%s: error %q should mention %q" what msg needles)))
  msg)

(defn ci?
  "Whether this runs in CI (CI set, as .ci/run and CI services set it), where
  everything a test needs is installed, so a skip is a failure."
  []
  (def ci (os/getenv "CI"))
  (and ci (not (index-of (string/ascii-lower ci) ["" "0" "false" "no"]))))

(defn skip
  "Ends the suite without running (the rest of) it, for `why` (something it
  needs is missing): prints \"SKIP: suite: why\", which scripts/test shows and
  counts, and exits 0; in CI (ci?) it exits 1, a failure."
  [suite why]
  (print "SKIP: " suite ": " why)
  (flush)
  (if (ci?)
    (do (eprint suite ": a skip fails in CI (CI is set), where everything is installed") (os/exit 1))
    (os/exit 0)))

(defn done
  "Prints the tally and exits non-zero when a check failed, or when no check
  ran at all (a suite that checked nothing has not passed; t/skip is how a
  suite says it could not run)."
  [suite]
  (printf "%s: %d passed, %d failed" suite passes failures)
  (when (zero? (+ passes failures))
    (eprint "FAIL: " suite " ran no checks"))
  (os/exit (if (and (zero? failures) (pos? passes)) 0 1)))

(defn tmpdir
  "A fresh temporary directory."
  [tag]
  (def dir (string "/tmp/jsec-test-" tag "-" (math/rng-int (math/rng (os/cryptorand 8)) 2000000000)))
  (os/mkdir dir)
  dir)

(defn run
  "Runs a command (argv list); returns [exit-code stdout+stderr]."
  [& argv]
  (def p (os/spawn (child/merged argv) :p {:out :pipe}))
  (def out (:read (p :out) :all))
  (def code (:wait p))
  [code (string (or out ""))])

(defn write
  "Writes `content` to dir/name and returns the path."
  [dir name content]
  (def path (string dir "/" name))
  (spit path content)
  path)

(defn openssl
  "Runs openssl with args; returns [code output]."
  [& args]
  (run "openssl" ;args))

(defn python
  "Runs python3 with a script and args; returns [code output]."
  [script & args]
  (run "python3" "-c" script ;args))

(def- python-prelude ```
import sys, json
def _janet(v):
    if v is None: return "nil"
    if v is True: return "true"
    if v is False: return "false"
    if isinstance(v, (int, float)): return repr(v)
    if isinstance(v, bytes): return "@" + json.dumps(v.hex())
    if isinstance(v, str): return json.dumps(v)
    if isinstance(v, dict): return "{" + " ".join(":" + str(k) + " " + _janet(x) for k, x in v.items()) + "}"
    return "[" + " ".join(_janet(x) for x in v) + "]"
def emit(v):
    print(_janet(v))
```)

(defn python-data
  "Runs a Python script that calls emit(value) once; returns that value as Janet data
  (dicts become structs with keyword keys, lists tuples, bytes hex buffers), or nil on failure."
  [script & args]
  (def [code out] (run "python3" "-c" (string python-prelude "\n" script) ;args))
  (if (zero? code)
    (parse out)
    (do (eprint "python failed: " out) nil)))

(def- cert-facts-py ```
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
def ext(cls):
    try: return c.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound: return None
def gn(n):
    if isinstance(n, x509.DNSName): return "DNS:" + n.value
    if isinstance(n, x509.IPAddress): return "IP:" + str(n.value)
    if isinstance(n, x509.RFC822Name): return "email:" + n.value
    if isinstance(n, x509.UniformResourceIdentifier): return "URI:" + n.value
    if isinstance(n, x509.OtherName): return "otherName:" + n.type_id.dotted_string
    return "other:" + repr(n)
bc, eku, san = ext(x509.BasicConstraints), ext(x509.ExtendedKeyUsage), ext(x509.SubjectAlternativeName)
emit({"serial": str(c.serial_number), "subject": c.subject.rfc4514_string(), "issuer": c.issuer.rfc4514_string(),
      "subject-attrs": [[a.oid.dotted_string, a.value] for a in c.subject],
      "ca": bc.ca if bc else None, "pathlen": bc.path_length if bc else None,
      "eku": [o.dotted_string for o in eku] if eku else None,
      "san": [gn(n) for n in san] if san else None})
```)

(defn cert-facts
  "What Python cryptography reads from the certificate PEM at `path`: a struct
  with :serial (decimal string), :subject and :issuer (RFC 4514), :subject-attrs
  ([oid value] pairs), :ca and :pathlen (basicConstraints), :eku (dotted OIDs)
  and :san (\"DNS:...\", \"IP:...\", \"email:...\", \"URI:...\", \"otherName:<oid>\");
  nil when cryptography cannot load it."
  [path]
  (python-data cert-facts-py path))

(def- pkilint-judge ```
import os, subprocess
linter, path, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
def verdict(clean, report):
    emit({"clean": clean, "report": report})
    sys.exit(0)
if not os.path.isfile(path) or os.path.getsize(path) == 0:
    verdict(False, "pkilint judge: %s is missing or empty, there is nothing to lint" % path)
p = subprocess.run([linter, "lint", "-f", "JSON", "-s", "INFO", *extra, path],
                   capture_output=True, text=True)
said = (p.stdout.strip() + "\n" + p.stderr.strip()).strip()
try:
    results = json.loads(p.stdout)["results"]
    findings = [(f["severity"], f["code"], r["node_path"], f["message"])
                for r in results for f in r["finding_descriptions"]]
except Exception:
    verdict(False, "pkilint could not read the document (exit %d): %s" % (p.returncode, said))
if p.returncode != min(len(findings), 255):
    verdict(False, "pkilint exited %d with %d findings, so it did not finish linting: %s"
            % (p.returncode, len(findings), said))
lines = ["%s %s @ %s%s" % (sev, code, node, ": " + msg if msg else "") for sev, code, node, msg in findings]
clean = not any(sev in ("ERROR", "FATAL") for sev, _, _, _ in findings)
verdict(clean, "\n".join(lines + ([p.stderr.strip()] if p.stderr.strip() else [])))
```)

(defn pkilint-clean?
  "Runs a pkilint linter (e.g. \"lint_pkix_cert\") on a file. Clean means pkilint
  decoded the document, linted it to the end (its exit status is its finding
  count) and found no ERROR or FATAL. A file pkilint cannot decode, an empty
  file, or a linter that stops early is a failed judgement, never a clean one.
  Returns [clean? report]."
  [linter path & extra]
  (def v (python-data pkilint-judge linter path ;extra))
  (if v
    [(v :clean) (v :report)]
    [false (string "pkilint judge could not run " linter " on " path)]))

# --- child Janet processes (test/cli, test/guide, test/install) -------------

(defn module-root
  "The syspath this process found jsec/ca under (e.g. /repo/build): a child
  Janet run with JANET_PATH set to it imports the same module, under
  scripts/test and under jpm test alike."
  []
  (def [path] (module/find "jsec/ca"))
  (def found (os/realpath path))
  (string/slice found 0 (- (length found) (length "/jsec/ca.so"))))

(defn janet-exe
  "The interpreter running this test, as an absolute path when it has one."
  []
  (def exe (dyn :executable "janet"))
  (if (string/find "/" exe) (os/realpath exe) exe))

(defn run-in
  "Runs argv with extra environment variables `env` (a table or struct) and
  working directory `dir` (nil: the current one); returns [code output]."
  [env dir & argv]
  (def p (os/spawn (child/merged argv dir) :pe (merge (os/environ) env {:out :pipe})))
  (def out (:read (p :out) :all))
  (def code (:wait p))
  [code (string (or out ""))])

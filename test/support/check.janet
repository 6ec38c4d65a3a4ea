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

(defn raises
  "Checks that (f) raises an error containing every string in `needles`; returns the message."
  [f what & needles]
  (def [caught msg] (try [false (f)] ([e] [true (string e)])))
  (if-not caught
    (ok false (string what ": expected an error, got " (describe msg)))
    (ok (all |(string/find $ msg) needles)
        (string/format "%s: error %q should mention %q" what msg needles)))
  msg)

(defn done
  "Prints the tally and exits non-zero when a check failed."
  [suite]
  (printf "%s: %d passed, %d failed" suite passes failures)
  (os/exit (if (zero? failures) 0 1)))

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

(defn pkilint-clean?
  "Runs a pkilint linter (e.g. \"lint_pkix_cert\") on a file; true when no ERROR or FATAL finding.
  Returns [clean? output]."
  [linter path & extra]
  (def [code out] (run linter "lint" ;extra path))
  [(and (not (string/find "ERROR" out)) (not (string/find "FATAL" out)) (not (string/find "Traceback" out))) out])

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

# Driving bin/jsec-ca from the tests (test/cli*.janet): a context names the
# working directory, the environment and the tool; the judges are openssl and
# Python's sqlite3. Only defines things.

(import ./check :as t)
(import ./child)

(defn context
  "A context for running `tool` (default bin/jsec-ca) in `work` with the extra
  environment `env`."
  [work env &opt tool]
  @{:work work
    :env (merge {"JANET_PATH" (t/module-root) "JSEC_CA_DIR" ""} env)
    :tool (os/realpath (or tool "bin/jsec-ca"))})

(defn file
  "The path of `parts` under the context's working directory."
  [ctx & parts]
  (string/join [(ctx :work) ;parts] "/"))

(defn- argv [ctx args] [(t/janet-exe) (ctx :tool) ;args])

(defn run
  "Runs the tool with `args`; [code output]."
  [ctx & args]
  (t/run-in (ctx :env) (ctx :work) ;(argv ctx args)))

(defn run-env
  "Runs the tool with `args` and `env` on top of the context's; [code output]."
  [ctx env & args]
  (t/run-in (merge (ctx :env) env) (ctx :work) ;(argv ctx args)))

(defn exits
  "Runs the tool, checks its exit code is `want`; returns its output."
  [ctx want what & args]
  (def [code out] (run ctx ;args))
  (t/ok (= code want) (string/format "%s: exit %d, wanted %d\n%s" what code want out))
  out)

(defn spawn
  "Starts the tool without waiting; returns the process."
  [ctx & args]
  (os/spawn (child/merged (argv ctx args) (ctx :work)) :pe (merge (os/environ) (ctx :env) {:out :pipe})))

(defn finish
  "Waits for a spawned tool; [code output]."
  [p]
  (def out (string (or (:read (p :out) :all) "")))
  [(:wait p) out])

(defn issued-serial
  "The serial a tool's output reports (\"issued serial N\", \"signed serial N\")."
  [out]
  (first (peg/match ~(* (thru "serial ") (capture :d+)) out)))

(defn serial-of
  "The serial of the certificate at `path`, as openssl prints it (hex), or nil."
  [path]
  (def [code out] (t/openssl "x509" "-noout" "-serial" "-in" path))
  (when (zero? code) (string/trim (string/triml (string/trim out) "serial="))))

(defn hex
  "A decimal serial as openssl prints it: upper-case hex, an even number of digits."
  [decimal]
  (def digits (string/format "%X" (scan-number decimal)))
  (if (odd? (length digits)) (string "0" digits) digits))

(defn start-ocsp
  "Starts `jsec-ca ocsp-serve` on a random port for CA directory `dir` (and
  the extra `flags`, e.g. --store); returns [process port banner]."
  [ctx dir & flags]
  (def port (+ 20000 (math/floor (* 20000 (math/random)))))
  (def p (spawn ctx "ocsp-serve" "--port" (string port) "--dir" dir ;flags))
  (def banner (string (or (try (ev/with-deadline 10 (:read (p :out) 1024)) ([_] nil)) "")))
  [p port banner])

(defn ocsp
  "Asks the responder on `port` about `cert` with openssl ocsp -url, trusting
  `ca-file`; [verified? status-word output]: status-word is good, revoked or
  unknown as openssl reports it."
  [port issuer ca-file cert]
  (def [_ out] (t/openssl "ocsp" "-issuer" issuer "-cert" cert
                          "-url" (string "http://127.0.0.1:" port) "-CAfile" ca-file))
  (def status (first (peg/match ~(* (thru ": ") (capture (+ "good" "revoked" "unknown"))) out)))
  [(truthy? (string/find "Response verify OK" out)) status out])

(defn integrity
  "PRAGMA integrity_check of the SQLite file `db`, run by Python's sqlite3."
  [db]
  (def [code out] (t/python "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" db))
  (if (zero? code) (string/trim out) (string "python failed: " out)))

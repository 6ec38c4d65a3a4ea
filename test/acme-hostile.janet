# ACME against hostile clients (issue 24): `jsec-ca acme-serve` on loopback
# (plain HTTP), driven by raw JWS and raw HTTP from Python
# (test/support/acme-hostile.py): a replayed or invented nonce, a JWS "url"
# of another resource, alg none and HS256, jwk with kid, an unknown account,
# a 70 kB body, names outside the policy, finalize CSRs with other names or
# the account's own key, and http-01 targets that serve a wrong key
# authorization, redirect, or never answer (given up after the server's
# --validation-timeout). Each gets its problem document (type and HTTP status,
# RFC 8555 §6.7), nothing is issued (the CA's store holds no certificate), and
# afterwards a normal issuance still works, with the profile of
# --extended-key-usage, --key-usage and --days.
(import ./support/check :as t)
(import jsec/ca)

(each tool ["python3" "openssl"]
  (unless (zero? (first (try (t/run "sh" "-c" (string "command -v " tool)) ([_] [1]))))
    (t/skip "acme-hostile" (string tool " is not installed"))))
(unless (zero? (first (t/run "python3" "-c" "import cryptography")))
  (t/skip "acme-hostile" "python3 cryptography is not installed (scripts/setup installs it)"))

(def root (os/cwd))
(def janet (t/janet-exe))
(def jsec-ca (string root "/bin/jsec-ca"))
(def env {"JANET_PATH" (t/module-root)})
(def dir (t/tmpdir "acme-hostile"))
(def ca-dir (string dir "/ca"))
(def base-port (+ 20000 (math/rng-int (math/rng (os/cryptorand 8)) 12000)))
(def acme-port base-port)
(def http01-port (+ base-port 1))
(def base (string "http://127.0.0.1:" acme-port))
(def validation-timeout 3)
(def script (string root "/test/support/acme-hostile.py"))

(def procs @[])
(defn stop-all [] (each p procs (protect (os/proc-kill p true))))

(defn certs-issued
  "How many certificates the CAs in the store have issued (their index)."
  []
  (def store (ca/open-store (string ca-dir "/ca.db")))
  (sum (map |(length (ca/store-find store $ {:limit 1000})) (ca/store-cas store))))

(defn python-checks
  "Runs acme-hostile.py with `args` (bounded by `seconds`); each PASS/FAIL line
  becomes a check, and the script must end with DONE and exit 0."
  [seconds & args]
  (def [code out] (t/run "timeout" "-k" "5" (string seconds) "python3" script ;args))
  (var n 0)
  (each line (string/split "\n" out)
    (cond
      (string/has-prefix? "PASS " line) (do (++ n) (t/ok true line))
      (string/has-prefix? "FAIL " line) (do (++ n) (t/ok false line))))
  (t/ok (and (zero? code) (string/find (string "DONE " n) out))
        (string "acme-hostile.py " (first args) " ran to the end (exit " code ", " n " checks): " out))
  n)

(defer (stop-all)
  (t/ok (zero? (first (t/run-in env nil janet jsec-ca "init" "--dir" ca-dir))) "jsec-ca init")
  (def log (string dir "/acme-serve.log"))
  (def f (file/open log :w))
  (array/push procs
    (os/spawn [janet jsec-ca "acme-serve" "--dir" ca-dir "--port" (string acme-port)
               "--allowed-domains" "example.test" "--validation-address" "127.0.0.1"
               "--http-01-port" (string http01-port) "--validation-timeout" (string validation-timeout)
               "--tls-alpn-01-port" (string (+ http01-port 1))
               "--extended-key-usage" "serverAuth,clientAuth" "--key-usage" "digitalSignature"
               "--days" "30" "--max-seconds" "300"]
              :pe (merge (os/environ) env {:out f :err f})))
  (var up false)
  (for i 0 100
    (when (protect (:close (net/connect "127.0.0.1" acme-port)))
      (set up true) (break))
    (ev/sleep 0.1))
  (t/ok up (string "acme-serve listens on " acme-port))
  (unless up (stop-all) (eprint (slurp log)) (t/done "acme-hostile"))

  (def before (certs-issued))
  (def n (python-checks 120 "hostile" base (string http01-port) (string validation-timeout)))
  (t/ok (>= n 30) (string "the hostile run made all its checks: " n))
  (t/same (certs-issued) before "nothing was issued to the hostile clients")

  # After all that, a normal issuance.
  (def pem (string dir "/good.pem"))
  (python-checks 60 "issue" base (string http01-port) pem)
  (t/same (certs-issued) (+ before 1) "the normal issuance is in the CA's index")
  (def [c out] (t/run "openssl" "verify" "-x509_strict" "-CAfile" (string ca-dir "/root.crt")
                      "-untrusted" pem pem))
  (t/ok (zero? c) (string "openssl verify -x509_strict: " out))
  (def [_ text] (t/run "openssl" "x509" "-in" pem "-noout" "-text"))
  (t/ok (string/find "DNS:good.example.test" text) (string "the SAN: " text))
  (t/ok (peg/match ~(* (thru "X509v3 Extended Key Usage:") :s* "TLS Web Server Authentication, TLS Web Client Authentication") text)
        "--extended-key-usage serverAuth,clientAuth")
  (t/ok (peg/match ~(* (thru "X509v3 Key Usage: critical") :s* "Digital Signature" "\n") text)
        "--key-usage digitalSignature")
  (def [_ dates] (t/run "openssl" "x509" "-in" pem "-noout" "-checkend" (string (* 29 86400))))
  (def [c2 _] (t/run "openssl" "x509" "-in" pem "-noout" "-checkend" (string (* 31 86400))))
  (t/ok (and (string/find "will not expire" dates) (not (zero? c2))) "--days 30: the certificate lasts 30 days")
  (def serve-log (slurp log))
  (t/ok (not (string/find "error" (string/ascii-lower serve-log))) (string "acme-serve logged no errors: " serve-log)))

(t/done "acme-hostile")

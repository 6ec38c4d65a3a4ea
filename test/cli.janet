# bin/jsec-ca end to end in a temporary directory, judged by openssl:
# init, issue, sign, revoke, crl, list, help and exit codes, two concurrent
# invocations, and a kill -9 in the middle of an issuance.
(import ./support/check :as t)
(import ./support/child)

(def work (t/tmpdir "cli"))
(def tool (os/realpath "bin/jsec-ca"))
(def password "correct horse")
(def env {"JANET_PATH" (t/module-root) "JSEC_CA_DIR" "" "JSEC_CA_PASSWORD" password})

(defn- file [& parts] (string/join [work ;parts] "/"))

(defn- argv [args] [(t/janet-exe) tool ;args])

(defn jsec-ca
  "Runs the tool in `work` with `env`; [code output]."
  [& args]
  (t/run-in env work ;(argv args)))

(defn spawn-tool
  "Starts the tool without waiting; returns the process."
  [& args]
  (os/spawn (child/merged (argv args) work) :pe (merge (os/environ) env {:out :pipe})))

(defn finish
  "Waits for a spawned tool; [code output]."
  [p]
  (def out (string (or (:read (p :out) :all) "")))
  [(:wait p) out])

(defn exits [want what & args]
  (def [code out] (jsec-ca ;args))
  (t/ok (= code want) (string/format "%s: exit %d, wanted %d\n%s" what code want out))
  out)

(defn issued-serial [out] (first (peg/match ~(* (thru "serial ") (capture :d+)) out)))

(defn verify [& args]
  (def [code out] (t/openssl "verify" "-CAfile" (file "ca/root.crt") "-untrusted" (file "ca/intermediate.crt") ;args))
  [(zero? code) out])

(defn state [] (parse (slurp (file "ca/state.jdn"))))

# --- help and usage errors ---------------------------------------------------
(t/ok (string/find "Usage: jsec-ca COMMAND" (exits 0 "--help" "--help")) "--help prints usage")
(each cmd ["init" "issue" "sign" "revoke" "crl" "list" "ocsp-serve"]
  (t/ok (string/find (string "Usage: jsec-ca " cmd) (exits 0 (string cmd " --help") cmd "--help"))
        (string cmd " --help prints its usage")))
(exits 2 "no command")
(exits 2 "unknown command" "frobnicate")
(exits 2 "unknown option" "issue" "--frob" "x")
(exits 2 "issue without names" "issue" "--dir" "ca")
(exits 2 "--days not a number" "issue" "x" "--days" "soon" "--dir" "ca")
(exits 2 "--dir without value" "list" "--dir")
(t/ok (string/find "jsec-ca init" (exits 1 "issue before init" "issue" "x.example" "--dir" "ca"))
      "issue before init says to run init")

# --- init --------------------------------------------------------------------
(exits 0 "init" "init" "--dir" "ca" "--name" "Test Root" "--intermediate")
(t/ok (string/find "ENCRYPTED" (slurp (file "ca/root.key"))) "root key encrypted with JSEC_CA_PASSWORD")
(t/ok (string/find "ENCRYPTED" (slurp (file "ca/intermediate.key"))) "intermediate key encrypted")
(exits 1 "init twice" "init" "--dir" "ca")
(let [[code out] (t/run-in (merge env {"JSEC_CA_PASSWORD" ""}) work ;(argv ["issue" "x.example" "--dir" "ca"]))]
  (t/ok (and (= code 1) (string/find "JSEC_CA_PASSWORD" out)) (string "issue without the password fails clearly: " out)))

# --- issue -------------------------------------------------------------------
(def www (issued-serial (exits 0 "issue server" "issue" "www.example.com" "10.0.0.1" "::1" "--dir" "ca")))
(let [[ok out] (verify (file "ca/certs/www.example.com.crt"))] (t/ok ok (string "server cert verifies: " out)))
(let [[ok out] (t/openssl "verify" "-CAfile" (file "ca/root.crt") "-untrusted" (file "ca/certs/www.example.com-chain.pem")
                          (file "ca/certs/www.example.com.crt"))]
  (t/ok (zero? ok) (string "chain file completes the chain: " out)))
(let [[_ out] (t/openssl "x509" "-noout" "-ext" "subjectAltName,extendedKeyUsage" "-in" (file "ca/certs/www.example.com.crt"))]
  (t/ok (string/find "DNS:www.example.com" out) "SAN has the DNS name")
  (t/ok (string/find "IP Address:10.0.0.1" out) "SAN has the IPv4 address")
  (t/ok (string/find "IP Address:0:0:0:0:0:0:0:1" out) (string "SAN has the IPv6 address: " out))
  (t/ok (string/find "TLS Web Server Authentication" out) "server EKU"))
(t/ok (string/find "PRIVATE KEY" (slurp (file "ca/certs/www.example.com.key"))) "key file written")

(exits 0 "issue client" "issue" "alice@example.com" "--client" "--days" "30" "--dir" "ca")
(let [[_ out] (t/openssl "x509" "-noout" "-ext" "subjectAltName,extendedKeyUsage" "-in" (file "ca/certs/alice@example.com.crt"))]
  (t/ok (string/find "email:alice@example.com" out) (string "client SAN has the email: " out))
  (t/ok (string/find "TLS Web Client Authentication" out) "client EKU"))

# --- sign a CSR from openssl req ---------------------------------------------
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
           "-keyout" (file "req.key") "-subj" "/CN=api.example.com"
           "-addext" "subjectAltName=DNS:api.example.com" "-out" (file "req.csr"))
(exits 0 "sign" "sign" "req.csr" "--out" "signed/api.crt" "--dir" "ca")
(let [[ok out] (verify (file "signed/api.crt"))] (t/ok ok (string "signed cert verifies: " out)))
(let [[_ out] (t/openssl "x509" "-noout" "-ext" "subjectAltName" "-in" (file "signed/api.crt"))]
  (t/ok (string/find "DNS:api.example.com" out) "the CSR's SAN is kept"))
(t/ok (os/stat (file "signed/api-chain.pem")) "sign writes a chain file")
(exits 1 "sign a missing file" "sign" "nope.csr" "--dir" "ca")

# --- revoke and crl ----------------------------------------------------------
(exits 0 "revoke" "revoke" www "--reason" "key-compromise" "--dir" "ca")
(exits 1 "revoke an unknown serial" "revoke" "999" "--dir" "ca")
(exits 1 "revoke with a bad reason" "revoke" www "--reason" "boredom" "--dir" "ca")
(exits 2 "revoke a non-number" "revoke" "abc" "--dir" "ca")
(exits 0 "crl" "crl" "--dir" "ca")
(let [[code out] (t/openssl "crl" "-verify" "-noout" "-CAfile" (file "ca/intermediate.crt") "-in" (file "ca/crl.pem"))]
  (t/ok (string/find "verify OK" out) (string "CRL signature verifies: " out)))
(let [[_ out] (t/openssl "crl" "-noout" "-text" "-in" (file "ca/crl.pem"))]
  (t/ok (string/find "Key Compromise" out) "CRL lists the revocation with its reason"))
(let [[ok out] (verify "-crl_check" "-CRLfile" (file "ca/crl.pem") (file "ca/certs/www.example.com.crt"))]
  (t/ok (and (not ok) (string/find "revoked" out)) (string "revoked cert rejected with -crl_check: " out)))
(let [[ok out] (verify "-crl_check" "-CRLfile" (file "ca/crl.pem") (file "signed/api.crt"))]
  (t/ok ok (string "unrevoked cert passes -crl_check: " out)))
(exits 0 "second crl" "crl" "--dir" "ca" "--out" "crl2.pem")
(let [[_ out] (t/openssl "crl" "-noout" "-crlnumber" "-in" (file "crl2.pem"))]
  (t/ok (string/find "crlNumber=0x02" out) (string "CRL number advances: " out)))

# --- list --------------------------------------------------------------------
(let [out (exits 0 "list" "list" "--dir" "ca")]
  (t/ok (string/find "revoked:key-compromise" out) "list shows the revocation")
  (t/ok (string/find "alice@example.com" out) "list shows names")
  (t/ok (string/find "api.example.com" out) "list shows the signed CSR's subject"))

# --- ocsp-serve, answered by openssl ocsp -url --------------------------------
(exits 2 "ocsp-serve without --port" "ocsp-serve" "--dir" "ca")
(def port (+ 20000 (math/floor (* 20000 (math/random)))))
(def server (spawn-tool "ocsp-serve" "--port" (string port) "--dir" "ca"))
(def banner (string (or (try (ev/with-deadline 10 (:read (server :out) 1024)) ([_] nil)) "")))
(when (t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts: " banner))
  (defn ocsp [cert]
    (t/openssl "ocsp" "-issuer" (file "ca/intermediate.crt") "-cert" cert
               "-url" (string "http://127.0.0.1:" port) "-CAfile" (file "ca/root.crt")))
  (let [[_ out] (ocsp (file "ca/certs/www.example.com.crt"))]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out))
          (string "OCSP says the revoked certificate is revoked: " out)))
  (let [[_ out] (ocsp (file "signed/api.crt"))]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": good" out))
          (string "OCSP says the other certificate is good: " out))))
(os/proc-kill server true)

# --- two concurrent invocations ----------------------------------------------
(let [a (spawn-tool "issue" "a.example" "--dir" "ca")
      b (spawn-tool "issue" "b.example" "--dir" "ca")
      [ca oa] (finish a)
      [cb ob] (finish b)]
  (t/ok (and (zero? ca) (zero? cb)) (string "concurrent issues both succeed:\n" oa ob))
  (t/ok (not= (issued-serial oa) (issued-serial ob)) "concurrent issues get distinct serials")
  (t/ok (and (get-in (state) [:issued (issued-serial oa) :file])
             (get-in (state) [:issued (issued-serial ob) :file]))
        "both issuances are in the index"))

# --- kill -9 during issuance -------------------------------------------------
(defn pending-serial
  "A serial reserved by an issuance still running (or killed)."
  []
  (def s (state))
  (find |(get-in s [:issued $ :pending]) (keys (s :issued))))

(defn kill-mid-issue
  "Starts an RSA-4096 issuance and kills it once its serial is reserved; the serial or nil."
  []
  (def p (spawn-tool "issue" "k1.example" "k2.example" "k3.example" "--key-type" "rsa-4096" "--dir" "ca"))
  (var seen nil)
  (var tries 0)
  (while (and (not seen) (< tries 1000))
    (set seen (pending-serial))
    (unless seen (os/sleep 0.005) (++ tries)))
  (if seen
    (do (try (os/proc-kill p true) ([_] nil)) seen)
    (do (finish p) nil)))

# A failed issuance (bad key type) leaves nothing pending and exits 1.
(exits 1 "issue with an unknown key type" "issue" "bad.example" "--key-type" "dsa" "--dir" "ca")
(t/ok (nil? (pending-serial)) "a failed issuance leaves no pending serial")

(def before (state))
(def killed (or (kill-mid-issue) (kill-mid-issue) (kill-mid-issue)))
(when (t/ok killed "an issuance was killed after reserving its serial")
  (def after (state))
  (t/ok (dictionary? after) "the state still loads after kill -9")
  (t/ok (os/stat (file "ca/.lock")) "the killed process left its lock behind")
  (t/same (after :next-serial) (string (inc (scan-number killed))) "the killed issuance's serial stays reserved")
  (def out (exits 0 "issue after kill -9 (stale lock broken)" "issue" "next.example" "--dir" "ca"))
  (def next (issued-serial out))
  (t/ok (and next (> (scan-number next) (scan-number killed))) (string "no serial reuse: killed " killed ", next " next))
  (t/ok (not (index-of next (keys (before :issued)))) "the new serial was never used before")
  (t/ok (string/find "pending" (exits 0 "list after kill" "list" "--dir" "ca")) "list shows the interrupted issuance"))

# Every certificate file holds a distinct serial.
(def serials
  (seq [f :in (os/dir (file "ca/certs")) :when (and (string/has-suffix? ".crt" f))]
    (string/trim (last (t/openssl "x509" "-noout" "-serial" "-in" (file "ca/certs" f))))))
(t/same (length (distinct serials)) (length serials) "no two issued certificates share a serial")

(os/execute ["rm" "-rf" work] :p)
(t/done "cli")

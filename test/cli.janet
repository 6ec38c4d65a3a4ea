# bin/jsec-ca end to end in a temporary directory, judged by openssl:
# init, issue, sign, revoke, crl, list, help and exit codes, the store
# (D/ca.db, keys encrypted), ocsp-serve answering live while another shell
# revokes, two concurrent invocations, and kill -9 in the middle of issuances.
(import ./support/check :as t)
(import ./support/cli)
(import jsec/ca)

(def work (t/tmpdir "cli"))
(def password "correct horse")
(def ctx (cli/context work {"JSEC_CA_PASSWORD" password}))

(defn- file [& parts] (cli/file ctx ;parts))
(defn- exits [want what & args] (cli/exits ctx want what ;args))

(defn verify [& args]
  (def [code out] (t/openssl "verify" "-CAfile" (file "ca/root.crt") "-untrusted" (file "ca/intermediate.crt") ;args))
  [(zero? code) out])

(defn index-row
  "The row of the store's index for decimal `serial` (read through the module), or nil."
  [dir serial]
  (def store (ca/open-store (file dir "ca.db") {:read-only true}))
  (defer (ca/store-close store)
    (first (ca/store-find store (if (index-of "intermediate" (ca/store-cas store)) "intermediate" "root")
                          {:serial (int/s64 serial)}))))

# --- help and usage errors ---------------------------------------------------
(t/ok (string/find "Usage: jsec-ca COMMAND" (exits 0 "--help" "--help")) "--help prints usage")
(each cmd ["init" "issue" "sign" "renew" "revoke" "crl" "list" "expiring" "export" "ocsp-serve" "migrate"]
  (t/ok (string/find (string "Usage: jsec-ca " cmd) (exits 0 (string cmd " --help") cmd "--help"))
        (string cmd " --help prints its usage")))
(exits 2 "no command")
(exits 2 "unknown command" "frobnicate")
(exits 2 "unknown option" "issue" "--frob" "x")
(exits 2 "issue without names" "issue" "--dir" "ca")
(exits 2 "--days not a number" "issue" "x" "--days" "soon" "--dir" "ca")
(exits 2 "--dir without value" "list" "--dir")
(exits 2 "a flag given a value" "issue" "x" "--client=yes" "--dir" "ca")
# --key-type is checked as the command line is read, by every command that takes it
(each cmd ["init" "issue" "renew"]
  (t/ok (string/find "--key-type must be one of" (exits 2 (string cmd " --key-type unknown") cmd ;(if (= cmd "init") [] ["x"]) "--key-type" "dsa" "--dir" "ca"))
        (string cmd " --key-type dsa names the key types")))
(t/ok (not (os/stat (file "ca"))) "a refused init creates nothing")
(t/ok (string/find "jsec-ca init" (exits 1 "issue before init" "issue" "x.example" "--dir" "ca"))
      "issue before init says to run init")
(t/ok (string/find "jsec-ca init" (exits 1 "list before init" "list" "--dir" "ca"))
      "list before init says to run init")

# --- init --------------------------------------------------------------------
(exits 0 "init" "init" "--dir" "ca" "--name" "Test Root" "--intermediate")
(t/ok (os/stat (file "ca/ca.db")) "init makes the store D/ca.db")
(t/same (os/stat (file "ca/ca.db") :permissions) "rw-------" "the store is readable by its owner only")
(t/ok (not (os/stat (file "ca/state.jdn"))) "no state.jdn any more")
(defn store-bytes []
  (string ;(seq [f :in (os/dir (file "ca")) :when (string/has-prefix? "ca.db" f)] (slurp (file "ca" f)))))
(t/ok (and (string/find "BEGIN ENCRYPTED PRIVATE KEY" (store-bytes))
           (not (string/find "BEGIN PRIVATE KEY" (store-bytes))))
      "the CA keys in the store are encrypted with JSEC_CA_PASSWORD, none in clear")
(let [store (ca/open-store (file "ca/ca.db") {:read-only true})]
  (t/same (ca/store-cas store) @["root" "intermediate"] "the store holds the root and the intermediate")
  (t/raises |(ca/store-load store "intermediate") "the intermediate's key needs the password" "encrypted")
  (t/ok (ca/store-load store "root" {:password password}) "the root opens with JSEC_CA_PASSWORD")
  (ca/store-close store))
(exits 1 "init twice" "init" "--dir" "ca")
(let [[code out] (cli/run-env ctx {"JSEC_CA_PASSWORD" ""} "issue" "x.example" "--dir" "ca")]
  (t/ok (and (= code 1) (string/find "JSEC_CA_PASSWORD" out)) (string "issue without the password fails clearly: " out)))
(let [[code out] (cli/run-env ctx {"JSEC_CA_PASSWORD" "wrong"} "issue" "x.example" "--dir" "ca")]
  (t/ok (= code 1) (string "issue with a wrong password fails: " out)))

# --- issue -------------------------------------------------------------------
(def www (cli/issued-serial (exits 0 "issue server" "issue" "www.example.com" "10.0.0.1" "::1" "--dir" "ca")))
(t/same (cli/serial-of (file "ca/certs/www.example.com.crt")) (cli/hex www) "issue reports the certificate's serial")
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
(let [row (index-row "ca" www)]
  (t/ok (and row (= (string/trim (row :cert)) (string/trim (slurp (file "ca/certs/www.example.com.crt")))))
        "the issued certificate is in the store's index"))

(exits 0 "issue client" "issue" "alice@example.com" "--client" "--days" "30" "--dir" "ca")
(let [[_ out] (t/openssl "x509" "-noout" "-ext" "subjectAltName,extendedKeyUsage" "-in" (file "ca/certs/alice@example.com.crt"))]
  (t/ok (string/find "email:alice@example.com" out) (string "client SAN has the email: " out))
  (t/ok (string/find "TLS Web Client Authentication" out) "client EKU"))

# --- sign a CSR from openssl req ---------------------------------------------
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
           "-keyout" (file "req.key") "-subj" "/CN=api.example.com"
           "-addext" "subjectAltName=DNS:api.example.com" "-out" (file "req.csr"))
(def api (cli/issued-serial (exits 0 "sign" "sign" "req.csr" "--out" "signed/api.crt" "--dir" "ca")))
(t/same (cli/serial-of (file "signed/api.crt")) (cli/hex api) "sign reports the certificate's serial")
(let [[ok out] (verify (file "signed/api.crt"))] (t/ok ok (string "signed cert verifies: " out)))
(let [[_ out] (t/openssl "x509" "-noout" "-ext" "subjectAltName" "-in" (file "signed/api.crt"))]
  (t/ok (string/find "DNS:api.example.com" out) "the CSR's SAN is kept"))
(t/ok (os/stat (file "signed/api-chain.pem")) "sign writes a chain file")
(exits 1 "sign a missing file" "sign" "nope.csr" "--dir" "ca")
(let [out (exits 0 "sign to the default place" "sign" "req.csr" "--dir" "ca")
      serial (cli/issued-serial out)]
  (t/same (cli/serial-of (file "ca/certs" (string serial ".crt"))) (cli/hex serial) "sign names the file by its serial"))

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
(let [[code out] (cli/run-env ctx {"JSEC_CA_PASSWORD" ""} "list" "--dir" "ca")]
  (t/ok (and (zero? code) (string/find "revoked:key-compromise" out)) (string "list needs no password: " out)))

# --- ocsp-serve, answered by openssl ocsp -url, live --------------------------
(exits 2 "ocsp-serve without --port" "ocsp-serve" "--dir" "ca")
(exits 2 "ocsp-serve with a bad --port" "ocsp-serve" "--port" "http" "--dir" "ca")
(def [server port banner] (cli/start-ocsp ctx "ca"))
(when (t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts: " banner))
  (defn ocsp [cert] (cli/ocsp port (file "ca/intermediate.crt") (file "ca/root.crt") cert))
  (let [[ok status out] (ocsp (file "ca/certs/www.example.com.crt"))]
    (t/ok (and ok (= status "revoked")) (string "OCSP says the revoked certificate is revoked: " out)))
  (let [[ok status out] (ocsp (file "signed/api.crt"))]
    (t/ok (and ok (= status "good")) (string "OCSP says the other certificate is good: " out)))
  # A certificate issued after the responder started, then revoked from another shell.
  (def live (cli/issued-serial (exits 0 "issue while serving" "issue" "live.example" "--dir" "ca")))
  (let [[ok status out] (ocsp (file "ca/certs/live.example.crt"))]
    (t/ok (and ok (= status "good")) (string "OCSP knows a certificate issued after it started: " out)))
  (exits 0 "revoke while serving" "revoke" live "--reason" "key-compromise" "--dir" "ca")
  (let [[ok status out] (ocsp (file "ca/certs/live.example.crt"))]
    (t/ok (and ok (= status "revoked") (string/find "Reason: keyCompromise" out))
          (string "the very next OCSP answer after a revoke in another process is revoked: " out))))
(os/proc-kill server true)

# --- two concurrent invocations ----------------------------------------------
(let [a (cli/spawn ctx "issue" "a.example" "--dir" "ca")
      b (cli/spawn ctx "issue" "b.example" "--dir" "ca")
      [ca oa] (cli/finish a)
      [cb ob] (cli/finish b)]
  (t/ok (and (zero? ca) (zero? cb)) (string "concurrent issues both succeed:\n" oa ob))
  (t/ok (not= (cli/issued-serial oa) (cli/issued-serial ob)) "concurrent issues get distinct serials")
  (t/same (cli/serial-of (file "ca/certs/a.example.crt")) (cli/hex (cli/issued-serial oa)) "each reports its own serial")
  (t/same (cli/serial-of (file "ca/certs/b.example.crt")) (cli/hex (cli/issued-serial ob)) "each reports its own serial (b)")
  (t/ok (and (index-row "ca" (cli/issued-serial oa)) (index-row "ca" (cli/issued-serial ob)))
        "both issuances are in the index"))

# --- kill -9 during issuance -------------------------------------------------
# A root CA of its own with an RSA-4096 key, so that signing (after the serial
# is reserved) takes a while; a watcher in this process reads its counter.
(exits 0 "init the kill CA" "init" "--dir" "kill" "--key-type" "rsa-4096")
(def watch-store (ca/open-store (file "kill/ca.db") {:read-only true}))
(def watcher (ca/store-load watch-store "root" {:password password}))

# An unknown key type is a usage error (exit 2), found before the store is
# opened: it reserves no serial.
(let [before (ca/get-serial watcher)]
  (exits 2 "issue with an unknown key type" "issue" "bad.example" "--key-type" "dsa" "--dir" "kill")
  (t/same (ca/get-serial watcher) before "a refused issuance reserves no serial"))

(def first-serial (ca/get-serial watcher))
(var kills-after-reservation 0)
(var kills 0)

(defn kill-issue
  "Starts `issue` of name number `i` and kills it: once its serial is
  reserved when `at-reservation`, else after a random delay."
  [i at-reservation]
  (def before (ca/get-serial watcher))
  (def p (cli/spawn ctx "issue" (string "k" i ".example") "--dir" "kill"))
  (if at-reservation
    (do (var tries 0)
      (while (and (= (ca/get-serial watcher) before) (< tries 5000))
        (os/sleep 0.001)
        (++ tries)))
    (os/sleep (* 0.08 (math/random))))
  (try (os/proc-kill p) ([_] nil))
  (def [code _] (cli/finish p))
  (unless (zero? code)
    (++ kills)
    (when (> (ca/get-serial watcher) before) (++ kills-after-reservation))))

(defn unrecorded
  "The serials the kill CA reserved (below its counter) with no certificate in
  its index: each one an issuance killed between reserving and recording."
  []
  (seq [s :range [(int/to-number first-serial) (int/to-number (ca/get-serial watcher))]
        :when (empty? (ca/store-find watch-store "root" {:serial s}))]
    s))

(for i 0 10 (kill-issue i true))
(for i 10 30 (kill-issue i false))
# more kills at reservation, up to 20, while none has landed in the window
(var extra 0)
(while (and (empty? (unrecorded)) (< extra 20))
  (kill-issue (+ 30 extra) true)
  (++ extra))
(t/ok (pos? kills-after-reservation)
      (string/format "an issuance was killed after reserving its serial (%d of %d kills)" kills-after-reservation kills))
(t/ok (not (empty? (unrecorded)))
      (string/format "a kill landed between reserving a serial and recording its certificate (%d kills)" kills))
(t/same (cli/integrity (file "kill/ca.db")) "ok" "the store passes PRAGMA integrity_check after the kills")

(def reserved-to (ca/get-serial watcher))
(def out (exits 0 "issue after the kills" "issue" "next.example" "--dir" "kill"))
(def next (int/s64 (cli/issued-serial out)))
(t/ok (>= next reserved-to) (string/format "no serial reuse: serials below %s were reserved, next %s" (string reserved-to) (string next)))

(def index @{})
(let [store (ca/open-store (file "kill/ca.db") {:read-only true})]
  (var offset 0)
  (var more true)
  (while more
    (def rows (ca/store-find store "root" {:limit 1000 :offset offset}))
    (each r rows
      (t/ok (nil? (index (string (r :serial)))) (string "serial " (r :serial) " is in the index once"))
      (put index (string (r :serial)) (r :cert)))
    (+= offset (length rows))
    (set more (= 1000 (length rows))))
  (ca/store-close store))
(def cert-files (seq [f :in (os/dir (file "kill/certs")) :when (string/has-suffix? ".crt" f)] (file "kill/certs" f)))
(each f cert-files
  (def serial (string (scan-number (string "0x" (cli/serial-of f)))))
  (t/ok (= (string/trim (or (index serial) "")) (string/trim (slurp f)))
        (string "the certificate the tool wrote to " f " is in the index under its serial " serial)))
# Serials reserved by killed issuances and never recorded stay unknown, unused.
(var s first-serial)
(while (< s reserved-to)
  (unless (index (string s))
    (t/same ((ca/get-status watcher s) :status) :unknown (string "reserved serial " s " was never handed out")))
  (++ s))
(t/ok (exits 0 "list after kill -9" "list" "--dir" "kill") "list works after the kills")

# Every certificate file holds a distinct serial.
(def serials
  (seq [dir :in ["ca/certs" "kill/certs"] f :in (os/dir (file dir)) :when (string/has-suffix? ".crt" f)]
    [dir (cli/serial-of (file dir f))]))
(t/same (length (distinct serials)) (length serials) "no two issued certificates share a serial")

(os/execute ["rm" "-rf" work] :p)
(t/done "cli")

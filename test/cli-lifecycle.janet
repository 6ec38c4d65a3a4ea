# bin/jsec-ca's lifecycle commands end to end: renew (a new key or the same
# one; the old certificate revoked as superseded, judged by openssl ocsp
# against a running ocsp-serve), expiring (judged by openssl x509 -checkend)
# and export --p12 (read back by openssl pkcs12 and Python cryptography),
# with the exit code 2 of every bad flag.
(import ./support/check :as t)
(import ./support/cli)

(def work (t/tmpdir "cli-lifecycle"))
(def password "correct horse")
(def ctx (cli/context work {"JSEC_CA_PASSWORD" password}))

(defn- file [& parts] (cli/file ctx ;parts))
(defn- exits [want what & args] (cli/exits ctx want what ;args))
(defn- cert [name] (file "ca/certs" (string name ".crt")))
(defn- copy [from to] (spit to (slurp from)))

(defn verify [path]
  (def [code out] (t/openssl "verify" "-CAfile" (file "ca/root.crt") "-untrusted" (file "ca/intermediate.crt") path))
  [(zero? code) out])

(defn public-key
  "The public key of a certificate, as openssl prints it."
  [path]
  (last (t/openssl "x509" "-noout" "-pubkey" "-in" path)))

(exits 0 "init" "init" "--dir" "ca" "--intermediate")
(exits 0 "issue svc" "issue" "svc.example" "svc2.example" "10.1.2.3" "--dir" "ca")
(exits 0 "issue alice" "issue" "alice@example.com" "--client" "--dir" "ca")
(exits 0 "issue soon" "issue" "soon.example" "--days" "10" "--dir" "ca")
(exits 0 "issue late" "issue" "late.example" "--days" "100" "--dir" "ca")

(def [server port banner] (cli/start-ocsp ctx "ca"))
(t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts: " banner))
(defn ocsp [path] (cli/ocsp port (file "ca/intermediate.crt") (file "ca/root.crt") path))

# --- renew with a new key ------------------------------------------------------
(copy (cert "svc.example") (file "svc-old.crt"))
(let [[ok status out] (ocsp (file "svc-old.crt"))]
  (t/ok (and ok (= status "good")) (string "the certificate is good before renew: " out)))
(def renewed (exits 0 "renew" "renew" "svc.example" "--days" "90" "--dir" "ca"))
(t/ok (string/find "revoked: superseded" renewed) (string "renew says the old one is superseded: " renewed))
(let [[ok out] (verify (cert "svc.example"))] (t/ok ok (string "the renewed certificate verifies: " out)))
(t/ok (not= (cli/serial-of (cert "svc.example")) (cli/serial-of (file "svc-old.crt"))) "renew gives a new serial")
(t/ok (not= (public-key (cert "svc.example")) (public-key (file "svc-old.crt"))) "renew makes a new key by default")
(t/same (cli/serial-of (cert "svc.example")) (cli/hex (cli/issued-serial (string/slice renewed (string/find "serial" renewed))))
        "renew reports the new serial")
(let [new (t/cert-facts (cert "svc.example"))
      old (t/cert-facts (file "svc-old.crt"))]
  (t/same (new :subject) (old :subject) "the renewed certificate has the same subject")
  (t/same (new :san) (old :san) "the renewed certificate has the same names")
  (t/same (new :eku) (old :eku) "the renewed server certificate keeps serverAuth"))
(let [[_ out] (t/openssl "x509" "-noout" "-checkend" (string (* 91 86400)) "-in" (cert "svc.example"))]
  (t/ok (string/find "will expire" out) (string "--days 90 is the new validity: " out)))
(let [[ok status out] (ocsp (file "svc-old.crt"))]
  (t/ok (and ok (= status "revoked") (string/find "Reason: superseded" out))
        (string "OCSP says the old certificate is revoked as superseded: " out)))
(let [[ok status out] (ocsp (cert "svc.example"))]
  (t/ok (and ok (= status "good")) (string "OCSP says the renewed certificate is good: " out)))
(let [[ok out] (verify (cert "svc.example"))]
  (t/ok ok (string "the chain file's intermediate still fits: " out)))

# --- renew keeping the key -------------------------------------------------------
(copy (cert "svc.example") (file "svc-second.crt"))
(exits 0 "renew --reuse-key" "renew" "svc.example" "--reuse-key" "--dir" "ca")
(t/same (public-key (cert "svc.example")) (public-key (file "svc-second.crt")) "--reuse-key keeps the public key")
(t/ok (not= (cli/serial-of (cert "svc.example")) (cli/serial-of (file "svc-second.crt"))) "--reuse-key gives a new serial")
(let [[_ out] (t/openssl "pkey" "-pubout" "-in" (file "ca/certs/svc.example.key"))]
  (t/same (public-key (cert "svc.example")) out "the key file is the certificate's key"))
(t/same ((t/cert-facts (cert "svc.example")) :san) ((t/cert-facts (file "svc-second.crt")) :san)
        "--reuse-key keeps the names")
(let [[ok out] (verify (cert "svc.example"))] (t/ok ok (string "the --reuse-key certificate verifies: " out)))
(let [[ok status out] (ocsp (file "svc-second.crt"))]
  (t/ok (and ok (= status "revoked") (string/find "Reason: superseded" out))
        (string "the certificate renewed with its key is revoked as superseded: " out)))

# A client certificate renewed as one; renew of an unknown name fails.
(exits 0 "renew a client certificate" "renew" "alice@example.com" "--client" "--dir" "ca")
(t/same ((t/cert-facts (cert "alice@example.com")) :eku) ["1.3.6.1.5.5.7.3.2" "1.3.6.1.5.5.7.3.4"]
        "renew --client gives clientAuth (and emailProtection for an email)")
(exits 1 "renew an unknown name" "renew" "nobody.example" "--dir" "ca")
(copy (file "svc-old.crt") (cert "late.example"))
(exits 1 "renew --reuse-key when the certificate file is another one" "renew" "late.example" "--reuse-key" "--dir" "ca")

# --- expiring ----------------------------------------------------------------------
(defn listed? [out name] (truthy? (string/find (string " " name "\n") out)))
(let [out (exits 0 "expiring" "expiring" "--days" "20" "--dir" "ca")]
  (t/ok (listed? out "soon.example") (string "expiring lists a certificate that ends within 20 days: " out))
  (t/ok (not (listed? out "late.example")) "expiring leaves out one that ends later")
  (t/ok (not (listed? out "svc.example")) "expiring leaves out a renewed one")
  (t/ok (string/find "1 certificate(s)" out) (string "expiring counts them: " out)))
(let [[code _] (t/openssl "x509" "-noout" "-checkend" (string (* 20 86400)) "-in" (cert "soon.example"))]
  (t/ok (not (zero? code)) "openssl agrees soon.example expires within 20 days"))
(let [out (exits 0 "expiring --days 200" "expiring" "--days" "200" "--dir" "ca")]
  (t/ok (and (listed? out "soon.example") (listed? out "late.example")
             (not (listed? out "svc.example")) (not (listed? out "alice@example.com")))
        (string "a longer horizon lists more: " out)))
(exits 0 "renew the expiring one" "renew" "soon.example" "--dir" "ca")
(t/ok (not (listed? (exits 0 "expiring after renew" "expiring" "--days" "20" "--dir" "ca") "soon.example"))
      "after renew the certificate no longer shows as expiring")
(exits 0 "expiring by default looks 30 days ahead" "expiring" "--dir" "ca")
(exits 2 "expiring --days not a number" "expiring" "--days" "soon" "--dir" "ca")
(exits 2 "expiring --days 0" "expiring" "--days" "0" "--dir" "ca")
(exits 2 "expiring --days negative" "expiring" "--days" "-3" "--dir" "ca")
(exits 2 "expiring with an argument" "expiring" "soon.example" "--dir" "ca")

# --- export --p12 --------------------------------------------------------------------
(def p12-facts ```
from cryptography.hazmat.primitives.serialization import pkcs12, Encoding, PublicFormat
def pub(k): return k.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
key, cert, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], "rb").read(), sys.argv[2].encode())
emit({"match": pub(key.public_key()) == pub(cert.public_key()), "serial": "%X" % cert.serial_number,
      "chain": [c.subject.rfc4514_string() for c in extra]})
```)
(defn p12-info [path pass & args]
  (t/openssl "pkcs12" "-info" "-in" path "-passin" (string "pass:" pass) "-nodes" ;args))
(defn count-of [s text] (length (string/find-all s text)))

(exits 0 "export" "export" "svc.example" "--p12" "--password" "s3cret" "--dir" "ca")
(let [[code out] (p12-info (file "ca/certs/svc.example.p12") "s3cret")]
  (t/ok (zero? code) (string "openssl pkcs12 -info reads the export: " out))
  (t/same (count-of "BEGIN CERTIFICATE" out) 3 "the export holds the certificate, the intermediate and the root")
  (t/same (count-of "BEGIN PRIVATE KEY" out) 1 "the export holds the key")
  (t/ok (string/find "AES-256-CBC" out) (string "the export is AES-256 by default: " out))
  (t/ok (string/find "MAC: sha256" out) "the export's MAC is SHA-256 by default"))
(let [facts (t/python-data p12-facts (file "ca/certs/svc.example.p12") "s3cret")]
  (t/ok (and facts (facts :match)) "Python cryptography reads the export; its key matches its certificate")
  (t/same (scan-number (string "0x" (get facts :serial))) (scan-number (string "0x" (cli/serial-of (cert "svc.example"))))
          "the export holds the current certificate")
  (t/same (get facts :chain) ["CN=jsec-ca Root CA Intermediate" "CN=jsec-ca Root CA"] "the export's chain: intermediate, root"))
(let [[code _] (p12-info (file "ca/certs/svc.example.p12") "wrong")]
  (t/ok (not (zero? code)) "a wrong password does not open the export"))
(t/same (os/stat (file "ca/certs/svc.example.p12") :permissions) "rw-------" "the export is readable by its owner only")

(exits 0 "export --legacy --out" "export" "alice@example.com" "--p12" "--legacy" "--password" "old" "--out" "out/alice.p12" "--dir" "ca")
(let [[code out] (p12-info (file "out/alice.p12") "old")]
  (t/ok (zero? code) (string "openssl reads the legacy export: " out))
  (t/ok (string/find "MAC: sha1" out) (string "the legacy export's MAC is SHA-1: " out))
  (t/ok (string/find "3-KeyTripleDES" out) (string "the legacy export is 3DES: " out)))
(let [facts (t/python-data p12-facts (file "out/alice.p12") "old")]
  (t/ok (and facts (facts :match)) "Python cryptography reads the legacy export"))

(let [[code out] (cli/run-env ctx {"JSEC_P12_PASSWORD" "from-env"} "export" "soon.example" "--p12" "--dir" "ca")]
  (t/ok (zero? code) (string "export takes the password from JSEC_P12_PASSWORD: " out))
  (t/ok (zero? (first (p12-info (file "ca/certs/soon.example.p12") "from-env"))) "the JSEC_P12_PASSWORD export opens with it"))

(exits 2 "export without --p12" "export" "svc.example" "--password" "x" "--dir" "ca")
(exits 2 "export without a password" "export" "svc.example" "--p12" "--dir" "ca")
(exits 2 "export without NAME" "export" "--p12" "--password" "x" "--dir" "ca")
(exits 2 "export --p12 with a value" "export" "svc.example" "--p12=yes" "--password" "x" "--dir" "ca")
(exits 2 "export --legacy with a value" "export" "svc.example" "--p12" "--legacy=1" "--password" "x" "--dir" "ca")
(exits 2 "export --password without a value" "export" "svc.example" "--p12" "--password")
(exits 1 "export a certificate with another one's key" "export" "late.example" "--p12" "--password" "x" "--dir" "ca")
(exits 1 "export an unknown name" "export" "nobody.example" "--p12" "--password" "x" "--dir" "ca")

# --- renew's bad flags ----------------------------------------------------------------
(exits 2 "renew without NAME" "renew" "--dir" "ca")
(exits 2 "renew with two names" "renew" "a.example" "b.example" "--dir" "ca")
(exits 2 "renew --days 0" "renew" "svc.example" "--days" "0" "--dir" "ca")
(exits 2 "renew --days not a number" "renew" "svc.example" "--days" "later" "--dir" "ca")
(exits 2 "renew --key-type unknown" "renew" "svc.example" "--key-type" "dsa" "--dir" "ca")
(exits 2 "renew --reuse-key with --key-type" "renew" "svc.example" "--reuse-key" "--key-type" "rsa-2048" "--dir" "ca")
(exits 2 "renew --reuse-key with a value" "renew" "svc.example" "--reuse-key=no" "--dir" "ca")
(exits 2 "renew --frob" "renew" "svc.example" "--frob" "--dir" "ca")

(os/proc-kill server true)
(os/execute ["rm" "-rf" work] :p)
(t/done "cli-lifecycle")

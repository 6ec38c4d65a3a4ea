# bin/jsec-ca with its CA keys in a PKCS#11 token (issue 20), end to end:
# init --key / --intermediate-key generate both keys in a SoftHSM2 token;
# issue, sign, revoke, crl and renew sign in the token (judged by openssl
# verify -x509_strict and openssl crl); ocsp-serve answers openssl ocsp -url
# with responses signed in the token; the store holds the keys' URIs and no
# key bytes, nor the PIN.
(import ./support/check :as t)
(import ./support/cli)
(import ./support/softhsm)

(when-let [why (softhsm/missing)]
  (t/skip "cli-pkcs11" why))

(def work (t/tmpdir "cli-pkcs11"))
(def pin "cli-pin-5d8e21")
(def tok (softhsm/token work "cli-ca" pin))
(def ctx (cli/context work {"SOFTHSM2_CONF" (tok :conf)}))
(defn- file [& parts] (cli/file ctx ;parts))
(defn- exits [want what & args] (cli/exits ctx want what ;args))
(def seen @[])
(defn- ran [want what & args] (array/push seen (exits want what ;args)))

(defn verify [path]
  (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" (file "ca/root.crt") "-untrusted"
                             (file "ca/intermediate.crt") path))
  [(zero? code) out])

(ran 2 "--intermediate-key without --intermediate" "init" "--dir" "bad" "--intermediate-key" ((tok :uri) "x"))
(ran 0 "init with both keys in the token" "init" "--dir" "ca" "--intermediate" "--key-type" "ec-p384"
     "--key" ((tok :uri) "cli-root") "--intermediate-key" ((tok :uri) "cli-intermediate"))
(ran 1 "init over keys that exist is refused" "init" "--dir" "ca2" "--key" ((tok :uri) "cli-root"))

# The keys are in the token, sensitive and never extractable.
(let [[code out] (softhsm/tool tok "--login" "--pin" pin "--list-objects" "--type" "privkey")]
  (each label ["cli-root" "cli-intermediate"]
    (def at (string/find (string "label:      " label) out))
    (t/ok (and at (string/find "sensitive, always sensitive, never extractable, local" (string/slice out at (min (+ at 300) (length out)))))
          (string "the token holds " label ", sensitive and never extractable: " out))))

(ran 0 "issue" "issue" "svc.example" "10.9.8.7" "--dir" "ca")
(let [[ok out] (verify (file "ca/certs/svc.example.crt"))] (t/ok ok (string "issued by the token key, verifies: " out)))
(def other (exits 0 "issue a second" "issue" "other.example" "--dir" "ca"))
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout" (file "req.key")
           "-subj" "/CN=csr.example" "-addext" "subjectAltName=DNS:csr.example" "-out" (file "req.csr"))
(ran 0 "sign a CSR" "sign" (file "req.csr") "--dir" "ca" "--out" (file "csr.crt"))
(let [[ok out] (verify (file "csr.crt"))] (t/ok ok (string "a signed CSR verifies: " out)))

(def [server port banner] (cli/start-ocsp ctx "ca"))
(t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts on a token key: " banner))
(defn ocsp [path] (cli/ocsp port (file "ca/intermediate.crt") (file "ca/root.crt") path))
(let [[ok status out] (ocsp (file "ca/certs/svc.example.crt"))]
  (t/ok (and ok (= status "good")) (string "openssl ocsp -url: good, signed in the token: " out)))
(ran 0 "revoke" "revoke" (cli/issued-serial other) "--reason" "key-compromise" "--dir" "ca")
(let [[ok status out] (ocsp (file "ca/certs/other.example.crt"))]
  (t/ok (and ok (= status "revoked")) (string "openssl ocsp -url: revoked: " out)))
(ran 0 "renew" "renew" "svc.example" "--dir" "ca")
(let [[ok out] (verify (file "ca/certs/svc.example.crt"))] (t/ok ok (string "the renewed certificate verifies: " out)))
(:kill server true)

(ran 0 "crl" "crl" "--dir" "ca" "--out" (file "ca.crl"))
(let [[code out] (t/openssl "crl" "-in" (file "ca.crl") "-CAfile" (file "ca/intermediate.crt") "-noout" "-text")]
  (t/ok (and (zero? code) (string/find "verify OK" out)) (string "openssl crl verifies the token-signed CRL: " out)))
(let [[clean report] (t/pkilint-clean? "lint_crl" (file "ca.crl") "-t" "CRL" "-p" "PKIX")]
  (t/ok clean (string "pkilint: the token-signed CRL: " report)))

(ran 0 "export a leaf with the chain from the store" "export" "svc.example" "--p12" "--password" "pw" "--dir" "ca"
     "--out" (file "svc.p12"))
(let [[code out] (t/openssl "pkcs12" "-in" (file "svc.p12") "-passin" "pass:pw" "-nokeys" "-cacerts")]
  (t/ok (and (zero? code) (string/find "BEGIN CERTIFICATE" out)) (string "openssl reads the PKCS#12 file's chain: " out)))

# The store: URIs, no key bytes, no PIN.
(def db (string/join (seq [f :in ["ca/ca.db" "ca/ca.db-wal"] :when (os/stat (file f))] (slurp (file f)))))
(t/ok (not (string/find "PRIVATE KEY" db)) "the store holds no private key")
(t/ok (and (string/find "object=cli-root" db) (string/find "object=cli-intermediate" db)) "the store holds both URIs")
(each text [db ;seen]
  (t/ok (not (string/find pin text)) (string "the PIN is not in: " (string/slice text 0 (min 300 (length text))))))

(t/done "cli-pkcs11")

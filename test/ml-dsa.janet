# test-timeout: 1200
# ML-DSA certificates (issue 23; FIPS 204, RFC 9881): roots, intermediates and
# leaves of ML-DSA-44/65/87, mixed chains both ways (an ML-DSA root over EC
# and RSA intermediates, EC and RSA roots over ML-DSA intermediates and
# leaves), CRLs and OCSP responses signed by ML-DSA CAs and by a delegated
# ML-DSA responder. Judged by the OpenSSL 3.5 command line (verify
# -x509_strict, crl, ocsp), pkilint (no ERROR or FATAL), and mldsa-judge, a
# verifier that shares no code with OpenSSL (RustCrypto); each judge also
# fails a flipped signature bit. Then the key usage rules, the private key
# formats (seed, expanded key, both), hostile requests, PKCS#12, the store
# and the tool.
(import jsec/ca)
(import ./support/check :as t)
(import ./support/pq-judges :as pq)
(import ./support/cli)

(def dir (t/tmpdir "ml-dsa"))
(defn path [name] (string dir "/" name))
(defn file [name content] (t/write dir name content))

(def [openssl why] (pq/openssl35))
(unless openssl (t/skip "ml-dsa" why))
(def [judge why] (pq/mldsa-judge))
(unless judge (t/skip "ml-dsa" why))
(defn ossl [& args] (t/run openssl ;args))

# --- chains ------------------------------------------------------------------------------

(def pem-of @{}) # name -> PEM path
(defn cert-file [name pem]
  (def p (file (string name ".pem") pem))
  (put pem-of name p)
  p)

# [root type, intermediate type, leaf types]
(def chains
  [[:ml-dsa-87 :ml-dsa-65 [:ml-dsa-44 :ml-dsa-65 :ml-dsa-87 :ec-p256]]
   [:ml-dsa-65 :ec-p256 [:ec-p256 :ml-dsa-44]]
   [:ml-dsa-44 :rsa-2048 [:rsa-2048 :ml-dsa-65]]
   [:ec-p384 :ml-dsa-65 [:ml-dsa-44 :ec-p256]]
   [:rsa-3072 :ml-dsa-44 [:ml-dsa-87]]])

(def ml-dsa? {:ml-dsa-44 true :ml-dsa-65 true :ml-dsa-87 true})
(def mldsa-jobs @[])   # [kind file issuer] for mldsa-judge: everything an ML-DSA key signed
(def lint-jobs @[])    # [linter file & args] for pkilint
(var first-inter nil)

(eachp [i [root-type inter-type leaf-types]] chains
  (def name (string "chain" i))
  (def root (ca/generate {:common-name (string "PQ Root " i) :key-type root-type}))
  (def inter (ca/generate-intermediate root {:common-name (string "PQ Issuing " i) :key-type inter-type
                                             :crl-url "http://crl.example/pq.crl" :ocsp-url "http://ocsp.example"}))
  (when (zero? i) (set first-inter [root inter]))
  (def root-pem (cert-file (string name "-root") (ca/get-cert root)))
  (def inter-pem (cert-file (string name "-inter") (ca/get-cert inter)))
  (when (ml-dsa? root-type)
    (array/push mldsa-jobs [:cert root-pem root-pem] [:cert inter-pem root-pem]))
  (array/push lint-jobs ["lint_pkix_cert" root-pem] ["lint_pkix_cert" inter-pem])
  (each lt leaf-types
    (def leaf (:issue inter {:common-name "pq.example" :san ["DNS:pq.example"] :key-type lt
                             :extended-key-usage "serverAuth"}))
    (def leaf-pem (cert-file (string name "-leaf-" lt) (leaf :cert)))
    (when (ml-dsa? inter-type) (array/push mldsa-jobs [:cert leaf-pem inter-pem]))
    (array/push lint-jobs ["lint_pkix_cert" leaf-pem])
    (let [[code out] (ossl "verify" "-x509_strict" "-CAfile" root-pem "-untrusted" inter-pem leaf-pem)]
      (t/ok (zero? code) (string name " " root-type " > " inter-type " > " lt ": OpenSSL 3.5 verify -x509_strict: " out))))
  # CRLs of both CAs, one entry revoked with a reason.
  (:revoke inter 77 :key-compromise)
  (def crl (file (string name ".crl") (:generate-crl inter)))
  (def root-crl (file (string name "-root.crl") (:generate-crl root)))
  (each [c issuer] [[crl inter-pem] [root-crl root-pem]]
    (let [[code out] (ossl "crl" "-in" c "-CAfile" issuer "-noout")]
      (t/ok (and (zero? code) (string/find "verify OK" out)) (string name ": OpenSSL 3.5 crl verifies " c ": " out)))
    (array/push lint-jobs ["lint_crl" c "-t" "CRL" "-p" "PKIX"]))
  (when (ml-dsa? inter-type) (array/push mldsa-jobs [:crl crl inter-pem]))
  (when (ml-dsa? root-type) (array/push mldsa-jobs [:crl root-crl root-pem]))
  # An OCSP response from the intermediate, for the first leaf, with a nonce.
  (def leaf-pem (pem-of (string name "-leaf-" (first leaf-types))))
  (def req (path (string name "-req.der")))
  (ossl "ocsp" "-issuer" inter-pem "-cert" leaf-pem "-reqout" req)
  (def resp (file (string name "-resp.der") (ca/create-ocsp-response inter (ca/parse-ocsp-request (slurp req)) :good)))
  (let [[code out] (ossl "ocsp" "-respin" resp "-reqin" req "-issuer" inter-pem "-CAfile" root-pem "-resp_text")]
    (t/ok (and (zero? code) (string/find "Response verify OK" out) (string/find "Cert Status: good" out))
          (string name ": OpenSSL 3.5 ocsp verifies the response and its nonce: " out)))
  (array/push lint-jobs ["lint_ocsp_response" resp])
  (when (ml-dsa? inter-type) (array/push mldsa-jobs [:ocsp resp inter-pem])))

# A delegated responder with an ML-DSA key, under an EC intermediate.
(let [root (ca/generate {:common-name "Delegating Root" :key-type :ec-p256})
      responder (:issue root {:common-name "PQ OCSP Responder" :key-type :ml-dsa-65 :extended-key-usage "OCSPSigning"})
      leaf (:issue root {:common-name "served.example"})
      root-pem (cert-file "delegating-root" (ca/get-cert root))
      responder-pem (cert-file "responder" (responder :cert))
      leaf-pem (cert-file "served" (leaf :cert))
      req (path "delegated-req.der")]
  (ossl "ocsp" "-issuer" root-pem "-cert" leaf-pem "-reqout" req)
  (def resp (file "delegated-resp.der"
                  (ca/create-ocsp-response root (ca/parse-ocsp-request (slurp req)) :good
                                           {:responder {:cert (responder :cert) :key (responder :key)}})))
  (let [[code out] (ossl "ocsp" "-respin" resp "-reqin" req "-issuer" root-pem "-CAfile" root-pem
                         "-verify_other" responder-pem "-resp_text")]
    (t/ok (and (zero? code) (string/find "Response verify OK" out))
          (string "OpenSSL 3.5 verifies a response signed by a delegated ML-DSA responder: " out)))
  (array/push mldsa-jobs [:ocsp resp responder-pem])
  (array/push lint-jobs ["lint_ocsp_response" resp] ["lint_pkix_cert" responder-pem]))

# --- the independent verifier and pkilint ------------------------------------------------

(def results (pq/verdicts judge mldsa-jobs))
(t/same (length results) (length mldsa-jobs) "mldsa-judge answers every job")
(eachp [i [kind f]] mldsa-jobs
  (t/same (get results i) "ok" (string "mldsa-judge (RustCrypto ml-dsa) verifies " kind " " f)))
(each [linter f & args] lint-jobs
  (def [clean report] (t/pkilint-clean? linter f ;args))
  (t/ok clean (string "pkilint " linter " " f ": " report)))

# Negative controls: a certificate, a CRL and an OCSP response with one signature bit flipped.
(defn flip-last [f name]
  (def der (buffer (if (string/has-suffix? ".der" f) (slurp f)
                     (let [out (path (string name ".tmp.der"))]
                       (ossl (if (string/has-suffix? ".crl" f) "crl" "x509") "-in" f "-outform" "DER" "-out" out)
                       (slurp out)))))
  (def at (- (length der) 10))
  (put der at (bxor (der at) 1))
  (file name der))
(def bad-cert (flip-last (pem-of "chain0-leaf-ml-dsa-44") "flipped-cert.der"))
(def bad-crl (flip-last (path "chain0.crl") "flipped-crl.der"))
# An OCSP response ends with the signer's certificate: flip a digit of producedAt
# (a GeneralizedTime, tag 0x18, 15 bytes) in the signed ResponseData instead.
(def bad-resp
  (let [der (buffer (slurp (path "chain0-resp.der")))
        at (+ 4 (string/find "\x18\x0f" der))]
    (put der at (bxor (der at) 1))
    (file "flipped-resp.der" der)))
(def inter0 (pem-of "chain0-inter"))
(def bad-results (pq/verdicts judge [[:cert bad-cert inter0] [:crl bad-crl inter0] [:ocsp bad-resp inter0]
                                     [:cert (pem-of "chain0-leaf-ml-dsa-44") (pem-of "chain0-root")]]))
(each [i what] [[0 "a flipped certificate signature"] [1 "a flipped CRL signature"] [2 "a flipped OCSP signature"]
                [3 "a certificate against the wrong issuer"]]
  (t/ok (string/has-prefix? "error" (get bad-results i "")) (string "negative control: mldsa-judge fails " what ": "
                                                                   (get bad-results i))))
(let [bad-pem (path "flipped-cert.pem")]
  (ossl "x509" "-inform" "DER" "-in" bad-cert "-out" bad-pem)
  (let [[code out] (ossl "verify" "-x509_strict" "-CAfile" (pem-of "chain0-root") "-untrusted" inter0 bad-pem)]
    (t/ok (not (zero? code)) (string "negative control: OpenSSL 3.5 verify fails a flipped ML-DSA signature: " out))))
(let [[code out] (ossl "crl" "-inform" "DER" "-in" bad-crl "-CAfile" inter0 "-noout")]
  (t/ok (not (string/find "verify OK" out)) (string "negative control: OpenSSL 3.5 crl fails a flipped signature: " out)))
(let [[code out] (ossl "ocsp" "-respin" bad-resp "-reqin" (path "chain0-req.der") "-issuer" inter0
                       "-CAfile" (pem-of "chain0-root"))]
  (t/ok (not (string/find "Response verify OK" out))
        (string "negative control: OpenSSL 3.5 ocsp fails a flipped signature: " out)))

# --- RFC 9881 rules ---------------------------------------------------------------------------

(def [root0 inter0-ca] first-inter)
(each usage ["keyEncipherment" "dataEncipherment" "keyAgreement" "keyAgreement,encipherOnly"]
  (t/raises |(:issue inter0-ca {:common-name "x.example" :key-type :ml-dsa-44 :key-usage (string "digitalSignature," usage)})
            (string "an ML-DSA leaf with " usage " is refused") "[CA:PARAM]" "ML-DSA"
            (first (string/split "," usage))))
(let [c (:issue inter0-ca {:common-name "nr.example" :key-type :ml-dsa-65 :key-usage "digitalSignature,nonRepudiation"})]
  (let [[code out] (ossl "x509" "-in" (file "nr.pem" (c :cert)) "-noout" "-ext" "keyUsage")]
    (t/ok (string/find "Digital Signature, Non Repudiation" out) (string "digitalSignature,nonRepudiation allowed: " out))))
# The AlgorithmIdentifiers: OID and no parameters, in the certificate and its key.
(let [[code out] (ossl "asn1parse" "-in" (pem-of "chain0-leaf-ml-dsa-44"))]
  (t/ok (and (string/find ":ML-DSA-65" out) (string/find ":ML-DSA-44" out) (not (string/find "NULL" out)))
        (string "signature and key AlgorithmIdentifiers carry the ML-DSA OIDs and no parameters: " out)))

# --- private key formats ----------------------------------------------------------------------

(def key87 (file "root87.key" (ca/get-key root0)))
(let [[code out] (ossl "pkey" "-in" key87 "-text" "-noout")]
  (t/ok (and (string/find "seed:" out) (string/find "priv:" out))
        (string "a :key PEM carries both the seed and the expanded key: " (string/slice out 0 (min 200 (length out))))))
(each fmt ["seed-only" "priv-only" "seed-priv"]
  (def out-key (path (string "root87-" fmt ".key")))
  (def [code out] (ossl "pkey" "-in" key87 "-out" out-key "-provparam" (string "ml-dsa.output_formats=" fmt)))
  (t/ok (zero? code) (string "OpenSSL 3.5 re-encodes the key as " fmt ": " out))
  (def loaded (try (ca/create (ca/get-cert root0) (slurp out-key)) ([e] e)))
  (t/ok (= :ca/CA (type loaded)) (string "ca/create reads an ML-DSA key of form " fmt ": " loaded))
  (when (= :ca/CA (type loaded))
    (def leaf (:issue loaded {:common-name (string fmt ".example") :key-type :ec-p256}))
    (def leaf-pem (file (string fmt "-leaf.pem") (leaf :cert)))
    (t/same (pq/verdicts judge [[:cert leaf-pem (pem-of "chain0-root")]]) @["ok"]
            (string "a CA loaded from a " fmt " key signs with it"))))

# --- hostile requests -------------------------------------------------------------------------

(def make-csrs ```
import os, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "test/support")
from hostile_der import *
from cryptography.hazmat.primitives.asymmetric import mldsa
out = sys.argv[1]
def write(name, data):
    open(os.path.join(out, name), "wb").write(data)
ML65 = "2.16.840.1.101.3.4.3.18"
k, other = mldsa.MLDSA65PrivateKey.generate(), mldsa.MLDSA65PrivateKey.generate()
pub = k.public_key().public_bytes_raw()
subject = simple_name((OID_CN, "pq-csr.example", "utf8"))
def csr(spki, signer=k, sig_oid=ML65):
    body = info(None, subject, spki=spki)
    return seq(body, seq(oid(sig_oid)), bit_string(signer.sign(body)))
good = seq(seq(oid(ML65)), bit_string(pub))
write("good.der", csr(good))
write("params.der", csr(seq(seq(oid(ML65), b"\x05\x00"), bit_string(pub))))
write("short.der", csr(seq(seq(oid(ML65)), bit_string(pub[:-1]))))
write("long.der", csr(seq(seq(oid(ML65)), bit_string(pub + b"\x00"))))
write("other-key.der", csr(good, signer=other))
write("wrong-set.der", csr(good, sig_oid="2.16.840.1.101.3.4.3.17"))
print("ok")
```)
(let [[code out] (t/python make-csrs dir)]
  (t/ok (zero? code) (string "Python builds the ML-DSA requests: " out)))
(defn csr [name] (slurp (path name)))
(def signed (try (:sign-csr inter0-ca (csr "good.der") {:san ["DNS:pq-csr.example"]}) ([e] e)))
(t/ok (string/has-prefix? "-----BEGIN CERTIFICATE-----" (string signed)) (string "a good ML-DSA CSR is signed: " signed))
(when (string/has-prefix? "-----BEGIN CERTIFICATE-----" (string signed))
  (def p (file "csr-signed.pem" signed))
  (t/same (pq/verdicts judge [[:cert p inter0]]) @["ok"] "mldsa-judge verifies the signed CSR's certificate")
  (let [[code out] (ossl "verify" "-x509_strict" "-CAfile" (pem-of "chain0-root") "-untrusted" inter0 p)]
    (t/ok (zero? code) (string "OpenSSL 3.5 verifies it: " out))))
(t/raises |(:sign-csr inter0-ca (csr "params.der")) "an ML-DSA SPKI with parameters is refused" "[CA:PARSE]" "parameters")
(t/raises |(:sign-csr inter0-ca (csr "short.der")) "an ML-DSA key one byte short is refused" "[CA:PARSE]" "1952")
(t/raises |(:sign-csr inter0-ca (csr "long.der")) "an ML-DSA key one byte long is refused" "[CA:PARSE]" "1952")
(t/raises |(:sign-csr inter0-ca (csr "other-key.der")) "a CSR signed by another key is refused" "[CA:VERIFY]")
(t/raises |(:sign-csr inter0-ca (csr "wrong-set.der")) "a CSR naming another parameter set is refused" "[CA:VERIFY]"
          "ML-DSA-65")
(t/raises |(:sign-csr inter0-ca (csr "good.der") {:key-usage "keyEncipherment"})
          "an ML-DSA request given keyEncipherment is refused" "[CA:PARAM]" "keyEncipherment")
(t/raises |(ca/generate {:key-type :ml-dsa-65 :key "pkcs11:object=x?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1"})
          "ML-DSA keys are not made in tokens" "[CA:PARAM]" "ml-dsa-65")

# ca/issue-async: the ML-DSA key made on a thread of the event loop.
(let [leaf (:issue-async inter0-ca {:common-name "async.example" :key-type :ml-dsa-87})
      p (file "async-leaf.pem" (leaf :cert))]
  (t/same (pq/verdicts judge [[:cert p inter0]]) @["ok"] "ca/issue-async issues an ML-DSA-87 leaf that mldsa-judge verifies")
  (let [[code out] (ossl "pkey" "-in" (file "async-leaf.key" (leaf :key)) "-check" "-noout")]
    (t/ok (zero? code) (string "OpenSSL 3.5 checks its ML-DSA-87 key: " out))))

# --- sizes: PKCS#12, the store, OCSP over HTTP, the tool ------------------------------------

(let [leaf (:issue inter0-ca {:common-name "p12.example" :key-type :ml-dsa-87})
      p12 (file "pq.p12" (ca/pkcs12 (leaf :cert) (leaf :key) {:password "pw" :chain [(ca/get-cert inter0-ca)]}))
      [code out] (ossl "pkcs12" "-in" p12 "-passin" "pass:pw" "-info" "-noout")]
  (t/ok (zero? code) (string "OpenSSL 3.5 reads a PKCS#12 file holding an ML-DSA-87 key: " out)))

(let [store (ca/open-store (path "pq.sqlite"))]
  (:save store "pq" inter0-ca)
  (def again (:load store "pq"))
  (def leaf (:issue again {:common-name "stored.example" :key-type :ml-dsa-87}))
  (def p (file "stored-leaf.pem" (leaf :cert)))
  (t/same (pq/verdicts judge [[:cert p inter0]]) @["ok"] "an ML-DSA CA saved in and loaded from a store signs")
  (t/same ((get (:find store "pq" {:serial (leaf :serial)}) 0 {}) :cert) (leaf :cert)
          "the store indexes an ML-DSA-87 certificate whole")
  (ca/store-close store))

(def work (path "tool"))
(os/mkdir work)
(def ctx (cli/context work {}))
(cli/exits ctx 0 "jsec-ca init --key-type ml-dsa-65" "init" "--dir" "ca" "--intermediate" "--key-type" "ml-dsa-65")
(cli/exits ctx 0 "jsec-ca issue on ML-DSA CAs" "issue" "tool.example" "--key-type" "ml-dsa-44" "--dir" "ca")
(def tool-leaf (cli/file ctx "ca/certs/tool.example.crt"))
(let [[code out] (ossl "verify" "-x509_strict" "-CAfile" (cli/file ctx "ca/root.crt") "-untrusted"
                       (cli/file ctx "ca/intermediate.crt") tool-leaf)]
  (t/ok (zero? code) (string "the tool's ML-DSA chain verifies: " out)))
(def [server port banner] (cli/start-ocsp ctx "ca"))
(t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts with an ML-DSA-65 CA: " banner))
(let [[code out] (ossl "ocsp" "-issuer" (cli/file ctx "ca/intermediate.crt") "-cert" tool-leaf
                       "-url" (string "http://127.0.0.1:" port) "-CAfile" (cli/file ctx "ca/root.crt"))]
  (t/ok (and (string/find "Response verify OK" out) (string/find ": good" out))
        (string "OpenSSL 3.5 ocsp -url: an ML-DSA-signed answer from ocsp-serve: " out)))
(:kill server true)

(t/done "ml-dsa")

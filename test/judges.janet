# The judges can fail: each judge in test/support/check.janet is shown a
# document it must reject and one it must accept. A judge that passes
# everything proves nothing about the certificates the other suites show it.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "judges"))
(defn file [name content] (t/write dir name content))

(def root (ca/generate {:common-name "Judges Root"}))
(def other-root (ca/generate {:common-name "Judges Other Root"}))
(def leaf (ca/issue root {:common-name "leaf.example" :san ["DNS:leaf.example"]}))
(def root-pem (file "root.pem" (ca/get-cert root)))
(def other-pem (file "other.pem" (ca/get-cert other-root)))
(def leaf-pem (file "leaf.pem" (leaf :cert)))

(defn der-of [pem-path name]
  (def out (string dir "/" name))
  (t/openssl "x509" "-in" pem-path "-outform" "DER" "-out" out)
  out)
(def leaf-der-path (der-of leaf-pem "leaf.der"))
(def leaf-der (slurp leaf-der-path))

# --- the assertions themselves: a failed check fails the suite ------------------

# The child imports copies of the helpers beside it: Janet 1.36 and 1.40
# cannot import a .janet file by absolute path.
(each helper ["check.janet" "child.janet"]
  (file helper (slurp (string "test/support/" helper))))
(defn child-suite
  "Runs `body` (Janet source using `t/`) in a child interpreter, with the
  extra environment `env`; returns [code output]."
  [body &opt env]
  (def script (file (string "child-" (math/floor (* 1e6 (math/random))) ".janet")
                    (string/format "(import ./check :as t)\n%s\n(t/done \"child\")\n" body)))
  (t/run-in (merge {"JANET_PATH" (t/module-root) "CI" ""} (or env {})) nil (t/janet-exe) script))

(each [body what] [["(t/ok false \"x\")" "t/ok of false"]
                   ["(t/ok nil \"x\")" "t/ok of nil"]
                   ["(t/same 1 2 \"x\")" "t/same of different values"]
                   ["(t/same [1] @[1] \"x\")" "t/same of a tuple and an array"]
                   ["(t/raises |1 \"x\")" "t/raises when nothing raises"]
                   ["(t/raises |(error \"[CA:PARAM] a\") \"x\" \"[CA:PARSE]\")" "t/raises with the wrong error"]]
  (def [code out] (child-suite body))
  (t/ok (and (= code 1) (string/find "child: 0 passed, 1 failed" out))
        (string/format "%s fails the suite: exit %d, %s" what code out)))
(let [[code out] (child-suite "(t/ok true \"x\") (t/same [1] [1] \"x\") (t/raises |(error \"[CA:PARAM] a\") \"x\" \"[CA:PARAM]\")")]
  (t/ok (and (zero? code) (string/find "child: 3 passed, 0 failed" out))
        (string/format "passing checks pass the suite: exit %d, %s" code out)))
# a caught panic is never the refusal a check wants, however its needles match
(let [[code out] (child-suite (string "(t/raises |(error \"[CA:RESOURCE] " t/caught-panic
                                      " (a bug: please report it)\") \"x\" \"[CA:\")"))]
  (t/ok (and (= code 1) (string/find "child: 0 passed, 1 failed" out) (string/find "caught panic" out))
        (string/format "t/raises of a caught panic fails the suite: exit %d, %s" code out)))
(t/ok (t/refusal? "[CA:PARAM] no") "t/refusal? of a [CA:PARAM] error")
(t/ok (t/refusal? "[CA:RESOURCE] gone" "[CA:RESOURCE]") "t/refusal? of the category asked for")
(t/ok (not (t/refusal? "[CA:PARAM] no" "[CA:RESOURCE]")) "t/refusal? not of another category")
(t/ok (not (t/refusal? (string "[CA:RESOURCE] " t/caught-panic " (a bug)"))) "t/refusal? not of a caught panic")
(t/ok (not (t/refusal? "boom")) "t/refusal? not of an error without a category")
# a suite that checked nothing has not passed
(let [[code out] (child-suite "")]
  (t/ok (and (= code 1) (string/find "ran no checks" out))
        (string/format "a suite with no checks fails: exit %d, %s" code out)))
# t/skip: a SKIP line and exit 0, or exit 1 in CI
(let [[code out] (child-suite "(t/skip \"child\" \"no frobnicator\")")]
  (t/ok (and (zero? code) (string/find "SKIP: child: no frobnicator" out) (not (string/find "child: 0 passed" out)))
        (string/format "t/skip prints a SKIP line and exits 0 there and then: exit %d, %s" code out)))
(let [[code out] (child-suite "(t/skip \"child\" \"no frobnicator\")" {"CI" "true"})]
  (t/ok (and (= code 1) (string/find "SKIP: child: no frobnicator" out))
        (string/format "t/skip fails in CI: exit %d, %s" code out)))

# --- t/run reports a failing command as failing --------------------------------

(t/same (first (t/run "false")) 1 "t/run reports the exit status of a failing command")
(t/same (first (t/run "true")) 0 "t/run reports success")

# --- pkilint ------------------------------------------------------------------

(defn linted [linter path & extra] (t/pkilint-clean? linter path ;extra))
(defn rejects [what [clean report] & needles]
  (t/ok (and (not clean) (all |(string/find $ report) needles))
        (string/format "pkilint judge fails %s, saying %q: got clean=%q, %s" what needles clean report)))
(defn accepts [what [clean report]]
  (t/ok clean (string "pkilint judge passes " what ": " report)))

(def garbage (file "garbage.der" "this is not DER at all\n"))
(def empty (file "empty.der" ""))
(def truncated (file "truncated.der" (string/slice leaf-der 0 (div (length leaf-der) 2))))
(def trailing (file "trailing.der" (string leaf-der "\x05\x00")))

# an X.509 v3 CA certificate without keyUsage: pkilint reports
# pkix.ca_certificate_no_ku_extension (ERROR)
(t/openssl "req" "-x509" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
           "-keyout" (string dir "/noku.key") "-subj" "/CN=No KU CA" "-days" "2"
           "-addext" "basicConstraints=critical,CA:TRUE" "-out" (string dir "/noku.pem"))
(def no-ku (string dir "/noku.pem"))

(def crl-der (file "root.crl" (ca/crl root {})))
(def ocsp-good
  (do
    (t/openssl "ocsp" "-issuer" root-pem "-cert" leaf-pem "-no_nonce" "-reqout" (string dir "/req.der"))
    (def info (ca/parse-ocsp-request (slurp (string dir "/req.der"))))
    (file "good-resp.der" (ca/create-ocsp-response root info :good {}))))

(def fake-stops (file "fake-stops.sh" "#!/bin/sh\necho '{\"results\": []}'\nexit 3\n"))
(def fake-silent (file "fake-silent.sh" "#!/bin/sh\nexit 0\n"))
(os/chmod fake-stops 8r755)
(os/chmod fake-silent 8r755)

(def lints
  (ev/gather
    (linted "lint_pkix_cert" garbage)
    (linted "lint_pkix_cert" empty)
    (linted "lint_pkix_cert" truncated)
    (linted "lint_pkix_cert" trailing)
    (linted "lint_pkix_cert" no-ku)
    (linted "lint_pkix_cert" leaf-pem)
    (linted "lint_pkix_cert" root-pem)
    (linted "lint_ocsp_response" empty)
    (linted "lint_ocsp_response" garbage)
    (linted "lint_ocsp_response" leaf-der-path)
    (linted "lint_ocsp_response" ocsp-good)
    (linted "lint_crl" garbage "-t" "CRL" "-p" "PKIX")
    (linted "lint_crl" crl-der "-t" "CRL" "-p" "PKIX")))
(def [l-garbage l-empty l-truncated l-trailing l-noku l-leaf l-root
      o-empty o-garbage o-cert o-good c-garbage c-good] lints)

(rejects "a certificate file that is not DER" l-garbage "could not read")
(rejects "an empty certificate file" l-empty "empty")
(rejects "a truncated certificate" l-truncated)
(rejects "a certificate followed by other bytes" l-trailing)
(rejects "a CA certificate without keyUsage (an ERROR finding)" l-noku "ERROR pkix.ca_certificate_no_ku_extension")
(accepts "a leaf jsec/ca issued" l-leaf)
(accepts "a root jsec/ca generated" l-root)
(rejects "an empty OCSP response file" o-empty "empty")
(rejects "an OCSP response that is not DER" o-garbage "could not read")
(rejects "a certificate given as an OCSP response" o-cert)
(accepts "an OCSP response jsec/ca signed" o-good)
(rejects "a CRL that is not DER" c-garbage "could not read")
(accepts "a CRL jsec/ca signed" c-good)
(rejects "a linter that stops early with a nonzero exit" (linted fake-stops leaf-pem) "did not finish")
(rejects "a linter that prints nothing" (linted fake-silent leaf-pem) "could not read")
(rejects "a linter that is not installed" (linted (string dir "/no-such-linter") leaf-pem))

# --- openssl verify -------------------------------------------------------------

(defn verify-code [ca-path cert-path & extra]
  (first (t/openssl "verify" "-x509_strict" ;extra "-CAfile" ca-path cert-path)))
(t/same (verify-code root-pem leaf-pem) 0 "openssl verify accepts the right chain")
(t/ok (not= 0 (verify-code other-pem leaf-pem)) "openssl verify fails a leaf against another root")
(t/ok (not= 0 (verify-code root-pem garbage)) "openssl verify fails a file that is not a certificate")
(t/ok (not= 0 (verify-code root-pem leaf-pem "-verify_hostname" "other.example"))
      "openssl verify fails a host name the leaf does not carry")
(def tampered-pem
  (do
    # flip one byte inside the signed part (the subject's CN), keep the DER well formed
    (def at (+ (length "leaf.ex") (string/find "leaf.example" leaf-der)))
    (def bytes (buffer leaf-der))
    (put bytes at (chr "X"))
    (def path (file "tampered.der" bytes))
    (def pem-path (string dir "/tampered.pem"))
    (t/openssl "x509" "-inform" "DER" "-in" path "-out" pem-path)
    pem-path))
(t/ok (not= 0 (verify-code root-pem tampered-pem)) "openssl verify fails a certificate whose signed bytes changed")

# --- Python cryptography (t/python-data) ------------------------------------------

(def load-cert ```
from cryptography import x509
c = x509.load_der_x509_certificate(open(sys.argv[1], "rb").read())
emit({"cn": c.subject.rfc4514_string(), "sans": len(c.extensions)})
```)
(t/ok (t/python-data load-cert leaf-der-path) "cryptography loads a certificate jsec/ca issued")
(t/same (t/python-data load-cert garbage) nil "cryptography fails a file that is not a certificate")
(t/same (t/python-data load-cert truncated) nil "cryptography fails a truncated certificate")
(t/same (t/python-data "emit(1)\nraise SystemExit(2)") nil "python-data fails a script that exits nonzero")
(t/same (t/python-data "emit([1, 2])") [1 2] "python-data returns what the script emitted")

(t/same (get (t/cert-facts leaf-pem) :san) ["DNS:leaf.example"] "t/cert-facts reads the SAN of a certificate")
(t/same (t/cert-facts garbage) nil "t/cert-facts fails a file that is not a certificate")
(t/same (get (t/cert-facts tampered-pem) :subject-attrs) [["2.5.4.3" "leaf.exXmple"]]
        "t/cert-facts reads what the certificate says, changed subject and all")

(def verify-chain ```
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
root = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
leaf = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
PolicyBuilder().store(Store([root])).build_server_verifier(x509.DNSName("leaf.example")).verify(leaf, [])
emit(True)
```)
(t/same (t/python-data verify-chain root-pem leaf-pem) true "cryptography's verifier accepts the right chain")
(t/same (t/python-data verify-chain other-pem leaf-pem) nil "cryptography's verifier fails a leaf against another root")
(t/same (t/python-data verify-chain root-pem tampered-pem) nil
        "cryptography's verifier fails a certificate whose signed bytes changed")

(t/done "judges")

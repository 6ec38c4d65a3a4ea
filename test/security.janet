# Security properties of the CA, each judged by openssl or Python cryptography.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "security"))
(def root (ca/generate {:common-name "Security Root" :track-issued true}))
(def root-pem (t/write dir "root.pem" (ca/get-cert root)))

(def inspect ```
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
oids = [e.oid.dotted_string for e in c.extensions]
bc = c.extensions.get_extension_for_class(x509.BasicConstraints).value
ku = c.extensions.get_extension_for_class(x509.KeyUsage).value
try:
    san = [str(n.value) for n in c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value]
except x509.ExtensionNotFound:
    san = []
cns = c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
orgs = c.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
emit({"cn_count": len(cns), "orgs": [o.value for o in orgs], "oids": oids, "ca": bc.ca, "cert_sign": ku.key_cert_sign, "crl_sign": ku.crl_sign,
      "san": san, "subject": c.subject.rfc4514_string(), "serial": c.serial_number})
```)

(defn view [pem]
  (or (t/python-data inspect (t/write dir "view.pem" pem)) {}))

(defn no-duplicate-oids? [v]
  (= (length (v :oids)) (length (distinct (v :oids)))))

# --- no requester-controlled extension makes an end-entity a CA --------------

(defn make-csr [name & addext]
  (def key (t/write dir (string name ".key") ""))
  (def out (string dir "/" name ".csr"))
  (def [code msg] (t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
                             "-keyout" key "-subj" (string "/CN=" name) "-out" out
                             ;(mapcat |["-addext" $] addext)))
  (t/ok (zero? code) (string "openssl req makes the CSR " name ": " msg))
  (slurp out))

(def hostile-csr (make-csr "evil" "basicConstraints=critical,CA:TRUE,pathlen:5"
                           "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
                           "subjectAltName=DNS:evil.example"
                           "nameConstraints=critical,permitted;DNS:evil.example"))
(each opts [{} {:copy-extensions true} {:copy-extensions true :key-usage "digitalSignature"}
            {:copy-extensions true :extended-key-usage "serverAuth"} {:copy-extensions true :san ["DNS:x.example"]}]
  (def v (view (ca/sign root hostile-csr opts)))
  (def what (string/format "CSR asking for CA:TRUE and keyCertSign, signed with %q" opts))
  (t/ok (= false (v :ca)) (string what ": basicConstraints stays CA:FALSE"))
  (t/ok (not (v :cert_sign)) (string what ": no keyCertSign"))
  (t/ok (not (v :crl_sign)) (string what ": no cRLSign"))
  (t/ok (no-duplicate-oids? v) (string what ": no extension OID twice"))
  (t/ok (not (find |(= $ "2.5.29.30") (v :oids))) (string what ": requested name constraints are never copied")))
(t/same ((view (ca/sign root hostile-csr {:copy-extensions true})) :san) ["evil.example"]
        "the requested SAN is copied with :copy-extensions")

# The operator cannot make an end-entity sign certificates by accident either.
(t/raises |(ca/sign root hostile-csr {:key-usage "keyCertSign"}) "keyCertSign without CA:TRUE" "[CA:PARAM]" "keyCertSign")
(t/raises |(ca/issue root {:common-name "x" :key-usage "cRLSign"}) "cRLSign on ca/issue" "[CA:PARAM]" "cRLSign")
(t/raises |(ca/issue root {:common-name "x" :key-usage "keyEncipherment"}) "keyEncipherment on an EC key"
          "[CA:PARAM]" "keyEncipherment")

# --- no string option can inject names or extensions --------------------------

(def injections
  ["evil.example,DNS:injected.example" "evil.example\nDNS:injected.example" "evil.example\0injected"
   "@san_section" "critical,DNS:injected.example" "evil.example, IP:1.2.3.4" "evil.example/CN=injected"])
(each s injections
  (def [ok result] (try [true (ca/issue root {:common-name "inject.example" :san [(string "DNS:" s)]})]
                        ([e] [false e])))
  (if ok
    (t/same ((view (result :cert)) :san) [s] (string/format "SAN %q is one name, never two" s))
    (t/ok (string/has-prefix? "[CA:PARAM]" result) (string/format "SAN %q is refused cleanly: %s" s result))))
(each s ["Acme, CN=injected" "Acme\nCN=injected" "Acme/CN=injected" "Acme+CN=injected"]
  (def [ok result] (try [true (ca/issue root {:common-name "org.example" :organization s})] ([e] [false e])))
  (if ok
    (let [v (view (result :cert))]
      (t/same (v :cn_count) 1 (string/format "organization %q cannot add a CN" s))
      (t/same (v :orgs) [s] (string/format "organization %q is kept as one value" s)))
    (t/ok (string/has-prefix? "[CA:PARAM]" result) (string/format "organization %q is refused cleanly" s))))
(each eku ["serverAuth,1.2.3.4\nbasicConstraints=CA:TRUE" "@section" "critical,CA:TRUE"]
  (t/raises |(ca/issue root {:common-name "e.example" :extended-key-usage eku})
            (string/format ":extended-key-usage %q" eku) "[CA:PARAM]"))
(t/raises |(ca/sign root hostile-csr {:basic-constraints "CA:FALSE\nkeyUsage=keyCertSign"})
          ":basic-constraints with injected config" "[CA:PARAM]")

# --- encrypted keys never prompt, even with a terminal attached ----------------

(def encrypted (ca/get-key root {:password "correct horse"}))
(def key-path (t/write dir "enc.key" encrypted))
(def prompt-script (t/write dir "prompt.janet" (string/format ```
(import jsec/ca)
(def r (try (ca/create (slurp %q) (slurp %q)) ([e] e)))
(print "result: " r)
``` root-pem key-path)))
(def have-script (zero? (first (t/run "sh" "-c" "command -v script"))))
(t/ok have-script
      "util-linux `script` is installed (Debian: bsdutils; scripts/setup installs it): the prompt check needs a terminal")
(when have-script
  (let [cmd (string/format "JANET_PATH=%s timeout 20 %s %s" (t/module-root) (t/janet-exe) prompt-script)
        [code out] (t/run "timeout" "30" "script" "-qec" cmd "/dev/null")]
    (t/ok (string/find "[CA:PARAM] the private key is encrypted" out)
          (string "with a terminal attached, an encrypted key without :password is an error, not a prompt: " out))
    (t/ok (not (string/find "Enter" out)) "nothing asked for a pass phrase")))
(t/raises |(ca/create (ca/get-cert root) encrypted) "encrypted key without :password" "[CA:PARAM]" ":password")
(t/raises |(ca/create (ca/get-cert root) encrypted {:password "wrong"}) "wrong :password" "[CA:VERIFY]" ":password")

# --- a failed call never changes the CA ---------------------------------------

(defn state [] [(ca/get-serial root) (ca/get-revoked root) (length (ca/get-issued root)) (ca/get-crl-number root)])
(:revoke root 77 :certificate-hold)
(def before (state))
(each [f what] [[|(ca/issue root {:common-name "x" :san ["BAD:x"]}) "issue with a bad SAN"]
                [|(ca/issue root {:common-name "x" :days-valid 0}) "issue with zero days"]
                [|(ca/issue root {:common-name "x" :key-type :nope}) "issue with a bad key type"]
                [|(ca/sign root "not a csr") "sign garbage"]
                [|(ca/sign root hostile-csr {:not-before 2000000000 :not-after 1900000000}) "sign with a reversed validity"]
                [|(ca/sign root hostile-csr {:serial 0}) "sign with serial 0"]
                [|(ca/revoke root 5 :remove-from-crl) "release a serial not on hold"]
                [|(ca/revoke root -1) "revoke a negative serial"]
                [|(ca/crl root {:days-valid -1}) "CRL with negative days"]
                [|(ca/crl root {:revoked [{:serial 1} {:reason :superseded}]}) "CRL with a bad extra entry"]
                [|(ca/set-serial root 0) "set-serial 0"]
                [|(ca/generate-intermediate root {:days-valid -5}) "intermediate with negative days"]]
  (t/raises f what "[CA:")
  (t/same (state) before (string "after a failed " what ", serial, revocations, tracked certs and CRL number are unchanged")))

# --- serials never repeat -------------------------------------------------------

(def csr (make-csr "plain"))
# Explicit serials below the counter: it stays, and skips them when it gets there.
(ca/set-serial root 1001)
(def explicit (ca/sign root csr {:serial 1000}))
(ca/set-serial root 999)
(def serials (seq [_ :range [0 3]] ((view ((ca/issue root {:common-name "s.example"}) :cert)) :serial)))
(t/same serials @[999 1001 1002] "the counter skips a serial already used explicitly")
(t/raises |(ca/sign root csr {:serial 1000}) "an explicit serial already used" "[CA:PARAM]" "already used")
(def root-serial ((view (ca/get-cert root)) :serial))
(t/ok (>= root-serial (math/pow 2 64)) "the root's own serial is random and above every counter value")

(t/done "security")

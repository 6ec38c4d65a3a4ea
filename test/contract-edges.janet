# Edges of the contract a careful reader tests: OCSP responses a client that
# trusts only the root can verify, request-info tables edited by hand,
# revocation reasons that cannot be undone, OpenSSL's names and list syntax.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "edges"))
(defn file [name content] (t/write dir name content))

# --- OCSP: verifiable with -CAfile alone, nonce intact ------------------------

(def root (ca/generate {:common-name "Edges Root"}))
(def inter (ca/generate-intermediate root {:common-name "Edges Issuing CA"}))
(def root-pem (file "root.pem" (ca/get-cert root)))

(defn ocsp-roundtrip
  "Asks `ca` about `leaf-pem` with an openssl-made request (nonce included) and
  checks the response with openssl, trusting only the root."
  [ca leaf-pem status &opt opts]
  (def issuer (file "issuer.pem" (ca/get-cert ca)))
  (def leaf (file "leaf.pem" leaf-pem))
  (def req (string dir "/req.der"))
  (t/openssl "ocsp" "-issuer" issuer "-cert" leaf "-reqout" req)
  (def resp (file "resp.der" (ca/create-ocsp-response ca (ca/parse-ocsp-request (slurp req)) status opts)))
  (t/openssl "ocsp" "-reqin" req "-respin" resp "-CAfile" root-pem "-resp_text"))

(each [ca what] [[root "the root"] [inter "an intermediate"]]
  (def leaf (:issue ca {:common-name "o.example"}))
  (let [[code out] (ocsp-roundtrip ca (leaf :cert) :good)]
    (t/ok (string/find "Response verify OK" out)
          (string "a response signed by " what " verifies with -CAfile root.pem alone: " out))
    (t/ok (not (string/find "WARNING" out)) (string "no nonce warning for " what))))

# --- OCSP: the documented top-level fields win over :requests -----------------

(def leaf (:issue root {:common-name "top.example"}))
(def req-path (string dir "/top.der"))
(t/openssl "ocsp" "-issuer" root-pem "-cert" (file "top.pem" (leaf :cert)) "-no_nonce" "-reqout" req-path)
(def info (ca/parse-ocsp-request (slurp req-path)))
(def serial-of ```
from cryptography.x509 import ocsp
r = ocsp.load_der_ocsp_response(open(sys.argv[1], "rb").read())
emit([s.serial_number for s in r.responses])
```)
(t/same (t/python-data serial-of (file "r1.der" (ca/create-ocsp-response root (merge info {:serial 4242}) :good)))
        [4242] "an edited top-level :serial is the serial answered")
(t/same (t/python-data serial-of (file "r2.der" (ca/create-ocsp-response root (struct ;(kvs info)) :good)))
        [(scan-number (string (info :serial)))] "a struct copy answers the original serial")
(t/raises |(ca/create-ocsp-response root (merge info {:serial "x"}) :good)
          "a bad top-level :serial is an error even with :requests" "[CA:PARAM]" ":serial")
(t/raises |(ca/create-ocsp-response root (merge info {:issuer-name-hash 5}) :good)
          "a bad top-level :issuer-name-hash is an error even with :requests" "[CA:PARAM]" ":issuer-name-hash")

# --- revocation: a permanent revocation stays permanent -----------------------

# Serial 2 was put on hold long ago (a restored entry, dated 2001), so an
# update that took today's date could not go unseen.
(def held-since 1000000000)
(def rca (ca/generate {:revoked [{:serial 2 :reason :certificate-hold :date held-since}]}))
(ca/revoke rca 1 :key-compromise)
(t/raises |(ca/revoke rca 1 :certificate-hold) "a key-compromised serial cannot go on hold" "[CA:PARAM]" "permanently")
(t/raises |(ca/revoke rca 1 :remove-from-crl) "nor be released" "[CA:PARAM]" "not on hold")
(ca/revoke rca 2 :key-compromise)
(defn- entry [serial] (find |(= (int/s64 serial) ($ :serial)) (ca/get-revoked rca)))
(t/same [((entry 1) :reason) ((entry 2) :reason)] [:key-compromise :key-compromise] "a hold can become permanent")
(t/same ((entry 2) :date) held-since "the updated entry keeps its first revocation date")

# --- OpenSSL's names and syntax -------------------------------------------------

(def eku-of ```
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
emit([o.dotted_string for o in c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value])
```)
(def ekus (:issue root {:common-name "eku.example"
                        :extended-key-usage "msSmartcardLogin,ipsecUser,secureShellClient,codeSigning"}))
(t/same (t/python-data eku-of (file "eku.pem" (ekus :cert)))
        ["1.3.6.1.4.1.311.20.2.2" "1.3.6.1.5.5.7.3.7" "1.3.6.1.5.5.7.3.21" "1.3.6.1.5.5.7.3.3"]
        "OpenSSL's extended key usage short names are understood")
(def san-of ```
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
emit([str(n.value) for n in c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value])
```)
# One :san entry is one name whatever it holds: a comma never splits it. In a
# DNS name a comma is no valid character, so that entry is refused outright
# (issue 11); in a URI it is, and the URI stays one name.
(t/raises |(:issue root {:common-name "c.example" :san ["DNS:a.example,DNS:evil.example" "DNS:b.example"]})
          "a DNS :san entry holding a comma is refused, never split" "[CA:PARAM]" "DNS:a.example,DNS:evil.example")
(def comma (:issue root {:common-name "c.example" :san ["URI:https://a.example/x,DNS:evil.example" "DNS:b.example"]}))
(t/same (t/python-data san-of (file "comma.pem" (comma :cert))) ["https://a.example/x,DNS:evil.example" "b.example"]
        "one :san entry is one name, whatever characters it holds")
(t/raises |(ca/issue root {:common-name "x" :san ["dns:a.example"]}) "prefixes are OpenSSL's, case and all" "[CA:PARAM]" "prefix")
(t/raises |(ca/set-serial root (int/s64 "9223372036854775807")) "a counter value whose successor does not fit" "[CA:PARAM]")
(let [r (ca/generate)]
  (ca/set-serial r (int/s64 "9223372036854775806"))
  (t/same (get (t/cert-facts (file "last.pem" ((:issue r {:common-name "last.example"}) :cert))) :serial)
          "9223372036854775806" "the largest counter serial can be issued")
  (t/raises |(:issue r {:common-name "next.example"}) "and then the counter is exhausted" "[CA:RESOURCE]"))

# --- a status function that waits on the event loop ------------------------------

(let [start (os/clock :monotonic)]
  (def r (try (ca/create-ocsp-response root info (fn [_] (ev/sleep 0.05) :good)) ([e] e)))
  (t/ok (and (string? r) (string/has-prefix? "[CA:PARAM]" r)) "a status function may not wait on the event loop")
  (ev/sleep 0.3)
  (t/ok (>= (- (os/clock :monotonic) start) 0.25) "and the caller's own later waits are not cut short by it"))
(let [ch (ev/chan 1)]
  (ev/spawn (ev/sleep 0.1) (ev/give ch :real))
  (t/same (ev/take ch) :real "channel takes after it get the real value"))

# --- serials at the edges ------------------------------------------------------------

(let [r (ca/generate)
      csr (do (t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout"
                         (string dir "/e.key") "-subj" "/CN=e" "-out" (string dir "/e.csr"))
              (slurp (string dir "/e.csr")))]
  (t/same (get (t/cert-facts (file "max64.pem" (ca/sign r csr {:serial "0xffffffffffffffff"}))) :serial)
          "18446744073709551615" "the largest 64-bit serial can be used once")
  (t/raises |(ca/sign r csr {:serial "0xffffffffffffffff"}) "and only once" "[CA:PARAM]" "already used")
  (t/raises |(ca/sign r csr {:serial (string "0x" (string/repeat "f" 40))}) "20 octets with the high bit set need 21 in DER"
            "[CA:PARAM]" "20 octets"))

# --- an encrypted PKCS#8 key in DER -------------------------------------------------

(let [enc (string dir "/enc.der")]
  (t/openssl "pkcs8" "-topk8" "-in" (file "plain.key" (ca/get-key root)) "-outform" "DER" "-passout" "pass:pw" "-out" enc)
  (let [loaded (ca/create (ca/get-cert root) (slurp enc) {:password "pw"})
        leaf (file "enc-leaf.pem" ((:issue loaded {:common-name "enc.example"}) :cert))
        [code out] (t/openssl "verify" "-x509_strict" "-CAfile" root-pem leaf)]
    (t/ok (zero? code)
          (string "an encrypted DER key loads with :password: the root's key (its leaf verifies): " out)))
  (t/raises |(ca/create (ca/get-cert root) (slurp enc)) "and without it is a clear error" "[CA:PARSE]" ":password")
  (t/raises |(ca/create (ca/get-cert root) (slurp enc) {:password "nope"}) "or with a wrong one" "[CA:VERIFY]"))

(t/done "contract-edges")

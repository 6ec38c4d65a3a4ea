# test-timeout: 900
# CA keys in a PKCS#11 token (issue 20): a SoftHSM2 token of this test's own.
# Root and intermediate keys generated in the token; pkcs11-tool and PyKCS11
# show them sensitive and never extractable, their value unreadable; every
# certificate, CRL and OCSP response signed in the token passes openssl,
# Go's crypto/x509, Python cryptography and pkilint (each judge also shown
# failing a flipped signature bit); a store holds the key's URI, never key
# bytes; the faults (wrong PIN, unknown token, missing object, a library that
# is not PKCS#11, an unusable key type, the token gone mid-run, the store's
# disk full) are [CA:...] errors naming the key or store, never the PIN, and
# lose nothing; fibers, ca/issue-async and processes sign with one token key.
(import jsec/ca)
(import ./support/check :as t)
(import ./support/softhsm)
(import ./support/go-judge :as go)
(import ./support/child)

(when-let [why (softhsm/missing)]
  (t/skip "pkcs11" why))

(def dir (t/tmpdir "pkcs11"))
(defn path [name] (string dir "/" name))
(defn file [name content] (t/write dir name content))

(def pin "pin-7c1e93aa")
(def tok (softhsm/token dir "jsec-ca-test" pin))
(def uri (tok :uri))

# Every error message and output this test sees, to check the PIN is in none.
(def seen @[])
(defn raises [f what & needles]
  (array/push seen (t/raises f what ;needles)))

# --- keys generated in the token, every structure signed there ----------------------

# [root intermediate] key types: every type a CA key can have, both ways round.
(def chains [[:ec-p256 :ec-p256] [:ec-p384 :rsa-2048] [:rsa-3072 :ed25519] [:rsa-4096 :ec-p521] [:ed25519 :ec-p384]])

(def judged @[])   # [name cert-path roots intermediates] for Go
(def signed-files @[]) # [kind path issuer-path] for cryptography and pkilint

(defn ocsp-request [issuer-pem leaf-pem name]
  (def req (path (string name "-req.der")))
  (def [code out] (t/openssl "ocsp" "-issuer" issuer-pem "-cert" leaf-pem "-reqout" req))
  (t/ok (zero? code) (string "openssl ocsp writes a request: " out))
  req)

(var token-root nil)
(var token-inter nil)
(eachp [i [root-type inter-type]] chains
  (def name (string "chain" i))
  (def root (ca/generate {:common-name (string "Token Root " i) :key-type root-type :key (uri (string name "-root"))}))
  (def inter (ca/generate-intermediate root {:common-name (string "Token Issuing " i) :key-type inter-type
                                             :key (uri (string name "-inter"))}))
  (when (zero? i) (set token-root root) (set token-inter inter))
  (def root-pem (file (string name "-root.pem") (ca/get-cert root)))
  (def inter-pem (file (string name "-inter.pem") (ca/get-cert inter)))
  (def leaf (:issue inter {:common-name "token-leaf.example" :san ["DNS:token-leaf.example"]
                           :extended-key-usage "serverAuth"}))
  (def leaf-pem (file (string name "-leaf.pem") (leaf :cert)))
  (def csr-key (path (string name "-csr.key")))
  (t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout" csr-key
             "-subj" "/CN=csr.example" "-out" (path (string name ".csr")))
  (def signed-pem (file (string name "-signed.pem")
                        (:sign-csr inter (slurp (path (string name ".csr"))) {:san ["DNS:csr.example"]})))
  (:revoke inter (leaf :serial) :key-compromise)
  (def crl-pem (file (string name ".crl") (:generate-crl inter)))
  (def root-crl (file (string name "-root.crl") (:generate-crl root)))
  (def req (ocsp-request inter-pem leaf-pem name))
  (def resp (file (string name "-resp.der")
                  (ca/create-ocsp-response inter (ca/parse-ocsp-request (slurp req)) :revoked
                                           {:revocation-reason :key-compromise})))
  # openssl: the chain strictly, the CRL's signature, the OCSP response with its nonce.
  (let [[code out] (t/openssl "verify" "-x509_strict" "-CAfile" root-pem "-untrusted" inter-pem leaf-pem signed-pem)]
    (t/ok (zero? code) (string name " (" root-type " over " inter-type "): openssl verify -x509_strict: " out)))
  (let [[code out] (t/openssl "crl" "-in" crl-pem "-CAfile" inter-pem "-noout")]
    (t/ok (and (zero? code) (string/find "verify OK" out)) (string name ": openssl crl verifies the token's CRL: " out)))
  (let [[code out] (t/openssl "crl" "-in" root-crl "-CAfile" root-pem "-noout")]
    (t/ok (and (zero? code) (string/find "verify OK" out)) (string name ": openssl crl verifies the root's CRL: " out)))
  (let [[code out] (t/openssl "ocsp" "-respin" resp "-reqin" req "-issuer" inter-pem "-CAfile" root-pem "-resp_text")]
    (t/ok (and (zero? code) (string/find "Response verify OK" out) (not (string/find "Nonce" (string/slice out -200)))
               (string/find "Cert Status: revoked" out))
          (string name ": openssl ocsp verifies the token-signed response and its nonce: " out)))
  (array/push judged [(string name "-root") root-pem [root-pem] []]
              [(string name "-inter") inter-pem [root-pem] []]
              [(string name "-leaf") leaf-pem [root-pem] [inter-pem]]
              [(string name "-signed") signed-pem [root-pem] [inter-pem]])
  (array/push signed-files [:cert root-pem root-pem] [:cert inter-pem root-pem] [:cert leaf-pem inter-pem]
              [:cert signed-pem inter-pem] [:crl crl-pem inter-pem] [:crl root-crl root-pem] [:ocsp resp inter-pem]))

# Negative controls: the first leaf with one bit of its signature flipped.
(def flipped
  (do
    (def [code out] (t/openssl "x509" "-in" (path "chain0-leaf.pem") "-outform" "DER" "-out" (path "leaf0.der")))
    (def d (buffer (slurp (path "leaf0.der"))))
    (put d (- (length d) 3) (bxor (get d (- (length d) 3)) 1))
    (file "leaf0-flipped.der" d)
    (def [code out] (t/openssl "x509" "-inform" "DER" "-in" (path "leaf0-flipped.der") "-out" (path "chain0-flipped.pem")))
    (path "chain0-flipped.pem")))
(let [[code out] (t/openssl "verify" "-x509_strict" "-CAfile" (path "chain0-root.pem") "-untrusted" (path "chain0-inter.pem")
                            flipped)]
  (t/ok (not (zero? code)) (string "negative control: openssl verify fails a flipped signature bit: " out)))
(array/push judged ["flipped" flipped [(path "chain0-root.pem")] [(path "chain0-inter.pem")]])

# Go's crypto/x509: parse and verify every certificate.
(def verdicts (go/judge judged dir))
(each [name] judged
  (if (= name "flipped")
    (t/ok (string/has-prefix? "verify:" (get verdicts name "")) (string "negative control: Go fails a flipped signature: "
                                                                    (get verdicts name)))
    (t/same (get verdicts name) "ok" (string name ": Go crypto/x509 parses and verifies it"))))

# Python cryptography: every signature against its issuer's key.
(def crypto-judge ```
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, padding
def verify(key, sig, data, h):
    if isinstance(key, ec.EllipticCurvePublicKey): key.verify(sig, data, ec.ECDSA(h))
    elif isinstance(key, rsa.RSAPublicKey): key.verify(sig, data, padding.PKCS1v15(), h)
    else: key.verify(sig, data)
out = []
args = sys.argv[1:]
for kind, path, issuer in zip(args[0::3], args[1::3], args[2::3]):
    try:
        key = x509.load_pem_x509_certificate(open(issuer, "rb").read()).public_key()
        data = open(path, "rb").read()
        if kind == "cert":
            c = x509.load_pem_x509_certificate(data)
            verify(key, c.signature, c.tbs_certificate_bytes, c.signature_hash_algorithm)
        elif kind == "crl":
            c = x509.load_pem_x509_crl(data)
            if not c.is_signature_valid(key): raise ValueError("bad CRL signature")
        else:
            r = ocsp.load_der_ocsp_response(data)
            verify(key, r.signature, r.tbs_response_bytes, r.signature_hash_algorithm)
        out.append("ok")
    except Exception as e:
        out.append("%s: %s" % (type(e).__name__, e))
emit(out)
```)
(def crypto-args (mapcat (fn [[kind p issuer]] [(string kind) p issuer]) [;signed-files [:cert flipped (path "chain0-inter.pem")]]))
(def crypto-verdicts (t/python-data crypto-judge ;crypto-args))
(t/ok crypto-verdicts "the cryptography judge ran")
(when crypto-verdicts
  (eachp [i [kind p]] signed-files
    (t/same (get crypto-verdicts i) "ok" (string "cryptography verifies " p)))
  (t/ok (not= (last crypto-verdicts) "ok") (string "negative control: cryptography fails a flipped signature: "
                                                   (last crypto-verdicts))))

# pkilint: no ERROR or FATAL on any of them.
(each [kind p] signed-files
  (def [clean report]
    (case kind
      :cert (t/pkilint-clean? "lint_pkix_cert" p)
      :crl (t/pkilint-clean? "lint_crl" p "-t" "CRL" "-p" "PKIX")
      :ocsp (t/pkilint-clean? "lint_ocsp_response" p)))
  (t/ok clean (string "pkilint: " p ": " report)))

# --- the keys never leave the token -------------------------------------------------

(let [[code out] (softhsm/tool tok "--login" "--pin" pin "--list-objects" "--type" "privkey")
      blocks (drop 1 (string/split "Private Key Object" out))]
  (t/ok (zero? code) (string "pkcs11-tool lists the private keys: " out))
  (t/same (length blocks) (* 2 (length chains)) "pkcs11-tool finds a private key per CA generated in the token")
  (each b blocks
    (t/ok (and (string/find "Access:     sensitive, always sensitive, never extractable, local" b)
               (not (string/find "decrypt" b)) (not (string/find "unwrap" b)))
          (string "pkcs11-tool: sensitive, never extractable, generated in the token, usable only to sign: " b))))

# PyKCS11 (an independent PKCS#11 client) reads the attributes and tries to read the value.
(def value-judge ```
import os, PyKCS11
module, pin, labels = sys.argv[1], sys.argv[2], sys.argv[3:]
lib = PyKCS11.PyKCS11Lib(); lib.load(module)
s = lib.openSession(lib.getSlotList(tokenPresent=True)[0], PyKCS11.CKF_RW_SESSION | PyKCS11.CKF_SERIAL_SESSION)
s.login(pin)
if "control" in labels:
    # a negative control: a key made readable on purpose
    s.generateKeyPair([(PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_EC_PARAMS, bytes.fromhex("06082a8648ce3d030107"))],
                      [(PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_LABEL, "control"), (PyKCS11.CKA_SENSITIVE, False),
                       (PyKCS11.CKA_EXTRACTABLE, True), (PyKCS11.CKA_SIGN, True)],
                      mecha=PyKCS11.Mechanism(PyKCS11.CKM_EC_KEY_PAIR_GEN))
out = {}
for label in labels:
    keys = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_LABEL, label)])
    sens, extr = s.getAttributeValue(keys[0], [PyKCS11.CKA_SENSITIVE, PyKCS11.CKA_EXTRACTABLE])
    kind = s.getAttributeValue(keys[0], [PyKCS11.CKA_KEY_TYPE])[0]
    # the secret part: an RSA key's private exponent, an EC or EdDSA key's value
    secret = PyKCS11.CKA_PRIVATE_EXPONENT if kind == PyKCS11.CKK_RSA else PyKCS11.CKA_VALUE
    tmpl = PyKCS11.LowLevel.ckattrlist(1); tmpl[0].SetType(secret)
    rv = lib.lib.C_GetAttributeValue(s.session, keys[0], tmpl)
    out[label] = {"sensitive": bool(sens), "extractable": bool(extr), "read": PyKCS11.CKR[rv]}
emit(out)
```)
(def labels (seq [i :range [0 (length chains)] part :in ["root" "inter"]] (string "chain" i "-" part)))
(def values (t/python-data value-judge (tok :module) pin ;labels "control"))
(t/ok values "the PyKCS11 judge ran")
(when values
  (each label labels
    (t/same (get values (keyword label)) {:sensitive true :extractable false :read "CKR_ATTRIBUTE_SENSITIVE"}
            (string "PyKCS11: " label " is sensitive, not extractable, and reading its value fails")))
  (t/same (get-in values [:control :read]) "CKR_OK" "negative control: PyKCS11 reads the value of a readable key"))

(raises |(ca/get-key token-root) "a token key cannot be exported" "[CA:CONFIG]" "token" "chain0-root")
(raises |(ca/generate {:key (uri "chain0-root")}) "a new key over an existing object is refused" "[CA:PARAM]"
        "already holds")

# --- a store holds the URI, never key bytes --------------------------------------------

(def store-path (path "token-store.sqlite"))
(def store (ca/open-store store-path))
(:save store "issuing" token-inter)
(def from-store (:issue token-inter {:common-name "stored.example"}))
(ca/store-close store)
(def stored-bytes (string ;(seq [f :in [store-path (string store-path "-wal")] :when (os/stat f)] (slurp f))))
(t/ok (not (string/find "PRIVATE KEY" stored-bytes)) "the store holds no private key")
(t/ok (string/find "pkcs11:token=jsec-ca-test;object=chain0-inter" stored-bytes) "the store holds the key's URI")
(t/ok (not (string/find pin stored-bytes)) "the store holds no PIN")

# Another process loads the CA from the store (the URI's pin-source) and signs in the token.
(def loader (file "load.janet" (string/format ```
(import jsec/ca)
(def store (ca/open-store %q))
(def ca (ca/store-load store "issuing"))
(def leaf (:issue ca {:common-name "reloaded.example"}))
(spit %q (leaf :cert))
(print "serial " (leaf :serial))
``` store-path (path "reloaded.pem"))))
(let [[code out] (t/run (t/janet-exe) loader)]
  (array/push seen out)
  (t/ok (zero? code) (string "a process loads the token CA from the store and issues: " out))
  (let [[code out] (t/openssl "verify" "-x509_strict" "-CAfile" (path "chain0-root.pem") "-untrusted"
                              (path "chain0-inter.pem") (path "reloaded.pem"))]
    (t/ok (zero? code) (string "its certificate verifies: " out))))

# --- faults ----------------------------------------------------------------------------

(def root0-pem (slurp (path "chain0-root.pem")))
(def module (tok :module))
(defn uri-with [object query] (string "pkcs11:token=jsec-ca-test;object=" object "?module-path=" module query))

# Wrong PIN, in a fresh process (the token checks it) and in this one (already logged in).
(def wrong "wrong-pin-31337")
(def wrong-script (file "wrong.janet" (string/format ```
(import jsec/ca)
(print (try (ca/create %q %q) ([e] e)))
``` root0-pem (uri-with "chain0-root" (string "&pin-value=" wrong)))))
(let [[code out] (t/run (t/janet-exe) wrong-script)]
  (array/push seen out)
  (t/ok (and (string/find "[CA:VERIFY]" out) (string/find "wrong PIN" out) (string/find "chain0-root" out)
             (not (string/find wrong out)))
        (string "a wrong PIN in a fresh process: a [CA:VERIFY] error naming the key, not the PIN: " out)))
(raises |(ca/create root0-pem (uri-with "chain0-root" (string "&pin-value=" wrong)))
        "a wrong PIN while the token is logged in" "[CA:VERIFY]" "wrong PIN" "chain0-root")
(raises |(ca/create root0-pem (string "pkcs11:token=no-such-token;object=chain0-root?module-path=" module
                                      "&pin-value=" pin))
        "an unknown token" "[CA:CONFIG]" "no token matches" "no-such-token")
(raises |(ca/create root0-pem (uri "no-such-object")) "a missing object" "[CA:CONFIG]" "no private key"
        "no-such-object")
(raises |(ca/create root0-pem (string "pkcs11:object=x?module-path=/etc/passwd&pin-value=" pin))
        "a module path that is not a library" "[CA:CONFIG]" "not a PKCS#11 library" "/etc/passwd")
(when-let [libz (find os/stat ["/lib/x86_64-linux-gnu/libz.so.1" "/usr/lib/x86_64-linux-gnu/libz.so.1"])]
  (raises |(ca/create root0-pem (string "pkcs11:object=x?module-path=" libz "&pin-value=" pin))
          "a shared library that is not PKCS#11" "[CA:CONFIG]" "not a PKCS#11 library"))
(raises |(ca/create root0-pem (uri-with "x" "&pin-value=1&pin-source=/x")) "a URI with two PINs" "[CA:PARAM]")
(raises |(ca/generate {:key (string "pkcs11:token=jsec-ca-test;object=x;colour=red?module-path=" module)})
        "a URI attribute the CA does not know" "[CA:PARAM]" "colour")
(raises |(ca/generate {:key 42}) "a :key of the wrong type" "[CA:PARAM]" ":key")
(raises |(ca/generate {:key "pkcs11:object=x"}) "a URI without module-path" "[CA:PARAM]" "module-path")
(raises |(ca/create root0-pem (uri-with "chain0-root" "")) "a URI without any PIN" "[CA:CONFIG]" "no PIN")
# A key of a type the CA cannot use: secp256k1, made by pkcs11-tool.
(let [[code out] (softhsm/tool tok "--login" "--pin" pin "--keypairgen" "--key-type" "EC:secp256k1" "--label" "k1")]
  (t/ok (zero? code) (string "pkcs11-tool makes a secp256k1 key: " out))
  (raises |(ca/create root0-pem (uri "k1")) "a token key on a curve the CA cannot use" "[CA:PARAM]" "k1"))
(raises |(ca/create root0-pem (uri "chain1-root")) "a token key that is not the certificate's" "[CA:VERIFY]"
        "does not match")

# The token gone mid-run, then back: in a child process with a store, so that
# the counter and index are on disk to inspect.
(def gone-store (path "gone.sqlite"))
(let [s (ca/open-store gone-store)]
  (:save s "issuing" (ca/create (ca/get-cert token-inter) (uri "chain0-inter")))
  (ca/store-close s))
(def gone-script (file "gone.janet" (string/format ```
(import jsec/ca)
(def ca (ca/store-load (ca/open-store %q) "issuing"))
(defn try-issue [cn] (try [:ok (int/to-number ((:issue ca {:common-name cn}) :serial))] ([e] [:error e])))
(def before (try-issue "before.example"))
(os/rename %q %q)
(def during (try-issue "during.example"))
(def crl-during (try [:ok (length (:generate-crl ca))] ([e] [:error e])))
(os/rename %q %q)
(def after (try-issue "after.example"))
(printf "%%j" {:before before :during during :crl crl-during :after after})
``` gone-store (tok :tokens) (path "tokens-away") (path "tokens-away") (tok :tokens))))
(let [[code out] (t/run (t/janet-exe) gone-script)
      r (try (parse out) ([_] nil))]
  (array/push seen out)
  (t/ok (and (zero? code) r) (string "the token-gone child ran: " out))
  (when r
    (t/same (first (r :before)) :ok "with the token there, it issues")
    (t/same (first (r :during)) :error (string "with the token gone, issuing fails: " (r :during)))
    (t/ok (string/find "[CA:" (string (get (r :during) 1))) (string "as a [CA:...] error: " (r :during)))
    (t/ok (string/find "chain0-inter" (string (get (r :during) 1))) (string "naming the key: " (r :during)))
    (t/same (first (r :crl)) :error (string "with the token gone, a CRL fails: " (r :crl)))
    (t/same (first (r :after)) :ok (string "with the token back, the next call works: " (r :after)))
    (when (= :ok (first (r :after)))
      (t/ok (> (get (r :after) 1) (get (r :before) 1)) "the serial after is past the one before")))
  # Nothing half-written: every indexed certificate verifies, no serial twice, and
  # the CRL number did not move for the CRL that failed.
  (def s (ca/open-store gone-store))
  (def found (:find s "issuing"))
  (def serials (map |($ :serial) found))
  (t/same (length (distinct serials)) (length serials) "no serial is in the index twice")
  (t/same (length found) 2 "the index holds the two certificates handed out, nothing from the failed call")
  (each f found
    (def p (file (string "gone-" (f :serial) ".pem") (f :cert)))
    (def [code out] (t/openssl "verify" "-CAfile" (path "chain0-root.pem") "-untrusted" (path "chain0-inter.pem") p))
    (t/ok (zero? code) (string "indexed certificate " (f :serial) " verifies: " out)))
  (ca/store-close s))

# The store's disk full while issuing: a 512 KiB tmpfs, filled up.
(def small (path "small"))
(os/mkdir small)
(def [mounted mount-out] (t/run "mount" "-t" "tmpfs" "-o" "size=512k" "tmpfs" small))
(if-not (zero? mounted)
  (do (print "SKIP: pkcs11: the disk-full check needs mount (root): " mount-out)
      (when (os/getenv "CI") (t/ok false "mount a small tmpfs for the disk-full check (CI runs as root)")))
  (defer (t/run "umount" "-l" small)
    (def full-store (string small "/ca.sqlite"))
    (def fs (ca/open-store full-store))
    (:save fs "issuing" (ca/create (ca/get-cert token-inter) (uri "chain0-inter")))
    (def full-ca (:load fs "issuing"))
    (def first-serial ((:issue full-ca {:common-name "fits.example"}) :serial))
    # Fill the rest of the filesystem.
    (def filler (string small "/filler"))
    (with [f (file/open filler :wb)]
      (def chunk (string/repeat "x" 4096))
      (while (try (do (file/write f chunk) (file/flush f) true) ([_] false))))
    (def msg (t/raises |(for i 0 64 (:issue full-ca {:common-name (string "full" i ".example")
                                                      :san [(string "DNS:" (string/repeat "a" 60) i ".example")]}))
                       "issuing on a full disk fails" "[CA:RESOURCE]"))
    (array/push seen msg)
    (t/ok (string/find full-store msg) (string "the error names the store: " msg))
    (os/rm filler)
    (def after (:issue full-ca {:common-name "after-full.example"}))
    (t/ok (> (after :serial) first-serial) "with room again, the next call works")
    (def found (:find fs "issuing"))
    (def serials (map |($ :serial) found))
    (t/same (length (distinct serials)) (length serials) "after the full disk, no serial is in the index twice")
    (t/same (length (filter |(= (after :serial) ($ :serial)) found)) 1 "the certificate after is in the index")
    (ca/store-close fs)))

# --- concurrency: fibers, ca/issue-async, processes ----------------------------------

(def results (ev/chan 8))
(for i 0 8
  (ev/go (fn [] (ev/give results (try (:issue-async token-inter {:common-name (string "async" i ".example")})
                                      ([e] {:error e}))))))
(def async-certs (seq [_ :range [0 8]] (ev/take results)))
(each c async-certs (t/ok (nil? (c :error)) (string "ca/issue-async on a token key: " (c :error))))
(t/same (length (distinct (map |($ :serial) async-certs))) 8 "eight ca/issue-async on one token key: eight serials")
(each c async-certs
  (def p (file (string "async-" (c :serial) ".pem") (c :cert)))
  (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" (path "chain0-root.pem") "-untrusted"
                             (path "chain0-inter.pem") p))
  (t/ok (zero? code) (string "async certificate " (c :serial) " verifies: " out)))

(def procs-store (path "procs.sqlite"))
(let [s (ca/open-store procs-store)]
  (:save s "issuing" (ca/create (ca/get-cert token-inter) (uri "chain0-inter")))
  (ca/store-close s))
(def worker (file "worker.janet" (string/format ```
(import jsec/ca)
(def ca (ca/store-load (ca/open-store %q) "issuing"))
(for i 0 10 (:issue ca {:common-name (string "proc" i ".example")}))
(print "done")
``` procs-store)))
(def workers (seq [_ :range [0 4]] (os/spawn (child/merged [(t/janet-exe) worker]) :p {:out :pipe})))
(def outs (seq [p :in workers] [(string (:read (p :out) :all)) (:wait p)]))
(each [out code] outs
  (array/push seen out)
  (t/ok (and (zero? code) (string/find "done" out)) (string "a process signing with the token key: " out)))
(let [s (ca/open-store procs-store)
      found (:find s "issuing")]
  (t/same (length found) 40 "four processes issued forty certificates through one token key")
  (t/same (length (distinct (map |($ :serial) found))) 40 "forty distinct serials")
  (ca/store-close s))

# SoftHSM2 rewrites its token file at every login, so a process starting beside
# others can read it half-written ("no token", "PIN not initialized", "general
# error"): about 2% of these logins failed before opening a key tried again
# (a CI run lost one so). 360 process starts, six at a time.
(def opener (file "opener.janet" (string/format ```
(import jsec/ca)
(:issue (ca/store-load (ca/open-store %q) "issuing") {:common-name "opener.example"})
(print "done")
``` procs-store)))
(def opener-failures @[])
(for _ 0 60
  (def ps (seq [_ :range [0 6]] (os/spawn (child/merged [(t/janet-exe) opener]) :p {:out :pipe})))
  (each p ps
    (def out (string (:read (p :out) :all)))
    (array/push seen out)
    (unless (and (zero? (:wait p)) (string/find "done" out))
      (array/push opener-failures out))))
(t/same opener-failures @[] "360 processes, six at a time, each open the token key and sign")

# --- the PIN is in no message, output or file ------------------------------------------

(each text seen
  (t/ok (not (string/find pin text)) (string "the PIN is not in: " text)))
(t/ok (not (string/find pin (string/format "%q" token-root))) "the PIN is not in the CA's printed form")
(each f (os/dir dir)
  (def p (path f))
  (when (and (= :file (os/stat p :mode)) (not= p (tok :pin-file)))
    (t/ok (not (string/find pin (slurp p))) (string "the PIN is not in " p))))

(t/done "pkcs11")

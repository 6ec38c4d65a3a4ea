# Issue 11, one named regression per defect it lists: a hostile requester or
# a careless caller could make the CA sign a wrong certificate, or move its
# state backwards. Each check asserts the refusal ([CA:...] error) or the
# correct result, judged by openssl or Python cryptography. The broad sweep of
# the same ground is test/hostile-requests.janet.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "trust-regressions"))
(defn path [name] (string dir "/" name))
(defn file [name content] (t/write dir name content))

# --- fixtures: requests built byte by byte (test/support/hostile_der.py) ------------

(def bad-dns ["*" "*.*.x.com" "a..b" "-x-.com" "x.com." "a.example.com/path" "1.2.3.4" "a.example.com,IP:1.2.3.4"])

(def make-requests ```
import os, sys
sys.dont_write_bytecode = True
sys.path.insert(0, "test/support")
from hostile_der import *
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448
import datetime

out, bad_dns = sys.argv[1], sys.argv[2:]
def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
def csr(subject, attributes=(), **kw):
    k = Key()
    return k.sign(info(k, subject, attributes, **kw))
cn = lambda text, kind="utf8": simple_name((OID_CN, text, kind))
plain = cn("Regression Case")
with_ext = lambda *exts: csr(plain, [ext_request(*exts)])

write("cn-bmp-evil.der", csr(cn("www.evil.com", "bmp")))
write("cn-universal-evil.der", csr(cn("www.evil.com", "universal")))
write("cn-nul-evil.der", csr(cn("www.evil.com\x00")))
write("cn-bmp-fine.der", csr(cn("www.fine.example", "bmp")))
write("cn-fine-utf8-name.hex", simple_name((OID_CN, "www.fine.example")).hex().encode())
write("cn-integer.der", csr(cn("x", "integer")))
a, b = attr(OID_CN, "Multi Valued"), attr(OID_O, "Regression Org")
write("rdn-multi-der-order.der", csr(name(rdn(a, b))))
write("rdn-multi-reversed.der", csr(name(rdn(*reversed(sorted([a, b])), sort=False))))
write("eku-ocsp-non-minimal.der", with_ext(eku_ext(oid(OID_SERVER_AUTH), oid_raw("2b0601050507038009"))))
write("eku-truncated.der", with_ext(eku_ext(oid(OID_SERVER_AUTH), oid_raw("2b06010505070389"))))
write("eku-server-auth.der", with_ext(eku_ext(oid(OID_SERVER_AUTH))))
fine_san = gn(GN_DNS_NAME, "www.example.com")
write("critical-ber-true.der", with_ext(san_ext(fine_san, critical=tlv(TAG_BOOLEAN, b"\x01"))))
write("critical-explicit-false.der", with_ext(san_ext(fine_san, critical=boolean(False))))
write("san-mapped.der", with_ext(san_ext(tlv(GN_IP_ADDRESS, bytes.fromhex("00000000000000000000ffff0a420101")))))
for i, n in enumerate(bad_dns):
    write("san-dns-%d.der" % i, with_ext(san_ext(gn(GN_DNS_NAME, n))))
write("version-7.der", csr(plain, version=integer(7)))
write("version-0.der", csr(plain))
for label, subject in [("root", "Regression Root"), ("inter", "Regression Intermediate")]:
    write("ca-%s-subject.der" % label, csr(cn(subject)))

# Ed448: a request from cryptography's own builder
k = ed448.Ed448PrivateKey.generate()
req = x509.CertificateSigningRequestBuilder().subject_name(
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed448.example")])).sign(k, None)
write("ed448.csr", req.public_bytes(serialization.Encoding.PEM))

# OCSP requests with nonces of 0, 1, 32 and 33 octets, for a throwaway issuer
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.now(datetime.timezone.utc)
def cert(subject, issuer, ca, usage):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now)
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usage:
        b = b.add_extension(usage, critical=True)
    return b.sign(key, hashes.SHA256())
who = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Regression OCSP Issuer")])
issuer = cert(who, who, True, None)
leaf = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]), who, False, None)
for n in [0, 1, 32, 33]:
    r = (ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1())
         .add_extension(x509.OCSPNonce(b"\x5a" * n), critical=False).build())
    write("ocsp-nonce-%d.der" % n, r.public_bytes(serialization.Encoding.DER))

# a CA certificate whose keyUsage has keyCertSign but not cRLSign
no_crl = cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "No cRLSign CA")]),
              x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "No cRLSign CA")]), True,
              x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
                            encipher_only=False, decipher_only=False))
write("no-crl-sign.pem", no_crl.public_bytes(serialization.Encoding.PEM))
write("no-crl-sign.key", key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
print("ok")
```)
(let [[code out] (t/python make-requests dir ;bad-dns)]
  (unless (t/ok (zero? code) (string "building the hostile requests: " out))
    (t/done "trust-regressions")))
(defn req [name] (slurp (path name)))

# --- judges ------------------------------------------------------------------------

(defn openssl-verify
  "[accepted? output] of `openssl verify -x509_strict` for a leaf under root and intermediates."
  [root leaf & inters]
  (def bundle (file "chain.pem" (string/join (map ca/get-cert inters))))
  (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" (file "root.pem" (ca/get-cert root))
                             ;(if (empty? inters) [] ["-untrusted" bundle]) (file "leaf.pem" leaf)))
  [(zero? code) out])

(def cert-facts ```
import sys
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
load = lambda p: x509.load_pem_x509_certificates(open(p, "rb").read())
leaf = load(sys.argv[1])[0]
chain = load(sys.argv[2]) if len(sys.argv) > 2 else []
facts = {"subject-der": leaf.subject.public_bytes(), "not-after": int(leaf.not_valid_after_utc.timestamp())}
if chain:
    try:
        PolicyBuilder().store(Store([chain[0]])).build_client_verifier().verify(leaf, chain[1:])
        facts["verify"] = "ok"
    except Exception as e:
        facts["verify"] = str(e)
emit(facts)
```)

(defn facts
  "What Python cryptography reads in `pem`; with CAs (root first), its verifier's verdict too."
  [pem & cas]
  (def chain (file "facts-chain.pem" (string/join (map ca/get-cert cas))))
  (t/python-data cert-facts (file "facts.pem" pem) ;(if (empty? cas) [] [chain])))

(defn not-after [pem] ((facts pem) :not-after))

(defn signed
  "Runs (f), which should return a certificate (or a CA, or a table): a check
  named `what` that fails when it raises. Returns the value, or nil."
  [what f]
  (def [ok v] (protect (f)))
  (t/ok ok (string what ": " v))
  (when ok v))

(defn cert-of [v]
  (cond (string? v) v (table? v) (v :cert) v (ca/get-cert v)))

# --- the CAs ---------------------------------------------------------------------------

(def root (ca/generate {:common-name "Regression Root" :path-length 2}))
(defn constrained [what nc]
  (ca/generate-intermediate root {:common-name (string "Regression " what) :name-constraints nc}))
(def excl-dns (constrained "excluded DNS:evil.com" {:excluded ["DNS:evil.com"]}))
(def excl-ip (constrained "excluded IP:10.66.0.0/16" {:excluded ["IP:10.66.0.0/16"]}))
(def excl-uri (constrained "excluded URI:evil.com" {:excluded ["URI:evil.com"]}))
(def perm-uri (constrained "permitted URI:.example.com" {:permitted ["URI:.example.com"]}))

# --- name constraints bypassed ------------------------------------------------------------

(t/raises |(ca/sign excl-dns (req "cn-bmp-evil.der")) "excluded DNS:evil.com is not bypassed by a BMPString CN"
          "[CA:PARAM]" "www.evil.com")
(t/raises |(ca/sign excl-dns (req "cn-universal-evil.der"))
          "excluded DNS:evil.com is not bypassed by a UniversalString CN" "[CA:PARAM]" "www.evil.com")
(t/raises |(ca/sign excl-dns (req "cn-nul-evil.der")) "excluded DNS:evil.com is not bypassed by a UTF8String CN ending in NUL"
          "[CA:")
(when-let [pem (signed "a BMPString CN the constraints allow is signed" |(ca/sign excl-dns (req "cn-bmp-fine.der")))]
  (def [ok out] (openssl-verify root pem excl-dns))
  (t/same ((facts pem) :subject-der) (buffer (req "cn-fine-utf8-name.hex"))
          "a BMPString CN the constraints allow is re-encoded as a UTF8String")
  (t/ok ok (string "... and openssl verify -x509_strict accepts it under excluded DNS:evil.com: " out)))
(t/raises |(ca/issue excl-dns {:common-name "Regression" :san ["DNS:www.evil.com."]})
          "excluded DNS:evil.com is not bypassed by a trailing dot (DNS:www.evil.com.)" "[CA:PARAM]" "www.evil.com.")
(t/raises |(ca/issue excl-ip {:common-name "Regression" :san ["IP:::ffff:10.66.1.1"]})
          "excluded IP:10.66.0.0/16 is not bypassed by IPv4-mapped IP:::ffff:10.66.1.1 (:san)" "[CA:PARAM]" "IPv4")
(t/raises |(ca/sign excl-ip (req "san-mapped.der") {:copy-extensions true})
          "excluded IP:10.66.0.0/16 is not bypassed by IPv4-mapped ::ffff:10.66.1.1 (copied SAN)" "[CA:PARAM]")
(t/raises |(ca/issue excl-uri {:common-name "Regression" :san ["URI:https://u@evil.com/"]})
          "excluded URI:evil.com is not bypassed by userinfo (https://u@evil.com/)" "[CA:PARAM]" "evil.com")
(t/raises |(ca/issue excl-uri {:common-name "Regression" :san ["URI:https://evil.com?x"]})
          "excluded URI:evil.com is not bypassed by a query (https://evil.com?x)" "[CA:PARAM]" "evil.com")
(t/raises |(ca/issue perm-uri {:common-name "Regression" :san ["URI:https://evil.com?.example.com"]})
          "permitted URI:.example.com does not admit https://evil.com?.example.com" "[CA:PARAM]" "evil.com")
(when-let [leaf (signed "permitted URI:.example.com admits https://www.example.com:8443/p?q=1#f"
                        |((ca/issue perm-uri {:common-name "Regression" :san ["URI:https://www.example.com:8443/p?q=1#f"]}) :cert))]
  (def [ok out] (openssl-verify root leaf perm-uri))
  (t/ok ok (string "... and openssl verify -x509_strict agrees: " out)))

# --- certificates that are not DER, or that nobody can load --------------------------------

(t/raises |(ca/sign root (req "cn-integer.der")) "a CSR whose CN is an INTEGER is refused" "[CA:")
(t/raises |(ca/sign root (req "rdn-multi-der-order.der")) "a multi-valued RDN (SET in DER order) is refused" "[CA:")
(t/raises |(ca/sign root (req "rdn-multi-reversed.der")) "a multi-valued RDN (SET not sorted) is refused" "[CA:")
(t/raises |(ca/sign root (req "eku-ocsp-non-minimal.der") {:copy-extensions true})
          "a requested EKU with a non-minimal encoding of OCSPSigning is refused" "[CA:")
(t/raises |(ca/sign root (req "eku-truncated.der") {:copy-extensions true})
          "a requested EKU with a truncated OID is refused" "[CA:")
(when-let [pem (signed "a requested serverAuth, minimally encoded, is copied"
                       |(ca/sign root (req "eku-server-auth.der") {:copy-extensions true}))]
  (def [ok out] (openssl-verify root pem))
  (t/ok ok (string "... into a certificate openssl verify -x509_strict accepts: " out)))
(t/raises |(ca/sign root (req "critical-ber-true.der") {:copy-extensions true})
          "a BER BOOLEAN TRUE (01 01 01) for critical is refused" "[CA:")
(t/raises |(ca/sign root (req "critical-explicit-false.der") {:copy-extensions true})
          "an explicit critical FALSE (DEFAULT FALSE encoded) is refused" "[CA:")

# --- invalid names signed --------------------------------------------------------------------

(eachp [i n] bad-dns
  (t/raises |(ca/issue root {:common-name "Regression" :san [(string "DNS:" n)]})
            (string ":san DNS:" n " is refused") "[CA:PARAM]")
  (t/raises |(ca/sign root (req (string "san-dns-" i ".der")) {:copy-extensions true})
            (string "a copied SAN DNS:" n " is refused") "[CA:"))
(signed "a wildcard as the whole leftmost label before two labels (DNS:*.example.com) is still accepted"
        |(ca/issue root {:common-name "Regression" :san ["DNS:*.example.com"]}))

(t/raises |(constrained "dot permitted" {:permitted ["DNS:.example.com"]})
          "name constraint DNS:.example.com (permitted) is refused, pointing to DNS:example.com"
          "[CA:PARAM]" "DNS:example.com")
(t/raises |(constrained "dot excluded" {:excluded ["DNS:.example.com"]})
          "name constraint DNS:.example.com (excluded) is refused, pointing to DNS:example.com"
          "[CA:PARAM]" "DNS:example.com")
(def nc-ca (constrained "permitted DNS:example.com" {:permitted ["DNS:example.com"]}))
(let [[clean lint] (t/pkilint-clean? "lint_pkix_cert" (file "nc-ca.pem" (ca/get-cert nc-ca)))]
  (t/ok clean (string "the name constraint DNS:example.com lints clean in pkilint: " lint)))
(when-let [leaf (signed "a CA constrained to DNS:example.com issues www.example.com"
                        |((ca/issue nc-ca {:common-name "www.example.com" :san ["DNS:www.example.com"]}) :cert))]
  (t/same ((facts leaf root nc-ca) :verify) "ok"
          "cryptography's verifier accepts a chain through a CA constrained to DNS:example.com"))

# --- duplicate issuer + serial --------------------------------------------------------------

(def inter (ca/generate-intermediate root {:common-name "Regression Intermediate" :path-length 1}))
(t/raises |(ca/generate-intermediate root {:common-name "Regression Root"})
          "generate-intermediate refuses its parent's subject" "[CA:PARAM]" "subject")
(t/raises |(ca/generate-intermediate inter {:common-name "Regression Root"})
          "generate-intermediate refuses an ancestor's subject" "[CA:PARAM]" "subject")
(t/raises |(ca/sign inter (req "ca-inter-subject.der") {:basic-constraints "CA:TRUE,pathlen:0"})
          ":sign-csr of a CA:TRUE request with the parent's subject is refused" "[CA:PARAM]" "subject")
(t/raises |(ca/sign inter (req "ca-root-subject.der") {:basic-constraints "CA:TRUE,pathlen:0"})
          ":sign-csr of a CA:TRUE request with an ancestor's subject is refused" "[CA:PARAM]" "subject")

# --- state that goes backwards -----------------------------------------------------------------

(def crl-facts ```
import sys
from cryptography import x509
crl = x509.load_pem_x509_crl(open(sys.argv[1], "rb").read())
entries = {}
for r in crl:
    try:
        entries[str(r.serial_number)] = r.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        entries[str(r.serial_number)] = "none"
emit({"number": crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number,
      "at-least": crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number >= int(sys.argv[2]),
      "entries": entries})
```)
(defn crl [the-ca &opt at-least] (t/python-data crl-facts (file "crl.pem" (ca/crl the-ca)) (string (or at-least 0))))
(defn reason-of [the-ca serial] (get (find |(= (int/s64 serial) ($ :serial)) (ca/get-revoked the-ca)) :reason))

# 7, 8 and 9 were revoked long ago (restored entries, dated 2001, 2002 and
# 2003), so an update that took today's date could not go unseen.
(def first-dates {7 1000000000 8 1030000000 9 1060000000})
(def rev (ca/generate {:common-name "Regression Revoker"
                       :revoked [{:serial 7 :reason :key-compromise :date (first-dates 7)}
                                 {:serial 8 :reason :certificate-hold :date (first-dates 8)}
                                 {:serial 9 :reason :superseded :date (first-dates 9)}]}))
(defn date-of [the-ca serial] (get (find |(= (int/s64 serial) ($ :serial)) (ca/get-revoked the-ca)) :date))
(ca/revoke rev 7)
(t/same (reason-of rev 7) :key-compromise "re-revoking a key-compromise serial with the default reason keeps key-compromise")
(t/same (get-in (crl rev) [:entries :7]) "key_compromise" "... and the CRL, read by cryptography, still says keyCompromise")
(t/raises |(ca/revoke rev 7 :superseded) "a key-compromise revocation cannot be changed to superseded" "[CA:PARAM]")
(t/same (reason-of rev 7) :key-compromise "... and the refused change leaves key-compromise")
(ca/revoke rev 8 :key-compromise)
(t/same (reason-of rev 8) :key-compromise "a certificate-hold may become key-compromise")
(ca/revoke rev 9 :key-compromise)
(t/same (reason-of rev 9) :key-compromise "a permanent reason may escalate to key-compromise")
(each serial [7 8 9]
  (t/same (date-of rev serial) (first-dates serial)
          (string/format "re-revoking serial %d keeps its first revocation date" serial)))

(t/same (get (crl (ca/generate)) :number) 1 "a CA from ca/generate numbers its first CRL 1")
(def saved-cert (ca/get-cert rev))
(def saved-key (ca/get-key rev))
(def before-us (* (os/time) 1000000))
(def first-run (crl (ca/create saved-cert saved-key) before-us))
(t/ok (first-run :at-least) (string "ca/create without :crl-number numbers CRLs at least by the clock in microseconds, got "
                                    (first-run :number)))
(def restarted (crl (ca/create saved-cert saved-key) (+ 1 (first-run :number))))
(t/ok (restarted :at-least)
      (string "a restarted CA (ca/create again, no :crl-number) publishes a higher CRL number: "
              (first-run :number) " then " (restarted :number)))

(def counted (ca/generate {:common-name "Regression Counter"}))
(def next-serial (ca/get-serial counted))
(def plain-csr (req "version-0.der"))
# The documented :serial override (issue 20): a serial ahead of the counter is
# used as given, and the counter moves past it, so it is never issued again,
# and the persistence pattern saves the moved counter.
(def ahead (+ next-serial 77777))
(def ahead-cert (signed "an explicit serial ahead of the counter is used" |(ca/sign counted plain-csr {:serial ahead})))
(t/same ((t/cert-facts (file "ahead.pem" ahead-cert)) :serial) (string ahead)
        "the certificate carries the explicit serial ahead of the counter")
(t/same (ca/get-serial counted) (int/s64 (+ ahead 1)) "the counter moved past the explicit serial")
(def saved-counter (string (:get-serial counted)))
(def reloaded (ca/create (ca/get-cert counted) (ca/get-key counted) {:serial (scan-number saved-counter)}))
(t/same ((t/cert-facts (file "after.pem" ((:issue reloaded {:common-name "after.example"}) :cert))) :serial)
        (string (+ ahead 1)) "after the persistence pattern, the counter issues past the explicit serial")
(t/raises |(ca/sign counted plain-csr {:serial ahead}) "an explicit serial this CA already issued is refused"
          "[CA:PARAM]" "already used")
(def counter-issued ((:issue counted {:common-name "counter.example"}) :serial))
(t/raises |(ca/sign counted plain-csr {:serial counter-issued}) "a serial the counter issued is refused"
          "[CA:PARAM]" "already used")
(ca/set-serial counted 100)
(signed "an unused explicit serial below the counter is allowed" |(ca/sign counted plain-csr {:serial 50}))
(signed "an explicit serial at or above 2^63 is allowed" |(ca/sign counted plain-csr {:serial "0x8000000000000001"}))

# --- smaller ones ------------------------------------------------------------------------------

(t/raises |(ca/parse-ocsp-request (req "ocsp-nonce-0.der")) "an OCSP nonce of 0 octets is refused" "[CA:PARSE]" "nonce")
(t/raises |(ca/parse-ocsp-request (req "ocsp-nonce-33.der")) "an OCSP nonce of 33 octets is refused" "[CA:PARSE]" "nonce")
(t/same (length (get (ca/parse-ocsp-request (req "ocsp-nonce-32.der")) :nonce "")) 32 "an OCSP nonce of 32 octets is read")
(t/same (length (get (ca/parse-ocsp-request (req "ocsp-nonce-1.der")) :nonce "")) 1 "an OCSP nonce of 1 octet is read")

(def statuses (ca/generate {:common-name "Regression Status"}))
(ca/issue statuses {:common-name "issued.example"})
(t/same (get (ca/get-status statuses 1) :status) :good "get-status: an issued serial is :good")
(t/same (get (ca/get-status statuses 1000) :status) :unknown "get-status: a serial the CA never issued is :unknown")

(def ed448 (req "ed448.csr"))
(each usage ["keyEncipherment" "keyAgreement" "dataEncipherment"]
  (t/raises |(ca/sign root ed448 {:key-usage usage}) (string "an Ed448 key does not get " usage) "[CA:PARAM]"))
(signed "an Ed448 key gets digitalSignature" |(ca/sign root ed448 {:key-usage "digitalSignature"}))
(t/raises |(ca/issue root {:common-name "ed25519.example" :key-type :ed25519 :key-usage "keyAgreement"})
          "an Ed25519 key does not get keyAgreement" "[CA:PARAM]")

(t/raises |(ca/sign root (req "version-7.der")) "a CSR with version 7 is refused, naming the version" "[CA:PARSE]" "version")

(def short-lived (ca/generate-intermediate root {:common-name "Regression Short-lived" :days-valid 30 :path-length 1}))
(def issuer-end (not-after (ca/get-cert short-lived)))
(t/raises |(ca/issue short-lived {:common-name "long.example" :days-valid 365})
          ":issue with a :days-valid past the issuer's notAfter is refused, naming the way out"
          "[CA:PARAM]" "truncate-to-issuer")
(t/raises |(ca/sign short-lived plain-csr {:days-valid 365})
          ":sign-csr with a :days-valid past the issuer's notAfter is refused" "[CA:PARAM]" "truncate-to-issuer")
(t/raises |(ca/generate-intermediate short-lived {:common-name "Regression Longer" :days-valid 365})
          "generate-intermediate past the parent's notAfter is refused" "[CA:PARAM]" "truncate-to-issuer")
(each [what f] [[":issue :truncate-to-issuer true ends the leaf at the issuer's notAfter"
                 |(ca/issue short-lived {:common-name "long.example" :days-valid 365 :truncate-to-issuer true})]
                [":sign-csr :truncate-to-issuer true ends at the issuer's notAfter"
                 |(ca/sign short-lived plain-csr {:days-valid 365 :truncate-to-issuer true})]
                ["generate-intermediate :truncate-to-issuer true ends at the parent's notAfter"
                 |(ca/generate-intermediate short-lived {:common-name "Regression Truncated" :days-valid 365
                                                         :truncate-to-issuer true})]
                ["the default validity of a leaf ends at the issuer's notAfter when that comes sooner"
                 |(ca/issue short-lived {:common-name "default.example"})]]
  (when-let [v (signed what f)] (t/same (not-after (cert-of v)) issuer-end what)))
(when-let [[r i leaf] (signed "the documented defaults (3650-day root, 1825-day intermediate, 365-day leaf) keep working"
                              |(let [r (ca/generate) i (ca/generate-intermediate r)]
                                 [r i ((ca/issue i {:common-name "default.example"}) :cert)]))]
  (def [ok out] (openssl-verify r leaf i))
  (t/ok ok (string "... and openssl verify -x509_strict accepts the chain: " out)))

(when-let [no-crl (signed "ca/create loads a CA certificate without cRLSign"
                          |(ca/create (req "no-crl-sign.pem") (req "no-crl-sign.key")))]
  (t/raises |(ca/crl no-crl) "a CA certificate without cRLSign does not sign CRLs" "[CA:CONFIG]" "cRLSign"))


# --- encipherOnly / decipherOnly without keyAgreement (issue 20) ----------------------
# RFC 5280 4.2.1.3 gives them meaning only beside keyAgreement; cryptography
# refuses to load a certificate with them alone.
(def ku-ca (ca/generate {:common-name "Regression Key Usage"}))
(each usage ["digitalSignature,encipherOnly" "digitalSignature,decipherOnly" [:encipher-only]]
  (t/raises |(:issue ku-ca {:common-name "ku.example" :key-usage usage})
            (string/format "an EC leaf with %q is refused" usage) "[CA:PARAM]" "keyAgreement")
  (t/raises |(ca/sign ku-ca (req "version-0.der") {:key-usage usage})
            (string/format "a signed request with %q is refused" usage) "[CA:PARAM]" "keyAgreement"))
(def agreed (signed "an EC leaf with keyAgreement,encipherOnly is issued"
                    |((:issue ku-ca {:common-name "ku.example" :key-usage "keyAgreement,encipherOnly"}) :cert)))
(t/ok (t/cert-facts (file "agreed.pem" agreed)) "cryptography loads keyAgreement,encipherOnly")
(t/done "trust-regressions")

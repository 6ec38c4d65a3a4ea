# What a hostile requester can put in a CSR, and what the CA does with it:
# keys nobody holds, names and usages it should not get, a CA bit past the
# CA's own path length, oversized or mislabelled requests.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "requester"))
(defn file [name content] (t/write dir name content))

(def root (ca/generate {:common-name "Requester Root"}))

(defn openssl-csr
  "A CSR from openssl req with the given -subj and -addext values; returns its PEM."
  [subj & addext]
  (def out (string dir "/r.csr"))
  (def [code msg] (t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
                             "-keyout" (string dir "/r.key") "-subj" subj "-out" out ;(mapcat |["-addext" $] addext)))
  (t/ok (zero? code) (string "openssl req: " msg))
  (slurp out))

(defn facts
  "What Python cryptography reads from a certificate PEM (an empty struct when it cannot)."
  [pem]
  (def got (t/cert-facts (file "facts.pem" pem)))
  (t/ok got "cryptography loads the signed certificate")
  (or got {}))

# --- a CSR whose EC key is the point at infinity: anyone can "sign" for it ----

(def forge ```
import sys
def tlv(tag, body):
    n = len(body)
    if n < 0x80: ln = bytes([n])
    elif n < 0x100: ln = bytes([0x81, n])
    else: ln = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + ln + body
seq = lambda *xs: tlv(0x30, b"".join(xs))
oid_ec = bytes.fromhex("06072a8648ce3d0201"); oid_p256 = bytes.fromhex("06082a8648ce3d030107")
cn = seq(bytes.fromhex("0603550403"), tlv(0x0c, b"nobody-has-this-key"))
name = seq(tlv(0x31, cn))
spki = seq(seq(oid_ec, oid_p256), tlv(0x03, b"\x00\x00"))
info = seq(tlv(0x02, b"\x00"), name, spki, tlv(0xa0, b""))
sig = seq(tlv(0x02, b"\x01"), tlv(0x02, b"\x01"))
csr = seq(info, seq(bytes.fromhex("06082a8648ce3d040302")), tlv(0x03, b"\x00" + sig))
open(sys.argv[1], "wb").write(csr)
print("ok")
```)
(def forged-path (string dir "/forged.der"))
(t/python forge forged-path)
(t/raises |(ca/sign root (slurp forged-path)) "a CSR for the point at infinity" "[CA:" "public key")

# --- names and usages a requester may not choose -------------------------------

(def ocsp-csr (openssl-csr "/CN=sneaky" "extendedKeyUsage=OCSPSigning,serverAuth"))
(t/raises |(ca/sign root ocsp-csr {:copy-extensions true}) "a requested OCSPSigning is not copied" "[CA:PARAM]" "1.3.6.1.5.5.7.3.9")
(t/same ((facts (ca/sign root ocsp-csr {:copy-extensions true :extended-key-usage "serverAuth"})) :eku)
        ["1.3.6.1.5.5.7.3.1"] "the operator's :extended-key-usage (serverAuth only) replaces the requested one")
(def any-csr (openssl-csr "/CN=sneaky" "extendedKeyUsage=anyExtendedKeyUsage"))
(t/raises |(ca/sign root any-csr {:copy-extensions true}) "a requested anyExtendedKeyUsage is not copied" "[CA:PARAM]" "2.5.29.37.0")
(def upn-csr (openssl-csr "/CN=sneaky" "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@corp.example"))
(t/raises |(ca/sign root upn-csr {:copy-extensions true}) "a requested otherName (UPN) is not certified" "[CA:PARAM]" "kind")
(t/same ((facts (ca/sign root upn-csr {:copy-extensions true :san ["DNS:ok.example"]})) :san)
        ["DNS:ok.example"] "an explicit :san replaces the requested names (no otherName)")
(def rid-csr (openssl-csr "/CN=sneaky" "subjectAltName=RID:1.2.3.4"))
(t/raises |(ca/sign root rid-csr {:copy-extensions true}) "a requested registeredID is not certified" "[CA:PARAM]" "kind")

# --- a CA bit beyond the CA's own path length ------------------------------------

(def leafonly (ca/generate-intermediate root {:common-name "Leaf-only CA"}))   # pathlen 0
(def sub-csr (openssl-csr "/CN=Would-be Sub CA"))
(t/raises |(ca/sign leafonly sub-csr {:basic-constraints "CA:TRUE,pathlen:5"})
          "a pathlen-0 CA cannot certify a CA" "[CA:CONFIG]" "pathlen 0")
(def mid (ca/generate-intermediate root {:common-name "Mid CA" :path-length 2}))
(t/raises |(ca/sign mid sub-csr {:basic-constraints "CA:TRUE,pathlen:2"}) "a child pathlen must be below the CA's" "[CA:PARAM]" "pathlen")
(let [sub (facts (ca/sign mid sub-csr {:basic-constraints "CA:TRUE,pathlen:1"}))]
  (t/same [(sub :ca) (sub :pathlen)] [true 1] "a child pathlen below the CA's is fine: CA:TRUE, pathlen 1"))

# --- name constraints also cover the subject's emailAddress --------------------

(def mail-ca (ca/generate-intermediate root {:common-name "Mail CA" :name-constraints {:permitted ["email:@example.com"]}}))
(def mallory (openssl-csr "/CN=Mallory/emailAddress=mallory@evil.example"))
(t/raises |(ca/sign mail-ca mallory) "a subject emailAddress outside the constraints" "[CA:PARAM]" "mallory@evil.example")
(t/same ((facts (ca/sign mail-ca (openssl-csr "/CN=Alice/emailAddress=alice@example.com"))) :subject-attrs)
        [["2.5.4.3" "Alice"] ["1.2.840.113549.1.9.1" "alice@example.com"]] "a permitted subject emailAddress is certified")

# --- oversized and mislabelled requests -----------------------------------------

(def plain (openssl-csr "/CN=plain.example"))
(t/raises |(ca/sign root (string plain (string/repeat " " 70000))) "a CSR over 64 KiB" "[CA:RESOURCE]")
(def sha1-csr (string dir "/sha1.csr"))
(t/openssl "req" "-new" "-sha1" "-key" (string dir "/r.key") "-subj" "/CN=old.example" "-out" sha1-csr)
(t/raises |(ca/sign root (slurp sha1-csr)) "a SHA-1 signed CSR" "[CA:VERIFY]" "SHA-1")
(def relabel ```
import sys
from cryptography import x509
csr = x509.load_pem_x509_csr(open(sys.argv[1], "rb").read())
def tlv(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xff]))
    return bytes([tag]) + ln + body
# the same info and ECDSA signature, labelled sha256WithRSAEncryption
alg = tlv(0x30, bytes.fromhex("06092a864886f70d01010b0500"))
der = tlv(0x30, csr.tbs_certrequest_bytes + alg + tlv(0x03, b"\x00" + csr.signature))
open(sys.argv[2], "wb").write(der)
```)
(def relabelled (string dir "/relabelled.der"))
(t/python relabel (string dir "/r.csr") relabelled)
(t/raises |(ca/sign root (slurp relabelled)) "a CSR whose signature algorithm does not fit its key"
          "[CA:VERIFY]" "does not fit")

(t/done "requester-attacks")

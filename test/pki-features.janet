# What real private PKIs need: name constraints, revocation pointers that
# relying parties follow, full subject names, certificate policies.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "pki"))
(defn file [name content] (t/write dir name content))

# --- name constraints ----------------------------------------------------------

(def root (ca/generate {:common-name "Constrained Root"}))
(def inter (ca/generate-intermediate root {:common-name "Example Issuing CA"
                                           :name-constraints {:permitted ["DNS:example.com" "IP:10.0.0.0/8"
                                                                          "email:@example.com"]
                                                              :excluded ["DNS:bad.example.com"]}}))
(def root-pem (file "root.pem" (ca/get-cert root)))
(def inter-pem (file "inter.pem" (ca/get-cert inter)))

(def verify-server ```
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
from cryptography.x509 import DNSName
load = lambda p: x509.load_pem_x509_certificate(open(p, "rb").read())
root, inter, leaf = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
verifier = PolicyBuilder().store(Store([root])).build_server_verifier(DNSName(sys.argv[4]))
try:
    verifier.verify(leaf, [inter])
    emit({"ok": True})
except Exception as e:
    emit({"ok": False, "error": str(e)})
```)

(defn judges [leaf-pem name]
  "[openssl-accepts? cryptography-accepts?] for a leaf under the constrained intermediate."
  (def leaf (file "leaf.pem" leaf-pem))
  (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" root-pem "-untrusted" inter-pem leaf))
  (def py (t/python-data verify-server root-pem inter-pem leaf name))
  [(zero? code) (get py :ok) out (get py :error)])

(def permitted (:issue inter {:common-name "www.example.com" :san ["DNS:www.example.com" "IP:10.1.2.3"]
                              :extended-key-usage "serverAuth"}))
(let [[openssl-ok py-ok out err] (judges (permitted :cert) "www.example.com")]
  (t/ok openssl-ok (string "openssl verify accepts a permitted name under the constrained intermediate: " out))
  (t/ok py-ok (string "cryptography's verifier accepts it too: " err)))

(t/raises |(:issue inter {:common-name "bad.example.com" :san ["DNS:bad.example.com"]})
          "issuing an excluded name" "[CA:PARAM]" "bad.example.com" "excluded")
(t/raises |(:issue inter {:common-name "www.other.org" :san ["DNS:www.other.org"]})
          "issuing a name outside the permitted subtrees" "[CA:PARAM]" "www.other.org")
(t/raises |(:issue inter {:common-name "x" :san ["IP:192.168.1.1"]}) "an IP outside 10.0.0.0/8" "[CA:PARAM]" "192.168.1.1")
(t/raises |(:issue inter {:common-name "x" :san ["email:a@other.org"]}) "an email outside @example.com" "[CA:PARAM]" "a@other.org")
(t/raises |(:issue inter {:common-name "outside.org"}) "a CN that is a host name outside the constraints" "[CA:PARAM]" "outside.org")

# The same certificate for the excluded name, forced through openssl x509 with the
# intermediate's key: both judges must reject it.
(def forced-key (file "forced.key" ""))
(def forced-csr (string dir "/forced.csr"))
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout" forced-key
           "-subj" "/CN=bad.example.com" "-out" forced-csr)
(t/raises |(ca/sign inter (slurp forced-csr) {:san ["DNS:bad.example.com"]}) "signing a CSR for an excluded name"
          "[CA:PARAM]" "bad.example.com")
(def ext (file "forced.ext" "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:bad.example.com\nextendedKeyUsage=serverAuth\n"))
(def forced (string dir "/forced.pem"))
(let [[code out] (t/openssl "x509" "-req" "-in" forced-csr "-CA" inter-pem "-CAkey" (file "inter.key" (ca/get-key inter))
                            "-set_serial" "4242" "-days" "30" "-extfile" ext "-out" forced)]
  (t/ok (zero? code) (string "openssl x509 signs the excluded name: " out)))
(let [[openssl-ok py-ok out] (judges (slurp forced) "bad.example.com")]
  (t/ok (and (not openssl-ok) (string/find "excluded" (string/ascii-lower out)))
        (string "openssl verify rejects the excluded name: " out))
  (t/same py-ok false "cryptography's verifier rejects the excluded name"))

# ca/create honours the constraints found in the loaded certificate.
(def reloaded (ca/create (ca/get-cert inter) (ca/get-key inter)))
(t/raises |(:issue reloaded {:common-name "x" :san ["DNS:bad.example.com"]}) "a loaded constrained CA refuses" "[CA:PARAM]")
(let [ok-pem ((:issue reloaded {:common-name "ok" :san ["DNS:ok.example.com"]}) :cert)
      [openssl-ok py-ok out err] (judges ok-pem "ok.example.com")]
  (t/same (get (t/cert-facts (file "ok.pem" ok-pem)) :san) ["DNS:ok.example.com"]
          "a loaded constrained CA issues permitted names: the SAN asked for")
  (t/ok openssl-ok (string "openssl verify accepts it under the constrained intermediate: " out))
  (t/ok py-ok (string "cryptography's verifier accepts it for ok.example.com: " err)))
# A child of a constrained CA inherits the parent's constraints.
(def child (ca/generate-intermediate (ca/generate {:name-constraints {:permitted ["DNS:corp.example"]} :path-length 1})))
(t/raises |(:issue child {:common-name "x" :san ["DNS:www.elsewhere.example"]}) "a grandchild name outside the root's constraints" "[CA:PARAM]")

# --- revocation pointers ----------------------------------------------------------

# Ports: a CRL server and an OCSP responder on loopback.
(def base-port (+ 20000 (math/rng-int (math/rng (os/cryptorand 8)) 12000)))
(def crl-port base-port)
(def ocsp-port (+ base-port 1))
(def crl-url (string/format "http://127.0.0.1:%d/issuing.crl" crl-port))
(def ocsp-url (string/format "http://127.0.0.1:%d" ocsp-port))
(def issuers-url "http://127.0.0.1:1/root.crt")

(def pki-root (ca/generate {:common-name "Pointer Root"}))
(def issuing (ca/generate-intermediate pki-root {:common-name "Pointer Issuing CA" :path-length 1 :crl-url crl-url :ocsp-url ocsp-url
                                                 :ca-issuers-url issuers-url}))
(def pki-root-pem (file "pki-root.pem" (ca/get-cert pki-root)))
(def issuing-pem (file "issuing.pem" (ca/get-cert issuing)))
(def good (:issue issuing {:common-name "good.example" :san ["DNS:good.example"] :ocsp-must-staple true}))
(def bad (:issue issuing {:common-name "bad.example" :san ["DNS:bad.example"]}))
(def other (:issue issuing {:common-name "o.example" :crl-url "http://crl.elsewhere.example/x.crl"}))
(def good-pem (file "good.pem" (good :cert)))
(def bad-pem (file "bad.pem" (bad :cert)))

(let [[code out] (t/openssl "x509" "-in" good-pem "-noout" "-ocsp_uri")]
  (t/same (string/trim out) ocsp-url "openssl x509 -ocsp_uri prints the CA's OCSP URL"))
(def pointers ```
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID as AIA
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
try:
    dps = [n.value for dp in c.extensions.get_extension_for_class(x509.CRLDistributionPoints).value for n in dp.full_name]
except x509.ExtensionNotFound:
    dps = []
aia = c.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
try:
    staple = [f.name for f in c.extensions.get_extension_for_class(x509.TLSFeature).value]
except x509.ExtensionNotFound:
    staple = []
emit({"crl": dps, "ocsp": [a.access_location.value for a in aia if a.access_method == AIA.OCSP],
      "issuers": [a.access_location.value for a in aia if a.access_method == AIA.CA_ISSUERS], "staple": staple})
```)
(let [v (t/python-data pointers good-pem)]
  (t/same (v :crl) [crl-url] "the CRL distribution point is stamped into issued certificates")
  (t/same (v :ocsp) [ocsp-url] "the OCSP URL is stamped into issued certificates")
  (t/same (v :issuers) [issuers-url] "the CA issuers URL is stamped into issued certificates")
  (t/same (v :staple) ["status_request"] ":ocsp-must-staple adds the TLS feature status_request"))
(t/same ((t/python-data pointers (file "other.pem" (other :cert))) :crl) ["http://crl.elsewhere.example/x.crl"]
        "a per-call :crl-url overrides the CA's")
(t/same ((t/python-data pointers (file "pr.pem" (ca/get-cert (ca/generate-intermediate issuing {:path-length 0})))) :ocsp)
        [ocsp-url] "intermediates a CA creates carry its pointers")

# The CRL is fetched from the certificate's own URL by openssl verify -crl_download.
(:revoke issuing 2 :key-compromise)        # `bad` has serial 2
(def www (string dir "/www"))
(os/mkdir www)
(def crl-pem (file "issuing-crl.pem" (ca/crl issuing)))
(t/openssl "crl" "-in" crl-pem "-outform" "DER" "-out" (string www "/issuing.crl"))
(def http (os/spawn ["python3" "-m" "http.server" (string crl-port) "--bind" "127.0.0.1" "--directory" www]
                    :p {:out :pipe :err :pipe}))
(def ocsp (os/spawn [(t/janet-exe) "jsec/ocsp-responder.janet" "--port" (string ocsp-port)
                     "--cert" issuing-pem "--key" (file "issuing.key" (ca/get-key issuing)) "--revoke" "2:key-compromise"
                     "--serial" (string (ca/get-serial issuing))]
                    :pe (merge (os/environ) {"JANET_PATH" (t/module-root) :out :pipe :err :pipe})))
(defer (do (os/proc-kill http) (os/proc-kill ocsp))
  (ev/sleep 1)
  (defn crl-verify [leaf]
    (t/openssl "verify" "-crl_check" "-crl_download" "-CAfile" pki-root-pem "-untrusted" issuing-pem leaf))
  (let [[code out] (crl-verify bad-pem)]
    (t/ok (and (not (zero? code)) (string/find "certificate revoked" out))
          (string "openssl verify -crl_download fetches the CRL from the certificate's URL and rejects the revoked leaf: " out)))
  (let [[code out] (crl-verify good-pem)]
    (t/ok (zero? code) (string "the unrevoked leaf verifies with the downloaded CRL: " out)))
  (defn ocsp-status [leaf]
    (t/openssl "ocsp" "-url" ocsp-url "-issuer" issuing-pem "-cert" leaf "-CAfile" pki-root-pem "-timeout" "5"))
  (let [[code out] (ocsp-status bad-pem)]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out))
          (string "the OCSP responder at the certificate's URL reports the revoked leaf: " out)))
  (let [[code out] (ocsp-status good-pem)]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": good" out))
          (string "the OCSP responder reports the good leaf: " out))))

# A delegated OCSP responder certificate carries id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1).
(def responder (:issue issuing {:common-name "OCSP Responder" :extended-key-usage "OCSPSigning"}))
(def nocheck ```
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
emit([e.oid.dotted_string for e in c.extensions if isinstance(e.value, x509.OCSPNoCheck)])
```)
(t/same (t/python-data nocheck (file "responder.pem" (responder :cert))) ["1.3.6.1.5.5.7.48.1.5"]
        "an OCSPSigning certificate carries id-pkix-ocsp-nocheck")
(t/same (t/python-data nocheck good-pem) [] "other certificates do not")

# --- full subject names and policies ----------------------------------------------

(def names ```
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
try:
    pol = [p.policy_identifier.dotted_string for p in c.extensions.get_extension_for_class(x509.CertificatePolicies).value]
except x509.ExtensionNotFound:
    pol = []
emit({"rdns": [[a.oid._name, a.value] for rdn in c.subject.rdns for a in rdn], "policies": pol})
```)
(def full (:issue issuing {:common-name "svc.example" :organization "Acme" :organizational-unit "Ops" :locality "Berlin"
                           :state "Berlin" :country "DE" :email "ops@example.com" :serial-number "A-42"
                           :certificate-policies ["1.3.6.1.4.1.99999.1" "2.23.140.1.2.1"]}))
(let [v (t/python-data names (file "full.pem" (full :cert)))]
  (t/same (v :rdns) [["countryName" "DE"] ["stateOrProvinceName" "Berlin"] ["localityName" "Berlin"]
                     ["organizationName" "Acme"] ["organizationalUnitName" "Ops"] ["commonName" "svc.example"]
                     ["serialNumber" "A-42"] ["emailAddress" "ops@example.com"]]
          "every subject option lands in the subject, in the documented order")
  (t/same (v :policies) ["1.3.6.1.4.1.99999.1" "2.23.140.1.2.1"] ":certificate-policies lists the policy OIDs"))
(def ordered (:issue issuing {:subject [["C" "DE"] ["O" "Acme"] ["OU" "Ops"] ["CN" "svc"]]}))
(t/same ((t/python-data names (file "ordered.pem" (ordered :cert))) :rdns)
        [["countryName" "DE"] ["organizationName" "Acme"] ["organizationalUnitName" "Ops"] ["commonName" "svc"]]
        ":subject gives exact DN order")
(def policy-ca (ca/generate {:certificate-policies ["2.5.29.32.0"]}))
(t/same ((t/python-data names (file "policy-ca.pem" (ca/get-cert policy-ca))) :policies) ["2.5.29.32.0"]
        ":certificate-policies on a CA")

(each [name pem] [["constrained intermediate" (ca/get-cert inter)] ["pointer leaf" (good :cert)]
                  ["full subject leaf" (full :cert)] ["ordered subject leaf" (ordered :cert)]
                  ["policy root" (ca/get-cert policy-ca)] ["pointer intermediate" (ca/get-cert issuing)]
                  ["OCSP responder" (responder :cert)]]
  (let [[clean out] (t/pkilint-clean? "lint_pkix_cert" (file "lint.pem" pem))]
    (t/ok clean (string "pkilint finds no ERROR/FATAL on the " name ": " out))))

# --- bad input -------------------------------------------------------------------

(each [opts what needle]
  [[{:name-constraints {:permitted ["IP:10.0.0.0/33"]}} "a CIDR prefix too long" "10.0.0.0/33"]
   [{:name-constraints {:permitted ["IP:10.0.0.1/8"]}} "host bits set in a CIDR" "10.0.0.1/8"]
   [{:name-constraints {:permitted ["IP:10.0.0.0"]}} "an IP constraint without a prefix" "CIDR"]
   [{:name-constraints {:permitted ["FTP:.example.com"]}} "an unknown constraint prefix" "FTP"]
   [{:name-constraints {:permitted []}} "empty constraints" ":name-constraints"]
   [{:name-constraints {:allowed ["DNS:x.example"]}} "an unknown constraint key" "allowed"]
   [{:name-constraints ["DNS:x.example"]} "constraints that are not a table" ":name-constraints"]
   [{:crl-url "crl.example/x.crl"} "a CRL URL that is not absolute" ":crl-url"]
   [{:ocsp-url ["http://ok.example" "/relative"]} "an OCSP URL that is not absolute" ":ocsp-url"]
   [{:ca-issuers-url 42} "a URL that is not a string" ":ca-issuers-url"]
   [{:subject [["XX" "y"]]} "an unknown subject attribute" "XX"]
   [{:subject [["CN" "x"]] :organization "Acme"} ":subject mixed with single-attribute options" ":subject"]
   [{:subject [["CN"]]} "a :subject item that is not a pair" ":subject"]
   [{:subject [["C" "DEU"]]} "a three-letter country in :subject" "two-letter"]
   [{:organization (string/repeat "x" 65)} "an organization over 64 characters" ":organization"]
   [{:certificate-policies ["not.an.oid"]} "a policy that is not an OID" ":certificate-policies"]]
  (t/raises |(ca/generate opts) (string "ca/generate with " what) "[CA:PARAM]" needle))
(t/raises |(:issue issuing {:common-name "x" :ocsp-must-staple "yes"}) ":ocsp-must-staple not a boolean" "[CA:PARAM]" ":ocsp-must-staple")

(t/done "pki-features")

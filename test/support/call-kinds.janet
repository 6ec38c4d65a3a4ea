# Every kind of call the module serves, each as a thunk that leaves the CA's
# state as it found it (apart from its serial counter): issuing, signing,
# revocation, CRLs, OCSP, key export and loading, and one of each error path.
# test/support/gc-child.janet counts the bytes each kind leaves behind;
# test/support/memcheck-workload.janet runs each under valgrind.
# Only defines things (jpm test runs test/support too).
(import jsec/ca)

(defn- openssl [& args]
  (def null (file/open "/dev/null" :w))
  (def code (os/execute ["openssl" ;args] :p {:out null :err null}))
  (file/close null)
  (unless (zero? code) (error (string/format "openssl %j failed" args))))

(defn- swallow [f] (try (f) ([_] nil)))

(defn make
  "Fixtures in `dir` and the calls. Returns {:root ca :kinds [[name calls thunk signs-on-root?] ...]},
  `calls` being how many make a measuring window for that kind (fewer for slow ones)."
  [dir]
  (defn path [name] (string dir "/" name))
  (defn csr-of [name & addext]
    (openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout" "/dev/null"
             "-subj" (string "/CN=" name) "-out" (path (string name ".csr")) ;(mapcat |["-addext" $] addext))
    (slurp (path (string name ".csr"))))
  (def root (ca/generate {:common-name "Kinds Root"}))
  (def constrained (ca/generate-intermediate root {:common-name "Kinds Constrained"
                                                   :name-constraints {:permitted ["DNS:example.com"]}}))
  (def csr (csr-of "plain.example"))
  (def rich-csr (csr-of "rich.example" "subjectAltName=DNS:rich.example,IP:10.0.0.1"
                        "extendedKeyUsage=clientAuth"))
  (openssl "req" "-in" (path "plain.example.csr") "-outform" "DER" "-out" (path "plain.der"))
  (def broken-csr   # the DER request with the last byte of its signature changed
    (let [der (buffer (slurp (path "plain.der")))]
      (put der (dec (length der)) (bxor 1 (last der)))))
  (each [serial reason] [[2 :key-compromise] [3 :certificate-hold] ["0x0123456789abcdef" :superseded]]
    (ca/revoke root serial reason))
  (spit (path "root.pem") (ca/get-cert root))
  (openssl "ocsp" "-issuer" (path "root.pem") "-serial" "5" "-reqout" (path "req.der"))
  (def ocsp-der (slurp (path "req.der")))
  (def cert-pem (ca/get-cert root))
  (def key-pem (ca/get-key root))
  (def encrypted-key (ca/get-key root {:password "kinds"}))
  (def malformed-csr "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
  (def oversized-csr (string/repeat " " 70000))
  {:root root
   :kinds
   [["generate" 500 |(ca/generate {:common-name "Another Root"}) false]
    # a parent of its own each time: a CA certifies one CA of each name
    ["generate-intermediate" 500 |(ca/generate-intermediate (ca/generate) {:common-name "Kinds Sub"}) false]
    ["issue" 1000 |(:issue root {:common-name "gc.example" :san ["DNS:gc.example"]}) true]
    # the key made on a thread of the event loop (a thread per call), signed back here
    ["issue-async" 1000 |(:issue-async root {:common-name "gc.example" :san ["DNS:gc.example"]}) true]
    ["issue ed25519" 1000 |(:issue root {:common-name "ed.example" :key-type :ed25519}) true]
    ["issue under name constraints" 1000 |(:issue constrained {:common-name "www.example.com"}) false]
    ["sign-csr" 1000 |(:sign-csr root csr) true]
    ["sign-csr :copy-extensions" 1000 |(:sign-csr root rich-csr {:copy-extensions true}) true]
    ["revoke again, same reason" 4000 |(ca/revoke root 2 :key-compromise) false]
    ["hold and release" 4000 |(do (ca/revoke root 7 :certificate-hold) (ca/revoke root 7 :remove-from-crl)) false]
    ["get-revoked, get-status" 4000 |(do (ca/get-revoked root) (ca/get-status root 2)) false]
    ["crl" 1000 |(ca/crl root {:revoked [{:serial 9 :reason :superseded}]}) false]
    ["parse and answer an OCSP request" 1000
     |(ca/create-ocsp-response root (ca/parse-ocsp-request ocsp-der) |(ca/get-status root $)) false]
    ["OCSP error response" 4000 |(ca/ocsp-error-response :try-later) false]
    ["get-key, get-cert" 1000 |(do (ca/get-key root) (ca/get-cert root)) false]
    ["create from PEM" 1000 |(ca/create cert-pem key-pem {:serial 1000}) false]
    ["error: bad :san" 4000 |(swallow |(ca/issue root {:common-name "x" :san ["BAD:x"]})) false]
    ["error: issue-async in a fiber that catches its await" 4000
     |(swallow |(resume (fiber/new |(ca/issue-async root {:common-name "x"}) :w))) false]
    ["error: name outside the constraints" 4000 |(swallow |(:issue constrained {:common-name "x.other.org"})) false]
    ["error: garbage CSR" 4000 |(swallow |(ca/sign root "garbage")) false]
    ["error: malformed CSR PEM" 4000 |(swallow |(ca/sign root malformed-csr)) false]
    ["error: CSR with a broken signature" 1000 |(swallow |(ca/sign root broken-csr)) false]
    ["error: option of the wrong type" 4000 |(swallow |(ca/issue root {:common-name 5})) false]
    ["error: unknown option" 4000 |(swallow |(ca/crl root {:nope 1})) false]
    ["error: arity and argument type" 4000 |(do (swallow |(ca/get-serial)) (swallow |(ca/revoke "ca" 5))) false]
    ["error: unknown revocation reason" 4000 |(swallow |(ca/revoke root 8 :bogus)) false]
    ["error: release of a serial not on hold" 4000 |(swallow |(ca/revoke root 8 :remove-from-crl)) false]
    ["error: bad OCSP request" 4000
     |(do (swallow |(ca/parse-ocsp-request "garbage"))
          (swallow |(ca/parse-ocsp-request (string/slice ocsp-der 0 20)))) false]
    ["error: bad request info" 4000 |(swallow |(ca/create-ocsp-response root {:serial "x"} :good)) false]
    ["error: garbage certificate and key" 4000 |(swallow |(ca/create "junk" "junk")) false]
    ["error: another CA's key" 500 |(swallow |(ca/create cert-pem (ca/get-key constrained))) false]
    ["error: encrypted key without :password" 500 |(swallow |(ca/create cert-pem encrypted-key)) false]
    ["error: wrong :password" 500 |(swallow |(ca/create cert-pem encrypted-key {:password "wrong"})) false]
    ["error: oversized CSR" 4000 |(swallow |(ca/sign root oversized-csr)) false]
    # The fewest key-derivation iterations: the calls are about memory, and 600,000 (the default) take a second each.
    ["pkcs12" 500 |(ca/pkcs12 cert-pem key-pem {:password "pw" :name "kinds" :iterations 1000}) false]
    ["pkcs12 :legacy with an encrypted key" 500
     |(ca/pkcs12 cert-pem encrypted-key {:password "pw" :key-password "kinds" :legacy true}) false]
    ["error: pkcs12 with another CA's key" 1000
     |(swallow |(ca/pkcs12 cert-pem (ca/get-key constrained) {:password "pw"})) false]
    ["error: pkcs12 without :password" 4000 |(swallow |(ca/pkcs12 cert-pem key-pem)) false]]})

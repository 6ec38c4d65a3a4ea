# Signing a request made by another tool: openssl req creates the key and the
# CSR; the CA never sees the private key.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-guide-" (os/time))))
(os/mkdir dir)
(defn out [name] (string dir "/" name))

(defn openssl [& args]
  (assert (zero? (os/execute ["openssl" ;args] :p)) (string/join ["openssl" ;args] " ")))

(openssl "req" "-new" "-newkey" "rsa:2048" "-nodes" "-keyout" (out "web.key")
         "-subj" "/O=Example/CN=web.example.com"
         "-addext" "subjectAltName=DNS:web.example.com,DNS:www.example.com"
         "-out" (out "web.csr"))

(def root (ca/generate {:common-name "CSR Root CA"}))
# :copy-extensions takes the requested subjectAltName; basic constraints and
# key usage always come from the CA, never from the requester.
(def cert (ca/sign root (slurp (out "web.csr"))
                   {:days-valid 90
                    :copy-extensions true
                    :extended-key-usage "serverAuth"}))

(spit (out "root.crt") (ca/get-cert root))
(spit (out "web.crt") cert)
(openssl "verify" "-purpose" "sslserver" "-CAfile" (out "root.crt") (out "web.crt"))
(openssl "x509" "-noout" "-subject" "-ext" "subjectAltName" "-in" (out "web.crt"))

# Server and client certificates for mutual TLS, checked by openssl for the
# purpose each is meant for.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-guide-" (os/time))))
(os/mkdir dir)
(defn out [name] (string dir "/" name))

(defn openssl [& args]
  (assert (zero? (os/execute ["openssl" ;args] :p)) (string/join ["openssl" ;args] " ")))

(def root (ca/generate {:common-name "mTLS Root CA"}))
(def issuing (ca/generate-intermediate root {:common-name "mTLS Issuing CA"}))

(def server (ca/issue issuing {:common-name "localhost"
                               :san ["DNS:localhost" "IP:127.0.0.1" "IP:::1"]
                               :extended-key-usage :server-auth}))
(def client (ca/issue issuing {:common-name "alice"
                               :san ["email:alice@example.com"]
                               :extended-key-usage [:client-auth]
                               :days-valid 90}))

(spit (out "ca.crt") (ca/get-cert root))
(spit (out "chain.crt") (ca/get-cert issuing))
(each [name issued] [["server" server] ["client" client]]
  (spit (out (string name ".crt")) (string (issued :cert) (ca/get-cert issuing)))
  (spit (out (string name ".key")) (issued :key)))

(openssl "verify" "-purpose" "sslserver" "-CAfile" (out "ca.crt") "-untrusted" (out "chain.crt") (out "server.crt"))
(openssl "verify" "-purpose" "sslclient" "-CAfile" (out "ca.crt") "-untrusted" (out "chain.crt") (out "client.crt"))
(print "server.crt, client.crt (each with its chain) and ca.crt written to " dir)

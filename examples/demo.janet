# The main job: a root CA, an intermediate CA and a server certificate for
# localhost, written to a folder and checked with `openssl verify`.
#
#   JANET_PATH=build build/janet examples/demo.janet [folder]    # default: demo-pki/
(import jsec/ca)

(defn save [dir name content]
  (spit (string dir "/" name) content)
  (print "  wrote " dir "/" name))

(defn main [_ &opt dir]
  (default dir "demo-pki")
  (os/mkdir dir)

  (def root (ca/generate {:common-name "Demo Root CA" :organization "jsec demo"}))
  (def intermediate (ca/generate-intermediate root {:common-name "Demo Intermediate CA"
                                                    :organization "jsec demo"}))
  (def server (ca/issue intermediate {:common-name "localhost"
                                      :san ["DNS:localhost" "IP:127.0.0.1"]
                                      :extended-key-usage "serverAuth"}))
  (print "Issued a root, an intermediate and a server certificate for localhost:")

  (save dir "root.pem" (ca/get-cert root))
  (save dir "intermediate.pem" (ca/get-cert intermediate))
  (save dir "server.pem" (server :cert))
  (save dir "server.key" (server :key))
  (os/chmod (string dir "/server.key") 8r600)   # a private key: readable by its owner only
  (save dir "chain.pem" (string (server :cert) (ca/get-cert intermediate)))

  (print "Checking the chain:")
  (flush)
  (def code (os/execute ["openssl" "verify" "-CAfile" (string dir "/root.pem")
                         "-untrusted" (string dir "/intermediate.pem") (string dir "/server.pem")] :p))
  (if (zero? code)
    (print "The chain root -> intermediate -> server verifies.")
    (do (eprint "openssl verify failed") (os/exit 1))))

# Rotating an intermediate: the root (brought online for the occasion) signs a
# new intermediate; new certificates come from it, old ones stay valid until
# they expire, and the retired intermediate can be revoked on the root's CRL.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-guide-" (os/time))))
(os/mkdir dir)
(defn out [name] (string dir "/" name))

(defn openssl [& args]
  (assert (zero? (os/execute ["openssl" ;args] :p)) (string/join ["openssl" ;args] " ")))

(def root (ca/generate {:common-name "Rotation Root CA"}))
# An intermediate takes the next serial of the root's counter: note it.
(def old-serial (ca/get-serial root))
(def old-ca (ca/generate-intermediate root {:common-name "Issuing CA 2025"}))
(def old-leaf (ca/issue old-ca {:common-name "legacy.example.com"}))

# Rotation day.
(def new-ca (ca/generate-intermediate root {:common-name "Issuing CA 2026"}))
(def new-leaf (ca/issue new-ca {:common-name "app.example.com"}))

(spit (out "root.crt") (ca/get-cert root))
(spit (out "intermediates.crt") (string (ca/get-cert old-ca) (ca/get-cert new-ca)))
(spit (out "legacy.crt") (old-leaf :cert))
(spit (out "app.crt") (new-leaf :cert))
(each leaf ["legacy.crt" "app.crt"]
  (openssl "verify" "-CAfile" (out "root.crt") "-untrusted" (out "intermediates.crt") (out leaf)))

# Once the old intermediate's certificates have expired, retire it.
(ca/revoke root old-serial :superseded)
(spit (out "root.crl") (ca/crl root))
(print "rotated; root CRL lists " (length (ca/get-revoked root)) " retired intermediate(s)")

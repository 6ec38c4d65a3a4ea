# Revoking a certificate and publishing a CRL; openssl then refuses the
# revoked certificate and accepts the others.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-guide-" (os/time))))
(os/mkdir dir)
(defn out [name] (string dir "/" name))

(defn openssl-ok? [& args] (zero? (os/execute ["openssl" ;args] :p)))

(def root (ca/generate {:common-name "CRL Root CA"
                        :crl-url "http://pki.example.com/root.crl"}))
(def good (ca/issue root {:common-name "good.example.com"}))
(def bad (ca/issue root {:common-name "stolen.example.com"}))

(ca/revoke root 2 :key-compromise)
(spit (out "root.crl") (ca/crl root {:days-valid 7}))
(spit (out "root.crt") (ca/get-cert root))
(spit (out "good.crt") (good :cert))
(spit (out "stolen.crt") (bad :cert))

(defn check [file] (openssl-ok? "verify" "-crl_check" "-CAfile" (out "root.crt")
                                "-CRLfile" (out "root.crl") (out file)))
(assert (openssl-ok? "crl" "-verify" "-noout" "-CAfile" (out "root.crt") "-in" (out "root.crl")))
(assert (check "good.crt") "the good certificate passes")
(assert (not (check "stolen.crt")) "the revoked certificate is refused")
(print "CRL number " (- (ca/get-crl-number root) 1) " published to " (out "root.crl"))

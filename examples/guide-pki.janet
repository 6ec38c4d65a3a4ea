# An offline root and an online intermediate: the root signs only the
# intermediate and then goes offline (its key encrypted); the intermediate
# signs everything else.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-guide-" (os/time))))
(os/mkdir dir)
(defn out [name] (string dir "/" name))

(defn openssl [& args]
  (assert (zero? (os/execute ["openssl" ;args] :p)) (string/join ["openssl" ;args] " ")))

(def root (ca/generate {:common-name "Example Root CA" :organization "Example"
                        :country "US" :key-type :ec-p384 :days-valid 7300}))
(def intermediate (ca/generate-intermediate root {:common-name "Example Issuing CA"
                                                  :organization "Example" :country "US"}))

# The root key leaves the machine encrypted; the intermediate key stays online.
(spit (out "root.crt") (ca/get-cert root))
(spit (out "root.key") (ca/get-key root {:password "offline secret"}))
(spit (out "intermediate.crt") (ca/get-cert intermediate))
(spit (out "intermediate.key") (ca/get-key intermediate))
(spit (out "root.serial") (string (ca/get-serial root)))

(openssl "verify" "-CAfile" (out "root.crt") (out "intermediate.crt"))
(print "root and intermediate written to " dir)

# Persisting a CA and restoring it: certificate, encrypted key, next serial,
# revocations and the next CRL number, saved as Janet data.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-guide-" (os/time))))
(os/mkdir dir)
(def state-file (string dir "/ca-state.jdn"))
(def password "example only: read it from the environment")

(defn save [authority]
  (def revoked (map |{:serial (string ($ :serial)) :reason ($ :reason) :date ($ :date)}
                    (ca/get-revoked authority)))
  (spit state-file
        (string/format "%j" {:cert (ca/get-cert authority)
                             :key (ca/get-key authority {:password password})
                             :serial (string (ca/get-serial authority))
                             :crl-number (string (ca/get-crl-number authority))
                             :revoked revoked})))

(defn restore []
  (def saved (parse (slurp state-file)))
  (ca/create (saved :cert) (saved :key)
             {:password password
              :serial (scan-number (saved :serial))
              :crl-number (scan-number (saved :crl-number))
              :revoked (map |{:serial (int/s64 ($ :serial)) :reason ($ :reason) :date ($ :date)}
                            (saved :revoked))}))

# First run: issue two certificates, revoke one, publish a CRL, save.
(def original (ca/generate {:common-name "Persistent CA"}))
(ca/issue original {:common-name "one.example.com"})
(ca/issue original {:common-name "two.example.com"})
(ca/revoke original 1 :superseded)
(ca/crl original)
(save original)

# Later, in another process: restore and carry on where it left off.
(def restored (restore))
(assert (= (ca/get-serial restored) (int/s64 3)) "the counter continues at 3")
(assert (= (ca/get-crl-number restored) (int/s64 2)) "the next CRL is number 2")
(assert (= :superseded (get-in (ca/get-revoked restored) [0 :reason])) "the revocation survives")
(def three (ca/issue restored {:common-name "three.example.com"}))
(print "restored CA issued serial 3; state in " state-file)

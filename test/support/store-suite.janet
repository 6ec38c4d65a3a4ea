# What every store engine shows (issues 13 and 15), run on a fresh store at
# a location: CAs saved into it write through, load back with every serial,
# revocation and CRL number, answer status from the store as it is now, and
# bad calls are clear [CA:...] errors that change nothing. Judged by openssl
# and Python cryptography. test/store.janet runs it on SQLite,
# test/store-pg.janet on PostgreSQL. Only defines things.
(import ./check :as t)
(import jsec/ca)

(def crl-facts ```
from cryptography import x509
out = []
for p in sys.argv[1:]:
    c = x509.load_pem_x509_crl(open(p, "rb").read())
    num = c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    out.append([num, sorted(r.serial_number for r in c)])
emit(out)
```)

(defn run
  ``Runs the checks in `dir` on the empty store at `location`. `engine` holds
  what differs between engines:
  * :key-text (fn [name]) - the key text the store holds for CA `name`
  * :schema-version (fn [v]) - sets the schema version the store claims
  * :hold-lock (fn [seconds]) - a process that holds the write lock on the
    stored CAs for `seconds`, returned once it holds it
  * :unreachable - a location of this engine that cannot be opened
    ([CA:RESOURCE])``
  [dir location engine]
  (defn path [name] (string dir "/" name))
  (defn file [name content] (t/write dir name content))
  (def store (ca/open-store location))
  (t/ok (string/find "ca/Store" (string store)) "ca/open-store returns a ca/Store")

  # --- saving and loading -------------------------------------------------------

  (def root (ca/generate {:common-name "Store Root"}))
  (def first-leaf (:issue root {:common-name "before.example" :san ["DNS:before.example"]}))
  (t/same (ca/store-save store "root" root {:password "s3cret"}) root "ca/store-save returns the CA")
  (def inter (ca/generate-intermediate root {:common-name "Store Issuing CA"}))
  (:save store "issuing" inter)
  (t/same (ca/store-cas store) @["root" "issuing"] "ca/store-cas lists the saved CAs")
  (t/raises |(ca/store-save store "root" (ca/generate)) "a name is saved once" "[CA:PARAM]" "already saved")

  (def leaves (seq [i :range [0 5]] (:issue inter {:common-name (string "leaf" i ".example") :san [(string "DNS:leaf" i ".example")]})))
  (t/same (ca/get-serial inter) (int/s64 6) "a saved CA keeps counting in the store")
  (def again (ca/store-load store "issuing"))
  (t/same (ca/get-serial again) (int/s64 6) "a loaded CA continues the saved counter")
  (def next-leaf (:issue again {:common-name "next.example"}))
  (t/same ((t/cert-facts (file "next.pem" (next-leaf :cert))) :serial) "6" "the next serial after a reload is new")
  (t/same (ca/get-serial inter) (int/s64 7) "two CA values on one store share its counter")
  (t/same (length (ca/get-issued again)) 6 "ca/get-issued of a stored CA is the store's whole index")

  # the key: encrypted with the password, required to load
  (t/raises |(ca/store-load store "root") "an encrypted key needs :password" "[CA:PARAM]" ":password")
  (t/raises |(ca/store-load store "root" {:password "wrong"}) "a wrong password" "[CA:VERIFY]")
  (def root2 (ca/store-load store "root" {:password "s3cret"}))
  (t/same (ca/get-cert root2) (ca/get-cert root) "the root loads with its password")
  (def dump ((engine :key-text) "root"))
  (t/ok (and (string/find "ENCRYPTED PRIVATE KEY" dump) (not (string/find "BEGIN PRIVATE KEY" dump)))
        "a key saved with a password is never in clear in the store")

  # chains from the store verify
  (def root-pem (file "root.pem" (ca/get-cert root)))
  (def inter-pem (file "inter.pem" (ca/get-cert inter)))
  (each [i leaf] (pairs leaves)
    (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" root-pem "-untrusted" inter-pem
                               (file (string "leaf" i ".pem") (leaf :cert))))
    (t/ok (zero? code) (string "leaf " i " from a stored CA verifies: " out)))

  # --- revocation, status, CRLs: live and persistent -----------------------------------

  (ca/revoke inter 2 :key-compromise)
  (t/same ((ca/get-status again 2) :status) :revoked "a revocation through one CA value is seen by another at once")
  (t/same ((ca/get-status again 3) :status) :good "an issued serial is good")
  (t/same ((ca/get-status again 999) :status) :unknown "a serial the CA never issued is unknown")
  (ca/revoke again 2)
  (t/same ((ca/get-status inter 2) :revocation-reason) :key-compromise "re-revoking with the default reason keeps keyCompromise")
  (t/raises |(ca/revoke again 2 :superseded) "no downgrade through the store" "[CA:PARAM]")
  (ca/revoke again 4 :certificate-hold)
  (ca/revoke inter 4 :remove-from-crl)
  (t/same (map |($ :serial) (ca/get-revoked again)) @[(int/s64 2)] "a released hold leaves the stored list")

  (def crl1 (file "crl1.pem" (ca/crl inter)))
  (def crl2 (file "crl2.pem" (ca/crl again)))
  (def [[n1 s1] [n2 s2]] (t/python-data crl-facts crl1 crl2))
  (t/same [n1 n2] [1 2] "CRL numbers are taken from the store, whichever CA value asks")
  (t/same s1 [2] "the CRL lists the stored revocation")
  (let [[code out] (t/openssl "crl" "-in" crl2 "-CAfile" inter-pem "-noout")]
    (t/ok (and (zero? code) (string/find "verify OK" out)) (string "openssl verifies the stored CA's CRL: " out)))
  (let [[code out] (t/openssl "verify" "-crl_check" "-CAfile" root-pem "-untrusted" inter-pem "-CRLfile" crl2 (path "leaf1.pem"))]
    (t/ok (and (not (zero? code)) (string/find "revoked" out)) (string "openssl rejects the revoked leaf: " out)))
  (def reopened (ca/store-load (ca/open-store location) "issuing"))
  (t/same (ca/get-crl-number reopened) (int/s64 3) "the CRL number survives a reopen")
  (t/same ((ca/get-status reopened 2) :status) :revoked "revocations survive a reopen")

  # --- finding -----------------------------------------------------------------

  (def all (ca/store-find store "issuing"))
  (t/same (map |($ :serial) all) @[(int/s64 1) (int/s64 2) (int/s64 3) (int/s64 4) (int/s64 5) (int/s64 6)] "store-find lists by serial")
  (t/same ((first all) :subject) "CN=leaf0.example" "store-find gives the subject")
  (t/same ((first all) :san) @["DNS:leaf0.example"] "store-find gives the SANs")
  (t/same ((get all 1) :status) :revoked "store-find gives the status")
  (t/same (map |($ :serial) (:find store "issuing" {:san "leaf3"})) @[(int/s64 4)] "filter by SAN substring")
  (t/same (map |($ :serial) (:find store "issuing" {:subject "LEAF1"})) @[(int/s64 2)] "filter by subject, case-insensitive")
  (t/same (length (:find store "issuing" {:status :good})) 5 "filter by status")
  (t/same (map |($ :serial) (:find store "issuing" {:limit 2 :offset 2})) @[(int/s64 3) (int/s64 4)] "pagination")
  (t/same (length (:find store "issuing" {:expires-before (+ (os/time) (* 400 86400))})) 6 "filter by expiry")
  (t/same (length (:find store "issuing" {:expires-before (+ (os/time) 86400)})) 0 "nothing expires tomorrow")
  (t/same ((first (:find store "issuing" {:serial 3})) :cert) ((get leaves 2) :cert) "the index holds the certificate")
  (t/same (map |($ :serial) (:find store "issuing" {:after 4 :limit 10})) @[(int/s64 5) (int/s64 6)] "pages by :after")
  (t/raises |(:find store "nope") "an unknown CA name" "[CA:PARAM]" "no CA named")

  # certificates issued before a CA came to the store join its index (ca/create :issued)
  (def outside (ca/generate {:common-name "Outside Root"}))
  (def earlier (seq [i :range [0 3]] ((:issue outside {:common-name (string "old" i ".example")}) :cert)))
  (def restored (ca/create (ca/get-cert outside) (ca/get-key outside) {:serial (ca/get-serial outside) :issued earlier}))
  (:save store "outside" restored)
  (t/same (map |($ :cert) (:find store "outside")) (array ;earlier) ":issued certificates are in the store's index")
  (t/same ((ca/get-status restored 2) :status) :good "and good")
  (t/raises |(ca/create (ca/get-cert outside) (ca/get-key outside) {:issued [((:issue root {:common-name "x.example"}) :cert)]})
            "a certificate another CA issued" "[CA:PARAM]" "not issued by this CA")
  (t/raises |(ca/create (ca/get-cert outside) (ca/get-key outside) {:issued [(first earlier) (first earlier)]})
            "one certificate twice" "[CA:PARAM]" "repeats serial")
  (t/raises |(ca/create (ca/get-cert outside) (ca/get-key outside) {:issued ["junk"]}) "junk in :issued" "[CA:PARSE]" ":issued item 1")
  (t/raises |(:find store "issuing" {:status :maybe}) "a bad status filter" "[CA:PARAM]" ":status")
  (t/raises |(:find store "issuing" {:limit -1}) "a bad limit" "[CA:PARAM]" ":limit")

  # --- bad stores: clear errors, nothing half-written ---------------------------------

  ((engine :schema-version) 99)
  (t/raises |(ca/open-store location) "a newer schema" "[CA:CONFIG]" "newer")
  ((engine :schema-version) 1)
  (t/raises |(ca/open-store (engine :unreachable)) "a location that cannot be opened" "[CA:RESOURCE]")
  (t/raises |(ca/open-store "") "an empty location" "[CA:PARAM]")
  (t/raises |(ca/open-store 5) "a location of the wrong type" "[CA:PARAM]")
  (t/raises |(ca/open-store location {:busy-timeout "x"}) "a bad :busy-timeout" "[CA:PARAM]" ":busy-timeout")
  (t/raises |(ca/open-store location {:nope 1}) "an unknown option" "[CA:PARAM]")

  # read-only: answers, never writes
  (def ro (ca/store-load (ca/open-store location {:read-only true}) "issuing"))
  (t/same ((ca/get-status ro 2) :status) :revoked "a read-only store answers status")
  (def before (ca/get-serial inter))
  (t/raises |(:issue ro {:common-name "ro.example"}) "issuing through a read-only store" "[CA:CONFIG]" "read-only")
  (t/raises |(ca/revoke ro 3) "revoking through a read-only store" "[CA:CONFIG]" "read-only")
  (t/same (ca/get-serial inter) before "a refused issue took no serial")

  # locked past the busy timeout: another process holds the write lock
  (def locker ((engine :hold-lock) 3))
  (def impatient (ca/store-load (ca/open-store location {:busy-timeout 200}) "issuing"))
  (def [ok msg] (protect (:issue impatient {:common-name "late.example"})))
  (t/ok (and (not ok) (string/has-prefix? "[CA:RESOURCE]" msg) (string/find "locked" msg))
        (string "a store locked past the busy timeout is a clear error: " msg))
  (:wait locker)
  (t/same (ca/get-serial inter) before "the locked-out call took no serial")
  (def after-lock (:issue impatient {:common-name "late.example"}))
  (t/same ((t/cert-facts (file "late.pem" (after-lock :cert))) :serial) (string before)
          "once the lock is gone the same CA value issues the next serial")

  # --- bad arguments ---------------------------------------------------------------

  (t/raises |(ca/store-save store "" (ca/generate)) "an empty CA name" "[CA:PARAM]" "name")
  (t/raises |(ca/store-save store "x" "not a ca") "store-save of a non-CA" "[CA:PARAM]" "ca/CA")
  (t/raises |(ca/store-save "not a store" "x" (ca/generate)) "store-save on a non-store" "[CA:PARAM]" "ca/Store")
  (t/raises |(ca/store-load store "issuing" {:password 5}) "a bad :password" "[CA:PARAM]" ":password")
  (def closable (ca/open-store location))
  (ca/store-close closable)
  (ca/store-close closable)
  (t/raises |(ca/store-cas closable) "a closed store" "[CA:CONFIG]" "closed")
  (t/same ((ca/get-status again 2) :status) :revoked "loaded CAs outlive their store value")

  # --- the counter: moved, explicit serials -------------------------------------------

  (def counted (ca/generate {:common-name "Counter Root"}))
  (:save store "counter" counted)
  (defn serial-of [issued] ((t/cert-facts (file "counted.pem" (if (string? issued) issued (issued :cert)))) :serial))
  (t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout" (path "req.key")
             "-subj" "/CN=req.example" "-out" (path "req.csr"))
  (def csr (slurp (path "req.csr")))
  (ca/set-serial counted 100)
  (t/same (serial-of (:issue counted {:common-name "c.example"})) "100" "ca/set-serial moves a stored counter")
  (t/same (ca/get-serial (ca/store-load store "counter")) (int/s64 101) "every CA value of the store sees it")
  (t/same (serial-of (ca/sign counted csr {:serial 50})) "50" "an explicit serial below the counter")
  (t/raises |(ca/sign counted csr {:serial 50}) "an explicit serial used already" "[CA:PARAM]" "already used")
  (t/same (serial-of (ca/sign counted csr {:serial 500})) "500" "an explicit serial ahead of the counter is used")
  (t/same (ca/get-serial (ca/store-load store "counter")) (int/s64 501) "and the stored counter moved past it")
  (t/raises |(ca/sign counted csr {:serial 500}) "an explicit serial ahead, used already" "[CA:PARAM]" "already used")
  (ca/set-serial counted 50)
  (t/same (ca/get-serial counted) (int/s64 51) "a counter moved back skips the serials used")
  (t/same (serial-of (:issue counted {:common-name "c.example"})) "51" "and issues the next unused one")
  (t/same (length (:find store "counter")) 4 "each is in the index once"))

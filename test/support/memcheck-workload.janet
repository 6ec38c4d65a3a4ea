# The workload test/memcheck.janet runs under valgrind: every kind of call,
# error paths included. Only defines `workload`; running this file does nothing.
(import jsec/ca)
(import ./call-kinds)

(defn- swallow [f] (try (f) ([_] nil)))

(defn workload
  "Exercises issuing, signing, revocation, CRLs, OCSP and their error paths:
  a few calls of its own, then each kind of call in test/support/call-kinds.janet
  (fixtures in `dir`) three times. Returns how many kinds ran."
  [csr-pem ocsp-der dir]
  (def root (ca/generate {:common-name "Memcheck Root" :track-issued true}))
  (def inter (ca/generate-intermediate root {:key-type :ec-p384}))
  (loop [i :range [0 10]]
    (:issue inter {:common-name (string "h" i ".example") :san [(string "DNS:h" i ".example")]})
    (:sign-csr inter csr-pem {:copy-extensions true})
    (swallow |(:issue inter {:common-name "x" :san ["BAD:x"]}))
    (swallow |(:sign-csr inter "not a csr"))
    (swallow |(ca/issue "not a ca" {})))
  (:issue root {:common-name "ed.example" :key-type :ed25519})
  (ca/get-issued root)
  (:revoke root 5 :key-compromise)
  (:revoke root "0x0123456789abcdef0123456789abcdef" :certificate-hold)
  (swallow |(:revoke root 6 :remove-from-crl))
  (ca/get-revoked root)
  (ca/crl root {:revoked [{:serial 9}]})
  (swallow |(ca/crl root {:revoked [{:reason :superseded}]}))
  (def req (ca/parse-ocsp-request ocsp-der))
  (ca/create-ocsp-response root req :good)
  (ca/create-ocsp-response root req |(ca/get-status root $))
  (swallow |(ca/parse-ocsp-request "garbage"))
  (swallow |(ca/create-ocsp-response root {} :good))
  (ca/ocsp-error-response :try-later)
  (def key (ca/get-key root {:password "pw"}))
  (ca/create (ca/get-cert root) key {:password "pw" :serial 10})
  (swallow |(ca/create (ca/get-cert root) key {:password "wrong"}))
  (swallow |(ca/create "junk" "junk"))
  # The event-loop bridge: concurrent waiting calls, one cancelled while it
  # waits (its job comes back to nobody), one refused, one with bad input.
  (def issued (ev/chan 3))
  (for i 0 3 (ev/spawn (ev/give issued (:issue-async inter {:common-name (string "a" i ".example")}))))
  (repeat 3 (ev/take issued))
  (def victim (ev/spawn (try (:issue-async inter {:common-name "cancelled.example"}) ([_] nil))))
  (ev/sleep 0)
  (ev/cancel victim "cancelled")
  (swallow |(resume (fiber/new |(ca/issue-async inter {:common-name "masked.example"}) :w)))
  (swallow |(ca/issue-async inter {:common-name "x" :san ["BAD:x"]}))
  (def {:kinds kinds} (call-kinds/make dir))
  (each [_ _ thunk] kinds (repeat 3 (thunk)))
  (length kinds))
